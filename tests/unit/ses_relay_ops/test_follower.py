"""The exporter's follower on real files: rotation by rename, truncation, and where it starts."""

from __future__ import annotations

import os

from ses_relay_ops.follower import LogFollower, StartAt


def _append(path, *lines: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.writelines(f"{line}\n" for line in lines)


def test_it_reads_what_is_appended_and_waits_for_a_whole_line(tmp_path):
    log = tmp_path / "mail.log"
    follower = LogFollower(log)
    assert follower.read() == []  # no file yet
    _append(log, "one", "two")
    assert follower.read() == ["one", "two"]
    with open(log, "a", encoding="utf-8") as handle:
        handle.write("thr")
    assert follower.read() == []
    _append(log, "ee")
    assert follower.read() == ["three"]


def test_across_a_rename_nothing_is_lost_or_read_twice(tmp_path):
    log = tmp_path / "mail.log"
    _append(log, "a")
    follower = LogFollower(log)
    assert follower.read() == ["a"]
    os.rename(log, tmp_path / "mail.log.1")
    _append(tmp_path / "mail.log.1", "b")  # rsyslog writes on until it reopens
    assert follower.read() == ["b"]  # no new file yet: the old one is still where lines go
    _append(tmp_path / "mail.log.1", "c")
    _append(log, "d", "e")  # reopened
    assert follower.read() == ["c", "d", "e"]
    _append(log, "f")
    assert follower.read() == ["f"]


def test_a_file_emptied_in_place_is_read_from_its_start(tmp_path):
    log = tmp_path / "mail.log"
    _append(log, "old line one", "old line two")
    follower = LogFollower(log)
    follower.read()
    os.truncate(log, 0)
    _append(log, "new")
    assert follower.read() == ["new"]


def test_it_starts_where_the_container_started_in_that_file_only(tmp_path):
    log = tmp_path / "mail.log"
    _append(log, "before the start")
    start = StartAt(os.stat(log).st_ino, os.stat(log).st_size)
    _append(log, "after the start")
    assert LogFollower(log, start).read() == ["after the start"]
    other = StartAt(start.inode + 1, start.offset)
    assert LogFollower(log, other).read() == ["before the start", "after the start"]
