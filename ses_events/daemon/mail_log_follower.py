"""Follow the mail log as rsyslog writes it, and learn queue IDs from Postfix's status=sent lines.

Reading the file (rather than a second syslog feed) means nothing is missed while the logger
is down: it resumes at its saved offset, and starts over when the log was rotated or truncated.
"""

from __future__ import annotations

import os
import threading

from ses_events.core import parse_sent_line
from ses_events.daemon.store import LoggerStore

# Read in large slices: a mail log can be hundreds of MB at first start.
CHUNK_BYTES = 1 << 20


class MailLogFollower:
    def __init__(self, path: str, store: LoggerStore):
        self.path = path
        self._store = store
        self._lock = threading.Lock()
        # (inode, offset) as last saved: read from the store once, written only when it moves, so
        # an idle log costs no database write per batch.
        self._cursor = store.cursor(path)

    def catch_up(self) -> int:
        """Read everything written since the last call; returns how many queue IDs were learned."""
        with self._lock:
            try:
                handle = open(self.path, "rb")  # noqa: SIM115 - closed below, after fstat
            except FileNotFoundError:
                return 0
            with handle:
                inode = os.fstat(handle.fileno()).st_ino
                size = os.fstat(handle.fileno()).st_size
                saved = self._cursor
                offset = saved[1] if saved and saved[0] == inode and saved[1] <= size else 0
                handle.seek(offset)
                learned = 0
                partial = b""
                while chunk := handle.read(CHUNK_BYTES):
                    lines = (partial + chunk).split(b"\n")
                    partial = lines.pop()  # an unfinished last line waits for the rest
                    pairs = []
                    for raw_line in lines:
                        if b"status=sent (250 " not in raw_line:
                            continue
                        sent = parse_sent_line(raw_line.decode("utf-8", errors="replace"))
                        if sent is not None:
                            pairs.append(sent)
                    self._store.remember_queue_ids(pairs)
                    learned += len(pairs)
                # The cursor stops before an unfinished line, so a restart re-reads it whole.
                cursor = (inode, handle.tell() - len(partial))
                if cursor != self._cursor:
                    self._store.save_cursor(self.path, *cursor)
                    self._cursor = cursor
                return learned

    def contains(self, lines: tuple[str, ...], tail_bytes: int = 64 << 20) -> set[str]:
        """Which of these exact messages already stand in the recent mail log (crash recovery)."""
        wanted = {line.encode("utf-8") for line in lines}
        found: set[str] = set()
        try:
            with open(self.path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                handle.seek(max(0, size - tail_bytes))
                for raw_line in handle:
                    _, separator, message = raw_line.rstrip(b"\n").partition(b"]: ")
                    if separator and message in wanted:
                        found.add(message.decode("utf-8"))
        except FileNotFoundError:
            pass
        return found
