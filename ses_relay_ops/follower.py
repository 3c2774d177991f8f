"""Follow the mail log as rsyslog writes it, across rotation, for the metrics exporter.

Rotation renames the file and has rsyslog reopen (``ses_relay_ops.rotation``): the follower keeps
the renamed file open and reads it to its end once a new file stands at the path (rsyslog closes
the old one before it creates the new), then reads the new one from its start; no line is read
twice or missed. A file emptied in place (``copytruncate`` by another tool) is read again from
its start. Unlike the event logger's follower, it keeps no cursor on disk: it starts where it is
told (the offset the log had when the container started) and counts from there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class StartAt:
    """Where to begin in the file that has this inode; any other file is read from its start."""

    inode: int
    offset: int


class LogFollower:
    def __init__(self, path: Path, start: StartAt | None = None):
        self.path = path
        self._start = start
        self._handle: BinaryIO | None = None
        self._partial = b""

    def read(self) -> list[str]:
        """The whole lines written since the last call."""
        handle = self._handle or self._open()
        if handle is None:
            return []
        if os.fstat(handle.fileno()).st_size < handle.tell():
            handle.seek(0)  # emptied in place
            self._partial = b""
        lines = self._read_on(handle)
        if self._replaced(handle):
            lines += self._read_on(handle)  # what rsyslog wrote before it closed the old file
            self._close()
            if new := self._open():
                lines += self._read_on(new)
        return lines

    def close(self) -> None:
        self._close()

    def _open(self) -> BinaryIO | None:
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - kept open across calls, closed by _close
        except FileNotFoundError:
            return None
        start, self._start = self._start, None
        if start is not None and os.fstat(handle.fileno()).st_ino == start.inode:
            handle.seek(min(start.offset, os.fstat(handle.fileno()).st_size))
        self._handle = handle
        return handle

    def _close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self._partial = b""

    def _replaced(self, handle: BinaryIO) -> bool:
        """Whether another file now stands at the path. While none does, lines still go to ours."""
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            return False
        opened = os.fstat(handle.fileno())
        return (current.st_dev, current.st_ino) != (opened.st_dev, opened.st_ino)

    def _read_on(self, handle: BinaryIO) -> list[str]:
        lines: list[str] = []
        while chunk := handle.read(CHUNK_BYTES):
            pieces = (self._partial + chunk).split(b"\n")
            self._partial = pieces.pop()  # an unfinished last line waits for the rest
            lines += [piece.decode("utf-8", errors="replace") for piece in pieces]
        return lines
