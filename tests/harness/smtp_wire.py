"""Raw SMTP over a socket, for tests that must send what smtplib never would: bare line ends,
BDAT, forged headers, one byte at a time."""

from __future__ import annotations

import socket

from devstack.net import LOOPBACK


def read_reply(connection: socket.socket) -> bytes:
    """Read one complete (possibly multi-line) SMTP reply; b"" once the server has closed."""
    data = b""
    while True:
        chunk = connection.recv(4096)
        if not chunk:
            return data
        data += chunk
        complete = data.split(b"\r\n")[:-1]
        if complete and len(complete[-1]) >= 4 and complete[-1][3:4] == b" ":
            return data


def command(connection: socket.socket, line: bytes) -> bytes:
    """Send one command (CRLF added) and return the server's reply."""
    connection.sendall(line + b"\r\n")
    return read_reply(connection)


def connect(port: int, source: str = LOOPBACK, timeout: float = 30) -> tuple[socket.socket, bytes]:
    """A connection from the source address given (any of 127.0.0.0/8) and the server's greeting."""
    connection = socket.create_connection((LOOPBACK, port), timeout=timeout, source_address=(source, 0))
    return connection, read_reply(connection)
