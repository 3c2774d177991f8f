"""Releasing held mail into Postfix's incoming queue, on a queue directory laid out as Postfix's."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from pathlib import Path

import pytest

from ses_pacer import postfix


@pytest.fixture
def queue_directory(tmp_path: Path):
    for name in ("hold", "incoming", "public"):
        (tmp_path / name).mkdir()
    return tmp_path


def _held(queue_directory: Path, queue_id: str, mode: int = 0o700, stamp: float = 1_000_000) -> Path:
    path = queue_directory / "hold" / queue_id
    path.write_bytes(b"C queue file")
    path.chmod(mode)
    os.utime(path, (stamp, stamp))
    return path


class QueueManager:
    """Listens on public/qmgr as Postfix's master does for the queue manager (master.cf: unix)."""

    def __init__(self, queue_directory: Path):
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(queue_directory / "public" / "qmgr"))
        self._listener.listen(16)
        self._listener.settimeout(0.5)

    def requests(self) -> list[bytes]:
        """Every request sent so far, one per connection."""
        received = []
        while True:
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                return received
            with connection:
                connection.settimeout(5)
                received.append(connection.recv(16))

    def close(self) -> None:
        self._listener.close()


def test_released_mail_is_in_incoming_unthrottled_and_the_queue_manager_woken(queue_directory):
    qmgr = QueueManager(queue_directory)
    for queue_id in ("4F1A2B3C4D", "5E6F7A8B9C"):
        _held(queue_directory, queue_id)

    assert postfix.release(["4F1A2B3C4D", "5E6F7A8B9C"], queue_directory) == ["4F1A2B3C4D", "5E6F7A8B9C"]

    assert sorted(os.listdir(queue_directory / "hold")) == []
    for queue_id in ("4F1A2B3C4D", "5E6F7A8B9C"):
        status = (queue_directory / "incoming" / queue_id).stat()
        assert stat.S_IMODE(status.st_mode) == 0o740  # ready, and the unthrottle bit
        # A stamp in the past stays: one taken now could be in the queue manager's future.
        assert status.st_mtime == 1_000_000
    assert qmgr.requests() == [b"I"]  # one wake-up for the whole batch
    qmgr.close()


def test_what_is_no_longer_held_or_not_finished_is_left_alone(queue_directory):
    qmgr = QueueManager(queue_directory)
    unfinished = _held(queue_directory, "6A7B8C9D0E", mode=0o600)
    assert postfix.release(["1234567890", "6A7B8C9D0E"], queue_directory) == []
    assert unfinished.exists()
    assert qmgr.requests() == []  # nothing moved: nothing to wake it for
    qmgr.close()


def test_a_link_in_the_hold_queue_is_not_followed(queue_directory, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "file"
    outside.write_bytes(b"not a queue file")
    outside.chmod(0o600)
    (queue_directory / "hold" / "7B8C9D0E1F").symlink_to(outside)
    with pytest.raises(postfix.PostfixUnavailable):
        postfix.release(["7B8C9D0E1F"], queue_directory)
    assert stat.S_IMODE(outside.stat().st_mode) == 0o600


def test_with_no_queue_manager_listening_the_release_says_postfix_is_unavailable(queue_directory):
    _held(queue_directory, "8C9D0E1F2A")
    with pytest.raises(postfix.PostfixUnavailable, match="cannot wake the queue manager"):
        postfix.release(["8C9D0E1F2A"], queue_directory)
    # The message is in incoming/ already: the queue manager takes it when it starts.
    assert (queue_directory / "incoming" / "8C9D0E1F2A").exists()


def test_releases_from_several_threads_move_each_message_once(queue_directory):
    qmgr = QueueManager(queue_directory)
    ids = [f"{n:010X}" for n in range(200)]
    for queue_id in ids:
        _held(queue_directory, queue_id)
    moved: list[str] = []
    threads = [
        threading.Thread(target=lambda: moved.extend(postfix.release(ids, queue_directory))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(moved) == ids
    assert sorted(os.listdir(queue_directory / "incoming")) == ids
    qmgr.close()


def test_a_tool_that_answers_gives_its_output_and_one_that_fails_says_why():
    assert postfix._run(["sh", "-c", "cat; echo done"], stdin="in\n") == "in\ndone\n"
    with pytest.raises(postfix.PostfixUnavailable, match="no such queue"):
        postfix._run(["sh", "-c", "echo 'no such queue' >&2; exit 1"])
    with pytest.raises(postfix.PostfixUnavailable, match="no-such-postfix-tool"):
        postfix._run(["no-such-postfix-tool"])


def test_a_tool_that_does_not_answer_is_killed_and_postfix_taken_as_unavailable(monkeypatch):
    monkeypatch.setattr(postfix, "RUN_TIMEOUT_SECONDS", 0.3)
    with pytest.raises(postfix.PostfixUnavailable, match="no answer in 0 s"):
        postfix._run(["sleep", "30"])


def test_a_throttled_message_stamped_with_its_next_retry_is_due_now_once_released(queue_directory):
    """Postfix stamps a deferred file with its next retry time; re-held and released, it must not
    wait for it: the queue manager skips incoming files stamped in its future."""
    qmgr = QueueManager(queue_directory)
    _held(queue_directory, "9D0E1F2A3B", stamp=time.time() + 300)
    postfix.release(["9D0E1F2A3B"], queue_directory)
    assert (queue_directory / "incoming" / "9D0E1F2A3B").stat().st_mtime <= time.time()
    qmgr.close()
