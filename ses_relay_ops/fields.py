"""The fields of a mail-log line, by one table of rules that Python and rsyslog both apply.

``LOG_FORMAT=json`` has rsyslog write each mail-log line to stdout as one JSON object; the rules
below are rendered into rsyslog.conf (``re_match``/``re_extract``), and ``fields_of`` applies the
same rules here for ``trace``, ``report`` and the metrics. An image test checks that both give the
same fields for every line, so a CloudWatch query over the JSON and ``ses-relay trace`` agree.

The patterns are written so that POSIX extended regular expressions (rsyslog) and Python's ``re``
match them identically: no backslashes (``[(]`` rather than ``\\(``), no ``\\d`` or ``\\s``, no
alternation, no lazy quantifiers, and every group delimited by a character it cannot contain.
A rule applies when the line contains its ``requires`` text and its pattern matches; rules for
one field are tried in order, and a later one applies only while the field is still unset or
empty (which is all rsyslog can tell apart).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

EVENT_LOGGER = "postfix/ses-events"


@dataclass(frozen=True)
class FieldRule:
    name: str
    pattern: str  # one group: the value
    requires: str  # a literal the message contains (a cheap test before the pattern)
    # None: any program; True: only the event logger's lines; False: every program but it.
    event_logger: bool | None = None

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern)

    def applies_to(self, program: str) -> bool:
        return self.event_logger is None or (program == EVENT_LOGGER) == self.event_logger


FIELD_RULES: tuple[FieldRule, ...] = (
    # Postfix's queue ID; the event logger's lines start with it too when it knew it.
    FieldRule("queue_id", "^([0-9A-F]{6,}): ", ": "),
    # Delivery lines (Postfix's smtp, discard, error; qmgr's expired) and the event logger's lines.
    FieldRule("to", "^[0-9A-Za-z-]+: to=<([^>]*)>, ", ": to=<"),
    FieldRule("relay", ", relay=([^, ]*)", ", relay="),
    FieldRule("conn_use", ", conn_use=([0-9]+)", ", conn_use="),
    FieldRule("delay", ", delay=([0-9.]+(ms)?)", ", delay="),
    FieldRule("delays", ", delays=([0-9./]+)", ", delays="),
    FieldRule("dsn", ", dsn=([0-9.]+)", ", dsn="),
    FieldRule("status", ", status=([a-z]+)", ", status="),
    # The text in parentheses after the status word: Postfix's reason (the remote reply, last on
    # its line), or the event's detail (bounce type/subtype, feedback type, delay type, ...).
    FieldRule("detail", ", status=[a-z]+ [(]([^)]*)[)]", ", status=", event_logger=True),
    FieldRule("detail", ", status=[a-z]+ [(](.*)[)]$", ", status=", event_logger=False),
    FieldRule("ses_id", ", ses_id=([0-9A-Za-z-]+)", ", ses_id=", event_logger=True),
    FieldRule("ses_id", ", status=sent [(]250 Ok ([0-9a-f]+-[0-9a-f-]+)[)]$", "250 Ok ", event_logger=False),
    FieldRule("response", ", response=[(](.*)[)]$", ", response=", event_logger=True),
    # qmgr's "from=<...>, size=N, nrcpt=N (queue active)"; smtpd's hold and reject lines end in
    # "; from=<...> to=<...> proto=...".
    FieldRule("from", "^[0-9A-F]+: from=<([^>]*)>, size=", ": from=<"),
    FieldRule("size", "^[0-9A-F]+: from=<[^>]*>, size=([0-9]+)", ", size="),
    FieldRule("nrcpt", ", nrcpt=([0-9]+)", ", nrcpt="),
    FieldRule("from", "; from=<([^>]*)> ", "; from=<", event_logger=False),
    FieldRule("to", "; from=<[^>]*> to=<([^>]*)>", "; from=<", event_logger=False),
    FieldRule("client", "^[0-9A-F]+: client=([^, ]*)", ": client=", event_logger=False),
    FieldRule("message_id", "^[0-9A-F]+: message-id=([^ ]*)$", ": message-id=", event_logger=False),
)


def fields_of(program: str, message: str) -> dict[str, str]:
    """The fields FIELD_RULES find in one line's message (the text after ``program[pid]: ``)."""
    found: dict[str, str] = {}
    for rule in FIELD_RULES:
        if found.get(rule.name) or rule.requires not in message or not rule.applies_to(program):
            continue
        match = rule.compiled.search(message)
        if match:
            found[rule.name] = match.group(1)
    return found


def split_detail(detail: str) -> tuple[str, str]:
    """``Permanent/General`` -> (``Permanent``, ``General``); ``abuse`` -> (``abuse``, ``""``)."""
    kind, _, subtype = detail.partition("/")
    return kind, subtype
