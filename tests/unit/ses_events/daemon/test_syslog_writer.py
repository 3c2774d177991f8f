"""SyslogWriter on a real Unix datagram socket: the datagram, and what happens when syslog goes away."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ses_events.daemon.syslog_writer import SEVERITY_ERR, SyslogUnavailable, SyslogWriter
from tests.unit.ses_events.daemon.syslog_capture import SyslogCapture


@pytest.fixture
def writer(syslog: SyslogCapture) -> Iterator[SyslogWriter]:
    opened = SyslogWriter(syslog.socket_path)
    yield opened
    opened.close()


def test_each_line_is_one_datagram_in_rfc3164_shape_with_the_mail_facility(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind(str(tmp_path / "dev-log"))
        receiver.settimeout(10)
        writer = SyslogWriter(str(tmp_path / "dev-log"))
        writer.write(["first line", "second: with ünïcode"])
        writer.write(["a poison report"], SEVERITY_ERR)
        datagrams = [receiver.recv(4096) for _ in range(3)]
        writer.close()

    stamp = r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d"
    tag = rf"postfix/ses-events\[{os.getpid()}\]"
    assert re.fullmatch(rf"<22>{stamp} {tag}: first line".encode(), datagrams[0])  # mail.info
    assert re.fullmatch(rf"<22>{stamp} {tag}: second: with ünïcode".encode(), datagrams[1])
    assert re.fullmatch(rf"<19>{stamp} {tag}: a poison report".encode(), datagrams[2])  # mail.err


def test_lines_arrive_in_order(syslog: SyslogCapture, writer: SyslogWriter) -> None:
    lines = [f"line {n}" for n in range(100)]
    writer.write(lines)

    assert syslog.settled(writer) == lines


def test_the_writer_reconnects_after_syslog_restarts(syslog: SyslogCapture, writer: SyslogWriter) -> None:
    """rsyslog restarted: a new socket at the same path; the writer's connection is to the old one."""
    writer.write(["before the restart"])
    assert syslog.settled(writer) == ["before the restart"]

    syslog.listener.stop()
    syslog.listener.start()
    writer.write(["after the restart"])

    assert syslog.settled(writer) == ["before the restart", "after the restart"]


def test_while_syslog_is_gone_a_write_raises_and_sends_nothing_after_the_failed_line(
    syslog: SyslogCapture, writer: SyslogWriter
) -> None:
    writer.write(["before"])
    syslog.listener.stop()

    with pytest.raises(SyslogUnavailable, match=re.escape(syslog.socket_path)):
        writer.write(["lost 1", "lost 2"])
    assert writer.is_available() is False

    syslog.listener.start()
    assert writer.is_available() is True
    writer.write(["after"])
    assert syslog.settled(writer) == ["before", "after"]


def test_a_writer_started_while_syslog_is_gone_connects_once_it_is_back(tmp_path: Path) -> None:
    path = tmp_path / "log.sock"
    writer = SyslogWriter(str(path))
    assert writer.is_available() is False
    with pytest.raises(SyslogUnavailable, match="cannot connect to"):
        writer.write(["too early"])

    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind(str(path))
        receiver.settimeout(10)
        writer.write(["in time"])
        assert receiver.recv(4096).endswith(b"]: in time")
    writer.close()


def test_a_socket_file_that_no_longer_answers_is_unavailable(tmp_path: Path) -> None:
    """rsyslog killed without removing /dev/log: the file is there, nobody reads it."""
    path = tmp_path / "log.sock"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(path))
    writer = SyslogWriter(str(path))
    writer.write(["taken"])
    receiver.close()

    assert path.exists()
    assert writer.is_available() is False
    with pytest.raises(SyslogUnavailable, match="cannot write to"):
        writer.write(["not taken"])
    writer.close()
