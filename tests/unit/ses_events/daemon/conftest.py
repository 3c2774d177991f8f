"""A real syslog socket for the daemon's tests: SyslogListener in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.syslog_listener import SyslogListener
from tests.unit.ses_events.daemon.syslog_capture import SyslogCapture


@pytest.fixture
def syslog(tmp_path: Path) -> Iterator[SyslogCapture]:
    listener = SyslogListener(tmp_path / "log.sock", tmp_path / "mail.log").start()
    yield SyslogCapture(listener)
    listener.stop()
