"""Rotation of /var/log/mail.log on the real image: under a steady load, with rotations by size and
by hand at any moment, every line is in exactly one file, in order; the event logger keeps
learning queue IDs across rotations; `ses-relay trace` reads the rotated files."""

from __future__ import annotations

import contextlib
import json
import re
import smtplib
import sqlite3
import threading
from collections import Counter
from pathlib import Path

import pytest

from devstack.net import LOOPBACK
from ses_relay_ops.log_files import family, read_text_lines
from tests.conftest import ALLOWED_SENDER
from tests.harness.appliance import Appliance, docker
from tests.harness.pipeline import delivery_event
from tests.harness.waiting import wait_until
from tests.image.test_event_logger import events_settings  # noqa: F401 - its fixture

pytestmark = pytest.mark.image

CLASSIC = re.compile(r"^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} ")
MESSAGES = 240


def _log_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "log"
    directory.mkdir()
    return directory


def _logged_lines(log_dir: Path) -> list[str]:
    return [line.rstrip("\n") for path in family(log_dir / "mail.log") for line in read_text_lines(path)]


def _mail_lines_on_stdout(relay: Appliance) -> list[str]:
    """The mail log's copy on stdout: classic lines, without rsyslog's own (syslog facility)."""
    return [line for line in relay.logs().splitlines() if CLASSIC.match(line) and " rsyslogd: " not in line]


def _send_steadily(port: int, count: int, tag: str) -> None:
    with smtplib.SMTP(LOOPBACK, port, timeout=60) as client:
        for number in range(count):
            client.sendmail(
                ALLOWED_SENDER, [f"{tag}-{number}@example.net"], f"Subject: {number}\r\n\r\nhi\r\n"
            )


def test_under_a_steady_load_no_line_is_lost_or_written_twice(relay_settings, pki_mount, ses_smtp, tmp_path):
    log_dir = _log_dir(tmp_path)
    settings = {
        **relay_settings,
        "SES_MAX_SEND_RATE": "200",
        "MAIL_LOG_ROTATE_SIZE": "8k",
        "MAIL_LOG_ROTATE_KEEP": "1000",
    }
    with Appliance(settings, mounts=pki_mount, volumes=[(str(log_dir), "/var/log")]) as relay:
        load = threading.Thread(target=_send_steadily, args=(relay.port, MESSAGES, "steady"))
        load.start()
        # Rotations by hand at whatever moment they fall, on top of those by size; at least six,
        # however fast the load goes, so that there is always a family of files to check.
        rotations = 0
        while load.is_alive() or rotations < 6:
            relay.exec("ses-relay", "rotate")
            rotations += 1
        load.join()
        ses_smtp.wait_for_messages(MESSAGES, timeout=120)
        wait_until(
            lambda: sum(": removed" in line for line in _logged_lines(log_dir)) == MESSAGES,
            60,
            "every message removed from the queue, in the mail log",
        )

        def both_outputs() -> tuple[list[str], list[str]] | None:
            # Read together until they hold as many lines: a line written after one is read (a
            # session closing) is then in both, and neither side is cut at a point the other's
            # order does not share.
            in_files, on_stdout = _logged_lines(log_dir), _mail_lines_on_stdout(relay)
            return (in_files, on_stdout) if len(in_files) == len(on_stdout) else None

        in_files, on_stdout = wait_until(both_outputs, 30, "stdout and the files to hold as many lines")
        files = family(log_dir / "mail.log")

    # stdout got each line once, as rsyslog wrote it; the files hold the very same lines. Compared
    # as multisets: rsyslog's two outputs may interleave a few lines differently under load, and
    # what must hold is that no line is lost or written twice on either side.
    assert Counter(in_files) == Counter(on_stdout)
    assert len(files) > 5, [path.name for path in files]
    assert all(path.name.endswith(".gz") for path in files[:-2])
    sent = [line for line in in_files if "status=sent (250 Ok " in line]
    assert sorted(re.search(r"to=<([^>]+)>", line).group(1) for line in sent) == sorted(
        f"steady-{n}@example.net" for n in range(MESSAGES)
    )


def test_a_container_killed_outright_starts_again_and_still_rotates(relay_settings, pki_mount, ses_smtp):
    """SIGKILL leaves rsyslog's pid file behind; the next start must not trip over it."""
    with Appliance(relay_settings, mounts=pki_mount) as relay:
        relay.wait_for_mail_log(r"starting the Postfix mail system")
        assert relay.exec("test", "-s", "/run/rsyslogd.pid", check=False).returncode == 0
        docker("kill", relay.container_id)
        docker("start", relay.container_id)
        relay.wait_until_ready()
        relay.exec("ses-relay", "rotate")
        with smtplib.SMTP(LOOPBACK, relay.port, timeout=30) as client:
            client.sendmail(ALLOWED_SENDER, ["after-kill@example.net"], "Subject: again\r\n\r\nhi\r\n")
        # In the new mail.log: rsyslog, started again, took the rotation's SIGHUP and reopened it.
        relay.wait_for_mail_log(r"to=<after-kill@example\.net>, .*status=sent \(250 Ok ")
        assert relay.exec("test", "-s", "/var/log/mail.log.1", check=False).returncode == 0


def _logger_state(log_dir: Path, query: str, *parameters: object) -> tuple | None:
    """A row of the event logger's store, on the log volume: what it has learnt and read so far."""
    state = log_dir / "ses-relay" / "ses-events.sqlite3"
    if not state.exists():
        return None
    with contextlib.closing(sqlite3.connect(state, timeout=10)) as database:
        return database.execute(query, parameters).fetchone()


def _logger_reads(log_dir: Path) -> bool:
    """Whether the event logger has read into the file now at mail.log (its cursor names it)."""
    row = _logger_state(log_dir, "SELECT inode FROM cursor WHERE path = '/var/log/mail.log'")
    return (
        row is not None and (log_dir / "mail.log").exists() and row[0] == (log_dir / "mail.log").stat().st_ino
    )


def _learnt_queue_id(log_dir: Path, ses_id: str) -> str | None:
    row = _logger_state(log_dir, "SELECT queue_id FROM queue_ids WHERE ses_message_id = ?", ses_id)
    return row[0] if row else None


@pytest.mark.localstack
def test_the_event_logger_learns_queue_ids_across_rotations(
    events_settings,  # noqa: F811 - test_event_logger's fixture
    pki_mount,
    ses_smtp,
    tmp_path,
):
    """Each status=sent line is renamed into mail.log.1 right after it is written, mostly before
    the logger's next read (once a second), so the logger reads it there. As in production, one
    rotation falls between two of its reads: each round starts once it reads the new mail.log.
    The delivery events carry a Received header of this relay with another queue ID
    (4F1A22C0D3E), so a line under the right one proves the logger learnt it from the mail log."""
    settings, pipeline = events_settings
    log_dir = _log_dir(tmp_path)
    recipients = [f"rotated-{n}@example.net" for n in range(8)]
    with Appliance(settings, mounts=pki_mount, volumes=[(str(log_dir), "/var/log")]) as relay:
        sent = {}
        for recipient in recipients:
            relay.exec("logger", "-p", "mail.info", "-t", "test", f"next round: {recipient}")
            wait_until(lambda: _logger_reads(log_dir), 30, "the logger to read the new mail.log")
            with smtplib.SMTP(LOOPBACK, relay.port, timeout=30) as client:
                client.sendmail(ALLOWED_SENDER, [recipient], "Subject: rotated\r\n\r\nhi\r\n")
            line = relay.wait_for_mail_log(
                rf"postfix/smtp\[\d+\]: (?P<qid>[0-9A-F]+): to=<{re.escape(recipient)}>, .*"
                r"status=sent \(250 Ok (?P<ses_id>[0-9a-f-]+)\)"
            )
            sent[recipient] = (line["qid"], line["ses_id"])
            relay.exec("ses-relay", "rotate")
            wait_until(lambda s=line["ses_id"]: _learnt_queue_id(log_dir, s), 30, "the logger to learn it")
        for recipient, (_qid, ses_id) in sent.items():
            pipeline.publish(delivery_event([recipient], message_id=ses_id))
        for recipient, (qid, ses_id) in sent.items():
            relay.wait_for_mail_log(
                rf"postfix/ses-events\[\d+\]: {qid}: to=<{re.escape(recipient)}>, .*status=delivered, .*"
                rf"ses_id={ses_id}",
                timeout=60,
            )
        # trace reads the rotated files: accepted and sent are in one file, delivered in another.
        [journey] = json.loads(relay.exec("ses-relay", "trace", "--json", recipients[0]).stdout)
    assert "4F1A22C0D3E" not in "\n".join(_logged_lines(log_dir))
    steps = [step["step"] for step in journey["steps"]]
    assert steps[0] == "accepted" and "sent to SES" in steps and steps[-1] == "delivered", steps
