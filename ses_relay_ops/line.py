"""One mail-log line as rsyslog writes it: ``Dec  3 12:25:25 relay postfix/smtp[204]: MESSAGE``.

The classic syslog timestamp has no year: it is the latest year that does not put the line more
than a day after ``now`` (so a log read in January dates December's lines to the year before).
RFC 3339 timestamps (``2026-12-03T12:25:25.123456+00:00``) are read too, for logs written with
rsyslog's high-precision format. Times are naive local time, as the classic format is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from ses_relay_ops.fields import fields_of

_CLASSIC = re.compile(
    r"^(?P<month>[A-Z][a-z]{2}) (?P<day>[ 0-9][0-9]) (?P<clock>[0-9]{2}:[0-9]{2}:[0-9]{2}) "
    r"(?P<rest>.*)$"
)
_RFC3339 = re.compile(
    r"^(?P<stamp>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})?) (?P<rest>.*)$"
)
_HOST_TAG = re.compile(r"^(?P<host>[^ ]+) (?P<program>[^ \[:]+)(\[(?P<pid>[0-9]+)\])?: ?(?P<message>.*)$")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
# How far after "now" a classic timestamp may be before it is taken for last year's: clocks and
# time zones of a copied log differ a little.
FUTURE_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class LogLine:
    time: datetime
    host: str
    program: str  # the syslog tag without its pid: postfix/smtp, postfix/ses-events, ...
    pid: str
    message: str  # the text after "program[pid]: "
    text: str  # the whole line

    @cached_property
    def fields(self) -> dict[str, str]:
        return fields_of(self.program, self.message)

    @property
    def queue_id(self) -> str:
        return self.fields.get("queue_id", "")


def classic_time(month: str, day: int, clock: str, now: datetime) -> datetime | None:
    number = _MONTHS.get(month)
    if number is None:
        return None
    hour, minute, second = (int(part) for part in clock.split(":"))
    for year in range(now.year + 1, now.year - 8, -1):
        try:
            candidate = datetime(year, number, day, hour, minute, second)  # local time, as logged
        except ValueError:
            continue  # 29 February of a year that has none
        if candidate <= now + FUTURE_SLACK:
            return candidate
    return None


def _rfc3339_time(stamp: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone().replace(tzinfo=None) if parsed.tzinfo else parsed


def parse_line(text: str, now: datetime) -> LogLine | None:
    """The line's parts, or None for a line that is not ``TIME HOST TAG: MESSAGE``."""
    text = text.rstrip("\n")
    classic = _CLASSIC.match(text)
    if classic:
        time = classic_time(classic["month"], int(classic["day"]), classic["clock"], now)
        rest = classic["rest"]
    else:
        modern = _RFC3339.match(text)
        if not modern:
            return None
        time = _rfc3339_time(modern["stamp"])
        rest = modern["rest"]
    tagged = _HOST_TAG.match(rest)
    if time is None or not tagged:
        return None
    return LogLine(time, tagged["host"], tagged["program"], tagged["pid"] or "", tagged["message"], text)
