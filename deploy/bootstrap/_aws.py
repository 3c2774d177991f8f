"""Reading AWS's answers: an error's code, and JSON documents compared as AWS stores them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def error_message(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Message", "")


def same_json(current: str | None, desired: Mapping[str, Any]) -> bool:
    """Whether the JSON text AWS returned says what ``desired`` says."""
    if not current:
        return False
    try:
        return _normalise(json.loads(current)) == _normalise(desired)
    except ValueError:
        return False


def _normalise(value: Any) -> Any:
    """JSON compared as AWS stores it: numbers and their strings alike, list order ignored."""
    if isinstance(value, Mapping):
        return {key: _normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return sorted((_normalise(item) for item in value), key=json.dumps)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    return value
