"""``LoggerStore``: the logger's memory, in one SQLite file on the log volume, so it survives restarts.

- ``queue_ids``: SES message ID -> Postfix queue ID, learned from Postfix's status=sent lines.
- ``events``: every SES event already handled, by ``event_key``, with the lines it produced and
  its ``progress``: ``pending`` while they are being written, ``done`` once syslog took them all.
  A redelivered ``done`` event writes nothing; a ``pending`` one (we died mid-write) writes only
  the lines the mail log does not already hold. That is how no event is lost and no line is
  written twice.
- ``poison``: SQS message IDs already reported as poison, so each is reported once.
- ``cursor``: how far the mail log has been read, and the bytes just before that point, which
  tell whether the file there is still the one that was read (see ``mail_log_follower``).

Every table is bounded: the oldest rows go first, checked every ``trim_every`` writes to it.

A write the file cannot take (its volume is full, its disk fails) is rolled back whole and raised
as ``StateUnwritable``: the daemon then keeps what it holds in the queue and tries again later,
as it does when syslog is down, and the store works again once there is room.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

# SES can report a complaint days after the send, and SQS keeps a message at most 14 days.
MAX_QUEUE_IDS = 200_000
MAX_EVENTS = 200_000
MAX_POISON = 10_000
# Counting a table is a scan: trim after this many writes rather than after each.
TRIM_EVERY = 1_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue_ids (
    ses_message_id TEXT PRIMARY KEY, queue_id TEXT NOT NULL, learned_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS queue_ids_age ON queue_ids (learned_at);
CREATE TABLE IF NOT EXISTS events (
    event_key TEXT PRIMARY KEY, progress TEXT NOT NULL, lines TEXT NOT NULL, updated_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS events_age ON events (updated_at);
CREATE TABLE IF NOT EXISTS poison (sqs_message_id TEXT PRIMARY KEY, seen_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS cursor (
    path TEXT PRIMARY KEY, inode INTEGER NOT NULL, offset INTEGER NOT NULL,
    signature BLOB NOT NULL DEFAULT x'');
"""


class StateUnwritable(OSError):
    """The state file took no write; nothing of it was recorded."""


# SQLite's codes for "the file cannot take this write" (sqlite3.Error.sqlite_errorname).
_UNWRITABLE = ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN")


class Progress(StrEnum):
    """How far an event's lines got."""

    PENDING = "pending"  # recorded before writing; we may have died mid-write
    DONE = "done"  # syslog took every line


@dataclass(frozen=True)
class KnownEvent:
    progress: Progress
    lines: tuple[str, ...]


@dataclass(frozen=True)
class LogCursor:
    """Where reading a log stopped: its file's inode, the offset after the last whole line read,
    and the bytes just before that offset (empty in a cursor saved by an earlier version)."""

    inode: int
    offset: int
    signature: bytes = b""


@dataclass(frozen=True)
class Bounds:
    """How many rows each table keeps, and how often (in writes to it) that is enforced."""

    queue_ids: int = MAX_QUEUE_IDS
    events: int = MAX_EVENTS
    poison: int = MAX_POISON
    trim_every: int = TRIM_EVERY


DEFAULT_BOUNDS = Bounds()


class LoggerStore:
    """Thread-safe: one connection, one lock, short transactions."""

    def __init__(self, path: Path, bounds: Bounds = DEFAULT_BOUNDS):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.bounds = bounds
        self._lock = threading.Lock()
        self._writes: dict[str, int] = {}
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        with self._lock:
            # WAL with synchronous=NORMAL: a crash of the process loses nothing committed.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            _upgrade(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _writing(self, transaction: bool = True) -> Iterator[None]:
        """Hold the lock for one write (a transaction, or one statement); roll back a write the
        file could not take and raise it as StateUnwritable."""
        with self._lock:
            try:
                if transaction:
                    self._db.execute("BEGIN")
                yield
                if transaction:
                    self._db.execute("COMMIT")
            except sqlite3.Error as error:
                if self._db.in_transaction:
                    with suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                if not getattr(error, "sqlite_errorname", "").startswith(_UNWRITABLE):
                    raise
                raise StateUnwritable(f"cannot write {self.path}: {error}") from None

    # --- queue IDs ---------------------------------------------------------------------------
    def remember_queue_ids(self, pairs: Iterable[tuple[str, str]]) -> None:
        now = time.time()
        rows = [(ses_id, queue_id, now) for queue_id, ses_id in pairs]
        if not rows:
            return
        with self._writing():
            self._db.executemany("INSERT OR REPLACE INTO queue_ids VALUES (?, ?, ?)", rows)
            self._trim("queue_ids", "learned_at", self.bounds.queue_ids)

    def queue_id_for(self, ses_message_id: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT queue_id FROM queue_ids WHERE ses_message_id = ?", (ses_message_id,)
            ).fetchone()
        return row[0] if row else None

    # --- events ------------------------------------------------------------------------------
    def known_events(self, keys: Iterable[str]) -> dict[str, KnownEvent]:
        keys = list(keys)
        if not keys:
            return {}
        placeholders = ",".join("?" * len(keys))
        query = f"SELECT event_key, progress, lines FROM events WHERE event_key IN ({placeholders})"  # noqa: S608
        with self._lock:
            rows = self._db.execute(query, keys).fetchall()
        return {key: KnownEvent(Progress(value), tuple(json.loads(lines))) for key, value, lines in rows}

    def mark_pending(self, events: dict[str, tuple[str, ...]]) -> None:
        """Record, before writing, what is about to be written for each event."""
        self._record(events, Progress.PENDING)

    def mark_done(self, events: dict[str, tuple[str, ...]]) -> None:
        self._record(events, Progress.DONE)

    def _record(self, events: dict[str, tuple[str, ...]], progress: Progress) -> None:
        if not events:
            return
        now = time.time()
        rows = [(key, str(progress), json.dumps(lines), now) for key, lines in events.items()]
        with self._writing():
            self._db.executemany("INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?)", rows)
            self._trim("events", "updated_at", self.bounds.events)

    # --- poison ------------------------------------------------------------------------------
    def first_time_poison(self, sqs_message_id: str) -> bool:
        """True the first time this SQS message is found to be poison."""
        with self._writing():
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO poison VALUES (?, ?)", (sqs_message_id, time.time())
            )
            self._trim("poison", "seen_at", self.bounds.poison)
        return cursor.rowcount == 1

    # --- mail log cursor ---------------------------------------------------------------------
    def cursor(self, path: str) -> LogCursor | None:
        with self._lock:
            row = self._db.execute(
                "SELECT inode, offset, signature FROM cursor WHERE path = ?", (path,)
            ).fetchone()
        return LogCursor(row[0], row[1], bytes(row[2])) if row else None

    def save_cursor(self, path: str, cursor: LogCursor) -> None:
        with self._writing(transaction=False):
            self._db.execute(
                "INSERT OR REPLACE INTO cursor VALUES (?, ?, ?, ?)",
                (path, cursor.inode, cursor.offset, cursor.signature),
            )

    def _trim(self, table: str, age_column: str, limit: int) -> None:
        """Delete the oldest rows beyond ``limit``, on the first write and every ``trim_every``-th after."""
        writes = self._writes.get(table, 0)
        self._writes[table] = writes + 1
        if writes % self.bounds.trim_every != 0:
            return
        (count,) = self._db.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - fixed names
        if count > limit:
            # rowid breaks ties: rows written in one transaction share their time.
            self._db.execute(
                f"DELETE FROM {table} WHERE rowid IN "  # noqa: S608 - fixed names
                f"(SELECT rowid FROM {table} ORDER BY {age_column}, rowid LIMIT ?)",
                (count - limit,),
            )


def _upgrade(db: sqlite3.Connection) -> None:
    """Bring a store written by an earlier version to the current schema, keeping its rows."""
    event_columns = {row[1] for row in db.execute("PRAGMA table_info(events)")}
    if "state" in event_columns:  # the column's name until the daemon got its own folder
        db.execute("ALTER TABLE events RENAME COLUMN state TO progress")
    cursor_columns = {row[1] for row in db.execute("PRAGMA table_info(cursor)")}
    if "signature" not in cursor_columns:  # such a cursor is trusted on inode and size alone
        db.execute("ALTER TABLE cursor ADD COLUMN signature BLOB NOT NULL DEFAULT x''")
