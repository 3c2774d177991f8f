"""Follow the mail log as rsyslog writes it, and learn queue IDs from Postfix's status=sent lines.

Reading the file (rather than a second syslog feed) means nothing is missed while the logger is
down: it resumes at its saved cursor. The cursor is the file's inode, the offset after the last
whole line read, and the bytes just before that offset; the file is read again from its start
when any of them no longer holds. That is how each way a log is rotated is followed:

* renamed away and a new file created (logrotate's default, ``create``): the follower keeps the
  old file open, reads what rsyslog wrote to it after the last read, then opens the new file and
  reads it from its start. While no new file exists it keeps reading the old one;
* emptied in place (``copytruncate``): the file is shorter than the offset, or, when it grew past
  the offset again before the next read, the bytes before the offset differ. Lines written
  between the last read and the copy are only in the copy;
* renamed away while the logger was down: the rest of the old file is read first, from
  ``mail.log.1``, the name logrotate's ``delaycompress`` and ``ses-relay rotate`` leave it under
  until the next rotation; then the new file from its start;
* replaced while the logger was down, even by a file that got the old inode number again: the
  bytes before the saved offset differ.

A log path that turns into something unreadable (a directory) is not a rotation: ``catch_up``
raises, and the daemon stops in order.

It also reads back the logger's own lines, for ``read_back``: an event is deleted from SQS only
once its lines are in this file.
"""

from __future__ import annotations

import os
import threading
from typing import BinaryIO

from ses_events.core import parse_sent_line
from ses_events.daemon.read_back import ReadBack
from ses_events.daemon.store import LogCursor, LoggerStore
from ses_events.daemon.syslog_writer import DEFAULT_TAG

# Read in large slices: a mail log can be hundreds of MB at first start.
CHUNK_BYTES = 1 << 20
# How much of the file before the offset recognises it: a line or so of timestamped log text.
SIGNATURE_BYTES = 256


class MailLogFollower:
    def __init__(self, path: str, store: LoggerStore, own_tag: str = DEFAULT_TAG):
        self.path = path
        self._store = store
        # Lines the logger wrote and waits to see here; ours are the lines with this tag.
        self.read_back = ReadBack()
        self._own_tag = f" {own_tag}[".encode()
        self._lock = threading.Lock()
        self._handle: BinaryIO | None = None
        # As last saved: read from the store once, written only when it moves, so an idle log
        # costs no database write per batch.
        self._cursor = store.cursor(path)
        self._resumed = False

    def catch_up(self) -> int:
        """Read everything written since the last call; returns how many queue IDs were learned."""
        with self._lock:
            learned = 0
            if self._handle is not None and self._rotated(self._handle):
                learned += self._read_on(self._handle)  # what was written before the switch
                if not os.path.lexists(self.path):
                    return learned  # no new file yet: the old one is still where lines go
                self._close()
            if not self._resumed:
                self._resumed = True
                learned += self._finish_rotated_file()
            if self._handle is None:
                self._handle = self._open()
                if self._handle is None:
                    return learned
            return learned + self._read_on(self._handle)

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _open(self) -> BinaryIO | None:
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - kept open across calls, closed by _close
        except FileNotFoundError:
            return None
        inode = os.fstat(handle.fileno()).st_ino
        if self._cursor is None or self._cursor.inode != inode:
            self._cursor = LogCursor(inode, 0)
        return handle

    def _finish_rotated_file(self) -> int:
        """At start: if the log was rotated while the logger was down, read the rest of the file the
        saved cursor is in, now at ``PATH.1``."""
        cursor = self._cursor
        if cursor is None or not cursor.offset:
            return 0
        try:
            if os.stat(self.path).st_ino == cursor.inode:
                return 0
        except FileNotFoundError:
            pass
        try:
            rotated = open(f"{self.path}.1", "rb")  # noqa: SIM115 - closed below, whatever happens
        except FileNotFoundError:
            return 0
        with rotated:
            if os.fstat(rotated.fileno()).st_ino != cursor.inode:
                return 0
            return self._read_on(rotated)

    def _rotated(self, handle: BinaryIO) -> bool:
        """Whether the path now names another file than the one open (or none)."""
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            return True
        opened = os.fstat(handle.fileno())
        return (current.st_dev, current.st_ino) != (opened.st_dev, opened.st_ino)

    def _read_on(self, handle: BinaryIO) -> int:
        """Read the open file from the cursor (or from its start, if it is not the file the cursor
        describes any more) to its last whole line; save the cursor if it moved."""
        fd = handle.fileno()
        saved = self._cursor
        offset = saved.offset if saved is not None and _still_describes(fd, saved) else 0
        handle.seek(offset)
        learned = 0
        partial = b""
        while chunk := handle.read(CHUNK_BYTES):
            lines = (partial + chunk).split(b"\n")
            partial = lines.pop()  # an unfinished last line waits for the rest
            pairs = []
            for raw_line in lines:
                if self.read_back.waiting and self._own_tag in raw_line:
                    _, separator, message = raw_line.partition(b"]: ")
                    if separator:
                        self.read_back.saw(message.decode("utf-8", errors="replace"))
                    continue
                if b"status=sent (250 " not in raw_line:
                    continue
                sent = parse_sent_line(raw_line.decode("utf-8", errors="replace"))
                if sent is not None:
                    pairs.append(sent)
            self._store.remember_queue_ids(pairs)
            learned += len(pairs)
        # The cursor stops before an unfinished line, so the next read takes it whole.
        end = handle.tell() - len(partial)
        cursor = LogCursor(os.fstat(fd).st_ino, end, _signature(fd, end))
        if cursor != saved:
            self._store.save_cursor(self.path, cursor)
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


def _signature(fd: int, offset: int) -> bytes:
    start = max(0, offset - SIGNATURE_BYTES)
    return os.pread(fd, offset - start, start)


def _still_describes(fd: int, cursor: LogCursor) -> bool:
    """Whether the open file is still the one the cursor was taken on, grown only by appending.

    A cursor without a signature (saved by an earlier version) is trusted on inode and size alone.
    """
    status = os.fstat(fd)
    if status.st_ino != cursor.inode or status.st_size < cursor.offset:
        return False
    return not cursor.signature or _signature(fd, cursor.offset) == cursor.signature
