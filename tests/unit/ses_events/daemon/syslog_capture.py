"""What reached a real syslog socket (SyslogListener), read back without sleeping."""

from __future__ import annotations

import itertools

from ses_events.daemon.syslog_writer import SyslogWriter
from tests.harness.syslog_listener import SyslogListener
from tests.harness.waiting import wait_until

_SENTINELS = itertools.count()


class SyslogCapture:
    """A SyslogListener, read as the messages a SyslogWriter sent (``TAG[PID]: `` taken off)."""

    def __init__(self, listener: SyslogListener):
        self.listener = listener
        self.socket_path = str(listener.socket_path)
        self.mail_log = listener.mail_log

    def _arrived(self) -> list[str]:
        return [message.decode().partition("]: ")[2] for _, message in self.listener.arrivals]

    def messages(self) -> list[str]:
        """Every message that has arrived so far, sentinels left out."""
        return [message for message in self._arrived() if not message.startswith("sentinel-")]

    def settled(self, writer: SyslogWriter | None = None) -> list[str]:
        """Every message written before now, once it has arrived.

        A sentinel goes out after them; a Unix datagram socket keeps order, so once the sentinel is
        in, whatever was written before it is in too, and what is missing was never written.
        """
        sentinel = f"sentinel-{next(_SENTINELS)}"
        if writer is None:
            own = SyslogWriter(self.socket_path)
            own.write([sentinel])
            own.close()
        else:
            writer.write([sentinel])
        wait_until(lambda: sentinel in self._arrived(), timeout=10, what=f"the {sentinel}")
        return self.messages()
