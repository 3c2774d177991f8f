"""The event logger against LocalStack: SNS topic -> SQS queue (with a DLQ) -> logger -> syslog."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ses_events.formatting import format_sqs_body
from tests.harness.pipeline import Pipeline, create_pipeline
from tests.harness.syslog_listener import SyslogListener


@pytest.fixture
def pipeline(localstack_url: str) -> Pipeline:
    return create_pipeline(localstack_url)


def expected_lines(event: dict) -> tuple[str, ...]:
    return format_sqs_body(json.dumps(event)).lines


@dataclass
class LoggerFiles:
    socket: Path
    mail_log: Path
    state: Path
    config: Path


@pytest.fixture
def syslog(tmp_path: Path) -> Iterator[SyslogListener]:
    listener = SyslogListener(tmp_path / "log.sock", tmp_path / "mail.log").start()
    yield listener
    listener.stop()


class LoggerProcess:
    """The daemon as the image runs it (`ses-events run`), on this machine, stopped by its PID."""

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


@pytest.fixture
def start_logger(tmp_path: Path, localstack_url: str, pipeline: Pipeline, syslog: SyslogListener):
    started: list[LoggerProcess] = []

    def start(**overrides) -> LoggerProcess:
        config = {
            "queue_url": pipeline.queue_url,
            "region": "us-east-1",
            "concurrency": 2,
            "wait_seconds": 1,
            "visibility_timeout": 3,
            "syslog_socket": str(syslog.socket_path),
            "mail_log": str(syslog.mail_log),
            "state_file": str(tmp_path / "state" / "ses-events.sqlite3"),
            **overrides,
        }
        config_path = tmp_path / "ses-events.json"
        config_path.write_text(json.dumps(config))
        logger = LoggerProcess(config_path, localstack_url, tmp_path / f"logger-{len(started)}.out").start()
        started.append(logger)
        return logger

    yield start
    for logger in started:
        logger.stop()


def logged_messages(syslog: SyslogListener, program: str = "postfix/ses-events") -> list[str]:
    """The message part of every line our program wrote."""
    messages = []
    for line in syslog.lines():
        head, separator, message = line.partition("]: ")
        if separator and f" {program}[" in head:
            messages.append(message)
    return messages


def wait_until(predicate, timeout: float = 60, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
