"""Postfix's queue as ``postqueue -j`` lists it, and what SES's reply to each message means."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from dataclasses import dataclass


class Throttle(enum.Enum):
    """Why SES deferred a message, as far as pacing cares (reference 3.5)."""

    RATE = "Maximum sending rate exceeded"
    DAILY_QUOTA = "Daily message quota exceeded"


# "454 Throttling failure: Maximum sending rate exceeded." and its legacy SigV2 form,
# "… Maximum SigV2 SMTP sending rate exceeded."
_RATE_MARKERS = ("Maximum sending rate exceeded", "sending rate exceeded")


def throttle_in(reason: str) -> Throttle | None:
    """The throttle an SES reply (as Postfix keeps it in delay_reason) reports, if any."""
    if "Throttling failure" not in reason:
        return None
    if "Daily message quota exceeded" in reason:
        return Throttle.DAILY_QUOTA
    if any(marker in reason for marker in _RATE_MARKERS):
        return Throttle.RATE
    return None


@dataclass(frozen=True)
class QueuedMessage:
    queue_id: str
    queue_name: str  # maildrop, incoming, active, deferred or hold
    arrival_time: int
    recipients: int
    throttle: Throttle | None


def parse_postqueue_json(lines: Iterable[str]) -> list[QueuedMessage]:
    """Every message ``postqueue -j`` listed; lines that are not one of its objects are skipped."""
    messages = []
    for line in lines:
        try:
            entry = json.loads(line)
            recipients = entry.get("recipients") or []
            throttles = {throttle_in(str(r.get("delay_reason", ""))) for r in recipients} - {None}
            messages.append(
                QueuedMessage(
                    queue_id=str(entry["queue_id"]),
                    queue_name=str(entry["queue_name"]),
                    arrival_time=int(entry.get("arrival_time", 0)),
                    recipients=max(1, len(recipients)),
                    # The daily quota outranks the rate: it decides whether to send at all.
                    throttle=Throttle.DAILY_QUOTA
                    if Throttle.DAILY_QUOTA in throttles
                    else next(iter(throttles), None),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return messages
