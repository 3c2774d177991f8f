"""What one SES event means for each of its recipients (reference §1.4-§1.11).

One function per event type turns the event into ``RecipientOutcome``s: which recipients it is
about, and for each the relay, DSN, status word, detail, delay and response text. Rendering and
sanitising are ``_lines``' job.

Rules that apply to every type:

* Recipients come from the per-type list of §1.11; types without one (Send, Reject, Rendering
  Failure, Open, Click, Subscription) use ``mail.destination``. An event whose list is missing or
  empty still yields one line, with ``to=<>``: it happened, even if SES did not say to whom.
* ``relay=`` is ``reportingMTA`` without its ``dsn; `` type prefix, followed by ``[remoteMtaIp]``
  when known, i.e. "SES's outbound host[receiving server's IP]"; ``amazonses.com`` when SES names
  no reporting MTA (every type but Delivery, Bounce and DeliveryDelay).
* ``dsn=`` is the enhanced status SES reports for the recipient, if it is a well-formed one, else
  the status word's default from the table (for a Transient bounce: 4.0.0).
* ``delay=`` is Delivery's ``processingTimeMillis``, otherwise the event's own timestamp minus
  ``mail.timestamp`` (never negative); None, i.e. no field, when either is missing or unreadable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ses_events.core._json import list_field, non_negative_int_field, object_field, text_field
from ses_events.core._ses_event import SesEvent
from ses_events.core._status_words import (
    ACCEPTED,
    BOUNCED,
    CLICKED,
    COMPLAINED,
    DEFERRED,
    DELIVERED,
    FAILED,
    OPENED,
    REJECTED,
    SUBSCRIPTION_CHANGED,
    UNSUBSCRIBED,
    StatusWord,
)

#: ``relay=`` when SES does not name the host that reported the event.
DEFAULT_RELAY = "amazonses.com"

#: ``dsn=`` for a Transient bounce that carries no status of its own (e.g. an out-of-office reply):
#: the message failed, but for a reason the DSN classes call temporary.
TRANSIENT_BOUNCE_DSN = "4.0.0"

# RFC 3463 enhanced status code: class.subject.detail.
_ENHANCED_STATUS = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")
# "250 2.0.0 Ok: queued as ..." -> 2.0.0; a 2xx reply without a code gives no match.
_SUCCESS_REPLY_STATUS = re.compile(r"\s*2\d\d[ -](2\.\d{1,3}\.\d{1,3})(?:\s|$)")
# Reporting-MTA is "mta-name-type; name" (RFC 3464), e.g. "dsn; a8-30.smtp-out.amazonses.com".
_MTA_NAME_TYPE = re.compile(r"\s*[A-Za-z][A-Za-z0-9-]*;\s*")

_Recipient = tuple[str, Mapping[str, Any]]

_ONE_MILLISECOND = timedelta(milliseconds=1)


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


def recipient_outcomes(event: SesEvent) -> list[RecipientOutcome]:
    """One outcome per recipient of ``event``, in the order SES lists them."""
    return _DESCRIBE_BY_TYPE[event.event_type](event)


def _send(event: SesEvent) -> list[RecipientOutcome]:
    return _per_destination(event, ACCEPTED)


def _delivery(event: SesEvent) -> list[RecipientOutcome]:
    delivery = event.payload
    reply = text_field(delivery, "smtpResponse")
    delay = non_negative_int_field(delivery, "processingTimeMillis")
    if delay is None:
        delay = _delay_since_accepted(event)
    return [
        RecipientOutcome(
            recipient=address,
            relay=_relay(delivery),
            dsn=_status_of_success_reply(reply) or DELIVERED.default_dsn,
            status=DELIVERED,
            delay_ms=delay,
            response=reply,
        )
        for address, _ in _recipients(list_field(delivery, "recipients"))
    ]


def _bounce(event: SesEvent) -> list[RecipientOutcome]:
    bounce = event.payload
    bounce_type = text_field(bounce, "bounceType")
    fallback_dsn = TRANSIENT_BOUNCE_DSN if bounce_type == "Transient" else BOUNCED.default_dsn
    return [
        RecipientOutcome(
            recipient=address,
            relay=_relay(bounce),
            dsn=_enhanced_status(details) or fallback_dsn,
            status=BOUNCED,
            detail=_joined(bounce_type, text_field(bounce, "bounceSubType")),
            delay_ms=_delay_since_accepted(event),
            response=text_field(details, "diagnosticCode"),
        )
        for address, details in _recipients(list_field(bounce, "bouncedRecipients"))
    ]


def _complaint(event: SesEvent) -> list[RecipientOutcome]:
    complaint = event.payload
    # complaintSubType is null for ordinary complaints and "OnAccountSuppressionList" otherwise.
    detail = _joined(
        text_field(complaint, "complaintFeedbackType"), text_field(complaint, "complaintSubType")
    )
    return [
        RecipientOutcome(
            recipient=address,
            relay=DEFAULT_RELAY,
            dsn=COMPLAINED.default_dsn,
            status=COMPLAINED,
            detail=detail,
            delay_ms=_delay_since_accepted(event),
            response=text_field(complaint, "userAgent"),
        )
        for address, _ in _recipients(list_field(complaint, "complainedRecipients"))
    ]


def _delivery_delay(event: SesEvent) -> list[RecipientOutcome]:
    delay = event.payload
    return [
        RecipientOutcome(
            recipient=address,
            relay=_relay(delay),
            dsn=_enhanced_status(details) or DEFERRED.default_dsn,
            status=DEFERRED,
            detail=text_field(delay, "delayType"),
            delay_ms=_delay_since_accepted(event),
            response=text_field(details, "diagnosticCode"),
        )
        for address, details in _recipients(list_field(delay, "delayedRecipients"))
    ]


def _reject(event: SesEvent) -> list[RecipientOutcome]:
    reason = text_field(event.payload, "reason")
    return _per_destination(event, REJECTED, detail=reason, response=reason)


def _rendering_failure(event: SesEvent) -> list[RecipientOutcome]:
    failure = event.payload
    return _per_destination(
        event,
        FAILED,
        detail=text_field(failure, "templateName"),
        response=text_field(failure, "errorMessage"),
    )


def _open(event: SesEvent) -> list[RecipientOutcome]:
    opened = event.payload
    return _per_destination(
        event, OPENED, detail=text_field(opened, "ipAddress"), response=text_field(opened, "userAgent")
    )


def _click(event: SesEvent) -> list[RecipientOutcome]:
    click = event.payload
    return _per_destination(
        event, CLICKED, detail=text_field(click, "ipAddress"), response=text_field(click, "link")
    )


def _subscription(event: SesEvent) -> list[RecipientOutcome]:
    subscription = event.payload
    new_preferences = object_field(subscription, "newTopicPreferences")
    word = UNSUBSCRIBED if new_preferences.get("unsubscribeAll") is True else SUBSCRIPTION_CHANGED
    return _per_destination(
        event,
        word,
        detail=text_field(subscription, "contactList"),
        response=_preferences_summary(text_field(subscription, "source"), new_preferences),
    )


def _per_destination(
    event: SesEvent, status: StatusWord, detail: str | None = None, response: str | None = None
) -> list[RecipientOutcome]:
    """Outcomes for a type that names no recipients of its own: every ``mail.destination``."""
    delay = _delay_since_accepted(event)
    return [
        RecipientOutcome(
            recipient=address,
            relay=DEFAULT_RELAY,
            dsn=status.default_dsn,
            status=status,
            detail=detail,
            delay_ms=delay,
            response=response,
        )
        for address, _ in _recipients(list_field(event.mail, "destination"))
    ]


def _recipients(entries: list[Any]) -> list[_Recipient]:
    """Each recipient's address and per-recipient object (empty for plain address lists)."""
    if not entries:
        return [("", {})]
    recipients: list[_Recipient] = []
    for entry in entries:
        if isinstance(entry, str):
            recipients.append((entry, {}))
        elif isinstance(entry, Mapping):
            recipients.append((text_field(entry, "emailAddress") or "", entry))
        else:
            recipients.append(("", {}))
    return recipients


def _relay(report: Mapping[str, Any]) -> str:
    host = text_field(report, "reportingMTA") or ""
    type_prefix = _MTA_NAME_TYPE.match(host)
    if type_prefix:
        host = host[type_prefix.end() :]
    host = host.strip() or DEFAULT_RELAY
    remote_ip = text_field(report, "remoteMtaIp")
    return f"{host}[{remote_ip}]" if remote_ip else host


def _enhanced_status(recipient_details: Mapping[str, Any]) -> str | None:
    status = (text_field(recipient_details, "status") or "").strip()
    return status if _ENHANCED_STATUS.fullmatch(status) else None


def _status_of_success_reply(reply: str | None) -> str | None:
    match = _SUCCESS_REPLY_STATUS.match(reply or "")
    return match.group(1) if match else None


def _delay_since_accepted(event: SesEvent) -> int | None:
    return elapsed_ms(event.mail.get("timestamp"), event.payload.get("timestamp"))


def parse_ses_timestamp(value: object) -> datetime | None:
    """Parse an SES ISO 8601 timestamp; None when absent or unreadable.

    SES writes ``2024-05-01T12:00:00.123Z`` almost everywhere but one documented example uses
    ``2018-10-08T14:05:45 +0000`` and LocalStack writes ``+00:00`` with microseconds; Python 3.11's
    ``fromisoformat`` reads all three. A timestamp without an offset is taken as UTC, the only
    zone SES uses.
    """
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def elapsed_ms(start: object, end: object) -> int | None:
    """Whole milliseconds from ``start`` to ``end`` (SES timestamps), never negative.

    None when either is missing or unreadable. Clock skew between the SES subsystems that stamp
    the two values can make the difference slightly negative; a delay below zero means nothing
    to a reader, so it is reported as 0.
    """
    started = parse_ses_timestamp(start)
    ended = parse_ses_timestamp(end)
    if started is None or ended is None:
        return None
    return max(0, (ended - started) // _ONE_MILLISECOND)


def _joined(*parts: str | None) -> str | None:
    return "/".join(part for part in parts if part) or None


def _preferences_summary(source: str | None, preferences: Mapping[str, Any]) -> str | None:
    """``source=UnsubscribeHeader; unsubscribeAll=true; Invoices=OptOut``: the new preferences."""
    parts = [f"source={source}"] if source else []
    unsubscribe_all = preferences.get("unsubscribeAll")
    if isinstance(unsubscribe_all, bool):
        parts.append(f"unsubscribeAll={str(unsubscribe_all).lower()}")
    for topic in list_field(preferences, "topicSubscriptionStatus"):
        if isinstance(topic, Mapping):
            name = text_field(topic, "topicName") or "?"
            parts.append(f"{name}={text_field(topic, 'subscriptionStatus') or '?'}")
    return "; ".join(parts) or None


_DESCRIBE_BY_TYPE: Mapping[str, Callable[[SesEvent], list[RecipientOutcome]]] = {
    "Send": _send,
    "Delivery": _delivery,
    "Bounce": _bounce,
    "Complaint": _complaint,
    "DeliveryDelay": _delivery_delay,
    "Reject": _reject,
    "Rendering Failure": _rendering_failure,
    "Open": _open,
    "Click": _click,
    "Subscription": _subscription,
}
