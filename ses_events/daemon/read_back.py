"""Lines written to syslog, waiting to be read back from the mail log before their event is deleted.

syslog taking a line is not the line being on disk: rsyslog can read a datagram and then die
(``kill -9``, an OOM kill) or drop it (its volume full, rsyslog/rsyslog#4796) before the line is
in the file. An SQS message deleted then is an event lost. So each event's lines are *expected*
here before they are written; the mail-log follower reports every line of ours it reads
(``saw``); and only an event whose lines have all been read back is recorded as done and deleted.
One that is not read back in time stays pending and in the queue: it comes back after the
visibility timeout, and only the lines the mail log lacks are written again.

Lines are counted, not just matched: two events with the same text each need their own line.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable


class Expectation:
    """One event's lines, until each has been read back from the mail log."""

    def __init__(self, lines: Iterable[str]):
        self.missing: list[str] = list(lines)

    @property
    def read_back(self) -> bool:
        return not self.missing


class ReadBack:
    """Thread-safe: workers ``expect`` and ``forget``; the follower reports what it ``saw``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Each line's text -> the expectations waiting for it, oldest first: the first line read
        # back is the one written first.
        self._waiting: dict[str, deque[Expectation]] = {}

    @property
    def waiting(self) -> bool:
        """Whether any line is expected: the follower looks at no line while none is."""
        return bool(self._waiting)

    def expect(self, lines: Iterable[str]) -> Expectation:
        """Register lines *before* writing them, so that reading them back cannot come first."""
        expectation = Expectation(lines)
        with self._lock:
            for line in expectation.missing:
                self._waiting.setdefault(line, deque()).append(expectation)
        return expectation

    def saw(self, line: str) -> None:
        with self._lock:
            waiting = self._waiting.get(line)
            if not waiting:
                return
            waiting.popleft().missing.remove(line)
            if not waiting:
                del self._waiting[line]

    def forget(self, expectations: Iterable[Expectation]) -> None:
        """Stop waiting for what these still miss (read back, or given up on)."""
        with self._lock:
            for expectation in expectations:
                for line in expectation.missing:
                    waiting = self._waiting.get(line)
                    if waiting is None:
                        continue
                    # The same expectation once per copy of the line it still misses.
                    while expectation in waiting:
                        waiting.remove(expectation)
                    if not waiting:
                        del self._waiting[line]
