"""A stand-in for rsyslog's /dev/log: a Unix datagram socket whose messages go to a mail log file.

It writes each message as rsyslog's traditional file format does ("Nov 28 00:29:11 host
TAG[PID]: MSG"), so the logger can follow the file exactly as it follows /var/log/mail.log.
It can be stopped and started again on the same path, to play rsyslog being down, and it can
drop what it takes (``dropping``), to play rsyslog taking lines it never writes: killed with them
in its queue, or its volume full.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path

_PRIORITY_AND_STAMP = re.compile(rb"^<\d{1,3}>(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d )?")


class SyslogListener:
    def __init__(self, socket_path: Path, mail_log: Path, hostname: str = "relay"):
        self.socket_path = socket_path
        self.mail_log = mail_log
        self.hostname = hostname
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        # (time.monotonic(), message) of every line, for latency measurements.
        self.arrivals: list[tuple[float, bytes]] = []
        # While set, messages are taken from the socket and not written (nor in ``arrivals``).
        self.dropping = False
        self.dropped = 0

    def start(self) -> SyslogListener:
        self.socket_path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(str(self.socket_path))
        self._socket = listener
        self._thread = threading.Thread(target=self._serve, args=(listener,), daemon=True)
        self._thread.start()
        return self

    def _serve(self, listener: socket.socket) -> None:
        with self.mail_log.open("ab") as log:
            while True:
                try:
                    datagram = listener.recv(65536)
                except OSError:
                    return
                if not datagram:
                    return
                if self.dropping:
                    self.dropped += 1
                    continue
                message = _PRIORITY_AND_STAMP.sub(b"", datagram, count=1).rstrip(b"\n")
                self.arrivals.append((time.monotonic(), message))
                stamp = time.strftime("%b %e %H:%M:%S").encode()
                log.write(stamp + b" " + self.hostname.encode() + b" " + message + b"\n")
                log.flush()

    def stop(self) -> None:
        """Like rsyslog going away: the socket file disappears and senders get errors."""
        if self._socket is None:
            return
        # An empty datagram wakes the reader, which then returns; close() alone would not.
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as waker:
            waker.sendto(b"", str(self.socket_path))
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._socket.close()
        self._socket = None
        self.socket_path.unlink(missing_ok=True)

    def lines(self) -> list[str]:
        if not self.mail_log.exists():
            return []
        return self.mail_log.read_text(encoding="utf-8").splitlines()
