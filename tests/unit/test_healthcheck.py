"""The health check's syslog probe, on real Unix datagram sockets."""

from __future__ import annotations

import socket

from entrypoint.healthcheck import syslog_takes_lines


def test_a_bound_syslog_socket_takes_lines(tmp_path):
    path = tmp_path / "log"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as rsyslog:
        rsyslog.bind(str(path))
        assert syslog_takes_lines(path)


def test_a_removed_syslog_socket_does_not(tmp_path):
    path = tmp_path / "log"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as rsyslog:
        rsyslog.bind(str(path))
        path.unlink()  # rsyslog still runs, but nothing can reach it any more
        assert not syslog_takes_lines(path)


def test_a_socket_nobody_reads_does_not(tmp_path):
    path = tmp_path / "log"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as rsyslog:
        rsyslog.bind(str(path))
    assert path.exists()  # left behind by a reader that is gone
    assert not syslog_takes_lines(path)
