"""Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter")."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, base: float = 0.5, cap: float = 30.0):
        self.base = base
        self.cap = cap
        self.failures = 0

    def next_delay(self) -> float:
        """Seconds to wait after one more failure; full jitter spreads workers apart."""
        self.failures += 1
        return random.uniform(0, min(self.cap, self.base * 2 ** min(self.failures, 16)))  # noqa: S311

    def reset(self) -> None:
        self.failures = 0
