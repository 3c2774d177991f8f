"""The event logger end to end on LocalStack: exactly once, through failures."""

from __future__ import annotations

import signal
from collections import Counter

import pytest

from tests.events.conftest import expected_lines, logged_messages, messages_in_flight
from tests.harness.pipeline import MAX_RECEIVE_COUNT, delivery_event
from tests.harness.waiting import wait_until

pytestmark = pytest.mark.localstack


def _all_logged(syslog, lines):
    return lambda: set(lines) <= set(logged_messages(syslog))


def _after_a_sentinel_event(pipeline, syslog) -> list[str]:
    """Every line the logger wrote for what was in the queue before now, sentinel's lines left out.

    Call it once the queue is empty: every message was then handled, and its lines written (they
    are written before the message is deleted). The sentinel event published now is handled after
    them and its line goes down the same socket, which keeps order: once it is in the log, any
    duplicate of an earlier line would be too.
    """
    sentinel = delivery_event(["sentinel@example.net"])
    pipeline.publish(sentinel)
    wait_until(_all_logged(syslog, expected_lines(sentinel)), what="the sentinel event's line")
    return [line for line in logged_messages(syslog) if line not in expected_lines(sentinel)]


def test_each_event_is_logged_exactly_once_and_deleted(pipeline, syslog, start_logger):
    events = [delivery_event([f"user{i}@example.net", f"other{i}@example.org"]) for i in range(25)]
    expected = [line for event in events for line in expected_lines(event)]
    for event in events:
        pipeline.publish(event)
    # SNS retries and SQS's at-least-once delivery: the same event arriving twice.
    pipeline.publish(events[0])
    pipeline.publish(events[1])

    start_logger()
    wait_until(_all_logged(syslog, expected), what="every line")
    wait_until(lambda: pipeline.messages_left() == 0, what="an empty queue")
    assert Counter(_after_a_sentinel_event(pipeline, syslog)) == Counter(expected)


def test_non_event_messages_are_acknowledged_without_a_line(pipeline, syslog, start_logger):
    pipeline.sns.publish(
        TopicArn=pipeline.topic_arn,
        Message="Successfully validated SNS topic for Amazon SES event publishing.",
    )
    start_logger()
    wait_until(lambda: pipeline.messages_left() == 0, what="the validation message to be deleted")
    assert _after_a_sentinel_event(pipeline, syslog) == []


def test_nothing_is_deleted_while_syslog_is_down(pipeline, syslog, start_logger):
    syslog.stop()
    events = [delivery_event([f"down{i}@example.net"]) for i in range(5)]
    for event in events:
        pipeline.publish(event)
    logger = start_logger()
    # The sentinel: both workers have come round their loop again after backing off, each time
    # finding syslog down. Had either received the events instead, they would be in flight (not
    # visible), and its failed write would have said "messages kept in the queue".
    wait_until(
        lambda: logger.output().count("is not accepting lines") >= 4, what="the logger to check syslog again"
    )
    assert "messages kept in the queue" not in logger.output()
    assert messages_in_flight(pipeline) == 0
    assert pipeline.messages_left() == len(events)
    assert pipeline.messages_left(pipeline.dlq_url) == 0
    assert logged_messages(syslog) == []

    syslog.start()
    expected = [line for event in events for line in expected_lines(event)]
    wait_until(_all_logged(syslog, expected), timeout=90, what="every line once syslog is back")
    wait_until(lambda: pipeline.messages_left() == 0, what="an empty queue")
    assert Counter(logged_messages(syslog)) == Counter(expected)


def test_lines_syslog_took_but_never_wrote_are_written_again_and_not_deleted_before(
    pipeline, syslog, start_logger
):
    """rsyslog killed with lines in its queue, or dropping them on a full volume."""
    events = [delivery_event([f"lost{i}@example.net", f"lost{i}@example.org"]) for i in range(5)]
    expected = [line for event in events for line in expected_lines(event)]
    pipeline.publish_many(events)
    syslog.dropping = True
    logger = start_logger()
    # Stop dropping as soon as every line was dropped once: the messages then come back after
    # the visibility timeout, within the pipeline's MAX_RECEIVE_COUNT.
    wait_until(lambda: syslog.dropped >= len(expected), interval=0.01, what="every line dropped once")
    syslog.dropping = False
    wait_until(lambda: "were not in" in logger.output(), what="the logger to miss its lines")

    # Had the logger deleted what it could not read back, these lines would never come.
    wait_until(_all_logged(syslog, expected), timeout=60, what="every line, written again")
    wait_until(lambda: pipeline.messages_left() == 0, what="an empty queue")
    assert pipeline.messages_left(pipeline.dlq_url) == 0
    assert Counter(_after_a_sentinel_event(pipeline, syslog)) == Counter(expected)


def test_poison_message_is_reported_once_and_left_for_the_dlq(pipeline, syslog, start_logger):
    message_id = pipeline.sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody="{not json")["MessageId"]
    logger = start_logger()
    wait_until(lambda: pipeline.messages_left(pipeline.dlq_url) == 1, timeout=90, what="the DLQ")
    dead = pipeline.sqs.receive_message(QueueUrl=pipeline.dlq_url, AttributeNames=["All"])["Messages"][0]
    assert dead["Body"] == "{not json"
    assert int(dead["Attributes"]["ApproximateReceiveCount"]) >= MAX_RECEIVE_COUNT

    # And the logger keeps serving; the next event's line is also the sentinel after every
    # receive of the poison message.
    event = delivery_event(["after-poison@example.net"])
    pipeline.publish(event)
    wait_until(_all_logged(syslog, expected_lines(event)), what="the next event")
    assert logger.process.poll() is None
    [poison_line] = [line for line in logged_messages(syslog) if message_id in line]
    assert poison_line.startswith(f"{message_id}: poison SQS message left in the queue")


def test_kill_9_mid_batch_then_restart_logs_every_event_exactly_once(pipeline, syslog, start_logger):
    # Enough lines that the logger is still busy when the first of them appear.
    events = [delivery_event([f"crash{i}-{n}@example.net" for n in range(5)]) for i in range(600)]
    expected = [line for event in events for line in expected_lines(event)]
    pipeline.publish_many(events)
    wait_until(lambda: pipeline.messages_left() == len(events), what="every event in the queue")

    logger = start_logger(concurrency=4)
    wait_until(lambda: syslog.arrivals, interval=0.01, what="the first lines")
    assert logger.kill(signal.SIGKILL) == -signal.SIGKILL
    written_before_crash = len(logged_messages(syslog))
    assert written_before_crash < len(expected), "the logger finished before it could be killed"

    start_logger(concurrency=4)
    wait_until(_all_logged(syslog, expected), timeout=120, what="every line after the restart")
    wait_until(lambda: pipeline.messages_left() == 0, timeout=60, what="an empty queue")
    counts = Counter(_after_a_sentinel_event(pipeline, syslog))
    duplicates = {line: count for line, count in counts.items() if count > 1}
    assert duplicates == {}
    assert set(counts) == set(expected)


def test_queue_id_learned_from_the_mail_log_starts_the_line(pipeline, syslog, start_logger):
    event = delivery_event(["bob@example.net"])
    ses_id = event["mail"]["messageId"]
    with syslog.mail_log.open("a") as log:
        log.write(
            "Nov 28 00:29:11 relay postfix/smtp[180]: 7D3F21C0A4: to=<bob@example.net>, "
            "relay=email-smtp.us-east-1.amazonaws.com[52.1.2.3]:587, delay=0.35, delays=0/0.02/0.13/0.2, "
            f"dsn=2.0.0, status=sent (250 Ok {ses_id})\n"
        )
    pipeline.publish(event)
    start_logger()
    [line] = wait_until(lambda: logged_messages(syslog), what="the delivery line")
    assert line.startswith("7D3F21C0A4: to=<bob@example.net>, ")
    assert (line,) == expected_lines(event, {ses_id: "7D3F21C0A4"})
    assert f"ses_id={ses_id}" in line


def test_unforeseen_error_stops_the_logger_non_zero_and_deletes_nothing(pipeline, syslog, start_logger):
    logger = start_logger()
    wait_until(lambda: "polling" in logger.output(), what="the logger to poll")
    # The mail log turns into something the logger cannot read: no branch of it expects that.
    syslog.mail_log.unlink(missing_ok=True)
    syslog.mail_log.mkdir()
    pipeline.publish(delivery_event(["unforeseen@example.net"]))

    assert logger.process.wait(timeout=60) == 70
    assert "unexpected error in " in logger.output()
    assert "IsADirectoryError" in logger.output()
    assert pipeline.messages_left() == 1
