"""Typed parsers for setting values: each takes the raw string and returns a value or raises ValueError.

The messages name what is wrong but never repeat a value that could be a secret: the
credential parser says nothing about the value it was given.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from dataclasses import dataclass

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_CONFIGURATION_SET = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Deliberately narrower than RFC 5321: an allow-list entry is written by an operator, and anything
# exotic (quoted local parts, IP literals) is more likely a mistake than a real sender.
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_LIST_SEPARATORS = re.compile(r"[,\s]+")
# A credential that is still a template's placeholder: the CloudFormation secret's
# "REPLACE-WITH-...", an example's "AKIA..." or "<password>". No SES user name, password or
# secret key contains "..." or angle brackets. Refused at start, the mistake is one clear line and
# ECS's deployment circuit breaker fires, instead of tasks that look healthy and defer every mail.
_PLACEHOLDER = re.compile(r"^REPLACE-WITH-|\.\.\.|^<.*>$", re.IGNORECASE)

# SES accepts at most 40 MB per message after base64 encoding; a larger Postfix limit would only
# accept mail that SES then refuses.
SES_MAX_MESSAGE_BYTES = 40 * 1024 * 1024
MIN_MESSAGE_BYTES = 1024
# Networks wider than this that reach beyond private address space cover a large share of the
# internet: refused so that a slip of the pen (or 0.0.0.0/0 from a tutorial) never makes an open
# relay. A wide private range (fd00::/8) is fine.
MIN_PREFIX_LENGTH = {4: 8, 6: 16}


@dataclass(frozen=True)
class AllowedSender:
    """One entry of RELAY_ALLOWED_SENDERS: a full address, or every address of one domain."""

    address: str | None = None
    domain: str | None = None

    @property
    def access_map_key(self) -> str:
        # Postfix access maps look a sender up as user@domain, then domain, so a bare domain key
        # matches every address of that domain.
        return self.address if self.address else str(self.domain)


def _split_list(raw: str) -> list[str]:
    return [item for item in _LIST_SEPARATORS.split(raw.strip()) if item]


def aws_region(raw: str) -> str:
    value = raw.strip()
    if not _REGION.match(value):
        raise ValueError(f"{value!r} is not an AWS region name such as 'eu-west-1'")
    return value


def hostname(raw: str) -> str:
    value = raw.strip().rstrip(".").lower()
    labels = value.split(".")
    if not value or len(value) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise ValueError(f"{raw.strip()!r} is not a valid host name")
    return value


def default_hostname() -> str:
    name = socket.getfqdn()
    try:
        return hostname(name) if "." in name else "ses-relay.localdomain"
    except ValueError:
        return "ses-relay.localdomain"


def port(raw: str) -> int:
    value = integer(raw)
    if not 1 <= value <= 65535:
        raise ValueError(f"{value} is not a TCP port (1-65535)")
    return value


def integer(raw: str) -> int:
    try:
        return int(raw.strip(), 10)
    except ValueError:
        raise ValueError(f"{raw.strip()!r} is not a whole number") from None


def bounded_integer(low: int, high: int, unit: str = ""):
    """A parser for a whole number in low..high."""

    def parse(raw: str) -> int:
        value = integer(raw)
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high}{unit}")
        return value

    return parse


def queue_url(raw: str) -> str:
    value = raw.strip()
    scheme, _, rest = value.partition("://")
    if scheme not in ("https", "http") or "/" not in rest or any(ch.isspace() for ch in value):
        raise ValueError(
            f"{value!r} is not an SQS queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/ses-events"
        )
    return value


def message_size(raw: str) -> int:
    value = integer(raw)
    if not MIN_MESSAGE_BYTES <= value <= SES_MAX_MESSAGE_BYTES:
        raise ValueError(
            f"{value} is outside {MIN_MESSAGE_BYTES}..{SES_MAX_MESSAGE_BYTES} bytes "
            "(SES refuses messages over 40 MB)"
        )
    return value


def credential(raw: str) -> str:
    # Never echo the value: this parser handles passwords and keys.
    if not raw:
        raise ValueError("is empty")
    if raw != raw.strip() or any(ch.isspace() for ch in raw):
        raise ValueError("contains white space (check for a stray space or line break)")
    if _PLACEHOLDER.search(raw):
        raise ValueError(
            "is still a placeholder (from .env.example or the stack's secret): put the real SES SMTP "
            "credentials there; SES would refuse every message with 535"
        )
    return raw


def send_rate(raw: str) -> float | None:
    """A number of recipients per second, or "auto" (None): read it from SES's API."""
    value = raw.strip().lower()
    if value == "auto":
        return None
    try:
        rate = float(value)
    except ValueError:
        raise ValueError(f"{raw.strip()!r} is neither 'auto' nor a number of recipients per second") from None
    if not 0 < rate <= 100000 or rate != rate:
        raise ValueError(f"{raw.strip()!r} is outside 0 (exclusive)..100000 recipients per second")
    return rate


def on_off(raw: str) -> bool:
    """``on`` (True) or ``off`` (False), in any case; nothing else, so a typo is refused."""
    value = raw.strip().lower()
    if value not in ("on", "off"):
        raise ValueError(f"{raw.strip()!r} is neither 'on' nor 'off'")
    return value == "on"


def readable_file(raw: str) -> str:
    path = raw.strip()
    if not os.path.isfile(path):
        raise ValueError(f"{path!r} is not a file")
    if not os.access(path, os.R_OK):
        raise ValueError(f"{path!r} is not readable")
    return path


def configuration_set_name(raw: str) -> str:
    value = raw.strip()
    if not _CONFIGURATION_SET.match(value):
        raise ValueError(f"{value!r} is not an SES configuration set name (letters, digits, '_' and '-')")
    return value


def secret_id(raw: str) -> str:
    value = raw.strip()
    if not value or len(value) > 2048 or any(ch.isspace() for ch in value):
        raise ValueError(f"{value!r} is not a secret name or ARN")
    return value


def _domain(raw: str, entry: str) -> str:
    try:
        value = hostname(raw)
    except ValueError:
        raise ValueError(f"{entry!r} does not have a valid domain") from None
    if "." not in value:
        raise ValueError(f"{entry!r} does not have a fully qualified domain")
    return value


def sender_list(raw: str) -> tuple[AllowedSender, ...]:
    entries = _split_list(raw)
    if not entries:
        raise ValueError("lists no sender")
    senders = []
    for entry in entries:
        local, at, domain = entry.rpartition("@")
        if not at:
            raise ValueError(f"{entry!r} is neither an address (app@example.com) nor a domain (@example.com)")
        if not local:
            senders.append(AllowedSender(domain=_domain(domain, entry)))
        elif _LOCAL_PART.match(local) and ".." not in local:
            senders.append(AllowedSender(address=f"{local.lower()}@{_domain(domain, entry)}"))
        else:
            raise ValueError(f"{entry!r} is not a valid address")
    return tuple(dict.fromkeys(senders))


def network_list(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    entries = _split_list(raw)
    if not entries:
        raise ValueError("lists no network")
    networks = []
    for entry in entries:
        try:
            network = ipaddress.ip_network(entry.strip("[]").replace("]/", "/"), strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not a CIDR such as 10.0.0.0/8 or fd00::/8") from None
        if network.prefixlen < MIN_PREFIX_LENGTH[network.version] and not network.is_private:
            raise ValueError(
                f"{entry!r} would let a large part of the internet relay through SES "
                f"(the widest allowed is /{MIN_PREFIX_LENGTH[network.version]}); never an open relay"
            )
        networks.append(network)
    return tuple(dict.fromkeys(networks))


def choice(*allowed: str):
    """One of the allowed words, in any case."""

    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise ValueError(f"{raw.strip()!r} is not one of {', '.join(allowed)}")
        return value

    return parse


_BYTE_SIZE = re.compile(r"^([0-9]+)\s*([kmg]?)i?b?$", re.IGNORECASE)
_DURATION = re.compile(r"^([0-9]+)\s*([smhdw]?)$", re.IGNORECASE)
MIN_ROTATE_BYTES = 1024
MIN_ROTATE_SECONDS = 60


def byte_size(raw: str) -> int:
    """Bytes: ``104857600``, ``100M``, ``64k``, ``1G`` (1024-based); 0 means never."""
    match = _BYTE_SIZE.match(raw.strip())
    if not match:
        raise ValueError(f"{raw.strip()!r} is not a size such as 100M, 512k or 1G")
    size = int(match.group(1)) * 1024 ** "bkmg".index((match.group(2) or "b").lower())
    if 0 < size < MIN_ROTATE_BYTES:
        raise ValueError(f"{size} bytes is too small: 0 (never) or at least 1k")
    return size


def duration(raw: str) -> int:
    """Seconds: ``3600``, ``90m``, ``12h``, ``1d``, ``2w``; 0 means never."""
    match = _DURATION.match(raw.strip())
    if not match:
        raise ValueError(f"{raw.strip()!r} is not a duration such as 30m, 12h, 1d or 1w")
    unit = (match.group(2) or "s").lower()
    seconds = int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    if 0 < seconds < MIN_ROTATE_SECONDS:
        raise ValueError(f"{seconds} s is too short: 0 (never) or at least 1m")
    return seconds
