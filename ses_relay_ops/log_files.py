"""The mail log and its rotations on disk: which files, in which order, and their lines.

Rotation (``ses_relay_ops.rotation``) renames ``mail.log`` to ``mail.log.1`` and compresses older
ones: ``mail.log.14.gz`` ... ``mail.log.2.gz``, ``mail.log.1``, ``mail.log``, oldest first.
Plain and compressed rotations are read alike, so logs rotated by another tool read too.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

from ses_relay_ops.line import LogLine, parse_line

MAIL_LOG = Path("/var/log/mail.log")
_ROTATION = re.compile(r"^\.(?P<number>[0-9]+)(\.gz)?$")


def rotation_number(path: Path, base: Path) -> int | None:
    """0 for the log itself, N for ``base.N`` or ``base.N.gz``, None for another file."""
    if path.name == base.name:
        return 0
    if not path.name.startswith(base.name):
        return None
    match = _ROTATION.match(path.name[len(base.name) :])
    return int(match["number"]) if match else None


def family(base: Path) -> list[Path]:
    """The log and its rotations that exist, oldest first."""
    if not base.parent.is_dir():
        return []
    # One file a number: while a rotation is being compressed, the plain one is read.
    chosen: dict[int, Path] = {}
    for path in base.parent.iterdir():
        number = rotation_number(path, base)
        if number is None or not path.is_file():
            continue
        if number not in chosen or chosen[number].name.endswith(".gz"):
            chosen[number] = path
    return [chosen[number] for number in sorted(chosen, reverse=True)]


def log_files(arguments: Sequence[Path] = ()) -> list[Path]:
    """The files to read: the mail log's family by default; a directory's ``mail.log`` family; a
    file as it is. Raises FileNotFoundError naming what does not exist."""
    if not arguments:
        return family(MAIL_LOG)
    files: list[Path] = []
    for argument in arguments:
        if argument.is_dir():
            files += family(argument / MAIL_LOG.name)
        elif argument.is_file():
            files.append(argument)
        else:
            raise FileNotFoundError(f"{argument}: no such file or directory")
    return files


def read_text_lines(path: Path) -> Iterator[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="\n") as handle:
        yield from handle


def read_lines(paths: Iterable[Path], now: datetime) -> Iterator[LogLine]:
    """Every line of every file in order that parses as a mail-log line."""
    for path in paths:
        for text in read_text_lines(path):
            line = parse_line(text, now)
            if line is not None:
                yield line
