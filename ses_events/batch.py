"""One batch of SQS messages -> lines written to syslog -> the messages safe to delete.

The order of operations is what makes the logger exactly-once in effect:

1. catch up on the mail log, so queue IDs of freshly sent mail are known;
2. format every body (a poison body is reported once and left for the dead-letter queue);
3. skip events already ``done``; for events left ``pending`` by a crash, write only the lines
   that are not in the mail log yet;
4. record the new events as ``pending`` with their lines, *then* write the lines;
5. record what was written as ``done``; only those messages (and non-events) may be deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ses_events.errors import PoisonMessage
from ses_events.formatting import FormattedMessage, format_sqs_body
from ses_events.mail_log_follower import MailLogFollower
from ses_events.state import State
from ses_events.syslog_writer import SEVERITY_ERR, SyslogUnavailable, SyslogWriter

SqsMessage = Mapping[str, Any]


@dataclass
class BatchOutcome:
    deletable: list[SqsMessage] = field(default_factory=list)
    syslog_error: str | None = None


def _poison_line(message: SqsMessage, reason: str) -> str:
    return (
        f"{message.get('MessageId', 'unknown')}: poison SQS message left in the queue for its "
        f"dead-letter queue: {reason}"
    )


class BatchProcessor:
    def __init__(self, state: State, follower: MailLogFollower):
        self.state = state
        self.follower = follower

    def _format(
        self, messages: Sequence[SqsMessage], writer: SyslogWriter, outcome: BatchOutcome
    ) -> list[tuple[SqsMessage, FormattedMessage]]:
        events = []
        for message in messages:
            try:
                formatted = format_sqs_body(message.get("Body", ""), self.state.queue_id_for)
            except PoisonMessage as poison:
                # Not deleted: the redrive policy moves it to the DLQ after maxReceiveCount.
                if self.state.first_time_poison(str(message.get("MessageId"))):
                    writer.write([_poison_line(message, poison.reason)], SEVERITY_ERR)
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

        known = self.state.known_events(formatted.event_key for _, formatted in events)
        owners: dict[str, list[SqsMessage]] = {}
        # Each event's lines as recorded: what we write now, or wrote before we died.
        recorded: dict[str, tuple[str, ...]] = {}
        for message, formatted in events:
            key = str(formatted.event_key)
            previous = known.get(key)
            if previous is not None and previous.state == "done":
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

        self.state.mark_pending(recorded)
        written: dict[str, tuple[str, ...]] = {}
        try:
            for key, lines in recorded.items():
                writer.write(lines if key not in known else [line for line in lines if line not in already])
                written[key] = lines
                outcome.deletable.extend(owners[key])
        except SyslogUnavailable as error:
            outcome.syslog_error = str(error)
        finally:
            self.state.mark_done(written)
        return outcome
