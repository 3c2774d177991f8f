"""The one error this library raises on purpose, and how its reasons quote untrusted input."""

from __future__ import annotations

import json
from collections.abc import Mapping

from ses_events.json_fields import json_type_name
from ses_events.sanitize import clean_field

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
