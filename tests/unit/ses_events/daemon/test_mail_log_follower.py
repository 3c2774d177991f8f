"""MailLogFollower: queue IDs from the mail log as it grows, is rotated, truncated or replaced."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ses_events.daemon.mail_log_follower import MailLogFollower
from ses_events.daemon.store import LoggerStore


def sent_line(queue_id: str, ses_id: str) -> str:
    return (
        f"May  1 12:00:01 relay postfix/smtp[2827]: {queue_id}: to=<bob@example.org>, "
        "relay=email-smtp.us-east-1.amazonaws.com[192.0.2.10]:587, delay=1.2, delays=0.02/0/0.7/0.48, "
        f"dsn=2.0.0, status=sent (250 Ok {ses_id})\n"
    )


NOISE = "May  1 12:00:00 relay postfix/qmgr[2826]: 4F1A22C0D3E: from=<app@example.com>, size=1, nrcpt=1\n"


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "mail.log"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LoggerStore]:
    opened = LoggerStore(tmp_path / "state.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def follower(log: Path, store: LoggerStore) -> Iterator[MailLogFollower]:
    following = MailLogFollower(str(log), store)
    yield following
    following.close()


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def truncate(path: Path, text: str = "") -> None:
    """What logrotate's copytruncate does: the same file, emptied in place (then written on)."""
    with path.open("r+", encoding="utf-8") as handle:
        handle.truncate(0)
        handle.write(text)


def test_learns_queue_ids_from_sent_lines_only(log: Path, store: LoggerStore, follower: MailLogFollower):
    append(log, NOISE + sent_line("AAA1", "ses-a") + NOISE + sent_line("BBB2", "ses-b"))

    assert follower.catch_up() == 2
    assert (store.queue_id_for("ses-a"), store.queue_id_for("ses-b")) == ("AAA1", "BBB2")
    assert follower.catch_up() == 0  # nothing new


def test_an_unfinished_line_waits_for_its_end(log: Path, store: LoggerStore, follower: MailLogFollower):
    line = sent_line("AAA1", "ses-a")
    append(log, line[:50])
    assert follower.catch_up() == 0

    append(log, line[50:])
    assert follower.catch_up() == 1
    assert store.queue_id_for("ses-a") == "AAA1"


def test_a_missing_log_is_waited_for(log: Path, store: LoggerStore, follower: MailLogFollower):
    assert follower.catch_up() == 0

    append(log, sent_line("AAA1", "ses-a"))
    assert follower.catch_up() == 1


def test_a_restart_resumes_where_the_last_run_stopped(
    log: Path, store: LoggerStore, follower: MailLogFollower
):
    append(log, sent_line("AAA1", "ses-a"))
    assert follower.catch_up() == 1
    follower.close()

    append(log, sent_line("BBB2", "ses-b"))
    restarted = MailLogFollower(str(log), store)
    assert restarted.catch_up() == 1  # only the new line: the first was read by the last run
    assert store.queue_id_for("ses-b") == "BBB2"
    restarted.close()


# --- Rotation: the log is renamed away and a new one takes its path ---


def test_rotation_lines_written_to_the_old_file_before_the_switch_are_not_lost(
    log: Path, store: LoggerStore, follower: MailLogFollower
):
    """rsyslog writes on to the renamed file until it reopens the path: those lines count too."""
    append(log, sent_line("AAA1", "ses-a"))
    assert follower.catch_up() == 1
    append(log, sent_line("LATE", "ses-late"))  # after the last read, before the rotation
    log.rename(log.with_name("mail.log.1"))
    append(log, sent_line("BBB2", "ses-b"))

    assert follower.catch_up() == 2
    assert (store.queue_id_for("ses-late"), store.queue_id_for("ses-b")) == ("LATE", "BBB2")

    append(log, sent_line("CCC3", "ses-c"))
    assert follower.catch_up() == 1
    assert store.queue_id_for("ses-c") == "CCC3"


def test_rotation_to_a_new_file_longer_than_the_old_one_is_read_from_its_start(
    log: Path, store: LoggerStore, follower: MailLogFollower
):
    append(log, sent_line("AAA1", "ses-a"))
    assert follower.catch_up() == 1
    log.rename(log.with_name("mail.log.1"))
    append(log, sent_line("BBB2", "ses-b") + NOISE * 20 + sent_line("CCC3", "ses-c"))

    assert follower.catch_up() == 2
    assert (store.queue_id_for("ses-b"), store.queue_id_for("ses-c")) == ("BBB2", "CCC3")


def test_rotation_while_the_log_has_no_file_yet(log: Path, store: LoggerStore, follower: MailLogFollower):
    append(log, sent_line("AAA1", "ses-a"))
    assert follower.catch_up() == 1
    append(log, sent_line("LATE", "ses-late"))
    log.rename(log.with_name("mail.log.1"))

    assert follower.catch_up() == 1  # the rotated file's last lines; no new file yet
    append(log, sent_line("BBB2", "ses-b"))
    assert follower.catch_up() == 1
    assert store.queue_id_for("ses-b") == "BBB2"


def test_a_file_replaced_while_the_logger_was_down_is_read_from_its_start(
    log: Path, store: LoggerStore, follower: MailLogFollower
):
    append(log, NOISE * 5 + sent_line("AAA1", "ses-a"))
    assert follower.catch_up() == 1
    follower.close()

    # Even if the file system hands the new file the old inode number, its content tells.
    log.unlink()
    append(log, sent_line("BBB2", "ses-b") + NOISE * 10 + sent_line("CCC3", "ses-c"))
    restarted = MailLogFollower(str(log), store)
    assert restarted.catch_up() == 2
    assert (store.queue_id_for("ses-b"), store.queue_id_for("ses-c")) == ("BBB2", "CCC3")
    restarted.close()


def test_a_rotation_while_the_logger_was_down_loses_nothing(
    log: Path, store: LoggerStore, follower: MailLogFollower
):
    """The rest of the old file, written after the last read, is now mail.log.1: read it first."""
    append(log, sent_line("AAA1", "ses-a"))
    assert follower.catch_up() == 1
    follower.close()

    append(log, sent_line("LATE", "ses-late"))
    log.rename(log.with_name("mail.log.1"))
    append(log, sent_line("BBB2", "ses-b"))
    restarted = MailLogFollower(str(log), store)
    assert restarted.catch_up() == 2
    assert (store.queue_id_for("ses-late"), store.queue_id_for("ses-b")) == ("LATE", "BBB2")
    append(log, sent_line("CCC3", "ses-c"))
    assert restarted.catch_up() == 1
    restarted.close()


def test_after_a_restart_without_rotation_mail_log_1_is_not_read(
    log: Path, store: LoggerStore, follower: MailLogFollower
):
    log.with_name("mail.log.1").write_text(sent_line("OLD1", "ses-old"))
    append(log, sent_line("AAA1", "ses-a"))
    assert follower.catch_up() == 1
    follower.close()
    append(log, sent_line("BBB2", "ses-b"))
    restarted = MailLogFollower(str(log), store)
    assert restarted.catch_up() == 1
    assert store.queue_id_for("ses-old") is None
    restarted.close()


# --- Truncation: the same file emptied in place (logrotate's copytruncate) ---


def test_truncation_is_noticed_and_the_file_read_again_from_its_start(
    log: Path, store: LoggerStore, follower: MailLogFollower
):
    append(log, NOISE * 10 + sent_line("AAA1", "ses-a"))
    assert follower.catch_up() == 1

    truncate(log, sent_line("BBB2", "ses-b"))
    assert follower.catch_up() == 1
    assert store.queue_id_for("ses-b") == "BBB2"


def test_truncation_then_growth_past_the_old_offset_is_noticed(
    log: Path, store: LoggerStore, follower: MailLogFollower
):
    """By the next read the emptied file may be longer than it was: its size alone cannot tell."""
    append(log, sent_line("AAA1", "ses-a"))
    assert follower.catch_up() == 1

    truncate(log, sent_line("BBB2", "ses-b") + NOISE * 20 + sent_line("CCC3", "ses-c"))
    assert follower.catch_up() == 2
    assert (store.queue_id_for("ses-b"), store.queue_id_for("ses-c")) == ("BBB2", "CCC3")

    append(log, sent_line("DDD4", "ses-d"))
    assert follower.catch_up() == 1


def test_truncation_while_the_logger_was_down_is_noticed(
    log: Path, store: LoggerStore, follower: MailLogFollower
):
    append(log, sent_line("AAA1", "ses-a"))
    assert follower.catch_up() == 1
    follower.close()

    truncate(log, sent_line("BBB2", "ses-b") + NOISE * 20)
    restarted = MailLogFollower(str(log), store)
    assert restarted.catch_up() == 1
    assert store.queue_id_for("ses-b") == "BBB2"
    restarted.close()


# --- What it does not handle is said loudly, not skipped ---


def test_a_log_path_that_became_a_directory_raises(log: Path, follower: MailLogFollower):
    append(log, sent_line("AAA1", "ses-a"))
    follower.catch_up()
    log.unlink()
    log.mkdir()

    with pytest.raises(IsADirectoryError):
        follower.catch_up()


# --- contains: which lines already stand in the log (crash recovery) ---


def test_contains_finds_our_own_messages_in_the_log(log: Path, follower: MailLogFollower):
    append(log, "May  1 12:00:02 relay postfix/ses-events[77]: 4F1A22C0D3E: to=<bob@example.org>, x\n")

    assert follower.contains(("4F1A22C0D3E: to=<bob@example.org>, x", "not there")) == {
        "4F1A22C0D3E: to=<bob@example.org>, x"
    }
    os.remove(log)
    assert follower.contains(("anything",)) == set()
