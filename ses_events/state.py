"""The logger's memory, in one SQLite file on the log volume, so it survives restarts.

- ``queue_ids``: SES message ID -> Postfix queue ID, learned from Postfix's status=sent lines.
- ``events``: every SES event already handled, by ``event_key``, with the lines it produced:
  ``pending`` while they are being written, ``done`` once syslog took them all. A redelivered
  ``done`` event writes nothing; a ``pending`` one (we died mid-write) writes only the lines the
  mail log does not already hold. That is how no event is lost and no line is written twice.
- ``poison``: SQS message IDs already reported as poison, so each is reported once.
- ``cursor``: how far the mail log has been read.

Every table is bounded: the oldest rows go first.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
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
    event_key TEXT PRIMARY KEY, state TEXT NOT NULL, lines TEXT NOT NULL, updated_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS events_age ON events (updated_at);
CREATE TABLE IF NOT EXISTS poison (sqs_message_id TEXT PRIMARY KEY, seen_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS cursor (path TEXT PRIMARY KEY, inode INTEGER NOT NULL, offset INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class KnownEvent:
    state: str  # "pending" or "done"
    lines: tuple[str, ...]


class State:
    """Thread-safe: one connection, one lock, short transactions."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._writes: dict[str, int] = {}
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        with self._lock:
            # WAL with synchronous=NORMAL: a crash of the process loses nothing committed.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- queue IDs ---------------------------------------------------------------------------
    def remember_queue_ids(self, pairs: Iterable[tuple[str, str]]) -> None:
        now = time.time()
        rows = [(ses_id, queue_id, now) for queue_id, ses_id in pairs]
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO queue_ids VALUES (?, ?, ?)", rows)
            self._trim("queue_ids", "learned_at", MAX_QUEUE_IDS)
            self._db.execute("COMMIT")

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
        query = f"SELECT event_key, state, lines FROM events WHERE event_key IN ({placeholders})"  # noqa: S608
        with self._lock:
            rows = self._db.execute(query, keys).fetchall()
        return {key: KnownEvent(state, tuple(json.loads(lines))) for key, state, lines in rows}

    def mark_pending(self, events: dict[str, tuple[str, ...]]) -> None:
        """Record, before writing, what is about to be written for each event."""
        self._set_state(events, "pending")

    def mark_done(self, events: dict[str, tuple[str, ...]]) -> None:
        self._set_state(events, "done")

    def _set_state(self, events: dict[str, tuple[str, ...]], state: str) -> None:
        if not events:
            return
        now = time.time()
        rows = [(key, state, json.dumps(lines), now) for key, lines in events.items()]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?)", rows)
            self._trim("events", "updated_at", MAX_EVENTS)
            self._db.execute("COMMIT")

    # --- poison ------------------------------------------------------------------------------
    def first_time_poison(self, sqs_message_id: str) -> bool:
        """True the first time this SQS message is found to be poison."""
        with self._lock:
            self._db.execute("BEGIN")
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO poison VALUES (?, ?)", (sqs_message_id, time.time())
            )
            self._trim("poison", "seen_at", MAX_POISON)
            self._db.execute("COMMIT")
        return cursor.rowcount == 1

    # --- mail log cursor ---------------------------------------------------------------------
    def cursor(self, path: str) -> tuple[int, int] | None:
        with self._lock:
            row = self._db.execute("SELECT inode, offset FROM cursor WHERE path = ?", (path,)).fetchone()
        return (row[0], row[1]) if row else None

    def save_cursor(self, path: str, inode: int, offset: int) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO cursor VALUES (?, ?, ?)", (path, inode, offset))

    def _trim(self, table: str, age_column: str, limit: int) -> None:
        self._writes[table] = self._writes.get(table, 0) + 1
        if self._writes[table] % TRIM_EVERY != 1:
            return
        (count,) = self._db.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - fixed names
        if count > limit:
            self._db.execute(
                f"DELETE FROM {table} WHERE rowid IN "  # noqa: S608 - fixed names
                f"(SELECT rowid FROM {table} ORDER BY {age_column} LIMIT ?)",
                (count - limit,),
            )
