"""Render what happened to one recipient as one Postfix-style log line.

The line is the syslog *message* part only; syslog adds ``Mon DD HH:MM:SS host
postfix/ses-events[PID]: `` in front. Fields keep Postfix's delivery-line order so the same eyes
and tools read both (``to``, ``relay``, ``dsn``, ``status`` with its detail), then ours::

    PREFIX: to=<rcpt>, relay=RELAY, dsn=X.Y.Z, status=WORD[ (DETAIL)][, delay=Nms], ses_id=ID, response=(TEXT)

* ``delay=`` is left out when it cannot be computed (Postfix also leaves out fields it lacks).
* ``response=(...)`` is always present, empty ``()`` when the event carries no text, so the
  field count only ever varies by the optional delay.
* Every value goes through ``clean_field``: one line per recipient, whatever the input holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from ses_events.sanitize import clean_field
from ses_events.status_words import StatusWord


@dataclass(frozen=True)
class RecipientOutcome:
    """The facts for one recipient's line, before sanitising and rendering."""

    recipient: str
    relay: str
    dsn: str
    status: StatusWord
    detail: str | None = None
    delay_ms: int | None = None
    response: str | None = None


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
