"""Make one untrusted value safe to place inside one syslog line.

Every value we log comes from the network (SES, SNS, remote MTAs, whoever can get an address into
a recipient list). A single line break would let an event forge a second, fake Postfix line, so
anything a log reader could treat as a line boundary becomes a space, and every other control
character becomes ``?`` (what Postfix itself does for unprintable characters). Everything else,
including non-ASCII addresses and display names, passes through unchanged.
"""

from __future__ import annotations

import re

#: No field in a line is ever longer than this many characters (ellipsis included).
MAX_FIELD_CHARS = 1000

#: Appended to a value cut at ``MAX_FIELD_CHARS`` so a reader knows text is missing.
TRUNCATION_MARK = "…"

# Everything Python's str.splitlines() splits on (a superset of what syslog daemons, grep and
# journald treat as a line end), plus TAB: runs of these collapse to one space, as Postfix does
# with the newlines of multi-line SMTP replies.
_LINE_BREAKS = re.compile("[\t\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029]+")

# Remaining C0/C1 controls and DEL (terminal escape sequences), the bidirectional-text controls
# that can make a line display differently from what it contains, and lone surrogates, which
# JSON can carry ("\ud800") but UTF-8 cannot encode (they would crash the syslog write).
_OTHER_CONTROLS = re.compile(
    "[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def clean_field(value: str, limit: int = MAX_FIELD_CHARS) -> str:
    """Return ``value`` as a single-line, UTF-8-encodable string of at most ``limit`` characters."""
    text = _LINE_BREAKS.sub(" ", value)
    text = _OTHER_CONTROLS.sub("?", text).strip()
    if len(text) > limit:
        text = text[: limit - len(TRUNCATION_MARK)] + TRUNCATION_MARK
    return text
