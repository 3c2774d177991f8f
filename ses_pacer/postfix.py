"""Postfix's queue, as root: list it and hold with Postfix's own tools; release held mail directly.

Releasing is the pacer's hot path, tens of messages a second. Postfix's way, ``postsuper -H``
and then ``postqueue -i`` for each message, costs two program starts per message, and those
starts were what capped the release rate below SES's. So ``release`` does in-process what those
two do to a message (postsuper.c, and flush.c's ``flush_one_file``): set the group-read bit that
tells the queue manager to unthrottle its destination first, and rename the queue file from
``hold/`` into ``incoming/``; then one ``I`` ("scan incoming") on the queue manager's socket wakes
it for the whole batch, as the flush service does. The queue manager skips an incoming file whose
time stamp is in its future: a message SES throttled was deferred, stamped with its next retry
time, before the pacer put it back on hold, so that stamp is brought back to now, as the flush
service does. One already in the past is left alone: a stamp taken from the pacer's clock could
be ahead of the queue manager's (a clock that jumped back, or the fault suite's libfaketime).
main.cf keeps ``hold`` and ``incoming`` out of ``hash_queue_names``, so each is one flat
directory.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ses_pacer.queue import QueuedMessage, parse_postqueue_json

QUEUE_DIRECTORY = Path("/var/spool/postfix")
# mail_queue.h: a queue file is complete when its owner bits are rwx; group read asks the queue
# manager to unthrottle the message's destination (MAIL_QUEUE_STAT_UNTHROTTLE).
_READY = stat.S_IRUSR | stat.S_IWUSR | stat.S_IXUSR
_UNTHROTTLE = stat.S_IRGRP
# qmgr_user.h: QMGR_REQ_SCAN_INCOMING.
_SCAN_INCOMING = b"I"


class PostfixUnavailable(RuntimeError):
    """Postfix did not answer (not started yet, or stopping)."""


# Postfix's tools answer in milliseconds; one that has not answered in this long is stuck.
RUN_TIMEOUT_SECONDS = 60.0


def _run(command: list[str], stdin: str | None = None) -> str:
    """Run one of Postfix's tools; its output, or PostfixUnavailable.

    The time limit is a watchdog thread, not ``subprocess.run(timeout=...)``: that waits for the
    child with ``time.sleep`` polls, which clock shims such as libfaketime (the fault suite's
    clock jump) break with EINVAL, and the pacer then saw Postfix as down for as long as the
    shim was loaded. A plain wait for the child has no such poll."""
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    except OSError as error:
        raise PostfixUnavailable(f"{command[0]}: {error}") from None
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        process.kill()

    watchdog = threading.Timer(RUN_TIMEOUT_SECONDS, kill)
    watchdog.start()
    try:
        stdout, stderr = process.communicate(stdin)
    finally:
        watchdog.cancel()
    if timed_out.is_set():
        raise PostfixUnavailable(f"{command[0]}: no answer in {RUN_TIMEOUT_SECONDS:.0f} s")
    if process.returncode != 0:
        raise PostfixUnavailable(f"{' '.join(command)}: {(stderr or stdout).strip()}")
    return stdout


def list_queue() -> list[QueuedMessage]:
    return parse_postqueue_json(_run(["postqueue", "-j"]).splitlines())


def hold(queue_ids: Sequence[str]) -> None:
    if queue_ids:
        _run(["postsuper", "-h", "-"], stdin="".join(f"{queue_id}\n" for queue_id in queue_ids))


def release(queue_ids: Sequence[str], queue_directory: Path = QUEUE_DIRECTORY) -> list[str]:
    """Move held messages into the incoming queue and wake the queue manager, as ``postsuper -H``
    and ``postqueue -i`` would; returns the queue IDs moved. A message no longer held (deleted,
    or released by someone else) is skipped."""
    moved = [queue_id for queue_id in queue_ids if _move_to_incoming(queue_id, queue_directory)]
    if moved:
        _wake_queue_manager(queue_directory)
    return moved


def _move_to_incoming(queue_id: str, queue_directory: Path) -> bool:
    held = queue_directory / "hold" / queue_id
    try:
        # O_NOFOLLOW and fchmod on what was opened, as flush.c's safe_open: a name swapped for a
        # link between the checks and the change cannot redirect the change.
        descriptor = os.open(held, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise PostfixUnavailable(f"cannot open {held}: {error.strerror}") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode) or (status.st_mode & stat.S_IRWXU) != _READY:
            return False  # not a finished queue file: the next snapshot shows what it is
        os.fchmod(descriptor, stat.S_IMODE(status.st_mode) | _UNTHROTTLE)
        now = time.time()
        if status.st_mtime > now:
            os.utime(descriptor, (now, now))
    finally:
        os.close(descriptor)
    try:
        os.rename(held, queue_directory / "incoming" / queue_id)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise PostfixUnavailable(f"cannot move {held} to the incoming queue: {error.strerror}") from None
    return True


def _wake_queue_manager(queue_directory: Path) -> None:
    """One request on the queue manager's socket (master.cf: ``qmgr unix``), as Postfix's
    unix_trigger sends it."""
    path = queue_directory / "public" / "qmgr"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(5)
        try:
            connection.connect(str(path))
            connection.sendall(_SCAN_INCOMING)
        except OSError as error:
            # Postfix is down or restarting: the queue manager scans incoming/ when it starts.
            raise PostfixUnavailable(f"cannot wake the queue manager at {path}: {error}") from None
