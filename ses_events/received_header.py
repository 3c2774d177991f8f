"""This relay's Postfix queue ID, read from the headers SES publishes with an event.

Postfix puts its own ``Received:`` header on top of every message it relays::

    from app01.example.com (localhost [127.0.0.1]) by relay.example.com (Postfix) with ESMTP
        id 4F1A22C0D3E; Wed,  1 May 2024 11:59:59 +0000 (UTC)

and SES publishes the submitted headers in ``mail.headers``, right after the ``Received:`` header
of its own SMTP endpoint (reference §1.3). So an event can name its queue ID even to a logger
that never saw the mail log's ``status=sent`` line: another appliance consuming the same queue
(the ECS stack runs two), or one whose map was lost with its task.

What is trusted, and why:

* SES's header must come first: without it the mail was not submitted over SMTP (API sends carry
  none), and headers below it are whatever the submitter wrote;
* only the one ``Received:`` header right below SES's counts: Postfix prepends, so that one is
  the relay's own, and every header further down came from the client, who can forge anything;
* its ``by`` host must be this relay's host name (``RELAY_HOSTNAME``): another Postfix sending
  through the same configuration set has queue IDs that mean nothing in this log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_SES_SMTP_RECEIVED = re.compile(
    r"\sby\s+email-smtp(?:\.[a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?\s+with\s+E?SMTP", re.IGNORECASE
)
# Postfix's own clause (smtpd's default Received format): "by HOST (Postfix) with PROTO id QUEUEID".
_POSTFIX_RECEIVED = re.compile(
    r"\sby\s+(?P<host>[^\s()]+)\s+\(Postfix\)\s+with\s+[A-Za-z0-9]+\s+id\s+(?P<queue_id>[0-9A-Za-z]+)(?:[;\s]|$)"
)


def _received_values(mail: Mapping[str, Any]) -> list[str]:
    headers = mail.get("headers")
    if not isinstance(headers, list):
        return []
    values = []
    for header in headers:
        if isinstance(header, Mapping) and str(header.get("name", "")).lower() == "received":
            value = header.get("value")
            values.append(value if isinstance(value, str) else "")
    return values


def relay_queue_id(mail: Mapping[str, Any], relay_hostname: str) -> str | None:
    """The queue ID this relay's Postfix gave the message, if the published headers show it."""
    received = _received_values(mail)
    if len(received) < 2 or not _SES_SMTP_RECEIVED.search(f" {received[0]}"):
        return None
    ours = _POSTFIX_RECEIVED.search(f" {received[1]}")
    if ours is None or ours.group("host").lower() != relay_hostname.lower():
        return None
    return ours.group("queue_id")
