"""Read SES timestamps and turn two of them into a delay in milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_ONE_MILLISECOND = timedelta(milliseconds=1)


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
