"""A stand-in for Amazon SES's SMTP interface, faithful to what SES says on the wire.

- STARTTLS first: before it, only EHLO/HELO, STARTTLS, NOOP and QUIT are accepted.
- AUTH PLAIN and LOGIN only, only after STARTTLS, checked against one user name and password;
  a wrong one gets SES's "535 Authentication Credentials Invalid".
- MAIL before AUTH gets SES's "530 Authentication required".
- End of DATA answers "250 Ok <SES message id>", the id in SES's format.

Every accepted message is kept, with its envelope, so tests can assert what reached "SES".
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.harness.net import LOOPBACK, free_port
from tests.harness.tls import TestPki

SES_BANNER_HOST = "email-smtp.amazonaws.com"


def new_ses_message_id(now_ms: int | None = None) -> str:
    """SES's id shape: 0100 + 12 hex digits of epoch milliseconds, a UUID, and -000000."""
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    return f"0100{millis:012x}-{uuid.uuid4()}-000000"


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    ses_message_id: str
    tls_version: str | None
    auth_login: str | None


class _SesSmtp(SMTP):
    async def smtp_MAIL(self, arg: str) -> None:
        if not self.session.authenticated:
            await self.push("530 Authentication required")
            return
        await super().smtp_MAIL(arg)


@dataclass
class SesSmtpHandler:
    messages: list[ReceivedMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message_id = new_ses_message_id()
        tls = server.transport.get_extra_info("ssl_object") if server.transport else None
        received = ReceivedMessage(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            content=envelope.original_content or b"",
            ses_message_id=message_id,
            tls_version=tls.version() if tls else None,
            auth_login=session.auth_data.login.decode()
            if isinstance(session.auth_data, LoginPassword)
            else None,
        )
        with self.arrived:
            self.messages.append(received)
            self.arrived.notify_all()
        return f"250 Ok {message_id}"


class SesSmtpStandIn:
    """Run with ``with SesSmtpStandIn(...) as ses:``; ``ses.port`` is where it listens."""

    def __init__(
        self, pki: TestPki, username: str, password: str, host: str = LOOPBACK, port: int | None = None
    ):
        self.username = username
        self.password = password
        self.handler = SesSmtpHandler()
        self._pki = pki
        self._host = host
        self._port = port or free_port()
        self._controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        valid = (
            mechanism in ("PLAIN", "LOGIN")
            and isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        if valid:
            return AuthResult(success=True, auth_data=auth_data, message="235 Authentication successful.")
        return AuthResult(success=False, handled=False, message="535 Authentication Credentials Invalid")

    def _factory(self) -> SMTP:
        return _SesSmtp(
            self.handler,
            hostname=SES_BANNER_HOST,
            ident="ESMTP SimpleEmailService-d-STANDIN",
            tls_context=self._pki.server_context(),
            require_starttls=True,
            auth_require_tls=True,
            authenticator=self._authenticate,
            auth_exclude_mechanism=["CRAM-MD5", "XOAUTH2"],
        )

    def __enter__(self) -> SesSmtpStandIn:
        controller = Controller(self.handler, hostname=self._host, port=self._port, ready_timeout=10)
        controller.factory = self._factory  # type: ignore[method-assign]
        controller.start()
        self._controller = controller
        self.port = controller.server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._controller is not None:
            self._controller.stop()

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self.handler.lock:
            return list(self.handler.messages)

    def wait_for_messages(self, count: int, timeout: float = 30.0) -> list[ReceivedMessage]:
        deadline = time.monotonic() + timeout
        with self.handler.arrived:
            while len(self.handler.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.handler.arrived.wait(remaining)
            return list(self.handler.messages)
