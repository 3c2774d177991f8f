"""Docker HEALTHCHECK: every supervised program is RUNNING, Postfix listens for clients, and
/dev/log takes lines.

It deliberately opens no SMTP session: a probe every 30 s would fill the mail log with
connect/disconnect lines.
"""

from __future__ import annotations

import configparser
import socket
import sys
import xmlrpc.client
from pathlib import Path

from supervisor.xmlrpc import SupervisorTransport

from entrypoint.paths import DRAINING, MASTER_CF, SUPERVISORD_CONF, SYSLOG_SOCKET

TCP_LISTEN = "0A"


def not_running_programs(supervisord_conf: Path = SUPERVISORD_CONF) -> list[str]:
    config = configparser.RawConfigParser(inline_comment_prefixes=(";",))
    config.read(supervisord_conf, encoding="utf-8")
    client = config["supervisorctl"]
    transport = SupervisorTransport(client["username"], client["password"], client["serverurl"])
    proxy = xmlrpc.client.ServerProxy("http://localhost", transport=transport)
    processes = proxy.supervisor.getAllProcessInfo()
    return [f"{p['name']} is {p['statename']}" for p in processes if p["statename"] != "RUNNING"]


def listen_port(master_cf: Path = MASTER_CF) -> int:
    for line in master_cf.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) > 1 and fields[1] == "inet" and not line.startswith("#"):
            return int(fields[0])
    raise LookupError("no inet service in master.cf")


def is_listening(port: int) -> bool:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == TCP_LISTEN:
                return True
    return False


def syslog_takes_lines(socket_path: Path = SYSLOG_SOCKET) -> bool:
    """Whether a datagram socket connects to /dev/log. rsyslog creates it once, at its start: once
    it is gone (removed by hand), every Postfix process started since logs nothing and the event
    logger receives nothing, while rsyslog still runs. Only a restart brings it back."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(str(socket_path))
        except OSError:
            return False
    return True


def main() -> int:
    if DRAINING.exists():
        # Stopping on purpose: the listener is closed and programs stop in turn. Unhealthy now
        # would only make an orchestrator kill a relay that is handing its queue to SES.
        print("healthy: draining before stop")
        return 0
    try:
        problems = not_running_programs()
        port = listen_port()
        if not is_listening(port):
            problems.append(f"nothing listens on port {port}")
        if not syslog_takes_lines():
            problems.append(f"nothing takes lines on {SYSLOG_SOCKET}")
    except (OSError, LookupError, ValueError, configparser.Error, xmlrpc.client.Error) as error:
        problems = [f"cannot check: {error}"]
    if problems:
        print("unhealthy: " + "; ".join(problems))
        return 1
    print("healthy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
