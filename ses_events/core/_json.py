"""Untrusted JSON in: parse it, read its fields without ever raising, and say when it is poison.

SES documents most fields as optional, may add or drop fields at any time, and whatever sits on
the queue can be malformed. The field readers turn "absent", "null" and "wrong type" into one
neutral value, so the code that builds log lines reads like the SES documentation and still never
fails. What can never become a line raises ``PoisonMessage``, the one error the core raises on
purpose, whose reason quotes untrusted input only through ``quoted``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from ses_events.core._sanitize import clean_field

_EMPTY: Mapping[str, Any] = {}

# A reason quotes at most this much of an untrusted value: enough to recognise it, one line.
_QUOTE_LIMIT = 80


class PoisonMessage(ValueError):
    """An SQS message body that can never become log lines, however often it is redelivered.

    The daemon should not retry such a body forever: log ``reason`` once and let SQS move the
    message to the dead-letter queue (or delete it). ``reason`` is a one-line, already sanitised
    sentence that never echoes more than a short excerpt of the untrusted input.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def quoted(value: object) -> str:
    """A short, single-line rendering of an untrusted JSON value, for a PoisonMessage reason."""
    if isinstance(value, str):
        return repr(clean_field(value, limit=_QUOTE_LIMIT))
    if isinstance(value, list | Mapping):
        return f"(a JSON {json_type_name(value)})"
    return clean_field(json.dumps(value), limit=_QUOTE_LIMIT)


def parse_json_object(text: str, what: str) -> Mapping[str, Any]:
    """``text`` parsed as a JSON object; PoisonMessage naming ``what`` when it is anything else."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        # error.msg and position only: the reason must not echo the untrusted text itself.
        raise PoisonMessage(
            f"{what} is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    except ValueError:  # valid JSON Python refuses to read: an integer of more than 4,300 digits
        raise PoisonMessage(f"{what} holds a number too long to read") from None
    except RecursionError:
        raise PoisonMessage(f"{what} is JSON nested too deeply to read") from None
    if not isinstance(document, dict):
        raise PoisonMessage(f"{what} is a JSON {json_type_name(document)}, not an object")
    return document


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
