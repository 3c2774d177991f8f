"""SES timestamps and the delays computed from them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ses_events.timestamps import elapsed_ms, parse_ses_timestamp


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:00:00.123Z", datetime(2024, 5, 1, 12, 0, 0, 123_000, tzinfo=UTC)),
        ("2018-10-08T14:05:45 +0000", datetime(2018, 10, 8, 14, 5, 45, tzinfo=UTC)),  # documented form
        ("2018-10-08T14:05:45+0000", datetime(2018, 10, 8, 14, 5, 45, tzinfo=UTC)),
        (
            "2024-05-01T12:00:00.123456+00:00",
            datetime(2024, 5, 1, 12, 0, 0, 123_456, tzinfo=UTC),
        ),  # LocalStack
        ("2024-05-01T14:00:00+02:00", datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),
        ("2024-05-01T12:00:00", datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),  # no offset: UTC
        (" 2024-05-01T12:00:00Z\n", datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),
    ],
)
def test_accepted_forms(text: str, expected: datetime) -> None:
    assert parse_ses_timestamp(text) == expected


@pytest.mark.parametrize("value", [None, "", "yesterday", "2024-13-01T00:00:00Z", 1714564800, 1.5, [], {}])
def test_unreadable_values_give_none(value: Any) -> None:
    assert parse_ses_timestamp(value) is None


def test_elapsed_milliseconds() -> None:
    assert elapsed_ms("2024-05-01T12:00:00.123Z", "2024-05-01T12:00:01.512Z") == 1389
    assert elapsed_ms("2024-05-01T12:00:00.123Z", "2024-05-02T08:14:03.000Z") == 72_842_877


def test_elapsed_across_offsets_and_forms() -> None:
    assert elapsed_ms("2018-10-08T14:05:45 +0000", "2018-10-08T16:05:45.5+02:00") == 500


def test_elapsed_truncates_sub_millisecond_parts() -> None:
    assert elapsed_ms("2024-05-01T12:00:00.000000Z", "2024-05-01T12:00:00.000999Z") == 0


def test_elapsed_is_never_negative() -> None:
    assert elapsed_ms("2024-05-01T12:00:01Z", "2024-05-01T12:00:00Z") == 0


@pytest.mark.parametrize(
    ("start", "end"), [(None, "2024-05-01T12:00:00Z"), ("2024-05-01T12:00:00Z", None), ("x", "y")]
)
def test_elapsed_is_none_when_a_side_is_unknown(start: Any, end: Any) -> None:
    assert elapsed_ms(start, end) is None
