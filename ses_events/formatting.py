"""One SQS message body in, its log lines out: the function both the CLI and the daemon call."""

from __future__ import annotations

from dataclasses import dataclass

from ses_events.event_identity import event_key
from ses_events.event_lines import QueueIdLookup, event_to_log_lines, no_queue_ids
from ses_events.ses_event import read_ses_event
from ses_events.sqs_body import MessageKind, unwrap_sqs_body


@dataclass(frozen=True)
class FormattedMessage:
    """Everything the daemon needs to act on one SQS message.

    For non-events (``kind`` is not SES_EVENT) ``lines`` is empty and the other fields are None:
    acknowledge the message and write nothing.
    """

    kind: MessageKind
    lines: tuple[str, ...] = ()
    #: De-duplication key (see ``event_key``); write the lines only the first time it is seen.
    event_key: str | None = None
    event_type: str | None = None
    ses_message_id: str | None = None


def format_sqs_body(
    body: str, queue_id_for: QueueIdLookup = no_queue_ids, relay_hostname: str | None = None
) -> FormattedMessage:
    """Unwrap one SQS body (SNS envelope or raw delivery) and format its log lines (see
    ``event_to_log_lines`` for the queue ID lookup and ``relay_hostname``).

    Raises PoisonMessage when the body can never be formatted.
    """
    unwrapped = unwrap_sqs_body(body)
    if unwrapped.event is None:
        return FormattedMessage(kind=unwrapped.kind)
    ses_event = read_ses_event(unwrapped.event)
    return FormattedMessage(
        kind=unwrapped.kind,
        lines=tuple(event_to_log_lines(unwrapped.event, queue_id_for, relay_hostname)),
        event_key=event_key(unwrapped.event),
        event_type=ses_event.event_type,
        ses_message_id=ses_event.message_id,
    )
