"""SES configuration-set event publishing JSON, shaped as SES publishes it for mail sent over SMTP.

Pure functions, no I/O: the simulator (devstack/ses_simulator.py) decides what happens to a
message and when; this module says what SES would publish about it. Shapes follow the reference's
§1.12 event-publishing examples and real captures:

- ``mail``: timestamp, source, sourceArn, sourceIp, callerIdentity, sendingAccountId, messageId (the
  id of the ``250 Ok <id>`` reply), destination, headersTruncated, headers (SES's own ``Received``
  first, then the submitted headers unfolded, in order), commonHeaders (``messageId`` is the SES id,
  as in event publishing), tags (``ses:operation`` = ``SendSmtpEmail``, ``ses:configuration-set``,
  ``ses:source-ip``, ``ses:from-domain``, ``ses:caller-identity``, ``ses:outgoing-ip`` on Delivery,
  plus the message's ``X-SES-MESSAGE-TAGS``).
- one object per type: ``send: {}``, ``delivery``, ``bounce``, ``complaint``.

The mailbox simulator's outcomes (reference §5, with ``+label`` variants) are in ``simulator_outcome``.
"""

from __future__ import annotations

import base64
import datetime
import email.header
import json
import re
import secrets
import string
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

SIMULATOR_DOMAIN = "simulator.amazonses.com"
SES_SMTP_HOST = "email-smtp.amazonaws.com"
SES_SMTP_TOKEN = "SimpleEmailService-d-STANDIN"
# SES truncates the headers it publishes once they reach 10 KB (reference §1.3).
HEADERS_LIMIT_BYTES = 10 * 1024
SNS_SUBJECT = "Amazon SES Email Event Notification"
SIMULATOR_REPORTING_MTA = "a8-70.smtp-out.amazonses.com"
SIMULATOR_BOUNCE_MTA = "dsn; a8-96.smtp-out.amazonses.com"
SIMULATOR_OUTGOING_IP = "54.240.8.70"
SIMULATOR_DEFAULT_SMTP_RESPONSE = "250 2.6.0 Message received"
SUPPRESSION_DIAGNOSTIC = (
    "Amazon SES did not send the message to this address because it is on the suppression list for "
    "your account. For more information about removing addresses from the suppression list, see the "
    "Amazon SES Developer Guide at "
    "https://docs.aws.amazon.com/ses/latest/DeveloperGuide/sending-email-suppression-list.html"
)
# The first four hex digits of SES ids differ by region (reference §1.10; observed, undocumented).
_REGION_ID_PREFIX = {
    "us-east-1": "0100",
    "us-west-2": "0101",
    "eu-west-1": "0102",
    "ap-northeast-1": "0106",
    "eu-central-1": "0107",
}
_ADDRESS_HEADERS = {"from": "from", "to": "to", "cc": "cc", "bcc": "bcc", "reply-to": "replyTo"}


def new_ses_id(region: str = "us-east-1", when: datetime.datetime | None = None) -> str:
    """An id in SES's shape: 4 hex (region), 12 hex epoch milliseconds, a UUID, ``-000000``."""
    moment = when or datetime.datetime.now(datetime.UTC)
    millis = int(moment.timestamp() * 1000)
    return f"{_REGION_ID_PREFIX.get(region, '0100')}{millis:012x}-{uuid.uuid4()}-000000"


def iso_timestamp(moment: datetime.datetime) -> str:
    """``2024-05-01T12:00:00.123Z``: SES's event timestamps, UTC with milliseconds."""
    utc = moment.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def rfc5322_date(moment: datetime.datetime) -> str:
    """``Wed, 01 May 2024 12:00:00 +0000``, the form SES writes in its Received and Date headers."""
    return moment.astimezone(datetime.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def smtp_session_id() -> str:
    """The 20-character id SES puts in its greeting and Received header."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20))


class Outcome(Enum):
    """What the (simulated) receiving side does with one recipient."""

    DELIVERED = "delivered"
    BOUNCE = "bounce"  # bounce@: hard bounce, 550 5.1.1 user unknown
    SUPPRESSED = "suppressed"  # suppressionlist@: bounced by SES itself, never sent
    COMPLAINT = "complaint"  # complaint@: delivered, then an abuse complaint
    OOTO = "ooto"  # ooto@: delivered, then an out-of-office auto-reply (Transient bounce)


_SIMULATOR_MAILBOXES = {
    "success": Outcome.DELIVERED,
    "bounce": Outcome.BOUNCE,
    "suppressionlist": Outcome.SUPPRESSED,
    "complaint": Outcome.COMPLAINT,
    "ooto": Outcome.OOTO,
}


def simulator_outcome(recipient: str) -> Outcome:
    """The mailbox simulator's outcome for an address (``bounce+label@...`` too); others are delivered."""
    local, _, domain = recipient.rpartition("@")
    if domain.lower() != SIMULATOR_DOMAIN:
        return Outcome.DELIVERED
    mailbox = local.split("+", 1)[0].lower()
    return _SIMULATOR_MAILBOXES.get(mailbox, Outcome.DELIVERED)


def is_simulator_address(address: str) -> bool:
    return address.rpartition("@")[2].lower() == SIMULATOR_DOMAIN


# --- the submitted message -------------------------------------------------------------------


def parse_headers(content: bytes) -> list[tuple[str, str]]:
    """The message's header fields in order, unfolded as SES publishes them (CRLF removed)."""
    text = content.decode("utf-8", errors="replace").replace("\r\n", "\n")
    block = text.split("\n\n", 1)[0]
    fields: list[list[str]] = []
    for line in block.split("\n"):
        if line[:1] in (" ", "\t") and fields:
            fields[-1][1] += line
        elif ":" in line:
            name, _, value = line.partition(":")
            fields.append([name.strip(), value.lstrip()])
    return [(name, value.rstrip()) for name, value in fields]


def header_values(headers: Sequence[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name.lower()]


def split_addresses(value: str) -> list[str]:
    """Split an address-list header at top-level commas (not inside quotes, comments or <>)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    depth = 0
    angle = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")" and depth:
            depth -= 1
        elif not quoted and depth == 0 and char == "<":
            angle = True
        elif not quoted and depth == 0 and char == ">":
            angle = False
        elif char == "," and not quoted and depth == 0 and not angle:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


_ADDR_SPEC = re.compile(r"<\s*([^<>\s]+@[^<>\s]+)\s*>|([^\s<>\"(),;:]+@[^\s<>\"(),;:]+)")


def bare_address(value: str) -> str | None:
    """``app@example.com`` from ``Example App <app@example.com>`` (or from a bare address)."""
    match = _ADDR_SPEC.search(value)
    if not match:
        return None
    return match.group(1) or match.group(2)


def decode_words(value: str) -> str:
    """RFC 2047 encoded-words decoded, as SES shows them in commonHeaders."""
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError, UnicodeDecodeError):
        return value


def message_tags(headers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Tags from ``X-SES-MESSAGE-TAGS: name1=value1, name2=value2``."""
    tags: dict[str, list[str]] = {}
    for value in header_values(headers, "X-SES-MESSAGE-TAGS"):
        for pair in value.split(","):
            name, separator, tag_value = pair.partition("=")
            if separator and name.strip():
                tags.setdefault(name.strip(), []).append(tag_value.strip())
    return tags


# --- what SES publishes ----------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptedMail:
    """Everything SES knows about one accepted SMTP transaction."""

    message_id: str
    accepted_at: datetime.datetime
    source: str
    destination: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]
    client_ip: str
    helo: str
    smtp_session_id: str
    configuration_set: str | None
    region: str = "us-east-1"
    account_id: str = "000000000000"
    caller_identity: str = "ses-smtp-user.20240101-000000"
    source_identity: str | None = None
    extra_tags: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @property
    def from_addresses(self) -> list[str]:
        addresses = []
        for value in header_values(self.headers, "From"):
            for part in split_addresses(value):
                address = bare_address(part)
                if address:
                    addresses.append(address)
        return addresses

    @property
    def from_domain(self) -> str:
        addresses = self.from_addresses or [self.source]
        return addresses[0].rpartition("@")[2].lower()

    def ses_received_header(self) -> tuple[str, str]:
        recipient = f" for <{self.destination[0]}>" if len(self.destination) == 1 else ""
        value = (
            f"from {self.helo} (unknown [{self.client_ip}]) by {SES_SMTP_HOST} with SMTP ({SES_SMTP_TOKEN}) "
            f"id {self.smtp_session_id}{recipient}; {rfc5322_date(self.accepted_at)} (UTC)"
        )
        return ("Received", value)


def _published_headers(mail: AcceptedMail) -> tuple[list[dict[str, str]], bool]:
    published: list[dict[str, str]] = []
    size = 0
    for name, value in (mail.ses_received_header(), *mail.headers):
        size += len(name.encode()) + len(value.encode()) + 4
        if size >= HEADERS_LIMIT_BYTES:
            return published, True
        published.append({"name": name, "value": value})
    return published, False


def _common_headers(mail: AcceptedMail) -> dict[str, Any]:
    common: dict[str, Any] = {}
    for name, key in _ADDRESS_HEADERS.items():
        values = header_values(mail.headers, name)
        if values:
            common[key] = [decode_words(part) for value in values for part in split_addresses(value)]
    dates = header_values(mail.headers, "Date")
    if dates:
        common["date"] = dates[0]
    common["messageId"] = mail.message_id
    subjects = header_values(mail.headers, "Subject")
    if subjects:
        common["subject"] = decode_words(subjects[0])
    # Keep SES's order: from, date, to, messageId, subject (the rest where they fall).
    order = ["from", "replyTo", "date", "to", "cc", "bcc", "messageId", "subject"]
    return {key: common[key] for key in order if key in common}


def mail_object(mail: AcceptedMail, outgoing_ip: str | None = None) -> dict[str, Any]:
    headers, truncated = _published_headers(mail)
    tags: dict[str, list[str]] = {"ses:operation": ["SendSmtpEmail"]}
    if mail.configuration_set:
        tags["ses:configuration-set"] = [mail.configuration_set]
    tags["ses:source-ip"] = [mail.client_ip]
    tags["ses:from-domain"] = [mail.from_domain]
    tags["ses:caller-identity"] = [mail.caller_identity]
    if outgoing_ip:
        tags["ses:outgoing-ip"] = [outgoing_ip]
    for name, values in mail.extra_tags.items():
        tags.setdefault(name, list(values))
    identity = mail.source_identity or mail.from_domain
    return {
        "timestamp": iso_timestamp(mail.accepted_at),
        "source": mail.source,
        "sourceArn": f"arn:aws:ses:{mail.region}:{mail.account_id}:identity/{identity}",
        "sourceIp": mail.client_ip,
        "callerIdentity": mail.caller_identity,
        "sendingAccountId": mail.account_id,
        "messageId": mail.message_id,
        "destination": list(mail.destination),
        "headersTruncated": truncated,
        "headers": headers,
        "commonHeaders": _common_headers(mail),
        "tags": tags,
    }


def send_event(mail: AcceptedMail) -> dict[str, Any]:
    return {"eventType": "Send", "mail": mail_object(mail), "send": {}}


def delivery_event(
    mail: AcceptedMail,
    recipients: Iterable[str],
    delivered_at: datetime.datetime,
    smtp_response: str,
    reporting_mta: str = SIMULATOR_REPORTING_MTA,
    remote_mta_ip: str | None = None,
    outgoing_ip: str = SIMULATOR_OUTGOING_IP,
) -> dict[str, Any]:
    delivery: dict[str, Any] = {
        "timestamp": iso_timestamp(delivered_at),
        "processingTimeMillis": max(0, int((delivered_at - mail.accepted_at).total_seconds() * 1000)),
        "recipients": list(recipients),
        "smtpResponse": smtp_response,
    }
    if remote_mta_ip:
        delivery["remoteMtaIp"] = remote_mta_ip
    delivery["reportingMTA"] = reporting_mta
    return {"eventType": "Delivery", "mail": mail_object(mail, outgoing_ip=outgoing_ip), "delivery": delivery}


def bounce_event(
    mail: AcceptedMail,
    bounce_type: str,
    bounce_sub_type: str,
    bounced_recipients: Sequence[Mapping[str, str]],
    bounced_at: datetime.datetime,
    reporting_mta: str | None = None,
    remote_mta_ip: str | None = None,
) -> dict[str, Any]:
    bounce: dict[str, Any] = {
        "feedbackId": new_ses_id(mail.region, bounced_at),
        "bounceType": bounce_type,
        "bounceSubType": bounce_sub_type,
        "bouncedRecipients": [dict(recipient) for recipient in bounced_recipients],
        "timestamp": iso_timestamp(bounced_at),
    }
    if remote_mta_ip:
        bounce["remoteMtaIp"] = remote_mta_ip
    if reporting_mta:
        bounce["reportingMTA"] = reporting_mta
    return {"eventType": "Bounce", "bounce": bounce, "mail": mail_object(mail)}


def complaint_event(
    mail: AcceptedMail,
    recipients: Iterable[str],
    complained_at: datetime.datetime,
    feedback_type: str = "abuse",
    user_agent: str = "Amazon SES Mailbox Simulator",
) -> dict[str, Any]:
    complaint = {
        "feedbackId": new_ses_id(mail.region, complained_at),
        "complaintSubType": None,
        "complainedRecipients": [{"emailAddress": recipient} for recipient in recipients],
        "timestamp": iso_timestamp(complained_at),
        "userAgent": user_agent,
        "complaintFeedbackType": feedback_type,
        "arrivalDate": iso_timestamp(mail.accepted_at),
    }
    return {"eventType": "Complaint", "complaint": complaint, "mail": mail_object(mail)}


def delivery_delay_event(
    mail: AcceptedMail,
    delayed_recipients: Sequence[Mapping[str, str]],
    delayed_at: datetime.datetime,
    delay_type: str = "TransientCommunicationFailure",
    expiration: datetime.timedelta = datetime.timedelta(hours=14),
) -> dict[str, Any]:
    delay = {
        "timestamp": iso_timestamp(delayed_at),
        "delayType": delay_type,
        "expirationTime": iso_timestamp(mail.accepted_at + expiration),
        "delayedRecipients": [dict(recipient) for recipient in delayed_recipients],
    }
    return {"eventType": "DeliveryDelay", "mail": mail_object(mail), "deliveryDelay": delay}


def hard_bounce_recipient(address: str) -> dict[str, str]:
    """bounce@simulator.amazonses.com: the receiving server said 550 5.1.1 (reference §5)."""
    return {
        "emailAddress": address,
        "action": "failed",
        "status": "5.1.1",
        "diagnosticCode": "smtp; 550 5.1.1 user unknown",
    }


def suppressed_recipient(address: str) -> dict[str, str]:
    """suppressionlist@simulator.amazonses.com: SES bounced it without sending."""
    return {
        "emailAddress": address,
        "action": "failed",
        "status": "5.1.1",
        "diagnosticCode": SUPPRESSION_DIAGNOSTIC,
    }


def amazonses_domain(region: str) -> str:
    """``amazonses.com`` in us-east-1, ``<region>.amazonses.com`` elsewhere (envelope senders)."""
    return "amazonses.com" if region == "us-east-1" else f"{region}.amazonses.com"


def outgoing_message_id_domain(region: str) -> str:
    """SES's Message-ID domain on delivered mail (reference §1.10)."""
    return "email.amazonses.com" if region == "us-east-1" else f"{region}.amazonses.com"


def outgoing_message(
    content: bytes, message_id: str, region: str, accepted_at: datetime.datetime, outgoing_ip: str
) -> bytes:
    """The message as SES delivers it (reference §3.4, §3.7): every ``X-SES-*`` header removed,
    its own ``Message-ID`` and ``Date`` in place of the submitted ones, ``Return-Path`` left to the
    receiver, and SES's ``Feedback-ID`` and ``X-SES-Outgoing`` added."""
    normalised = content.replace(b"\r\n", b"\n")
    head, separator, body = normalised.partition(b"\n\n")
    if not separator:
        head, body = b"", normalised
    kept: list[bytes] = []
    dropping = False
    for line in head.split(b"\n") if head else []:
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        dropping = name.startswith(b"x-ses-") or name in (b"message-id", b"date", b"return-path")
        if not dropping:
            kept.append(line)
    feedback = base64.b64encode(secrets.token_bytes(32)).decode()
    added = [
        f"Message-ID: <{message_id}@{outgoing_message_id_domain(region)}>",
        f"Date: {rfc5322_date(accepted_at)}",
        f"Feedback-ID: ::1.{region}.{feedback}:AmazonSES",
        f"X-SES-Outgoing: {accepted_at.astimezone(datetime.UTC):%Y.%m.%d}-{outgoing_ip}",
    ]
    lines = kept + [header.encode() for header in added]
    return (b"\n".join(lines) + b"\n\n" + body).replace(b"\n", b"\r\n")


def sns_message(event: Mapping[str, Any]) -> str:
    """The SNS Message SES publishes: compact JSON followed by a newline (reference §2.1)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False) + "\n"
