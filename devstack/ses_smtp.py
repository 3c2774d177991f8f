"""A stand-in for Amazon SES's SMTP interface, faithful to what SES says on the wire.

- STARTTLS first: before it, only EHLO/HELO, STARTTLS, NOOP and QUIT are accepted.
- AUTH PLAIN and LOGIN only, only after STARTTLS, checked against one user name and password;
  a wrong one gets SES's "535 Authentication Credentials Invalid".
- MAIL before AUTH gets SES's "530 Authentication required"; MAIL and RCPT get a bare "250 Ok".
- End of DATA answers "250 Ok <SES message id>", the id in SES's format, unless SES would refuse:
  - more than 50 recipients: "554 Transaction failed: Recipient count exceeds 50.";
  - larger than the size limit (40 MB, SES's SMTP limit): "552 Message is too long.";
  - the envelope sender or a From/Sender address is not a verified identity (addresses, or domains
    and their subdomains; ``verified_identities=None``, the default, verifies everything):
    "554 Message rejected: Email address is not verified. The following identities failed the
    check in region US-EAST-1: <addresses>" (in the sandbox, unverified recipients too);
  - a configuration set (``X-SES-CONFIGURATION-SET``) that does not exist, when the stand-in is
    told which exist: "554 Transaction failed: Configuration set <name> does not exist." (the API
    error's text in SES's SMTP wrapping; inferred, not captured);
  - over the maximum send rate (recipients per second, off by default):
    "454 Throttling failure: Maximum sending rate exceeded.";
  - a reply queued with ``fail_next`` (tests force a throttle or an outage deterministically).

Every accepted message is kept, with its envelope, so tests can assert what reached "SES"; refused
ones are kept in ``rejections``. ``on_accept`` is called (on the SMTP thread; keep it short) with each
accepted message: the simulator (ses_simulator.py) publishes its events and delivers it from there.
"""

from __future__ import annotations

import collections
import datetime
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from devstack.event_json import (
    bare_address,
    header_values,
    is_simulator_address,
    new_ses_id,
    parse_headers,
    smtp_session_id,
    split_addresses,
)
from devstack.net import LOOPBACK, free_port
from devstack.tls import TestPki

SES_BANNER_HOST = "email-smtp.amazonaws.com"


class _QuietLoginData(logging.Filter):
    """aiosmtpd warns about its own use of a deprecated attribute on every AUTH: drop that one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_QuietLoginData())
SES_MAX_RECIPIENTS = 50
SES_MAX_MESSAGE_BYTES = 40 * 1024 * 1024
THROTTLED = "454 Throttling failure: Maximum sending rate exceeded."
DAILY_QUOTA_EXCEEDED = "454 Throttling failure: Daily message quota exceeded."
TEMPORARY_FAILURE = "451 Temporary service failure"


def new_ses_message_id(now_ms: int | None = None) -> str:
    """SES's id shape: 0100 + 12 hex digits of epoch milliseconds, a UUID, and -000000."""
    if now_ms is None:
        return new_ses_id("us-east-1")
    return new_ses_id("us-east-1", datetime.datetime.fromtimestamp(now_ms / 1000, datetime.UTC))


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    ses_message_id: str
    tls_version: str | None
    auth_login: str | None
    client_address: str = LOOPBACK
    helo: str = ""
    smtp_session_id: str = ""
    configuration_set: str | None = None
    source_identity: str | None = None
    accepted_at: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))

    @property
    def headers(self) -> list[tuple[str, str]]:
        return parse_headers(self.content)


@dataclass(frozen=True)
class Rejection:
    """A transaction SES refused at the end of DATA, with its reply."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    reply: str


class _SesSmtp(SMTP):
    async def smtp_MAIL(self, arg: str) -> None:
        if not self.session.authenticated:
            await self.push("530 Authentication required")
            return
        await super().smtp_MAIL(arg)


def _domain_chain(domain: str) -> list[str]:
    labels = domain.lower().split(".")
    return [".".join(labels[index:]) for index in range(len(labels) - 1)]


@dataclass
class SesSmtpHandler:
    messages: list[ReceivedMessage] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)
    region: str = "us-east-1"
    verified_identities: frozenset[str] | None = None
    sandbox: bool = False
    max_recipients: int = SES_MAX_RECIPIENTS
    max_message_size: int = SES_MAX_MESSAGE_BYTES
    max_send_rate: float | None = None
    configuration_sets: frozenset[str] | None = None
    default_configuration_set: str | None = None
    on_accept: Callable[[ReceivedMessage], None] | None = None
    forced_replies: collections.deque[str] = field(default_factory=collections.deque)
    _sent: collections.deque[tuple[float, int]] = field(default_factory=collections.deque)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    # SES's EHLO: "250-AUTH PLAIN LOGIN" (in that order) and a closing "250 Ok".
    async def handle_EHLO(self, server, session, envelope: Envelope, hostname: str, responses: list[str]):
        session.host_name = hostname
        ses_order = {"PLAIN": 0, "LOGIN": 1}
        rewritten = []
        for line in responses:
            if line.startswith("250-AUTH "):
                mechanisms = sorted(line.split()[1:], key=lambda name: ses_order.get(name, 2))
                line = "250-AUTH " + " ".join(mechanisms)
            elif line == "250 HELP":
                line = "250 Ok"
            rewritten.append(line)
        return rewritten

    # Bare replies, as SES gives them.
    async def handle_MAIL(self, server, session, envelope: Envelope, address: str, mail_options) -> str:
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 Ok"

    async def handle_RCPT(self, server, session, envelope: Envelope, address: str, rcpt_options) -> str:
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 Ok"

    def identity_for(self, address: str) -> str | None:
        """The verified identity (address, else the domain or a parent domain) covering an address."""
        address = address.strip().lower()
        domain = address.rpartition("@")[2]
        if self.verified_identities is None:
            return domain or None
        if address in self.verified_identities:
            return address
        for candidate in _domain_chain(domain):
            if candidate in self.verified_identities:
                return candidate
        return None

    def _unverified(
        self, sender: str, headers: list[tuple[str, str]], recipients: Iterable[str]
    ) -> list[str]:
        checked = [sender]
        for name in ("From", "Sender"):
            for value in header_values(headers, name):
                checked += [bare_address(part) or part for part in split_addresses(value)]
        if self.sandbox:
            checked += [rcpt for rcpt in recipients if not is_simulator_address(rcpt)]
        failed: list[str] = []
        for address in checked:
            if address and self.identity_for(address) is None and address not in failed:
                failed.append(address)
        return failed

    def _throttled(self, recipients: int) -> bool:
        """A sliding one-second window over recipients (SES's quotas count recipients)."""
        if not self.max_send_rate:
            return False
        now = time.monotonic()
        while self._sent and now - self._sent[0][0] >= 1.0:
            self._sent.popleft()
        if sum(count for _, count in self._sent) + recipients > self.max_send_rate:
            return True
        self._sent.append((now, recipients))
        return False

    def _refusal(self, envelope: Envelope, headers: list[tuple[str, str]]) -> str | None:
        content = envelope.original_content or b""
        with self.lock:
            if self.forced_replies:
                return self.forced_replies.popleft()
        if len(envelope.rcpt_tos) > self.max_recipients:
            return f"554 Transaction failed: Recipient count exceeds {self.max_recipients}."
        if len(content) > self.max_message_size:
            return "552 Message is too long."
        failed = self._unverified(envelope.mail_from, headers, envelope.rcpt_tos)
        if failed:
            return (
                "554 Message rejected: Email address is not verified. The following identities failed "
                f"the check in region {self.region.upper()}: {', '.join(failed)}"
            )
        configuration_set = self._configuration_set(headers)
        if (
            configuration_set
            and self.configuration_sets is not None
            and configuration_set not in self.configuration_sets
        ):
            return f"554 Transaction failed: Configuration set {configuration_set} does not exist."
        with self.lock:
            if self._throttled(len(envelope.rcpt_tos)):
                return THROTTLED
        return None

    def _configuration_set(self, headers: list[tuple[str, str]]) -> str | None:
        named = header_values(headers, "X-SES-CONFIGURATION-SET")
        return named[0].strip() if named else self.default_configuration_set

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        headers = parse_headers(envelope.original_content or b"")
        refusal = self._refusal(envelope, headers)
        if refusal is not None:
            with self.arrived:
                self.rejections.append(Rejection(envelope.mail_from, tuple(envelope.rcpt_tos), refusal))
                self.arrived.notify_all()
            return refusal

        accepted_at = datetime.datetime.now(datetime.UTC)
        message_id = new_ses_id(self.region, accepted_at)
        tls = server.transport.get_extra_info("ssl_object") if server.transport else None
        if not hasattr(session, "ses_smtp_session_id"):
            session.ses_smtp_session_id = smtp_session_id()
        received = ReceivedMessage(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            content=envelope.original_content or b"",
            ses_message_id=message_id,
            tls_version=tls.version() if tls else None,
            auth_login=session.auth_data.login.decode()
            if isinstance(session.auth_data, LoginPassword)
            else None,
            client_address=session.peer[0] if session.peer else LOOPBACK,
            helo=session.host_name or "",
            smtp_session_id=session.ses_smtp_session_id,
            configuration_set=self._configuration_set(headers),
            source_identity=self.identity_for(envelope.mail_from),
            accepted_at=accepted_at,
        )
        with self.arrived:
            self.messages.append(received)
            self.arrived.notify_all()
        if self.on_accept is not None:
            self.on_accept(received)
        return f"250 Ok {message_id}"


class SesSmtpStandIn:
    """Run with ``with SesSmtpStandIn(...) as ses:``; ``ses.port`` is where it listens.

    The keyword options make it stricter, as a real SES account is; with none it accepts every
    sender, as the relay's own tests expect.
    """

    def __init__(
        self,
        pki: TestPki,
        username: str,
        password: str,
        host: str = LOOPBACK,
        port: int | None = None,
        *,
        region: str = "us-east-1",
        verified_identities: Iterable[str] | None = None,
        sandbox: bool = False,
        max_recipients: int = SES_MAX_RECIPIENTS,
        max_message_size: int = SES_MAX_MESSAGE_BYTES,
        max_send_rate: float | None = None,
        configuration_sets: Iterable[str] | None = None,
        default_configuration_set: str | None = None,
        on_accept: Callable[[ReceivedMessage], None] | None = None,
    ):
        self.username = username
        self.password = password
        self.handler = SesSmtpHandler(
            region=region,
            verified_identities=None
            if verified_identities is None
            else frozenset(identity.strip().lower() for identity in verified_identities),
            sandbox=sandbox,
            max_recipients=max_recipients,
            max_message_size=max_message_size,
            max_send_rate=max_send_rate,
            configuration_sets=None if configuration_sets is None else frozenset(configuration_sets),
            default_configuration_set=default_configuration_set,
            on_accept=on_accept,
        )
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
            # SES no longer advertises SIZE; it answers an oversized message at the end of DATA.
            data_size_limit=None,
        )

    def __enter__(self) -> SesSmtpStandIn:
        return self.start()

    def start(self) -> SesSmtpStandIn:
        controller = Controller(self.handler, hostname=self._host, port=self._port, ready_timeout=10)
        controller.factory = self._factory  # type: ignore[method-assign]
        controller.start()
        self._controller = controller
        self.port = controller.server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def fail_next(self, reply: str = THROTTLED, count: int = 1) -> None:
        """Answer the next ``count`` messages with ``reply`` at the end of DATA (e.g. a throttle)."""
        with self.handler.lock:
            self.handler.forced_replies.extend([reply] * count)

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def rejections(self) -> list[Rejection]:
        with self.handler.lock:
            return list(self.handler.rejections)

    def wait_for_messages(self, count: int, timeout: float = 30.0) -> list[ReceivedMessage]:
        return self._wait(lambda: len(self.handler.messages) >= count, timeout, lambda: self.handler.messages)

    def wait_for_rejections(self, count: int, timeout: float = 30.0) -> list[Rejection]:
        return self._wait(
            lambda: len(self.handler.rejections) >= count, timeout, lambda: self.handler.rejections
        )

    def _wait(self, done, timeout: float, result):
        deadline = time.monotonic() + timeout
        with self.handler.arrived:
            while not done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.handler.arrived.wait(remaining)
            return list(result())
