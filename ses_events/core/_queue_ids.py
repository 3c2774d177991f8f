"""Where a line's Postfix queue ID comes from: the join between Postfix's lines and SES's events.

Two sources, both strict because both carry text from the network:

1. Postfix's own "sent" line in the mail log (reference §3.4, §8.1, §8.6). When SES accepts a
   message over SMTP it replies ``250 Ok <SES message ID>`` and Postfix logs that reply for each
   recipient::

       May  1 12:00:01 relay postfix/smtp[2827]: 4F1A22C0D3E: to=<bob@example.org>,
           relay=email-smtp.us-east-1.amazonaws.com[192.0.2.10]:587, delay=1.2,
           delays=0.02/0/0.7/0.48, dsn=2.0.0, status=sent (250 Ok 0100018f34069e7b-...-000000)

   (one line in the log). The SES message ID is ``mail.messageId`` in every later event for that
   message, so ``parse_sent_line`` pairs a Postfix queue ID with an SES message ID; the daemon
   keeps the pairs and answers ``QueueIdLookup`` from them.

   The match is strict on purpose. Our own ``postfix/ses-events`` lines sit in the same log and
   carry text from the network; if one could pass for a "sent" line, an attacker who controls an
   SMTP response or an address could make the daemon map IDs wrongly. So:

   * with a syslog prefix, the program must be an smtp client (``postfix/smtp``,
     ``postfix/relay/smtp``...);
   * the syslog prefix is whitespace-separated words that contain none of ``= < > ( )``, whatever
     the time format (``May  1 12:00:01 host``, RFC 3339, journald). Our own lines contain ``to=<``
     right after their queue ID, so no prefix can stretch into them and start a match inside a value;
   * the message must be exactly Postfix's field sequence, every value free of spaces, ending in
     ``status=sent (250 Ok <id>)`` with nothing after it: our own fixed fields (``dsn=``,
     ``status=`` with its words, ``ses_id=``) cannot take the place of Postfix's, so interpolated
     text at the end of our line cannot complete that sequence.

2. This relay's own ``Received:`` header, in the headers SES publishes with an event. Postfix puts
   its own header on top of every message it relays::

       from app01.example.com (localhost [127.0.0.1]) by relay.example.com (Postfix) with ESMTP
           id 4F1A22C0D3E; Wed,  1 May 2024 11:59:59 +0000 (UTC)

   and SES publishes the submitted headers in ``mail.headers``, right after the ``Received:``
   header of its own SMTP endpoint (reference §1.3). So ``relay_queue_id`` can name the queue ID
   even to a logger that never saw the mail log's ``status=sent`` line: another appliance consuming
   the same queue (the ECS stack runs two), or one whose map was lost with its task. What is
   trusted, and why:

   * SES's header must come first: without it the mail was not submitted over SMTP (API sends
     carry none), and headers below it are whatever the submitter wrote;
   * only the one ``Received:`` header right below SES's counts: Postfix prepends, so that one is
     the relay's own, and every header further down came from the client, who can forge anything;
   * its ``by`` host must be this relay's host name (``RELAY_HOSTNAME``): another Postfix sending
     through the same configuration set has queue IDs that mean nothing in this log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

#: Given an SES message ID, the Postfix queue ID whose ``250 Ok <id>`` reply carried it, if known.
QueueIdLookup = Callable[[str], str | None]


def no_queue_ids(ses_message_id: str) -> str | None:
    """A QueueIdLookup that knows no queue IDs: lines then start with the SES message ID."""
    return None


_SENT_LINE = re.compile(
    r"""
    (?:
        (?:[^\s=<>()]+\s+)*?                      # syslog time and host words (see above)
        (?P<program>[^\s\[\]=<>()]+)\[\d+\]:\s    # program[pid]: (Postfix always logs the pid)
    )?
    (?P<queue_id>[0-9A-Za-z]+):\s                 # short (hex) or long queue ID (reference §8.3)
    to=<[^>]*>,\s
    (?:orig_to=<[^>]*>,\s)?
    relay=[^\s,]+,\s
    (?:conn_use=\d+,\s)?
    delay=[\d.]+,\s
    delays=[\d./]+,\s
    (?:tls=[^\s,]+,\s)?                           # Postfix >= 3.11
    dsn=2\.\d{1,3}\.\d{1,3},\s
    status=sent\s
    \(250\s(?i:ok)\s(?P<ses_message_id>[^\s()]+)\)
    """,
    re.VERBOSE,
)

# The process name is "smtp" under any syslog_name / service prefix; "ses-events" never matches.
_SMTP_CLIENT_PROGRAM = re.compile(r"(?:[^\s/]+/)*smtp")


def parse_sent_line(line: str) -> tuple[str, str] | None:
    """``(queue_id, ses_message_id)`` for a Postfix line recording SES's ``250 Ok <id>``, else None.

    Accepts the line with or without its syslog prefix and with a trailing newline. Returns None
    for every other line: deferred, bounced, other programs (including ``postfix/ses-events``).
    """
    if "status=sent (250 " not in line:  # cheap exit for the vast majority of mail log lines
        return None
    match = _SENT_LINE.fullmatch(line.rstrip("\r\n"))
    if match is None:
        return None
    program = match.group("program")
    if program is not None and not _SMTP_CLIENT_PROGRAM.fullmatch(program):
        return None
    return match.group("queue_id"), match.group("ses_message_id")


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
