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
  - over the daily quota (recipients per rolling 24 hours, unlimited by default; mail to the
    mailbox simulator does not count, reference §3.6 and §5):
    "454 Throttling failure: Daily message quota exceeded.";
  - over the maximum send rate (recipients per second, off by default; the mailbox simulator
    counts): "454 Throttling failure: Maximum sending rate exceeded.";
  - a reply queued with ``fail_next`` (tests force a throttle or an outage deterministically).
- After ``max_messages_per_session`` messages (350 by default) in one connection, the next MAIL gets
  "421 Connection closed by server. Maximum message count per session reached." and the
  connection is closed.
- A connection that sends nothing for ``idle_timeout`` seconds (10 by default) gets
  "451 4.4.2 Timeout waiting for data from client." and is closed.
- Every byte the stand-in sends (greeting, replies, its TLS handshake) leaves ``latency`` seconds
  late, as over a WAN: each exchange costs at least one ``latency``.
- ``set_outage`` turns SES away for fault tests: refuse connections, drop them after accepting,
  greet with a 421, or answer every message with a 454, until ``set_outage(None)``.
- ``counters()``: TCP connections, sessions, TLS handshakes, AUTHs, messages per session, accepted
  recipients and every 4xx reply by its text.

Every accepted message is kept, with its envelope, so tests can assert what reached "SES"; refused
ones are kept in ``rejections``. ``on_accept`` is called (on the SMTP thread; keep it short) with each
accepted message: the simulator (ses_simulator.py) publishes its events and delivers it from there.

Where each text comes from (reference §3.3, §3.5, §3.6a): the 454 throttles and the 421 per-session
close are observed captures (the daily-quota one also the SES troubleshooting table, without its
final period); the 451 idle timeout is the observed capture of the documented "451 Timeout waiting for
data from client". Which command the per-session 421 answers is not in the reference: it is given
here to the MAIL that would start message 351, before anything of that message is sent.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime
import enum
import logging
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
log = logging.getLogger("ses-smtp")

SES_MAX_RECIPIENTS = 50
SES_MAX_MESSAGE_BYTES = 40 * 1024 * 1024
# Reference §3.5-3.6a: SES closed sessions after 350 messages (re:Post) and idle ones after ~10 s.
SES_MAX_MESSAGES_PER_SESSION = 350
SES_IDLE_TIMEOUT = 10.0
QUOTA_WINDOW = 24 * 3600.0

THROTTLED = "454 Throttling failure: Maximum sending rate exceeded."
DAILY_QUOTA_EXCEEDED = "454 Throttling failure: Daily message quota exceeded."
TEMPORARY_FAILURE = "451 Temporary service failure"
SESSION_LIMIT_REACHED = "421 Connection closed by server. Maximum message count per session reached."
IDLE_TIMEOUT = "451 4.4.2 Timeout waiting for data from client."
# The reference has no text SES greets with during an outage; this is the only 421 greeting SES
# documents (too many concurrent connections), so the 421 outage uses it unless told otherwise.
TOO_MANY_CONNECTIONS = "421 Too many concurrent SMTP connections"


class Outage(enum.Enum):
    """How ``set_outage`` turns SES away (``None`` ends it)."""

    REFUSE = "refuse"  # nothing listens: connections are refused; open ones are cut
    DROP = "drop"  # connections are accepted and closed at once, before any greeting
    GREETING_421 = "421"  # every new connection is greeted with a 421 and closed
    THROTTLE_454 = "454"  # every message is answered with a 454 at the end of DATA


_OUTAGE_REPLIES = {Outage.GREETING_421: TOO_MANY_CONNECTIONS, Outage.THROTTLE_454: THROTTLED}


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


@dataclass(frozen=True)
class SmtpCounters:
    """What the stand-in saw, for tests and benchmarks (a snapshot: ``SesSmtpStandIn.counters()``).

    ``messages_per_session`` has one entry per greeted session, oldest first: the messages it
    carried to the end of DATA, whatever the answer. ``replies_4xx`` counts every 4xx reply sent
    (throttles, per-session closes, idle timeouts, outage greetings, ``fail_next`` ones) by text.
    """

    connections: int = 0  # TCP connections accepted, those an outage turned away included
    sessions: int = 0  # connections greeted with 220
    tls_handshakes: int = 0  # completed STARTTLS handshakes
    tls_resumptions: int = 0  # ... of which resumed an earlier TLS session
    auths: int = 0  # successful AUTHs
    messages_per_session: tuple[int, ...] = ()
    recipients_accepted: int = 0
    replies_4xx: Mapping[str, int] = field(default_factory=dict)

    @property
    def max_messages_in_a_session(self) -> int:
        return max(self.messages_per_session, default=0)

    @property
    def replies_454(self) -> dict[str, int]:
        return {text: n for text, n in self.replies_4xx.items() if text.startswith("454")}

    @property
    def replies_421(self) -> int:
        return sum(n for text, n in self.replies_4xx.items() if text.startswith("421"))

    @property
    def idle_timeouts(self) -> int:
        return self.replies_4xx.get(IDLE_TIMEOUT, 0)


class _DelayedWrites:
    """Hold every write to a socket transport for ``delay()`` seconds, in order: a WAN's latency.

    Installed on the raw TCP transport, so the greeting, every reply and the server's side of the
    TLS handshake are all late; a close waits for what is still held.
    """

    def __init__(
        self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop, delay: Callable[[], float]
    ):
        self._transport = transport
        self._loop = loop
        self._delay = delay
        self._write = transport.write
        self._close = transport.close
        self._held: collections.deque[tuple[float, bytes]] = collections.deque()
        self._timer: asyncio.TimerHandle | None = None
        self._closing = False
        transport.write = self.write  # type: ignore[method-assign]
        transport.writelines = self.writelines  # type: ignore[method-assign]
        transport.close = self.close  # type: ignore[method-assign]

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing:
            return
        delay = self._delay()
        if delay <= 0 and not self._held:
            self._write(data)
            return
        self._held.append((self._loop.time() + delay, bytes(data)))
        if self._timer is None:
            self._timer = self._loop.call_at(self._held[0][0], self._release)

    def writelines(self, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        self.write(b"".join(chunks))

    def _release(self) -> None:
        self._timer = None
        now = self._loop.time()
        while self._held and self._held[0][0] <= now:
            data = self._held.popleft()[1]
            if not self._transport.is_closing():
                self._write(data)
        if self._held:
            self._timer = self._loop.call_at(self._held[0][0], self._release)
        elif self._closing:
            self._close()

    def close(self) -> None:
        self._closing = True
        if not self._held:
            self._close()


class _SesSmtp(SMTP):
    """One SMTP connection: SES's session limits on top of aiosmtpd's protocol."""

    event_handler: SesSmtpHandler

    def __init__(self, handler: SesSmtpHandler, **options: Any):
        super().__init__(handler, **options)
        self.ses_messages = 0  # messages this connection carried to the end of DATA
        self.ses_session: list[int] | None = None  # its entry in the counters: [messages]
        self.ses_close_after_reply = False

    @property
    def raw_transport(self) -> asyncio.BaseTransport | None:
        return self._original_transport or self.transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        starttls_done = self._original_transport is not None
        if not starttls_done and isinstance(transport, asyncio.Transport):
            _DelayedWrites(transport, self.loop, lambda: self.event_handler.latency)
        super().connection_made(transport)
        if starttls_done:
            ssl_object = transport.get_extra_info("ssl_object")
            self.event_handler.tls_handshake_done(bool(ssl_object and ssl_object.session_reused))
        else:
            self.event_handler.connection_opened()

    def data_received(self, data: bytes) -> None:
        # SES times out a connection the client sends nothing on, whatever it is in the middle of.
        if self.transport is not None:
            self._reset_timeout()
        super().data_received(data)

    def _reset_timeout(self, duration: float | None = None) -> None:
        super()._reset_timeout(duration or self.event_handler.idle_timeout or 365 * 24 * 3600.0)

    def _timeout_cb(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        log.info("%r idle: %s", self.session.peer if self.session else None, IDLE_TIMEOUT)
        self.event_handler.replied(IDLE_TIMEOUT)
        self.transport.write(IDLE_TIMEOUT.encode() + b"\r\n")  # type: ignore[attr-defined]
        self.transport.close()

    async def _handle_client(self) -> None:
        outage, reply = self.event_handler.outage_now()
        if outage is Outage.DROP or outage is Outage.REFUSE:
            self.transport.close()  # type: ignore[union-attr]
            return
        if outage is Outage.GREETING_421:
            await self._close_with(reply)
            return
        self.ses_session = self.event_handler.session_started()
        await super()._handle_client()

    async def _close_with(self, reply: str) -> None:
        self.event_handler.replied(reply)
        await self.push(reply)
        if self.transport is not None:
            self.transport.close()

    async def smtp_AUTH(self, arg: str) -> None:
        authenticated = self.session is not None and self.session.authenticated
        await super().smtp_AUTH(arg)
        if not authenticated and self.session is not None and self.session.authenticated:
            self.event_handler.authenticated()

    async def smtp_MAIL(self, arg: str) -> None:
        if self.session is None or not self.session.authenticated:
            await self.push("530 Authentication required")
            return
        limit = self.event_handler.max_messages_per_session
        if limit and self.ses_messages >= limit:
            await self._close_with(SESSION_LIMIT_REACHED)
            return
        await super().smtp_MAIL(arg)

    async def smtp_DATA(self, arg: str) -> None:
        await super().smtp_DATA(arg)
        if self.ses_close_after_reply and self.transport is not None:
            self.transport.close()

    def ses_abort(self) -> None:
        """Cut the connection (an outage): no reply, no TLS close_notify."""
        transport = self.raw_transport
        if transport is not None and not transport.is_closing():
            transport.abort()  # type: ignore[attr-defined]


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
    daily_quota: int | None = None
    max_messages_per_session: int | None = SES_MAX_MESSAGES_PER_SESSION
    idle_timeout: float | None = SES_IDLE_TIMEOUT
    latency: float = 0.0
    configuration_sets: frozenset[str] | None = None
    default_configuration_set: str | None = None
    on_accept: Callable[[ReceivedMessage], None] | None = None
    forced_replies: collections.deque[str] = field(default_factory=collections.deque)
    outage: tuple[Outage, str] | None = None
    clock: Callable[[], float] = time.monotonic
    _sent: collections.deque[tuple[float, int]] = field(default_factory=collections.deque)
    _quota_sent: collections.deque[tuple[float, int]] = field(default_factory=collections.deque)
    _quota_total: int = 0
    _counters: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)
        self.reset_counters()

    # --- counters (called on the SMTP thread; read through counters()) -----------------------

    def reset_counters(self) -> None:
        with self.lock:
            self._counters = {
                "connections": 0,
                "sessions": 0,
                "tls_handshakes": 0,
                "tls_resumptions": 0,
                "auths": 0,
                "messages_per_session": [],
                "recipients_accepted": 0,
                "replies_4xx": collections.Counter(),
            }

    def counters(self) -> SmtpCounters:
        with self.lock:
            counts = dict(self._counters)
            counts["messages_per_session"] = tuple(cell[0] for cell in counts["messages_per_session"])
            counts["replies_4xx"] = dict(counts["replies_4xx"])
        return SmtpCounters(**counts)

    def connection_opened(self) -> None:
        with self.lock:
            self._counters["connections"] += 1

    def session_started(self) -> list[int]:
        """A new session's entry in ``messages_per_session`` (gone from it after reset_counters())."""
        cell = [0]
        with self.lock:
            self._counters["sessions"] += 1
            self._counters["messages_per_session"].append(cell)
        return cell

    def tls_handshake_done(self, resumed: bool) -> None:
        with self.lock:
            self._counters["tls_handshakes"] += 1
            self._counters["tls_resumptions"] += resumed

    def authenticated(self) -> None:
        with self.lock:
            self._counters["auths"] += 1

    def replied(self, reply: str) -> None:
        if reply.startswith("4"):
            with self.lock:
                self._counters["replies_4xx"][reply] += 1

    def _message_answered(self, server: _SesSmtp, reply: str | None, recipients: int) -> None:
        server.ses_messages += 1
        with self.lock:
            if server.ses_session is not None:
                server.ses_session[0] += 1
            if reply is None:
                self._counters["recipients_accepted"] += recipients
            elif reply.startswith("4"):
                self._counters["replies_4xx"][reply] += 1

    # --- outages and quotas -------------------------------------------------------------------

    def outage_now(self) -> tuple[Outage | None, str]:
        with self.lock:
            return self.outage or (None, "")

    def sent_last_24_hours(self) -> int:
        """Recipients counted against the daily quota over the last 24 hours."""
        with self.lock:
            return self._quota_sent_locked()

    def _quota_sent_locked(self) -> int:
        now = self.clock()
        while self._quota_sent and now - self._quota_sent[0][0] >= QUOTA_WINDOW:
            self._quota_total -= self._quota_sent.popleft()[1]
        return self._quota_total

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
        now = self.clock()
        while self._sent and now - self._sent[0][0] >= 1.0:
            self._sent.popleft()
        if sum(count for _, count in self._sent) + recipients > self.max_send_rate:
            return True
        self._sent.append((now, recipients))
        return False

    def _over_daily_quota(self, counted: int) -> bool:
        """Recipients per rolling 24 hours; the mailbox simulator's do not count (reference §5)."""
        if self.daily_quota is None or counted == 0:
            return False
        return self._quota_sent_locked() + counted > self.daily_quota

    def _refusal(self, envelope: Envelope, headers: list[tuple[str, str]]) -> str | None:
        content = envelope.original_content or b""
        with self.lock:
            if self.forced_replies:
                return self.forced_replies.popleft()
            if self.outage is not None and self.outage[0] is Outage.THROTTLE_454:
                return self.outage[1]
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
        counted = sum(1 for rcpt in envelope.rcpt_tos if not is_simulator_address(rcpt))
        with self.lock:
            if self._over_daily_quota(counted):
                return DAILY_QUOTA_EXCEEDED
            if self._throttled(len(envelope.rcpt_tos)):
                return THROTTLED
            if counted:
                self._quota_sent.append((self.clock(), counted))
                self._quota_total += counted
        return None

    def _configuration_set(self, headers: list[tuple[str, str]]) -> str | None:
        named = header_values(headers, "X-SES-CONFIGURATION-SET")
        return named[0].strip() if named else self.default_configuration_set

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        headers = parse_headers(envelope.original_content or b"")
        refusal = self._refusal(envelope, headers)
        if isinstance(server, _SesSmtp):
            self._message_answered(server, refusal, len(envelope.rcpt_tos))
            # SES closes the connection after a 421 (a fail_next("421 ...") does too).
            server.ses_close_after_reply = refusal is not None and refusal.startswith("421")
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


class _Listener:
    """An asyncio server on its own thread that can stop listening and listen again on its port.

    (aiosmtpd's Controller cannot, and it opens a connection of its own at start, which would
    show in the counters.)
    """

    def __init__(self, factory: Callable[[asyncio.AbstractEventLoop], _SesSmtp], host: str, port: int):
        self._factory = factory
        self._host = host
        self.port = port
        self._protocols: weakref.WeakSet[_SesSmtp] = weakref.WeakSet()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    def _protocol(self) -> _SesSmtp:
        protocol = self._factory(asyncio.get_running_loop())
        self._protocols.add(protocol)
        return protocol

    def _run(self, coroutine_function: Callable[[], Any]) -> Any:
        if self._loop is None:
            raise RuntimeError("the SES SMTP stand-in is not running")
        return asyncio.run_coroutine_threadsafe(coroutine_function(), self._loop).result(30)

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ses-smtp", daemon=True)
        self._thread.start()
        try:
            self.listen()
        except BaseException:
            self.stop()
            raise

    @property
    def listening(self) -> bool:
        return self._server is not None

    def listen(self) -> None:
        if self._server is not None:
            return

        async def listen() -> asyncio.Server:
            return await asyncio.get_running_loop().create_server(
                self._protocol, self._host, self.port, reuse_address=True
            )

        self._server = self._run(listen)
        self.port = self._server.sockets[0].getsockname()[1]

    def refuse(self) -> None:
        """Close the listening socket and cut every open connection."""

        async def refuse() -> None:
            if self._server is not None:
                self._server.close()
            for protocol in list(self._protocols):
                protocol.ses_abort()

        self._run(refuse)
        self._server = None

    def stop(self) -> None:
        if self._loop is None:
            return
        loop, thread = self._loop, self._thread

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for protocol in list(self._protocols):
                protocol.ses_abort()
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self._run(shutdown)
        finally:
            self._server = None
            loop.call_soon_threadsafe(loop.stop)
            if thread is not None:
                thread.join(30)
            loop.close()
            self._loop = None
            self._thread = None


class SesSmtpStandIn:
    """Run with ``with SesSmtpStandIn(...) as ses:``; ``ses.port`` is where it listens.

    The keyword options make it stricter, as a real SES account is; with none it accepts every
    sender, as the relay's own tests expect. SES's own session limits (350 messages, 10 s idle) are
    on by default; ``None`` lifts them.
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
        daily_quota: int | None = None,
        max_messages_per_session: int | None = SES_MAX_MESSAGES_PER_SESSION,
        idle_timeout: float | None = SES_IDLE_TIMEOUT,
        latency: float = 0.0,
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
            daily_quota=daily_quota,
            max_messages_per_session=max_messages_per_session,
            idle_timeout=idle_timeout,
            latency=latency,
            configuration_sets=None if configuration_sets is None else frozenset(configuration_sets),
            default_configuration_set=default_configuration_set,
            on_accept=on_accept,
        )
        self._pki = pki
        self._host = host
        self._port = port or free_port()
        self._listener: _Listener | None = None
        self._tls_context: ssl.SSLContext | None = None

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

    def _factory(self, loop: asyncio.AbstractEventLoop) -> _SesSmtp:
        return _SesSmtp(
            self.handler,
            hostname=SES_BANNER_HOST,
            ident="ESMTP SimpleEmailService-d-STANDIN",
            tls_context=self._tls_context,
            require_starttls=True,
            auth_require_tls=True,
            authenticator=self._authenticate,
            auth_exclude_mechanism=["CRAM-MD5", "XOAUTH2"],
            # SES no longer advertises SIZE; it answers an oversized message at the end of DATA.
            data_size_limit=None,
            loop=loop,
        )

    def __enter__(self) -> SesSmtpStandIn:
        return self.start()

    def start(self) -> SesSmtpStandIn:
        # One context for every connection, so that a client can resume a TLS session (OpenSSL's
        # session tickets are keyed per context); whether SES resumes them, the reference does not say.
        self._tls_context = self._pki.server_context()
        listener = _Listener(self._factory, self._host, self._port)
        listener.start()
        self._listener = listener
        self.port = self._port = listener.port
        if self.handler.outage_now()[0] is Outage.REFUSE:
            listener.refuse()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None

    # --- run-time controls --------------------------------------------------------------------

    def fail_next(self, reply: str = THROTTLED, count: int = 1) -> None:
        """Answer the next ``count`` messages with ``reply`` at the end of DATA (e.g. a throttle).

        A 421 reply closes the connection after it, as SES does.
        """
        with self.handler.lock:
            self.handler.forced_replies.extend([reply] * count)

    def _set(self, **limits: Any) -> None:
        with self.handler.lock:
            for name, value in limits.items():
                setattr(self.handler, name, value)

    def set_max_send_rate(self, recipients_per_second: float | None) -> None:
        self._set(max_send_rate=recipients_per_second)

    def set_daily_quota(self, recipients: int | None) -> None:
        """Recipients per rolling 24 hours (``None``: unlimited); what was sent still counts."""
        self._set(daily_quota=recipients)

    def set_max_messages_per_session(self, messages: int | None) -> None:
        self._set(max_messages_per_session=messages)

    def set_idle_timeout(self, seconds: float | None) -> None:
        """Applies from each connection's next byte on."""
        self._set(idle_timeout=seconds)

    def set_latency(self, seconds: float) -> None:
        self._set(latency=seconds)

    def set_outage(self, kind: Outage | str | None, reply: str | None = None) -> None:
        """Turn SES away until ``set_outage(None)``; see ``Outage``.

        ``reply`` replaces the 421 greeting (default: SES's "421 Too many concurrent SMTP
        connections") or the 454 answer (default: the maximum-sending-rate throttle).
        """
        outage = None if kind is None else Outage(kind)
        with self.handler.lock:
            self.handler.outage = (outage, reply or _OUTAGE_REPLIES.get(outage, "")) if outage else None
        if self._listener is None:
            return
        if outage is Outage.REFUSE:
            self._listener.refuse()
        else:
            self._listener.listen()

    @contextlib.contextmanager
    def outage(self, kind: Outage | str, reply: str | None = None) -> Iterator[None]:
        """``with ses.outage("refuse"): ...``: the outage lasts as long as the block."""
        self.set_outage(kind, reply)
        try:
            yield
        finally:
            self.set_outage(None)

    # --- what tests read ----------------------------------------------------------------------

    def counters(self) -> SmtpCounters:
        return self.handler.counters()

    def reset_counters(self) -> None:
        """Count afresh (e.g. after a benchmark's warm-up); a session open across it has no entry in
        ``messages_per_session`` (what it sends still counts everywhere else)."""
        self.handler.reset_counters()

    def sent_last_24_hours(self) -> int:
        return self.handler.sent_last_24_hours()

    @property
    def max_send_rate(self) -> float | None:
        return self.handler.max_send_rate

    @property
    def daily_quota(self) -> int | None:
        return self.handler.daily_quota

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

    def _wait(self, done: Callable[[], bool], timeout: float, result: Callable[[], Sequence[Any]]) -> list:
        deadline = time.monotonic() + timeout
        with self.handler.arrived:
            while not done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.handler.arrived.wait(remaining)
            return list(result())
