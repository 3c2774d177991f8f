"""A stable identity for one SES event, to drop duplicates.

SQS delivers at least once and SNS retries, so the same event can arrive twice, in a different
SNS envelope (or with raw delivery, no envelope at all). The key therefore ignores the envelope and
is computed from the event alone: its type, ``mail.messageId`` and the whole type-specific object
(``bounce``, ``delivery``, ...), which carries the timestamps, feedback IDs and recipient lists
that tell two events of one message apart.

The ``mail`` object is left out on purpose: it describes the message, not the event, and the two
SES producers (identity notifications and event publishing) fill it differently, so leaving it out
lets the same bounce reported by both collapse into one key when their details agree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ses_events.errors import PoisonMessage
from ses_events.ses_event import read_ses_event


def event_key(event: Mapping[str, Any]) -> str:
    """``<EventType>:<sha256 hex>``; equal for redeliveries of one event, different for any two events.

    Raises PoisonMessage for an object that is not a usable SES event.
    """
    ses_event = read_ses_event(event)
    # sort_keys: JSON key order is not meaningful, so it must not change the key.
    # ensure_ascii: lone surrogates from JSON escapes must still hash; it is also byte-stable.
    try:
        canonical = json.dumps(
            [ses_event.event_type, ses_event.message_id, ses_event.payload],
            sort_keys=True,
            ensure_ascii=True,
            separators=(",", ":"),
        )
    except RecursionError:  # json.loads read it, but a deeper call stack may not write it back
        raise PoisonMessage(f"{ses_event.event_type} event is nested too deeply to identify") from None
    digest = hashlib.sha256(canonical.encode("ascii")).hexdigest()
    return f"{ses_event.event_type.replace(' ', '')}:{digest}"
