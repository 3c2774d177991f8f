"""``ses-relay trace QUERY``: each matching message's timeline, for people or (``--json``) scripts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ses_relay_ops.timeline import Journey

INDENT = "   "


def since(seconds: float) -> str:
    """A delay between steps: ``+0s``, ``+42s``, ``+3m07s``, ``+2h05m``, ``+3d04h``."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"+{whole}s"
    minutes, second = divmod(whole, 60)
    if minutes < 60:
        return f"+{minutes}m{second:02d}s"
    hours, minute = divmod(minutes, 60)
    if hours < 48:
        return f"+{hours}h{minute:02d}m"
    days, hour = divmod(hours, 24)
    return f"+{days}d{hour:02d}h"


def _title(journey: Journey) -> str:
    recipients = ", ".join(f"<{address}>" for address in journey.recipients) or "(no recipient logged)"
    who = f"<{journey.sender}> -> {recipients}" if journey.sender or journey.recipients else ""
    key = journey.queue_id or ("refused" if journey.steps[0].name == "refused" else "queue ID unknown")
    return f"== {key}  {who}".rstrip()


def _facts(journey: Journey) -> str:
    facts = []
    if journey.client:
        facts.append(f"client {journey.client}")
    if journey.message_id:
        facts.append(f"message-id {journey.message_id}")
    facts += [f"SES message {ses_id}" for ses_id in journey.ses_ids]
    return ", ".join(facts)


def render_text(journeys: Iterable[Journey]) -> str:
    blocks = []
    for journey in journeys:
        lines = [_title(journey)]
        if facts := _facts(journey):
            lines.append(INDENT + facts)
        previous: datetime | None = None
        for step in journey.steps:
            delta = "" if previous is None else since((step.line.time - previous).total_seconds())
            previous = step.line.time
            stamp = step.line.time.strftime("%Y-%m-%d %H:%M:%S")
            lines.append(f"{INDENT}{stamp} {delta:>7}  {step.name:<28} {step.summary}".rstrip())
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def journey_json(journey: Journey) -> dict[str, Any]:
    steps = []
    previous: datetime | None = None
    for step in journey.steps:
        time = step.line.time
        steps.append(
            {
                "time": time.astimezone().isoformat(),
                "seconds_since_previous": None if previous is None else (time - previous).total_seconds(),
                "step": step.name,
                "summary": step.summary,
                "program": step.line.program,
                "fields": step.line.fields,
                "line": step.line.text,
            }
        )
        previous = time
    return {
        "queue_id": journey.queue_id or None,
        "ses_message_ids": journey.ses_ids,
        "message_id": journey.message_id or None,
        "client": journey.client or None,
        "sender": journey.sender if any("from" in s.line.fields for s in journey.steps) else None,
        "recipients": journey.recipients,
        "steps": steps,
    }


def render_json(journeys: Iterable[Journey]) -> str:
    return json.dumps([journey_json(journey) for journey in journeys], indent=2, ensure_ascii=False) + "\n"
