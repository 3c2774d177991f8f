"""The event logger against LocalStack: SNS topic -> SQS queue (with a DLQ) -> logger -> syslog."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ses_events.core import format_sqs_body
from tests.harness.logger_process import LoggerProcess, write_config
from tests.harness.pipeline import Pipeline, create_pipeline
from tests.harness.syslog_listener import SyslogListener


@pytest.fixture
def pipeline(localstack_url: str) -> Iterator[Pipeline]:
    created = create_pipeline(localstack_url)
    yield created
    created.delete()


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


@pytest.fixture
def start_logger(tmp_path: Path, localstack_url: str, pipeline: Pipeline, syslog: SyslogListener):
    started: list[LoggerProcess] = []

    def start(**overrides) -> LoggerProcess:
        config_path = write_config(
            tmp_path / "ses-events.json", pipeline.queue_url, syslog, tmp_path / "state", **overrides
        )
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
