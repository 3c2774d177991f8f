"""The load a scenario runs under: real SMTP clients, each message to its own recipient.

Every message goes to a recipient of its own (``success+TAG-N@simulator.amazonses.com``, every
tenth a bounce and every tenth a complaint), so what reached the simulator is counted per
message. Each attempt ends one of three ways:

- ``accepted``: the client got 250 at the end of DATA; the relay owes this mail to SES;
- ``refused``: an error before the end of DATA (connection refused, 4xx): the client still has it;
- ``unconfirmed``: the connection failed after the data was sent and before the reply. The relay
  may or may not have it; a real client sends it again, so SMTP itself may deliver it twice.
"""

from __future__ import annotations

import contextlib
import smtplib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from devstack.net import LOOPBACK
from tests.conftest import ALLOWED_SENDER

SIMULATOR = "simulator.amazonses.com"
ACCEPTED, REFUSED, UNCONFIRMED = "accepted", "refused", "unconfirmed"


def mailbox(seq: int) -> str:
    return {3: "bounce", 7: "complaint"}.get(seq % 10, "success")


@dataclass(frozen=True)
class Attempt:
    seq: int
    recipient: str
    outcome: str
    at: float  # time.time() when the outcome was known
    detail: str = ""


class Load:
    """Sends on threads of its own; ``attempts`` grows as answers come in."""

    def __init__(self, port: int, tag: str):
        self.port = port
        self.tag = tag
        self.attempts: list[Attempt] = []
        self._lock = threading.Lock()
        self._next_seq = 0
        self._threads: list[threading.Thread] = []
        self._executor = ThreadPoolExecutor(32, thread_name_prefix="load")

    def recipient(self, seq: int) -> str:
        return f"{mailbox(seq)}+{self.tag}-{seq}@{SIMULATOR}"

    def _take_seq(self) -> int:
        with self._lock:
            self._next_seq += 1
            return self._next_seq

    def _record(self, attempt: Attempt) -> None:
        with self._lock:
            self.attempts.append(attempt)

    def accepted_count(self) -> int:
        with self._lock:
            return sum(1 for attempt in self.attempts if attempt.outcome == ACCEPTED)

    def _message(self, seq: int, recipient: str) -> str:
        return (
            f"From: {ALLOWED_SENDER}\r\nTo: {recipient}\r\nSubject: {self.tag} {seq}\r\n"
            f"Message-ID: <{self.tag}-{seq}@faults.example.com>\r\n\r\nfault load, message {seq}\r\n"
        )

    def _transaction(self, client: smtplib.SMTP, seq: int) -> Attempt:
        """One message on an open session; raises only for a session that is no longer usable."""
        recipient = self.recipient(seq)
        code, reply = client.mail(ALLOWED_SENDER)
        if code == 250:
            code, reply = client.rcpt(recipient)
        if code not in (250, 251):
            client.rset()
            return Attempt(seq, recipient, REFUSED, time.time(), f"{code} {reply.decode(errors='replace')}")
        try:
            code, reply = client.data(self._message(seq, recipient))
        except smtplib.SMTPDataError as error:  # DATA itself refused: nothing was sent
            return Attempt(seq, recipient, REFUSED, time.time(), f"{error.smtp_code}")
        except (OSError, smtplib.SMTPException) as error:
            return Attempt(seq, recipient, UNCONFIRMED, time.time(), type(error).__name__)
        outcome = ACCEPTED if code == 250 else REFUSED
        return Attempt(seq, recipient, outcome, time.time(), f"{code}")

    def _send_one(self, seq: int) -> None:
        recipient = self.recipient(seq)
        try:
            with smtplib.SMTP(LOOPBACK, self.port, timeout=60) as client:
                client.ehlo("app-1.example.com")
                self._record(self._transaction(client, seq))
        except (OSError, smtplib.SMTPException) as error:
            if not any(attempt.seq == seq for attempt in self.attempts):
                self._record(Attempt(seq, recipient, REFUSED, time.time(), type(error).__name__))

    def steady(self, rate: float, duration: float) -> None:
        """Start sending ``rate`` messages a second, one session each, for ``duration`` seconds."""

        def schedule() -> None:
            start = time.monotonic()
            sent = 0
            while sent < rate * duration:
                due = start + sent / rate
                time.sleep(max(0.0, due - time.monotonic()))
                self._executor.submit(self._send_one, self._take_seq())
                sent += 1

        self._start(schedule)

    def burst(self, count: int, sessions: int) -> None:
        """Start sending ``count`` messages as fast as the relay takes them, over ``sessions``
        sessions; a session that breaks is opened again for the next message."""

        def session() -> None:
            client: smtplib.SMTP | None = None
            while (seq := self._take_seq()) <= count:
                try:
                    if client is None:
                        client = smtplib.SMTP(LOOPBACK, self.port, timeout=60)
                        client.ehlo("app-1.example.com")
                    self._record(self._transaction(client, seq))
                except (OSError, smtplib.SMTPException) as error:
                    if not any(attempt.seq == seq for attempt in self.attempts):
                        self._record(
                            Attempt(seq, self.recipient(seq), REFUSED, time.time(), type(error).__name__)
                        )
                    client = None
            if client is not None:
                with contextlib.suppress(OSError, smtplib.SMTPException):
                    client.quit()

        for _ in range(sessions):
            self._start(session)

    def _start(self, target) -> None:
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        self._threads.append(thread)

    def wait(self, timeout: float = 300) -> None:
        """Until every attempt has its answer."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._executor.shutdown(wait=True)

    def by_outcome(self) -> dict[str, list[Attempt]]:
        with self._lock:
            attempts = list(self.attempts)
        return {kind: [a for a in attempts if a.outcome == kind] for kind in (ACCEPTED, REFUSED, UNCONFIRMED)}
