"""Loopback helpers: every server a test starts listens on 127.0.0.1, on a free port."""

from __future__ import annotations

import socket
import time

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def wait_for_banner(port: int, timeout: float = 30.0, host: str = LOOPBACK) -> bytes:
    """Wait until an SMTP server answers with its 220 greeting; returns the greeting."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=2) as connection:
                greeting = connection.recv(512)
                if greeting.startswith(b"220"):
                    connection.sendall(b"QUIT\r\n")
                    return greeting
        except OSError as error:
            last_error = error
        time.sleep(0.1)
    raise TimeoutError(f"no SMTP greeting on {host}:{port} within {timeout}s ({last_error})")
