"""/etc/hosts: make the container's own host name resolve without DNS.

Cyrus SASL looks up the local host name each time Postfix authenticates to SES. Docker puts
that name in /etc/hosts on its bridge networks, but not with `--network host`, and then every
delivery waits on a DNS query for it: seen here as 5-10 s per connection.
"""

from __future__ import annotations

import socket
from pathlib import Path

from entrypoint.paths import HOSTS

# Debian's address for the machine's own name.
OWN_NAME_ADDRESS = "127.0.1.1"


def _names_in(hosts_text: str) -> set[str]:
    names = set()
    for line in hosts_text.splitlines():
        fields = line.split("#", 1)[0].split()
        names.update(name.lower() for name in fields[1:])
    return names


def ensure_own_name_resolves(hosts: Path = HOSTS, hostname: str | None = None) -> bool:
    """Add the host name to /etc/hosts when it is missing; returns whether a line was added."""
    name = (hostname or socket.gethostname()).strip()
    if not name:
        return False
    text = hosts.read_text(encoding="utf-8") if hosts.exists() else ""
    if name.lower() in _names_in(text):
        return False
    separator = "" if not text or text.endswith("\n") else "\n"
    line = f"{OWN_NAME_ADDRESS}\t{name}\t# added by ses-relay: SASL looks this name up for every login\n"
    with hosts.open("a", encoding="utf-8") as handle:
        handle.write(separator + line)
    return True
