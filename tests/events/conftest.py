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


def expected_lines(event: dict, queue_ids: dict[str, str] | None = None) -> tuple[str, ...]:
    """What the logger writes for ``event``, given the queue IDs it learned from the mail log."""
    return format_sqs_body(json.dumps(event), (queue_ids or {}).get).lines


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


def messages_in_flight(pipeline: Pipeline) -> int:
    """Messages of the queue a consumer has received and not yet deleted (not visible)."""
    attributes = pipeline.sqs.get_queue_attributes(
        QueueUrl=pipeline.queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessagesNotVisible"])
