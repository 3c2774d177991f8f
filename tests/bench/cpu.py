"""CPU time of a process or thread, and the process serving a loopback URL, from /proc.

The event benchmark shares two cores between LocalStack and the consumer it measures: how much
CPU each side spends per event explains the events/s it reaches.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

_TICKS = os.sysconf("SC_CLK_TCK")
_LISTEN = "0A"


def cpu_seconds(pid: int, thread_id: int | None = None) -> float:
    """User + system CPU of a process, or of one of its threads."""
    stat = Path(f"/proc/{pid}/task/{thread_id}/stat" if thread_id else f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            columns = row.split()
            if columns[3] == _LISTEN and int(columns[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(columns[9])
    return inodes


def pid_serving(url: str) -> int | None:
    """The PID of the process listening on the URL's port on this machine, if we can see it."""
    port = urlsplit(url).port
    if port is None:
        return None
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) in wanted for fd in fd_dir.iterdir()):
                return int(fd_dir.parent.name)
        except OSError:
            continue  # gone, or not ours to read
    return None
