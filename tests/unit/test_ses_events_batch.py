"""BatchProcessor with its real parts: SQLite state, the mail-log follower, a syslog socket."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from ses_events.batch import BatchProcessor
from ses_events.formatting import format_sqs_body
from ses_events.mail_log_follower import MailLogFollower
from ses_events.state import State
from ses_events.syslog_writer import SyslogWriter
from tests.harness.pipeline import delivery_event
from tests.harness.syslog_listener import SyslogListener
from tests.harness.waiting import wait_until


@pytest.fixture
def listener(tmp_path: Path):
    syslog = SyslogListener(tmp_path / "log.sock", tmp_path / "mail.log").start()
    yield syslog
    syslog.stop()


@pytest.fixture
def processor(tmp_path: Path, listener: SyslogListener):
    state = State(tmp_path / "state.sqlite3")
    yield BatchProcessor(state, MailLogFollower(str(listener.mail_log), state))
    state.close()


def sqs_message(event: dict, message_id: str) -> dict:
    """An SQS message as ReceiveMessage returns it, carrying the SNS raw-delivery body."""
    return {"MessageId": message_id, "ReceiptHandle": f"handle-{message_id}", "Body": json.dumps(event)}


def logged(listener: SyslogListener) -> list[str]:
    return [message.decode() for _, message in listener.arrivals]


def test_an_event_another_worker_holds_is_left_in_the_queue_unwritten(processor, listener):
    event = delivery_event(["held@example.net"])
    message = sqs_message(event, "copy-2")
    key = str(format_sqs_body(message["Body"]).event_key)
    writer = SyslogWriter(str(listener.socket_path))

    assert processor.in_flight.claim([key]) == {key}  # as another worker mid-batch would
    outcome = processor.process([message], writer)
    assert outcome.deletable == []
    assert logged(listener) == []

    processor.in_flight.release([key])
    outcome = processor.process([message], writer)
    assert outcome.deletable == [message]
    wait_until(lambda: len(logged(listener)) == 1, what="the line")
    assert logged(listener)[0].endswith(format_sqs_body(message["Body"]).lines[0])


def test_concurrent_workers_with_the_same_event_write_its_line_once(processor, listener):
    """SQS may hand one message to two receivers at once: each worker gets a copy."""
    events = [delivery_event([f"race{i}@example.net"]) for i in range(50)]
    start = threading.Barrier(4)
    outcomes = []

    def worker(index: int) -> None:
        writer = SyslogWriter(str(listener.socket_path))
        start.wait()
        for number, event in enumerate(events):
            outcomes.append(processor.process([sqs_message(event, f"{index}-{number}")], writer))

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # A Unix datagram socket keeps order: once this marker is in, every earlier line is too.
    SyslogWriter(str(listener.socket_path)).write(["marker"])
    wait_until(lambda: logged(listener) and logged(listener)[-1].endswith(": marker"), what="the marker")
    lines = [line.partition("]: ")[2] for line in logged(listener)[:-1]]
    assert sorted(lines) == sorted(format_sqs_body(json.dumps(e)).lines[0] for e in events)
    assert all(outcome.syslog_error is None for outcome in outcomes)
