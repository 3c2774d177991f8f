"""Turn one SES event into its log lines: one line per recipient."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ses_events.event_outcomes import recipient_outcomes
from ses_events.line_format import render_line
from ses_events.received_header import relay_queue_id
from ses_events.ses_event import read_ses_event

#: Given an SES message ID, the Postfix queue ID whose ``250 Ok <id>`` reply carried it, if known.
QueueIdLookup = Callable[[str], str | None]


def no_queue_ids(ses_message_id: str) -> str | None:
    """A QueueIdLookup that knows no queue IDs: lines then start with the SES message ID."""
    return None


def event_to_log_lines(
    event: Mapping[str, Any], queue_id_for: QueueIdLookup = no_queue_ids, relay_hostname: str | None = None
) -> list[str]:
    """The log lines for one SES event object (either producer), one per recipient, in SES's order.

    Each line starts with the Postfix queue ID when ``queue_id_for(mail.messageId)`` knows it, or
    else when the published headers show it was relayed by ``relay_hostname`` under that queue ID
    (see ``received_header``), so ``grep QUEUEID`` finds it next to Postfix's own lines; otherwise
    with the SES message ID, which the ``ses_id=`` field repeats in every case. Raises
    PoisonMessage for an object that is not a usable SES event (see ``read_ses_event``).
    """
    ses_event = read_ses_event(event)
    prefix = (
        queue_id_for(ses_event.message_id)
        or (relay_queue_id(ses_event.mail, relay_hostname) if relay_hostname else None)
        or ses_event.message_id
    )
    return [render_line(prefix, outcome, ses_event.message_id) for outcome in recipient_outcomes(ses_event)]
