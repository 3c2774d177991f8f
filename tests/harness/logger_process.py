"""The event logger as the image runs it (`ses-events run --config FILE`), as a process on this machine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.harness.syslog_listener import SyslogListener


def write_config(path: Path, queue_url: str, listener: SyslogListener, state_dir: Path, **overrides) -> Path:
    config = {
        "queue_url": queue_url,
        "region": "us-east-1",
        "concurrency": 2,
        "wait_seconds": 1,
        "visibility_timeout": 3,
        "syslog_socket": str(listener.socket_path),
        "mail_log": str(listener.mail_log),
        "state_file": str(state_dir / "ses-events.sqlite3"),
        # LocalStack signs with its own key, not AWS's: off, as compose.override.yaml has it.
        "verify_sns_signatures": False,
        **overrides,
    }
    path.write_text(json.dumps(config))
    return path


class LoggerProcess:
    """Started with its own output file; stopped by its own PID."""

    def __init__(self, config_path: Path, localstack_url: str, log_path: Path):
        self.config_path = config_path
        self.environment = {**os.environ, "AWS_ENDPOINT_URL": localstack_url}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> LoggerProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ses_events", "run", "--config", str(self.config_path)],
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def kill(self, signum: int = signal.SIGKILL) -> int:
        assert self.process is not None
        self.process.send_signal(signum)
        return self.process.wait(timeout=60)

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill(signal.SIGTERM)
