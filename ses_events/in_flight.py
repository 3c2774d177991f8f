"""The events this process's workers are writing right now.

Two workers can hold the same event at once: SQS's at-least-once delivery can hand the very
same message to two receivers, and SNS can publish an event twice. The persisted state alone
cannot tell "pending because another worker is writing it" from "pending because we crashed",
so a worker claims an event's key here before it even looks the key up, and releases it once
the event is recorded as done (or left for a retry).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable


class InFlight:
    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def claim(self, keys: Iterable[str]) -> set[str]:
        """Claim every key no other worker holds; returns the ones claimed."""
        with self._lock:
            free = set(keys) - self._keys
            self._keys |= free
        return free

    def release(self, keys: Iterable[str]) -> None:
        with self._lock:
            self._keys.difference_update(keys)
