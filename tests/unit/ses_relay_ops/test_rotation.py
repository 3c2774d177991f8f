"""Rotation on real files: what is renamed, compressed, kept and deleted, and when it is due."""

from __future__ import annotations

import gzip
from datetime import datetime

import pytest

from ses_relay_ops.log_files import family, read_lines
from ses_relay_ops.rotation import Policy, ReopenFailed, rotate, rotation_due, rotation_lock

NOW = datetime(2026, 12, 4, 12, 0, 0)


def _line(n: int, hour: int = 11) -> str:
    return f"Dec  4 {hour:02d}:00:{n % 60:02d} relay postfix/qmgr[1]: {0xA00000 + n:X}: removed\n"


def _log_some(path, first: int, count: int) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.writelines(_line(n) for n in range(first, first + count))


def test_rotations_keep_every_line_once_in_order_and_at_most_keep_files(tmp_path):
    log = tmp_path / "mail.log"
    reopened = []
    for round_number in range(5):
        _log_some(log, round_number * 10, 10)
        rotate(log, keep=3, reopen=lambda: reopened.append(True))
    _log_some(log, 50, 10)
    assert len(reopened) == 5
    assert [path.name for path in family(log)] == ["mail.log.3.gz", "mail.log.2.gz", "mail.log.1", "mail.log"]
    with gzip.open(tmp_path / "mail.log.3.gz", "rt") as handle:
        assert handle.readline() == _line(20)
    queue_ids = [line.queue_id for line in read_lines(family(log), NOW)]
    assert queue_ids == [f"{0xA00000 + n:X}" for n in range(20, 60)]  # the two oldest rounds are gone
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(path.name for path in family(log))


def test_with_keep_1_only_the_last_rotation_stays(tmp_path):
    log = tmp_path / "mail.log"
    for round_number in range(3):
        _log_some(log, round_number, 1)
        rotate(log, keep=1, reopen=lambda: None)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mail.log.1"]


def test_a_rotation_rsyslog_could_not_be_told_of_is_still_done(tmp_path):
    log = tmp_path / "mail.log"
    _log_some(log, 0, 1)
    (tmp_path / "mail.log.1").write_text(_line(99))

    def rsyslog_not_running() -> None:
        raise ReopenFailed("no rsyslog")

    with pytest.raises(ReopenFailed):
        rotate(log, keep=5, reopen=rsyslog_not_running)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mail.log.1", "mail.log.2.gz"]


def test_due_by_size_by_age_or_not_at_all(tmp_path):
    log = tmp_path / "mail.log"
    policy = Policy(max_bytes=1000, max_age_seconds=3600, keep=5)
    assert rotation_due(log, policy, NOW) is None  # no file
    log.write_text("")
    assert rotation_due(log, policy, NOW) is None  # empty
    log.write_text(_line(0, hour=11) * 3)
    assert (
        rotation_due(log, policy, NOW) == "its oldest line is from 2026-12-04 11:00:00 (MAIL_LOG_ROTATE_AGE)"
    )
    assert rotation_due(log, Policy(1000, 7200, 5), NOW) is None
    log.write_text(_line(0, hour=11) * 20)
    assert rotation_due(log, Policy(1000, 0, 5), NOW).startswith("it holds 1100 bytes")
    assert rotation_due(log, Policy(0, 0, 5), NOW) is None


def test_the_lock_is_taken_and_given_back(tmp_path):
    with rotation_lock(tmp_path / "run" / "lock"), rotation_lock(tmp_path / "run" / "other"):
        pass
    with rotation_lock(tmp_path / "run" / "lock"):
        pass
