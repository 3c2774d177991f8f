"""The one place a log line is made: one SQS body -> its lines, one SES event -> one line per recipient.

The line is the syslog *message* part only; syslog adds ``Mon DD HH:MM:SS host
postfix/ses-events[PID]: `` in front. Fields keep Postfix's delivery-line order so the same eyes
and tools read both (``to``, ``relay``, ``dsn``, ``status`` with its detail), then ours::

    PREFIX: to=<rcpt>, relay=RELAY, dsn=X.Y.Z, status=WORD[ (DETAIL)][, delay=Nms], ses_id=ID, response=(TEXT)

* ``PREFIX`` is the Postfix queue ID when known (see ``_queue_ids``), else the SES message ID,
  which ``ses_id=`` repeats in every case, so ``grep`` finds the line by either.
* ``delay=`` is left out when it cannot be computed (Postfix also leaves out fields it lacks).
* ``response=(...)`` is always present, empty ``()`` when the event carries no text, so the
  field count only ever varies by the optional delay.
* Every value goes through ``clean_field``: one line per recipient, whatever the input holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from ses_events.core._outcomes import RecipientOutcome, recipient_outcomes
from ses_events.core._queue_ids import QueueIdLookup, no_queue_ids, relay_queue_id
from ses_events.core._sanitize import clean_field
from ses_events.core._ses_event import SesEvent, event_key
from ses_events.core._sqs_body import MessageKind, unwrap_sqs_body


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
    event = unwrapped.event
    if event is None:
        return FormattedMessage(kind=unwrapped.kind)
    return FormattedMessage(
        kind=unwrapped.kind,
        lines=tuple(event_to_log_lines(event, queue_id_for, relay_hostname)),
        event_key=event_key(event),
        event_type=event.event_type,
        ses_message_id=event.message_id,
    )


def event_to_log_lines(
    event: SesEvent, queue_id_for: QueueIdLookup = no_queue_ids, relay_hostname: str | None = None
) -> list[str]:
    """The log lines for one SES event (either producer), one per recipient, in SES's order.

    Each line starts with the Postfix queue ID when ``queue_id_for(mail.messageId)`` knows it, or
    else when the published headers show it was relayed by ``relay_hostname`` under that queue ID
    (see ``relay_queue_id``), so ``grep QUEUEID`` finds it next to Postfix's own lines; otherwise
    with the SES message ID, which the ``ses_id=`` field repeats in every case.
    """
    prefix = (
        queue_id_for(event.message_id)
        or (relay_queue_id(event.mail, relay_hostname) if relay_hostname else None)
        or event.message_id
    )
    return [render_line(prefix, outcome, event.message_id) for outcome in recipient_outcomes(event)]


def render_line(prefix: str, outcome: RecipientOutcome, ses_message_id: str) -> str:
    """The log line for ``outcome``, starting with ``prefix`` (Postfix queue ID or SES message ID)."""
    status = outcome.status.word
    detail = clean_field(outcome.detail or "")
    if detail:
        status += f" ({detail})"
    fields = [
        f"{clean_field(prefix)}: to=<{clean_field(outcome.recipient)}>",
        f"relay={clean_field(outcome.relay)}",
        f"dsn={clean_field(outcome.dsn)}",
        f"status={status}",
    ]
    if outcome.delay_ms is not None:
        fields.append(f"delay={outcome.delay_ms}ms")
    fields.append(f"ses_id={clean_field(ses_message_id)}")
    fields.append(f"response=({clean_field(outcome.response or '')})")
    return ", ".join(fields)
