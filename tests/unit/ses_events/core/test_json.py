"""Tolerant readers for untrusted JSON."""

from __future__ import annotations

from typing import Any

import pytest

from ses_events.core._json import (
    json_type_name,
    list_field,
    non_negative_int_field,
    object_field,
    text_field,
)


@pytest.mark.parametrize(
    ("value", "expected"), [("x", "x"), ("", None), (None, None), (5, None), (["x"], None)]
)
def test_text_field(value: Any, expected: str | None) -> None:
    assert text_field({"key": value}, "key") == expected
    assert text_field({}, "key") is None


@pytest.mark.parametrize(("value", "expected"), [({"a": 1}, {"a": 1}), ([], {}), ("x", {}), (None, {})])
def test_object_field(value: Any, expected: dict[str, Any]) -> None:
    assert object_field({"key": value}, "key") == expected
    assert object_field({}, "key") == {}


@pytest.mark.parametrize(("value", "expected"), [([1], [1]), ({}, []), ("abc", []), (None, [])])
def test_list_field(value: Any, expected: list[Any]) -> None:
    assert list_field({"key": value}, "key") == expected
    assert list_field({}, "key") == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1081, 1081),
        (0, 0),
        (12.9, 12),
        (-1, None),
        (True, None),
        ("1081", None),
        (float("nan"), None),
        (float("inf"), None),
        (None, None),
    ],
)
def test_non_negative_int_field(value: Any, expected: int | None) -> None:
    assert non_negative_int_field({"key": value}, "key") == expected


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "null"),
        (True, "boolean"),
        (1, "number"),
        (1.5, "number"),
        ("s", "string"),
        ([], "array"),
        ({}, "object"),
        (b"x", "bytes"),
    ],
)
def test_json_type_name(value: Any, name: str) -> None:
    assert json_type_name(value) == name
