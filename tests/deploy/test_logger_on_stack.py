"""The event logger, run against the queue the CloudFormation stack created, end to end."""

from __future__ import annotations

import json

from tests.deploy.conftest import DeployedStack
from tests.events.conftest import expected_lines, logged_messages
from tests.harness.logger_process import LoggerProcess, write_config
from tests.harness.pipeline import delivery_event
from tests.harness.syslog_listener import SyslogListener
from tests.harness.waiting import wait_until


def test_logger_consumes_the_stacks_queue(
    stack_on_localstack: DeployedStack, localstack_url: str, tmp_path
) -> None:
    outputs = stack_on_localstack.outputs
    listener = SyslogListener(tmp_path / "log.sock", tmp_path / "mail.log").start()
    config = write_config(tmp_path / "ses-events.json", outputs["EventsQueueUrl"], listener, tmp_path)
    logger = LoggerProcess(config, localstack_url, tmp_path / "logger.out").start()
    try:
        event = delivery_event(["stack@example.net", "stack2@example.org"])
        stack_on_localstack.client("sns").publish(
            TopicArn=outputs["EventsTopicArn"],
            Subject="Amazon SES Email Event Notification",
            Message=json.dumps(event),
        )
        expected = expected_lines(event)
        wait_until(lambda: set(expected) <= set(logged_messages(listener)), what="the stack's event lines")
        # Exactly once each (other tests of this module share the stack's queue).
        assert [line for line in logged_messages(listener) if line in expected] == list(expected)
    finally:
        logger.stop()
        listener.stop()
