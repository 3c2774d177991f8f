"""``ses-relay trace`` and ``report`` as an operator runs them on a copied log."""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
from datetime import datetime

import pytest

from ses_relay_ops.cli import main, since_time
from tests.unit.ses_relay_ops.fixtures import MAIL_LOG, THROTTLED


def test_since_takes_durations_dates_and_all():
    now = datetime(2026, 12, 4, 12, 0)
    assert since_time("24h", now) == datetime(2026, 12, 3, 12, 0)
    assert since_time("90m", now) == datetime(2026, 12, 4, 10, 30)
    assert since_time("7d", now) == datetime(2026, 11, 27, 12, 0)
    assert since_time("2026-12-01", now) == datetime(2026, 12, 1)
    assert since_time("all", now) is None
    with pytest.raises(argparse.ArgumentTypeError, match="give a duration"):
        since_time("yesterday", now)


def test_trace_on_a_copied_log_split_across_a_rotation(tmp_path, capsys):
    lines = MAIL_LOG.read_text(encoding="utf-8").splitlines(keepends=True)
    middle = next(i for i, line in enumerate(lines) if "5E0F11A0001: placed on hold" in line)
    with gzip.open(tmp_path / "mail.log.2.gz", "wt", encoding="utf-8") as handle:
        handle.writelines(lines[:20])
    (tmp_path / "mail.log.1").write_text("".join(lines[20:middle]), encoding="utf-8")
    (tmp_path / "mail.log").write_text("".join(lines[middle:]), encoding="utf-8")
    assert main(["trace", "dave@example.net", "--log", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"== {THROTTLED}  <app@example.com> -> <carol@example.net>, <dave@example.net>")
    assert " accepted " in text and "held again" in text and "bounced (Transient/General)" in text

    assert main(["trace", THROTTLED, "--json", "--log", str(tmp_path / "mail.log")]) == 0
    [journey] = json.loads(capsys.readouterr().out)
    assert journey["steps"][0]["step"] == "held again"  # only that file was read


def test_trace_finds_nothing(tmp_path, capsys):
    shutil.copy(MAIL_LOG, tmp_path / "mail.log")
    assert main(["trace", "nobody@example.net", "--log", str(tmp_path)]) == 1
    assert "nothing in 1 file(s) matches 'nobody@example.net'" in capsys.readouterr().err
    assert main(["trace", "x", "--log", str(tmp_path / "absent")]) == 2


def test_report_of_everything_in_a_copied_log(tmp_path, capsys):
    shutil.copy(MAIL_LOG, tmp_path / "mail.log")
    assert main(["report", "--since", "all", "--json", "--log", str(tmp_path)]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["files"] == 1
    assert figures["postfix"]["sent"] == 5
    assert main(["report", "--since", "all", "--log", str(tmp_path)]) == 0
    assert "recipients sent to SES                             5" in capsys.readouterr().out
