"""The daemon's status file: its SQS and syslog error counts, for the metrics exporter."""

from __future__ import annotations

import json

from ses_events.daemon.config import DaemonConfig
from ses_events.daemon.sqs_loop import Daemon


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
