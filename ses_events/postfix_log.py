"""Find the SES message ID in Postfix's own "sent" lines: the join key (reference §3.4, §8.1, §8.6).

When SES accepts a message over SMTP it replies ``250 Ok <SES message ID>`` and Postfix logs that
reply for each recipient::

    May  1 12:00:01 relay postfix/smtp[2827]: 4F1A22C0D3E: to=<bob@example.org>,
        relay=email-smtp.us-east-1.amazonaws.com[192.0.2.10]:587, delay=1.2,
        delays=0.02/0/0.7/0.48, dsn=2.0.0, status=sent (250 Ok 0100018f34069e7b-...-000000)

(one line in the log). The SES message ID is ``mail.messageId`` in every later event for that
message, so this pairs a Postfix queue ID with an SES message ID.

The match is strict on purpose. Our own ``postfix/ses-events`` lines sit in the same log and
carry text from the network; if one could pass for a "sent" line, an attacker who controls an
SMTP response or an address could make the daemon map IDs wrongly. So:

* with a syslog prefix, the program must be an smtp client (``postfix/smtp``, ``postfix/relay/smtp``...);
* the syslog prefix is whitespace-separated words that contain none of ``= < > ( )``, whatever the
  time format (``May  1 12:00:01 host``, RFC 3339, journald). Our own lines contain ``to=<`` right
  after their queue ID, so no prefix can stretch into them and start a match inside a value;
* the message must be exactly Postfix's field sequence, every value free of spaces, ending in
  ``status=sent (250 Ok <id>)`` with nothing after it: our own fixed fields (``dsn=``, ``status=``
  with its words, ``ses_id=``) cannot take the place of Postfix's, so interpolated text at the end
  of our line cannot complete that sequence.
"""

from __future__ import annotations

import re

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
