"""LoggerStore: the logger's SQLite memory, what it keeps across restarts, and its bounds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ses_events.daemon.store import (
    DEFAULT_BOUNDS,
    Bounds,
    KnownEvent,
    LogCursor,
    LoggerStore,
    Progress,
    StateUnwritable,
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "ses-relay" / "ses-events.sqlite3"


def open_store(path: Path, **bounds: int) -> LoggerStore:
    return LoggerStore(path, Bounds(**bounds))


def queue_ids(store: LoggerStore, count: int) -> dict[str, str | None]:
    return {f"ses-{n}": store.queue_id_for(f"ses-{n}") for n in range(count)}


def test_events_go_from_pending_to_done_and_survive_a_restart(path: Path) -> None:
    store = LoggerStore(path)
    store.mark_pending({"Delivery:a": ("line 1", "line 2"), "Bounce:b": ("line 3",)})
    assert store.known_events(["Delivery:a", "Bounce:b", "Send:c"]) == {
        "Delivery:a": KnownEvent(Progress.PENDING, ("line 1", "line 2")),
        "Bounce:b": KnownEvent(Progress.PENDING, ("line 3",)),
    }

    store.mark_done({"Delivery:a": ("line 1", "line 2")})
    store.close()

    reopened = LoggerStore(path)
    assert reopened.known_events(["Delivery:a", "Bounce:b"]) == {
        "Delivery:a": KnownEvent(Progress.DONE, ("line 1", "line 2")),
        "Bounce:b": KnownEvent(Progress.PENDING, ("line 3",)),
    }
    assert reopened.known_events([]) == {}
    reopened.close()


def test_queue_ids_poison_and_cursor_survive_a_restart(path: Path) -> None:
    store = LoggerStore(path)
    store.remember_queue_ids([("4F1A22C0D3E", "ses-1"), ("5A2B33D1E4F", "ses-2")])
    assert store.first_time_poison("sqs-1") is True
    store.save_cursor("/var/log/mail.log", LogCursor(1234, 5678, b"line\n"))
    store.close()

    reopened = LoggerStore(path)
    assert reopened.queue_id_for("ses-1") == "4F1A22C0D3E"
    assert reopened.queue_id_for("ses-3") is None
    assert reopened.first_time_poison("sqs-1") is False
    assert reopened.cursor("/var/log/mail.log") == LogCursor(1234, 5678, b"line\n")
    assert reopened.cursor("/var/log/other.log") is None
    reopened.close()


def test_a_relearned_queue_id_replaces_the_old_one(path: Path) -> None:
    store = LoggerStore(path)
    store.remember_queue_ids([("OLD", "ses-1")])
    store.remember_queue_ids([("NEW", "ses-1")])

    assert store.queue_id_for("ses-1") == "NEW"
    store.close()


# --- Every table is bounded: the oldest rows go first ---


def test_queue_ids_are_trimmed_to_their_bound_oldest_first(path: Path) -> None:
    store = open_store(path, queue_ids=3, trim_every=1)
    for n in range(5):
        store.remember_queue_ids([(f"Q{n}", f"ses-{n}")])

    assert queue_ids(store, 5) == {"ses-0": None, "ses-1": None, "ses-2": "Q2", "ses-3": "Q3", "ses-4": "Q4"}
    store.close()


def test_rows_written_together_are_trimmed_in_the_order_they_were_given(path: Path) -> None:
    """One write shares one timestamp; the order within it still decides which rows are older."""
    store = open_store(path, queue_ids=2, trim_every=1)
    store.remember_queue_ids([(f"Q{n}", f"ses-{n}") for n in range(4)])
    store.remember_queue_ids([])  # nothing to write: no trim either

    assert queue_ids(store, 4) == {"ses-0": None, "ses-1": None, "ses-2": "Q2", "ses-3": "Q3"}
    store.close()


def test_events_are_trimmed_to_their_bound_oldest_first(path: Path) -> None:
    store = open_store(path, events=2, trim_every=1)
    for n in range(4):
        store.mark_pending({f"Send:{n}": (f"line {n}",)})
        store.mark_done({f"Send:{n}": (f"line {n}",)})

    assert set(store.known_events(f"Send:{n}" for n in range(4))) == {"Send:2", "Send:3"}
    store.close()


def test_poison_ids_are_trimmed_to_their_bound_and_may_then_be_reported_again(path: Path) -> None:
    store = open_store(path, poison=2, trim_every=1)
    assert [store.first_time_poison(f"sqs-{n}") for n in range(3)] == [True, True, True]

    # sqs-0 was forgotten to keep the bound; the two newest are still known.
    assert [store.first_time_poison(f"sqs-{n}") for n in (2, 1)] == [False, False]
    assert store.first_time_poison("sqs-0") is True
    store.close()


def test_the_bound_is_checked_on_the_first_write_and_every_trim_every_writes(path: Path) -> None:
    """Counting a table is a scan, so it is not done on every write: in between, the table may
    grow past its bound by what those writes add, never further."""
    store = open_store(path, queue_ids=2, trim_every=3)
    store.remember_queue_ids([("Q0", "ses-0"), ("Q1", "ses-1"), ("Q2", "ses-2")])  # write 1: checked
    assert list(queue_ids(store, 3).values()) == [None, "Q1", "Q2"]

    store.remember_queue_ids([("Q3", "ses-3")])  # write 2: not checked
    store.remember_queue_ids([("Q4", "ses-4")])  # write 3: not checked
    assert list(queue_ids(store, 5).values()) == [None, "Q1", "Q2", "Q3", "Q4"]

    store.remember_queue_ids([("Q5", "ses-5")])  # write 4: checked
    assert list(queue_ids(store, 6).values()) == [None, None, None, None, "Q4", "Q5"]
    store.close()


def test_the_default_bounds_are_the_documented_ones() -> None:
    assert Bounds(queue_ids=200_000, events=200_000, poison=10_000, trim_every=1_000) == DEFAULT_BOUNDS


# --- A store written by an earlier version ---


def test_a_store_written_by_the_previous_version_is_upgraded_in_place(path: Path) -> None:
    """Its events column was called state, and its mail log cursor had no signature."""
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE events (event_key TEXT PRIMARY KEY, state TEXT NOT NULL, lines TEXT NOT NULL, "
            "updated_at REAL NOT NULL)"
        )
        old.execute("""INSERT INTO events VALUES ('Send:a', 'done', '["line a"]', 1.0)""")
        old.execute("""INSERT INTO events VALUES ('Send:b', 'pending', '["line b"]', 2.0)""")
        old.execute(
            "CREATE TABLE cursor (path TEXT PRIMARY KEY, inode INTEGER NOT NULL, offset INTEGER NOT NULL)"
        )
        old.execute("INSERT INTO cursor VALUES ('/var/log/mail.log', 1234, 5678)")
    old.close()

    store = LoggerStore(path)
    assert store.known_events(["Send:a", "Send:b"]) == {
        "Send:a": KnownEvent(Progress.DONE, ("line a",)),
        "Send:b": KnownEvent(Progress.PENDING, ("line b",)),
    }
    store.mark_done({"Send:b": ("line b",)})
    assert store.known_events(["Send:b"])["Send:b"].progress is Progress.DONE
    assert store.cursor("/var/log/mail.log") == LogCursor(1234, 5678, b"")
    store.close()

    assert LoggerStore(path).known_events(["Send:a"]) == {"Send:a": KnownEvent(Progress.DONE, ("line a",))}


def fill_up(store: LoggerStore) -> None:
    """No more pages than the file has now: SQLite answers the next growth as a full volume would."""
    (pages,) = store._db.execute("PRAGMA page_count").fetchone()
    store._db.execute(f"PRAGMA max_page_count = {pages}")


def test_a_full_volume_records_nothing_and_the_store_works_again_once_there_is_room(path: Path) -> None:
    store = LoggerStore(path)
    store.mark_done({"Delivery:before": ("line 0",)})
    fill_up(store)
    big = {f"Delivery:{n}": (f"line {n} " + "x" * 2000,) for n in range(50)}
    with pytest.raises(StateUnwritable, match=r"ses-events\.sqlite3: database or disk is full"):
        store.mark_pending(big)
    with pytest.raises(StateUnwritable):
        store.remember_queue_ids([(f"Q{n:010X}", f"ses-{n}" + "y" * 2000) for n in range(50)])
    # Rolled back whole: none of it was recorded, and what was there still is.
    assert store.known_events(big) == {}
    assert store.queue_id_for("ses-0" + "y" * 2000) is None
    assert store.known_events(["Delivery:before"]) == {
        "Delivery:before": KnownEvent(Progress.DONE, ("line 0",))
    }

    store._db.execute("PRAGMA max_page_count = 1073741823")  # room again
    store.mark_pending(big)
    assert len(store.known_events(big)) == 50
    store.close()
