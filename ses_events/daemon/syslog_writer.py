"""Write lines to the local syslog socket, and *say so* when they could not be written.

Python's ``syslog`` module and ``logging.handlers.SysLogHandler`` drop a line silently when
rsyslog is not listening. The daemon must not delete an SQS message whose lines were dropped,
so this writer sends each line as one datagram on the Unix socket itself and raises
``SyslogUnavailable`` on any failure.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable

FACILITY_MAIL = 2
SEVERITY_ERR = 3
SEVERITY_INFO = 6
DEFAULT_TAG = "postfix/ses-events"


class SyslogUnavailable(OSError):
    """The syslog socket did not take a line; nothing after it was sent."""


class SyslogWriter:
    def __init__(self, socket_path: str = "/dev/log", tag: str = DEFAULT_TAG):
        self.socket_path = socket_path
        self.tag = tag
        self._socket: socket.socket | None = None

    def _datagram(self, line: str, severity: int) -> bytes:
        priority = FACILITY_MAIL * 8 + severity
        # RFC 3164 shape, as glibc's syslog(3) sends it: rsyslog's imuxsock parses the tag and pid.
        stamp = time.strftime("%b %e %H:%M:%S")  # %e: the space-padded day of RFC 3164
        return f"<{priority}>{stamp} {self.tag}[{os.getpid()}]: {line}".encode()

    def _connected(self) -> socket.socket:
        if self._socket is None:
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                connection.connect(self.socket_path)
            except OSError as error:
                connection.close()
                raise SyslogUnavailable(f"cannot connect to {self.socket_path}: {error.strerror}") from None
            self._socket = connection
        return self._socket

    def write(self, lines: Iterable[str], severity: int = SEVERITY_INFO) -> None:
        """Send every line, in order; raises SyslogUnavailable at the first one that fails."""
        for line in lines:
            datagram = self._datagram(line, severity)
            try:
                # A blocking send on a Unix datagram socket waits while the reader's queue is
                # full rather than dropping: back-pressure, not loss.
                self._connected().send(datagram)
            except SyslogUnavailable:
                raise
            except OSError as error:
                # rsyslog restarted (new socket) or is gone: reconnect once, then give up.
                self.close()
                try:
                    self._connected().send(datagram)
                except OSError:
                    self.close()
                    raise SyslogUnavailable(f"cannot write to {self.socket_path}: {error.strerror}") from None

    def is_available(self) -> bool:
        """Whether syslog would take a line now: checked before receiving, so that events are not
        received (and their receive count spent towards the dead-letter queue) while it is down."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
            try:
                probe.connect(self.socket_path)
            except OSError:
                return False
        return True

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
