"""One batch of SQS messages -> lines written to syslog and read back -> the messages safe to delete.

The order of operations is what makes the logger exactly-once in effect:

1. catch up on the mail log, so queue IDs of freshly sent mail are known;
2. format every body (a poison body, or with ``sns_verifier`` one whose SNS signature does not
   hold, is reported once and left for the dead-letter queue);
3. skip events already ``done``; for events left ``pending`` by a crash, write only the lines
   that are not in the mail log yet;
4. record the new events as ``pending`` with their lines, *then* write the lines;
5. wait (a few seconds at most) until the mail log holds them (``read_back``): syslog taking a
   line is not the line being on disk;
6. record what was read back as ``done``; only those messages (and non-events) may be deleted.
   An event not read back in time stays ``pending`` and in the queue, and step 3 mends it when
   it comes back.

Between steps 2 and 6 each event is claimed for this worker (``InFlight``): a copy of an event
another worker is writing at that moment is left in the queue, neither written nor deleted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ses_events.core import FormattedMessage, PoisonMessage, UnverifiableMessage, format_sqs_body
from ses_events.daemon.mail_log_follower import MailLogFollower
from ses_events.daemon.read_back import Expectation
from ses_events.daemon.sns_verifier import SnsVerifier
from ses_events.daemon.store import LoggerStore, Progress
from ses_events.daemon.syslog_writer import SEVERITY_ERR, SyslogUnavailable, SyslogWriter

SqsMessage = Mapping[str, Any]

# How long a batch waits for its lines to be read back from the mail log, at most: rsyslog
# writes a line within milliseconds; one not in the file after this is taken to be lost.
READ_BACK_SECONDS = 10.0
# How often the mail log is read while waiting: soon at first, then less often. A fixed 20 ms
# cost every batch 20 ms and the logger three quarters of its throughput.
READ_BACK_FIRST_POLL_SECONDS = 0.001
READ_BACK_POLL_SECONDS = 0.02


@dataclass
class BatchOutcome:
    deletable: list[SqsMessage] = field(default_factory=list)
    syslog_error: str | None = None
    # Events whose lines syslog took but the mail log did not show in time: left in the queue.
    not_read_back: int = 0


class InFlight:
    """The events this process's workers are writing right now.

    Two workers can hold the same event at once: SQS's at-least-once delivery can hand the very
    same message to two receivers, and SNS can publish an event twice. The store alone cannot tell
    "pending because another worker is writing it" from "pending because we crashed", so a worker
    claims an event's key here before it even looks the key up, and releases it once the event is
    recorded as done (or left for a retry).
    """

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def claim(self, keys: Iterable[str]) -> set[str]:
        """Claim every key no other worker holds; returns the ones claimed."""
        with self._lock:
            free = set(keys) - self._keys
            self._keys |= free
        return free

    def release(self, keys: Iterable[str]) -> None:
        with self._lock:
            self._keys.difference_update(keys)


def _poison_line(message: SqsMessage, poison: PoisonMessage) -> str:
    kind = "unverified" if isinstance(poison, UnverifiableMessage) else "poison"
    return (
        f"{message.get('MessageId', 'unknown')}: {kind} SQS message left in the queue for its "
        f"dead-letter queue: {poison.reason}"
    )


class BatchProcessor:
    def __init__(
        self,
        store: LoggerStore,
        follower: MailLogFollower,
        relay_hostname: str | None = None,
        sns_verifier: SnsVerifier | None = None,
        read_back_seconds: float = READ_BACK_SECONDS,
        stopping: threading.Event | None = None,
    ):
        self.store = store
        self.follower = follower
        self.read_back_seconds = read_back_seconds
        # Set when the daemon stops: a batch waiting to read its lines back stops waiting, and
        # what it has not read back stays in the queue.
        self.stopping = stopping or threading.Event()
        self.relay_hostname = relay_hostname
        # When set, a body whose SNS signature does not hold is poison (sns_verifier.py).
        self.sns_verifier = sns_verifier
        self.in_flight = InFlight()

    def _format(
        self, messages: Sequence[SqsMessage], writer: SyslogWriter, outcome: BatchOutcome
    ) -> list[tuple[SqsMessage, FormattedMessage]]:
        events = []
        for message in messages:
            try:
                if self.sns_verifier is not None:  # before the body is read: forged is never logged
                    self.sns_verifier.verify(message.get("Body", ""))
                formatted = format_sqs_body(
                    message.get("Body", ""), self.store.queue_id_for, self.relay_hostname
                )
            except PoisonMessage as poison:
                # Not deleted: the redrive policy moves it to the DLQ after maxReceiveCount.
                if self.store.first_time_poison(str(message.get("MessageId"))):
                    writer.write([_poison_line(message, poison)], SEVERITY_ERR)
                continue
            if formatted.event_key is None:
                outcome.deletable.append(message)  # a non-event: acknowledged, nothing to log
            else:
                events.append((message, formatted))
        return events

    def process(self, messages: Sequence[SqsMessage], writer: SyslogWriter) -> BatchOutcome:
        outcome = BatchOutcome()
        self.follower.catch_up()
        try:
            events = self._format(messages, writer, outcome)
        except SyslogUnavailable as error:
            outcome.syslog_error = str(error)
            return outcome

        # Claimed before the store is read: a worker that looked first and claimed second could
        # write an event another worker finished in between.
        claimed = self.in_flight.claim(str(formatted.event_key) for _, formatted in events)
        try:
            self._write_claimed(events, claimed, writer, outcome)
        finally:
            self.in_flight.release(claimed)
        return outcome

    def _write_claimed(
        self,
        events: list[tuple[SqsMessage, FormattedMessage]],
        claimed: set[str],
        writer: SyslogWriter,
        outcome: BatchOutcome,
    ) -> None:
        known = self.store.known_events(claimed)
        owners: dict[str, list[SqsMessage]] = {}
        # Each event's lines as recorded: what we write now, or wrote before we died.
        recorded: dict[str, tuple[str, ...]] = {}
        for message, formatted in events:
            key = str(formatted.event_key)
            if key not in claimed:
                # Another worker is writing this event right now. This copy is neither written
                # nor deleted: it may be the very SQS message that worker holds (under another
                # receipt handle), and deleting it would lose the event should that worker's
                # write fail. It comes back after the visibility timeout, recognised as done.
                continue
            previous = known.get(key)
            if previous is not None and previous.progress is Progress.DONE:
                outcome.deletable.append(message)  # a duplicate delivery: already logged
            elif key in owners:
                owners[key].append(message)  # the same event twice in one batch
            else:
                owners[key] = [message]
                recorded[key] = previous.lines if previous is not None else formatted.lines

        # Events left pending by a crash: write only what did not reach the log. One read of
        # the log's tail serves all of them.
        recovering = [line for key, lines in recorded.items() if key in known for line in lines]
        already = self.follower.contains(tuple(recovering)) if recovering else set()

        self.store.mark_pending(recorded)
        sent: dict[str, Expectation] = {}
        try:
            for key, lines in recorded.items():
                unlogged = lines if key not in known else [line for line in lines if line not in already]
                expectation = self.follower.read_back.expect(unlogged)
                try:
                    writer.write(unlogged)
                except SyslogUnavailable as error:
                    self.follower.read_back.forget([expectation])
                    outcome.syslog_error = str(error)
                    break
                sent[key] = expectation
            self._wait_to_read_back(sent.values())
        finally:
            self.follower.read_back.forget(sent.values())
        done = {key: recorded[key] for key, expectation in sent.items() if expectation.read_back}
        self.store.mark_done(done)
        for key in done:
            outcome.deletable.extend(owners[key])
        outcome.not_read_back = len(sent) - len(done)

    def _wait_to_read_back(self, expectations: Iterable[Expectation]) -> None:
        # A batch that wrote nothing (all duplicates or poison) has nothing to read back: no
        # read of the log for it (process() caught up at its start).
        deadline = time.monotonic() + self.read_back_seconds
        pending = [expectation for expectation in expectations if not expectation.read_back]
        poll = READ_BACK_FIRST_POLL_SECONDS
        while pending:
            self.follower.catch_up()
            pending = [expectation for expectation in pending if not expectation.read_back]
            if not pending or time.monotonic() >= deadline or self.stopping.wait(poll):
                return
            poll = min(poll * 2, READ_BACK_POLL_SECONDS)
