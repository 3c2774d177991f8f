"""``SesEvent``: the one validated event type the core passes around, and its identity.

Identity feedback notifications name the type in ``notificationType``; configuration-set event
publishing names it in ``eventType``. Apart from that field the two formats are the same, so the
body is validated once (``read_ses_event``, called by ``unwrap_sqs_body``) and everything after it
works on a ``SesEvent`` and never needs to know which producer sent it.

``event_key`` identifies one event, to drop duplicates. SQS delivers at least once and SNS
retries, so the same event can arrive twice, in a different SNS envelope (or with raw delivery, no
envelope at all). The key therefore ignores the envelope and is computed from the event alone: its
type, ``mail.messageId`` and the whole type-specific object (``bounce``, ``delivery``, ...), which
carries the timestamps, feedback IDs and recipient lists that tell two events of one message apart.
The ``mail`` object is left out on purpose: it describes the message, not the event, and the two
SES producers fill it differently, so leaving it out lets the same bounce reported by both collapse
into one key when their details agree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ses_events.core._json import PoisonMessage, json_type_name, object_field, quoted

#: The field that names the event type: event publishing, then identity notifications.
TYPE_FIELDS = ("eventType", "notificationType")

#: Every documented SES event type, with the key of the object that carries its details.
#: "Rendering Failure" really contains a space, and its object is ``failure``.
PAYLOAD_KEY_BY_TYPE: Mapping[str, str] = MappingProxyType(
    {
        "Send": "send",
        "Delivery": "delivery",
        "Bounce": "bounce",
        "Complaint": "complaint",
        "DeliveryDelay": "deliveryDelay",
        "Reject": "reject",
        "Rendering Failure": "failure",
        "Open": "open",
        "Click": "click",
        "Subscription": "subscription",
    }
)


@dataclass(frozen=True)
class SesEvent:
    """One validated SES event.

    ``payload`` is the type's own object (``bounce``, ``delivery``, ...), or an empty mapping when
    SES left it out: a missing detail object is not worth losing the event for.
    """

    event_type: str
    message_id: str
    mail: Mapping[str, Any]
    payload: Mapping[str, Any]


def has_type_field(obj: Mapping[str, Any]) -> bool:
    """True when ``obj`` claims to be an SES event (it carries a type field)."""
    return any(field in obj for field in TYPE_FIELDS)


def read_ses_event(obj: object) -> SesEvent:
    """Validate an SES event object; raise PoisonMessage when it cannot be logged.

    Poison is limited to what makes the event unusable: no known type, or no ``mail.messageId``
    (the only key that joins an event to Postfix's ``250 Ok <id>`` line). Anything else that is
    missing only makes the log line less detailed.
    """
    if not isinstance(obj, Mapping):
        raise PoisonMessage(f"SES event must be a JSON object, not {json_type_name(obj)}")
    event_type = _event_type(obj)
    mail = obj.get("mail")
    if not isinstance(mail, Mapping):
        raise PoisonMessage(f"{event_type} event has no 'mail' object")
    message_id = mail.get("messageId")
    if not isinstance(message_id, str) or not message_id.strip():
        raise PoisonMessage(f"{event_type} event has no mail.messageId")
    payload = object_field(obj, PAYLOAD_KEY_BY_TYPE[event_type])
    return SesEvent(event_type=event_type, message_id=message_id, mail=mail, payload=payload)


def event_key(event: SesEvent) -> str:
    """``<EventType>:<sha256 hex>``; equal for redeliveries of one event, different for any two events.

    Raises PoisonMessage for an event nested too deeply to serialise again.
    """
    # sort_keys: JSON key order is not meaningful, so it must not change the key.
    # ensure_ascii: lone surrogates from JSON escapes must still hash; it is also byte-stable.
    try:
        canonical = json.dumps(
            [event.event_type, event.message_id, event.payload],
            sort_keys=True,
            ensure_ascii=True,
            separators=(",", ":"),
        )
    except RecursionError:  # json.loads read it, but a deeper call stack may not write it back
        raise PoisonMessage(f"{event.event_type} event is nested too deeply to identify") from None
    digest = hashlib.sha256(canonical.encode("ascii")).hexdigest()
    return f"{event.event_type.replace(' ', '')}:{digest}"


def _event_type(obj: Mapping[str, Any]) -> str:
    present = [obj[field] for field in TYPE_FIELDS if field in obj]
    if not present:
        raise PoisonMessage("JSON object has neither eventType nor notificationType")
    # SES sends exactly one of the two; if something sends both they must at least agree.
    if len(present) == 2 and present[0] != present[1]:
        raise PoisonMessage(
            f"eventType {quoted(present[0])} and notificationType {quoted(present[1])} disagree"
        )
    event_type = present[0]
    if not isinstance(event_type, str):
        raise PoisonMessage(f"SES event type must be a string, not {json_type_name(event_type)}")
    if event_type not in PAYLOAD_KEY_BY_TYPE:
        raise PoisonMessage(f"unknown SES event type {quoted(event_type)}")
    return event_type
