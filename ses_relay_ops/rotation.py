"""Rotate the mail log by size and by age, keeping a number of files, losing and repeating nothing.

Rename, then reopen: ``mail.log`` becomes ``mail.log.1`` and rsyslog gets SIGHUP, on which it
closes its files and creates ``mail.log`` again at its next line. Until it has, it writes on into
the renamed file, so each line is in exactly one of the two. (Copying and truncating, logrotate's
``copytruncate``, loses what is written between the copy and the truncation.) Readers that keep
the file open, the event logger and the metrics exporter, read the renamed file to its end and
then go on with the new one.

Older files move up a number and are compressed: ``mail.log.1`` stays plain until the next
rotation, because rsyslog may still be finishing it; ``mail.log.2.gz`` and up are gzip files.
What would be numbered past ``keep`` is deleted.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ses_relay_ops.line import parse_line
from ses_relay_ops.log_files import rotation_number

CHECK_SECONDS = 1.0
LOCK_FILE = Path("/run/ses-relay/mail-log-rotation.lock")


class ReopenFailed(RuntimeError):
    """rsyslog could not be told to reopen (it is not running: it will create the file itself)."""


@dataclass(frozen=True)
class Policy:
    max_bytes: int  # 0: never by size
    max_age_seconds: int  # 0: never by age
    keep: int  # rotated files kept: mail.log.1 ... mail.log.<keep>.gz


def _numbered(path: Path, number: int) -> list[Path]:
    candidates = (path.with_name(f"{path.name}.{number}"), path.with_name(f"{path.name}.{number}.gz"))
    return [candidate for candidate in candidates if candidate.exists()]


def oldest_line_time(path: Path, now: datetime) -> datetime | None:
    with contextlib.suppress(OSError), open(path, "rb") as handle:
        first = handle.readline(8192).decode("utf-8", errors="replace")
        line = parse_line(first, now) if first.endswith("\n") else None
        return line.time if line else None
    return None


def rotation_due(path: Path, policy: Policy, now: datetime) -> str | None:
    """Why the log should be rotated now, or None."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    if size == 0:
        return None
    if policy.max_bytes and size >= policy.max_bytes:
        return f"it holds {size} bytes (MAIL_LOG_ROTATE_SIZE is {policy.max_bytes})"
    if policy.max_age_seconds:
        oldest = oldest_line_time(path, now)
        if oldest is not None and (now - oldest).total_seconds() >= policy.max_age_seconds:
            return f"its oldest line is from {oldest:%Y-%m-%d %H:%M:%S} (MAIL_LOG_ROTATE_AGE)"
    return None


def _compress(plain: Path) -> None:
    """plain -> plain.gz, written aside and renamed into place, then plain removed. While both
    exist, readers take the plain one (log_files.family), so no line is read twice."""
    compressed = plain.with_name(plain.name + ".gz")
    partial = plain.with_name(plain.name + ".gz.partial")
    with open(plain, "rb") as source, gzip.open(partial, "wb") as target:
        shutil.copyfileobj(source, target)
    os.replace(partial, compressed)
    plain.unlink()


def rotate(path: Path, keep: int, reopen: Callable[[], None]) -> Path:
    """Rotate now; returns the renamed file. Raises ReopenFailed after the rotation is done if
    rsyslog could not be told (harmless when it is not running)."""
    highest = max((n for p in path.parent.iterdir() if (n := rotation_number(p, path))), default=0)
    for number in range(highest, keep - 1, -1):
        for old in _numbered(path, number):
            old.unlink()
    for number in range(keep - 1, 0, -1):
        for old in _numbered(path, number):
            suffix = ".gz" if old.name.endswith(".gz") else ""
            old.rename(path.with_name(f"{path.name}.{number + 1}{suffix}"))
    rotated = path.with_name(f"{path.name}.1")
    path.rename(rotated)
    try:
        reopen()
    finally:
        for number in range(2, keep + 1):
            plain = path.with_name(f"{path.name}.{number}")
            if plain.exists():
                _compress(plain)
    return rotated


def hup_rsyslog(pid_file: Path) -> Callable[[], None]:
    def reopen() -> None:
        try:
            pid = int(pid_file.read_text(encoding="ascii").strip())
            os.kill(pid, signal.SIGHUP)
        except (OSError, ValueError) as error:
            raise ReopenFailed(f"cannot signal rsyslog ({pid_file}: {error})") from None

    return reopen


@contextlib.contextmanager
def rotation_lock(lock_file: Path = LOCK_FILE) -> Iterator[None]:
    """One rotation at a time: the watcher's and an operator's ``ses-relay rotate``."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def say(message: str) -> None:
    print(f"ses-relay rotate: {message}", file=sys.stderr, flush=True)


def rotate_now(path: Path, keep: int, reopen: Callable[[], None], reason: str) -> bool:
    with rotation_lock():
        if not path.exists() or path.stat().st_size == 0:
            return False
        try:
            rotated = rotate(path, keep, reopen)
        except ReopenFailed as error:
            say(f"rotated {path} ({reason}), but {error}")
            return True
    say(f"rotated {path} to {rotated.name} because {reason}")
    return True


def watch(path: Path, policy: Policy, reopen: Callable[[], None]) -> int:
    """Rotate whenever the policy says so, until SIGTERM."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    limits = []
    if policy.max_bytes:
        limits.append(f"at {policy.max_bytes} bytes")
    if policy.max_age_seconds:
        limits.append(f"when its oldest line is {policy.max_age_seconds} s old")
    say(f"rotating {path} {' or '.join(limits)}, keeping {policy.keep} rotated files")
    while not stopping.wait(CHECK_SECONDS):
        reason = rotation_due(path, policy, datetime.now())
        if reason:
            rotate_now(path, policy.keep, reopen, reason)
    return 0
