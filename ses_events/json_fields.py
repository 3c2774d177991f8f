"""Read fields of untrusted JSON without ever raising.

SES documents most fields as optional, may add or drop fields at any time, and whatever sits on
the queue can be malformed. These helpers turn "absent", "null" and "wrong type" into one neutral
value, so the code that builds log lines reads like the SES documentation and still never fails.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

_EMPTY: Mapping[str, Any] = {}


def text_field(obj: Mapping[str, Any], key: str) -> str | None:
    """The string at ``key``; None when missing, not a string, or empty."""
    value = obj.get(key)
    if isinstance(value, str) and value:
        return value
    return None


def object_field(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """The JSON object at ``key``; an empty mapping when missing or not an object."""
    value = obj.get(key)
    if isinstance(value, Mapping):
        return value
    return _EMPTY


def list_field(obj: Mapping[str, Any], key: str) -> list[Any]:
    """The JSON array at ``key``; an empty list when missing or not an array."""
    value = obj.get(key)
    if isinstance(value, list):
        return value
    return []


def non_negative_int_field(obj: Mapping[str, Any], key: str) -> int | None:
    """A whole, non-negative number at ``key`` (e.g. ``processingTimeMillis``); None otherwise."""
    value = obj.get(key)
    # bool is an int subclass in Python, and `true` is not a duration.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return int(value)


def json_type_name(value: object) -> str:
    """The JSON name of a parsed value's type, for error messages ("array", not "list")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__
