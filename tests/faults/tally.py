"""Counting at the end of a scenario: what the clients handed over against what reached SES, and
what SES published against what the mail log says.

- Mail: each accepted message (the client got 250) must reach the simulator exactly once;
  one that reached it twice is counted as such (SMTP's own window: SES answered 250 and the
  relay died before it recorded that, so it sends the message again).
- Events: each event the simulator published to SNS successfully gives one line per recipient;
  each must be in the mail log exactly once. A line is known by (SES message ID, recipient,
  status word), whatever queue ID it carries.
- Recovery: from the end of the fault until the last mail accepted before that end reached the
  simulator and the last line of their events reached the mail log, as the log watcher saw it
  (it reads the log every second, so this is in whole seconds).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from devstack.event_json import sns_message
from ses_events.core import format_sqs_body
from tests.faults.load import ACCEPTED, REFUSED, UNCONFIRMED, Load
from tests.faults.stack import FaultStack
from tests.harness.appliance import MAIL_LOG
from tests.harness.waiting import wait_until

LineKey = tuple[str, str, str]  # (ses_id, recipient, status word)
_EVENT_LINE = re.compile(
    r"to=<(?P<rcpt>[^>]*)>, .*?status=(?P<status>\w+)[^\n]*?ses_id=(?P<ses_id>[0-9a-f-]+)"
)
_LOGGER_TAG = " postfix/ses-events["
_SENT_LINE = re.compile(r"status=sent \(250 Ok (?P<ses_id>[0-9a-f-]+-000000)\)")


def event_line_keys(log: str) -> Counter[LineKey]:
    keys: Counter[LineKey] = Counter()
    for line in log.splitlines():
        if _LOGGER_TAG in line and (found := _EVENT_LINE.search(line)):
            keys[(found["ses_id"], found["rcpt"], found["status"])] += 1
    return keys


def expected_line_keys(stack: FaultStack) -> Counter[LineKey]:
    """One per recipient of every event the simulator published successfully."""
    keys: Counter[LineKey] = Counter()
    for record in stack.simulator.publisher.published:
        if record.error is None:
            for line in format_sqs_body(sns_message(record.event)).lines:
                found = _EVENT_LINE.search(line)
                assert found, line
                keys[(found["ses_id"], found["rcpt"], found["status"])] += 1
    return keys


def whole_mail_log(stack: FaultStack) -> str:
    """The mail log, and its last rotated file if rotation ran."""
    return stack.sh(f"cat {MAIL_LOG}.1 2>/dev/null; cat {MAIL_LOG}").stdout


class MailLogWatcher:
    """Reads the mail log every second from outside, noting when each event line first showed."""

    def __init__(self, stack: FaultStack, interval: float = 1.0):
        self.stack = stack
        self.interval = interval
        self.first_seen: dict[LineKey, float] = {}
        self._offset = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MailLogWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def poll(self) -> None:
        result = self.stack.sh(f"stat -c %s {MAIL_LOG} && tail -c +{self._offset + 1} {MAIL_LOG}")
        if result.returncode != 0:
            return  # the container is stopped or restarting, or the log is not there yet
        size, _, text = result.stdout.partition("\n")
        if int(size) < self._offset:
            self._offset = 0  # a new file: it is read again from its start at the next poll
            return
        complete = text[: text.rfind("\n") + 1]
        self._offset += len(complete.encode())
        now = time.time()
        for key in event_line_keys(complete):
            self.first_seen.setdefault(key, now)


@dataclass
class Counts:
    offered: int = 0
    accepted: int = 0
    refused: int = 0
    unconfirmed: int = 0
    delivered: int = 0  # accepted mails that reached the simulator
    lost: int = 0  # accepted mails that never did
    twice: int = 0  # accepted mails that reached it more than once
    unconfirmed_delivered: int = 0  # reached it though the client saw no 250
    events: int = 0  # published to SNS successfully
    publish_failed: int = 0
    lines_expected: int = 0
    lines_logged: int = 0
    lines_lost: int = 0
    lines_twice: int = 0
    sent_lines_missing: int = 0  # mails at SES without Postfix's status=sent line in the mail log
    recovery: float | None = None  # seconds; None: not recovered

    @property
    def clean(self) -> bool:
        return self.lost == 0 and self.twice == 0 and self.lines_lost == 0 and self.lines_twice == 0


def _deliveries(stack: FaultStack) -> Counter[str]:
    return Counter(rcpt for message in stack.simulator.messages for rcpt in message.rcpt_tos)


def settle(stack: FaultStack, load: Load, timeout: float) -> bool:
    """Wait until everything is accounted for: every accepted mail at the simulator and the relay's
    queue empty (nothing more will be sent), every event published, the SQS queue empty (nothing
    will be received again) and every line in the log. False if that took longer than ``timeout``."""
    accepted = {attempt.recipient for attempt in load.by_outcome()[ACCEPTED]}
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        return max(1.0, deadline - time.monotonic())

    try:
        wait_until(lambda: accepted <= set(_deliveries(stack)), remaining(), "every accepted mail at SES", 1)
        wait_until(stack.queue_is_empty, remaining(), "the relay's queue to empty", 1)
        stack.simulator.wait_idle(remaining())
        wait_until(lambda: stack.events_left() == 0, remaining(), "the SQS queue to empty", 1)
        expected = set(expected_line_keys(stack))
        wait_until(
            lambda: expected <= set(event_line_keys(whole_mail_log(stack))), remaining(), "every line", 1
        )
    except (AssertionError, TimeoutError):
        return False
    return True


def count(stack: FaultStack, load: Load, watcher: MailLogWatcher, fault_end: float) -> Counts:
    outcomes = load.by_outcome()
    accepted = {attempt.recipient: attempt for attempt in outcomes[ACCEPTED]}
    deliveries = _deliveries(stack)
    counts = Counts(
        offered=sum(len(attempts) for attempts in outcomes.values()),
        accepted=len(accepted),
        refused=len(outcomes[REFUSED]),
        unconfirmed=len(outcomes[UNCONFIRMED]),
    )
    counts.delivered = sum(1 for rcpt in accepted if deliveries[rcpt])
    counts.lost = counts.accepted - counts.delivered
    counts.twice = sum(1 for rcpt in accepted if deliveries[rcpt] > 1)
    counts.unconfirmed_delivered = sum(
        1 for attempt in outcomes[UNCONFIRMED] + outcomes[REFUSED] if deliveries[attempt.recipient]
    )

    published = stack.simulator.publisher.published
    counts.events = sum(1 for record in published if record.error is None)
    counts.publish_failed = len(published) - counts.events
    expected = expected_line_keys(stack)
    log = whole_mail_log(stack)
    logged = event_line_keys(log)
    sent_lines = {found["ses_id"] for found in _SENT_LINE.finditer(log)}
    counts.sent_lines_missing = sum(
        1 for message in stack.simulator.messages if message.ses_message_id not in sent_lines
    )
    counts.lines_expected = sum(expected.values())
    counts.lines_logged = sum(logged[key] for key in expected)
    counts.lines_lost = sum(max(0, n - logged[key]) for key, n in expected.items())
    counts.lines_twice = sum(max(0, logged[key] - n) for key, n in expected.items())
    counts.recovery = _recovery(stack, accepted, watcher, expected, fault_end)
    return counts


def _recovery(
    stack: FaultStack,
    accepted: dict,
    watcher: MailLogWatcher,
    expected: Iterable[LineKey],
    fault_end: float,
) -> float | None:
    before = {rcpt for rcpt, attempt in accepted.items() if attempt.at <= fault_end}
    reached: dict[str, float] = {}
    ses_ids: set[str] = set()
    for message in stack.simulator.messages:
        for rcpt in message.rcpt_tos:
            if rcpt in before:
                reached.setdefault(rcpt, message.accepted_at.timestamp())
                ses_ids.add(message.ses_message_id)
    if len(reached) < len(before):
        return None
    times = list(reached.values())
    for key in expected:
        if key[0] in ses_ids:
            if key not in watcher.first_seen:
                return None
            times.append(watcher.first_seen[key])
    return max(0.0, max(times, default=fault_end) - fault_end)
