"""BatchProcessor with its real parts: the SQLite store, the mail-log follower, a syslog socket."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from ses_events.core import format_sqs_body
from ses_events.daemon.batch import BatchProcessor
from ses_events.daemon.mail_log_follower import MailLogFollower
from ses_events.daemon.store import LoggerStore
from ses_events.daemon.syslog_writer import SyslogWriter
from tests.harness.pipeline import delivery_event
from tests.unit.ses_events.daemon.syslog_capture import SyslogCapture


@pytest.fixture
def make_processor(tmp_path: Path, syslog: SyslogCapture):
    """BatchProcessor(**options) over a fresh store and a follower of ``follower_class``; all
    closed at the test's end."""
    opened = []

    def make(follower_class: type[MailLogFollower] = MailLogFollower, **options) -> BatchProcessor:
        store = LoggerStore(tmp_path / f"state{len(opened)}.sqlite3")
        follower = follower_class(str(syslog.mail_log), store)
        opened.append((store, follower))
        return BatchProcessor(store, follower, **options)

    yield make
    for store, follower in opened:
        follower.close()
        store.close()


@pytest.fixture
def processor(make_processor) -> BatchProcessor:
    return make_processor()


def sqs_message(event: dict, message_id: str) -> dict:
    """An SQS message as ReceiveMessage returns it, carrying the SNS raw-delivery body."""
    return {"MessageId": message_id, "ReceiptHandle": f"handle-{message_id}", "Body": json.dumps(event)}


def test_an_event_another_worker_holds_is_left_in_the_queue_unwritten(processor, syslog):
    event = delivery_event(["held@example.net"])
    message = sqs_message(event, "copy-2")
    formatted = format_sqs_body(message["Body"])
    writer = SyslogWriter(syslog.socket_path)

    key = str(formatted.event_key)
    assert processor.in_flight.claim([key]) == {key}  # as another worker mid-batch would
    outcome = processor.process([message], writer)
    assert outcome.deletable == []
    assert syslog.settled(writer) == []

    processor.in_flight.release([key])
    outcome = processor.process([message], writer)
    assert outcome.deletable == [message]
    assert syslog.settled(writer) == list(formatted.lines)
    writer.close()


def test_concurrent_workers_with_the_same_event_write_its_line_once(processor, syslog):
    """SQS may hand one message to two receivers at once: each worker gets a copy."""
    events = [delivery_event([f"race{i}@example.net"]) for i in range(50)]
    start = threading.Barrier(4)
    outcomes = []

    def worker(index: int) -> None:
        writer = SyslogWriter(syslog.socket_path)
        start.wait()
        for number, event in enumerate(events):
            outcomes.append(processor.process([sqs_message(event, f"{index}-{number}")], writer))
        writer.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lines = syslog.settled()
    assert sorted(lines) == sorted(format_sqs_body(json.dumps(e)).lines[0] for e in events)
    assert all(outcome.syslog_error is None for outcome in outcomes)


def test_lines_syslog_took_but_the_mail_log_never_got_are_kept_in_the_queue(make_processor, syslog):
    """rsyslog killed with lines in its queue, or dropping them on a full volume: syslog took the
    lines, so only reading them back from the mail log tells that they are not there."""
    processor = make_processor(read_back_seconds=0.5)
    follower = processor.follower
    event = delivery_event(["first@example.net", "second@example.net"])
    message = sqs_message(event, "dropped")
    formatted = format_sqs_body(message["Body"])
    writer = SyslogWriter(syslog.socket_path)

    syslog.listener.dropping = True
    outcome = processor.process([message], writer)
    assert (outcome.deletable, outcome.not_read_back, outcome.syslog_error) == ([], 1, None)
    assert syslog.listener.dropped == len(formatted.lines)
    assert not follower.read_back.waiting

    # It comes back after the visibility timeout: written again, this time to the file.
    syslog.listener.dropping = False
    outcome = processor.process([message], writer)
    assert (outcome.deletable, outcome.not_read_back) == ([message], 0)
    assert syslog.settled(writer) == list(formatted.lines)

    # And once more (SQS delivered it twice): done, deleted, nothing written.
    assert processor.process([message], writer).deletable == [message]
    assert syslog.settled(writer) == list(formatted.lines)
    writer.close()


def test_an_event_is_deletable_only_once_its_lines_are_in_the_mail_log(processor, syslog):
    event = delivery_event(["on-disk@example.net"])
    message = sqs_message(event, "on-disk")
    writer = SyslogWriter(syslog.socket_path)
    outcome = processor.process([message], writer)
    assert outcome.deletable == [message]
    logged = [line.partition("]: ")[2] for line in syslog.listener.lines()]
    assert logged == list(format_sqs_body(message["Body"]).lines)
    writer.close()


def test_a_stopping_daemon_does_not_wait_to_read_lines_back(make_processor, syslog):
    stopping = threading.Event()
    processor = make_processor(read_back_seconds=3600, stopping=stopping)
    message = sqs_message(delivery_event(["stopping@example.net"]), "stopping")
    writer = SyslogWriter(syslog.socket_path)
    syslog.listener.dropping = True
    stopping.set()
    outcome = processor.process([message], writer)  # returns at once, not after an hour
    assert (outcome.deletable, outcome.not_read_back) == ([], 1)
    writer.close()


class CountingFollower(MailLogFollower):
    """The real follower, counting its reads of the mail log."""

    reads = 0

    def catch_up(self) -> None:
        self.reads += 1
        super().catch_up()


def test_a_batch_that_writes_nothing_reads_the_mail_log_once(make_processor, syslog):
    """A copy of an event already done has no lines to wait for: only process()'s first read."""
    processor = make_processor(CountingFollower)
    follower = processor.follower
    message = sqs_message(delivery_event(["twice@example.net"]), "twice")
    writer = SyslogWriter(syslog.socket_path)
    assert processor.process([message], writer).deletable == [message]
    written = syslog.settled(writer)

    follower.reads = 0
    assert processor.process([message], writer).deletable == [message]
    assert follower.reads == 1
    assert syslog.settled(writer) == written
    writer.close()
