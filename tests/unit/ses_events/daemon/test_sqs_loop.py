"""The daemon's status file: its SQS and syslog error counts, for the metrics exporter."""

from __future__ import annotations

import dataclasses
import json

from ses_events.daemon.config import DaemonConfig
from ses_events.daemon.sqs_loop import Backoff, Daemon, mail_log_room
from ses_events.daemon.syslog_writer import SyslogWriter


def _daemon(tmp_path, status_file):
    config = DaemonConfig(
        queue_url="https://sqs.eu-west-1.amazonaws.com/123456789012/events",
        mail_log=str(tmp_path / "mail.log"),
        state_file=str(tmp_path / "state.sqlite3"),
        status_file=status_file,
    )
    return Daemon(config)


def test_error_counts_are_kept_in_the_status_file(tmp_path):
    status_file = tmp_path / "run" / "ses-events.status.json"
    daemon = _daemon(tmp_path, str(status_file))
    daemon.write_status()
    assert json.loads(status_file.read_text())["sqs_errors"] == 0
    daemon._count_error("sqs")
    daemon._count_error("syslog")
    daemon._count_error("syslog")
    daemon.write_status()
    status = json.loads(status_file.read_text())
    assert (status["sqs_errors"], status["syslog_errors"]) == (1, 2)
    assert sorted(path.name for path in status_file.parent.iterdir()) == [status_file.name]
    daemon.store.close()


def test_an_unwritable_status_file_is_reported_once(tmp_path, capsys):
    (tmp_path / "a-file").write_text("")
    daemon = _daemon(tmp_path, str(tmp_path / "a-file" / "status.json"))
    daemon.write_status()
    daemon.write_status()
    assert capsys.readouterr().err.count("no error counts in the metrics") == 1
    daemon.store.close()


def _sent_line(number: int) -> str:
    ses_id = f"0100018f34069e7b-1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d{number:04x}-000000"
    return (
        f"May  1 12:00:01 relay postfix/smtp[2827]: 4F1A22C{number:04X}: to=<bob@example.org>, "
        "relay=email-smtp.us-east-1.amazonaws.com[192.0.2.10]:587, delay=1.2, delays=0.02/0/0.7/0.48, "
        f"dsn=2.0.0, status=sent (250 Ok {ses_id})\n"
    )


def test_a_state_file_that_cannot_be_written_is_reported_once_and_caught_up_later(tmp_path, capsys):
    daemon = _daemon(tmp_path, None)
    # More queue IDs than the file's pages hold.
    (tmp_path / "mail.log").write_text("".join(_sent_line(number) for number in range(500)))
    (pages,) = daemon.store._db.execute("PRAGMA page_count").fetchone()
    daemon.store._db.execute(f"PRAGMA max_page_count = {pages}")  # the volume is full
    daemon._catch_up()
    daemon._catch_up()
    assert capsys.readouterr().err.count("database or disk is full") == 1
    last = "0100018f34069e7b-1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d01f3-000000"
    assert daemon.store.queue_id_for(last) is None

    daemon.store._db.execute("PRAGMA max_page_count = 1073741823")  # room again
    daemon._catch_up()
    assert daemon.store.queue_id_for(last) == "4F1A22C01F3"
    daemon.store.close()


def test_no_event_is_taken_while_the_mail_logs_volume_is_nearly_full(tmp_path, syslog, capsys):
    daemon = _daemon(tmp_path, None)
    writer = SyslogWriter(syslog.socket_path)
    daemon.config = dataclasses.replace(daemon.config, syslog_socket=syslog.socket_path)
    assert daemon.why_lines_would_be_lost(writer) is None

    room = mail_log_room(daemon.config.mail_log)
    assert room is not None and room > 0
    daemon.mail_log_room_bytes = room + (1 << 40)  # as if the volume had that much less free
    assert daemon.why_lines_would_be_lost(writer) == (
        f"{daemon.config.mail_log} has {room} bytes free: rsyslog would drop the lines"
    )
    # Checked again after a receive (which may have waited 20 s): the batch is left in the queue.
    daemon.stopping.set()  # no backoff wait in a test
    assert daemon._held_back(writer, Backoff(), "10 messages left in the queue; ")
    assert daemon.errors["syslog"] == 1
    assert "rsyslog would drop the lines; 10 messages left in the queue; waiting" in capsys.readouterr().err
    writer.close()
    daemon.store.close()
