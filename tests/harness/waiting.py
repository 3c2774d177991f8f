"""Waiting for something that happens asynchronously, with a deadline and a clear failure."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T], timeout: float = 60, what: str = "condition", interval: float = 0.2
) -> T:
    """Call predicate until it returns something truthy, and return that; fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
