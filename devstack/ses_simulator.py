"""A local Amazon SES: its SMTP interface, its mailbox simulator and its event publishing.

``SesSimulator`` wraps the SMTP stand-in (ses_smtp.py: STARTTLS, AUTH, SES's replies and limits)
and, for every message it accepts, does off the SMTP thread what SES would do next:

1. publishes a ``Send`` event;
2. per recipient, the mailbox simulator's outcome (reference §5; ``+label`` variants too):
   - ``bounce@simulator.amazonses.com``: ``Bounce`` Permanent/General, 5.1.1 (several combined);
   - ``suppressionlist@``: ``Bounce`` Permanent/OnAccountSuppressionList, never sent;
   - ``complaint@``: delivered, ``Delivery``, then ``Complaint`` (abuse);
   - ``ooto@``: delivered, ``Delivery``, then ``Bounce`` Transient/General (the auto-reply);
   - ``success@`` and every other address: delivered, ``Delivery``;
3. delivers the delivered ones to MailHog over SMTP (when given), as SES sends mail: its own
   ``Message-ID`` and ``Date``, no ``X-SES-*`` headers, envelope sender ``<id>@amazonses.com``; the
   ``Delivery`` event carries MailHog's real reply (a refusal becomes a ``Bounce``, an unreachable
   MailHog a ``DeliveryDelay``).

Events are published, as SES event publishing does, only for messages that use a configuration set
(``X-SES-CONFIGURATION-SET`` or the default set), to the SNS topic given, with small random delays
(``event_delay``, 50-300 ms by default) between the steps. Without a topic they are only recorded.

The account's limits and SES's session limits come from ses_smtp.py: ``max_send_rate``
(recipients per second), ``daily_quota`` (recipients per rolling 24 hours; the mailbox simulator's
do not count), ``max_messages_per_session`` (350), ``idle_timeout`` (10 s), and ``latency`` added to
everything the SMTP side sends. Tests change them at run time (``set_daily_quota``,
``set_max_send_rate``, ``set_latency``), stage outages (``set_outage`` / ``with ses.outage(...)``:
``"refuse"``, ``"drop"``, ``"421"``, ``"454"``) and read ``counters()``. With ``api_listen`` it also
answers SES's GetAccount (v2), GetSendQuota and GetIdentityVerificationAttributes (v1) for this
account over HTTP (ses_api.py), which is what the relay's ``SES_MAX_SEND_RATE=auto`` and its
start-up check read.

Standalone (the compose stack runs it so)::

    python -m devstack.ses_simulator --listen 0.0.0.0:2587 --tls-dir /pki \\
        --username AKIA... --password-file /run/secrets/ses --sns-topic-arn ARN --mailhog mailhog:1025 \\
        --max-send-rate 14 --daily-quota 50000 --api-listen 0.0.0.0:8587

Its account and session flags:

- ``--max-send-rate N``: recipients per second before "454 Throttling failure: Maximum sending
  rate exceeded." (default: unlimited);
- ``--daily-quota N``: recipients per rolling 24 hours before "454 Throttling failure: Daily
  message quota exceeded." (default: unlimited);
- ``--max-messages-per-session N``: messages per connection before "421 Connection closed by
  server. Maximum message count per session reached." (default 350; 0: unlimited);
- ``--idle-timeout S``: seconds of client silence before "451 4.4.2 Timeout waiting for data from
  client." (default 10; 0: never);
- ``--latency-ms MS``: added to everything it sends, as a WAN round trip (default 0);
- ``--api-listen HOST:PORT``: serve GetAccount, GetSendQuota and GetIdentityVerificationAttributes
  there (default: off).

It writes its CA to ``DIR/ca.pem`` (reusing a still-valid one) for the appliance's ``SES_TLS_CA_FILE``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime
import logging
import os
import random
import signal
import smtplib
import ssl
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509

from devstack.event_json import (
    SIMULATOR_BOUNCE_MTA,
    SIMULATOR_DEFAULT_SMTP_RESPONSE,
    SIMULATOR_OUTGOING_IP,
    SIMULATOR_REPORTING_MTA,
    AcceptedMail,
    Outcome,
    amazonses_domain,
    bounce_event,
    complaint_event,
    delivery_delay_event,
    delivery_event,
    hard_bounce_recipient,
    message_tags,
    outgoing_message,
    send_event,
    simulator_outcome,
    suppressed_recipient,
)
from devstack.net import LOOPBACK
from devstack.ses_api import UNLIMITED, AccountStatus, SesAccountApi
from devstack.ses_smtp import (
    SES_IDLE_TIMEOUT,
    SES_MAX_MESSAGE_BYTES,
    SES_MAX_MESSAGES_PER_SESSION,
    Outage,
    ReceivedMessage,
    SesSmtpStandIn,
    SmtpCounters,
)
from devstack.sns_publisher import SnsEventPublisher
from devstack.tls import TestPki, create_pki

log = logging.getLogger("ses-simulator")

DEFAULT_SERVER_NAMES = ("ses-smtp.test", "ses-simulator", "localhost")
_DELIVERED = (Outcome.DELIVERED, Outcome.COMPLAINT, Outcome.OOTO)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class SesSimulator:
    """``with SesSimulator(pki, user, password, sns_topic_arn=..., mailhog=(host, port)) as ses:``."""

    def __init__(
        self,
        pki: TestPki,
        username: str,
        password: str,
        *,
        host: str = LOOPBACK,
        port: int | None = None,
        region: str = "us-east-1",
        account_id: str = "000000000000",
        caller_identity: str = "ses-smtp-user.20240101-000000",
        verified_identities: Iterable[str] | None = None,
        sandbox: bool = False,
        max_send_rate: float | None = None,
        daily_quota: int | None = None,
        max_messages_per_session: int | None = SES_MAX_MESSAGES_PER_SESSION,
        idle_timeout: float | None = SES_IDLE_TIMEOUT,
        latency: float = 0.0,
        max_message_size: int = SES_MAX_MESSAGE_BYTES,
        configuration_sets: Iterable[str] | None = None,
        default_configuration_set: str | None = None,
        sns_topic_arn: str | None = None,
        aws_endpoint_url: str | None = None,
        mailhog: tuple[str, int] | None = None,
        event_delay: tuple[float, float] = (0.05, 0.3),
        publisher: SnsEventPublisher | None = None,
        workers: int = 4,
        api_listen: tuple[str, int] | None = None,
    ):
        self.region = region
        self.account_id = account_id
        self.caller_identity = caller_identity
        self.mailhog = mailhog
        self.event_delay = event_delay
        self.publisher = publisher or SnsEventPublisher(sns_topic_arn, aws_endpoint_url, region)
        self.smtp = SesSmtpStandIn(
            pki,
            username,
            password,
            host=host,
            port=port,
            region=region,
            verified_identities=verified_identities,
            sandbox=sandbox,
            max_send_rate=max_send_rate,
            daily_quota=daily_quota,
            max_messages_per_session=max_messages_per_session,
            idle_timeout=idle_timeout,
            latency=latency,
            max_message_size=max_message_size,
            configuration_sets=configuration_sets,
            default_configuration_set=default_configuration_set,
            on_accept=self._accepted,
        )
        self.sandbox = sandbox
        self.api = None if api_listen is None else SesAccountApi(self.account_status, *api_listen)
        self._workers = workers
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._futures: list[concurrent.futures.Future] = []
        self._lock = threading.Lock()
        self.deliveries: list[tuple[str, tuple[str, ...], str]] = []

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self.smtp.port

    @property
    def api_url(self) -> str | None:
        """Where GetAccount / GetSendQuota answer (``api_listen``), e.g. for ``AWS_ENDPOINT_URL_SESV2``."""
        return self.api.url if self.api is not None else None

    def start(self) -> SesSimulator:
        self._executor = concurrent.futures.ThreadPoolExecutor(self._workers, thread_name_prefix="ses-events")
        self.smtp.start()
        if self.api is not None:
            try:
                self.api.start()
            except BaseException:
                self.smtp.stop()
                raise
        return self

    def stop(self, drain_timeout: float = 30) -> None:
        if self.api is not None:
            self.api.stop()
        self.smtp.stop()
        if self._executor is not None:
            self.wait_idle(drain_timeout)
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> SesSimulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def wait_idle(self, timeout: float = 30) -> None:
        """Wait until every accepted message's events and delivery are done."""
        with self._lock:
            pending = list(self._futures)
        done, not_done = concurrent.futures.wait(pending, timeout=timeout)
        for future in done:
            error = future.exception()
            if error is not None:
                raise error
        if not_done:
            raise TimeoutError(f"{len(not_done)} messages still being processed after {timeout}s")

    # --- the account's limits and outages, at run time (see ses_smtp.SesSmtpStandIn) ----------

    def set_max_send_rate(self, recipients_per_second: float | None) -> None:
        self.smtp.set_max_send_rate(recipients_per_second)

    def set_daily_quota(self, recipients: int | None) -> None:
        """Lower it to model "quota reached", raise it (or ``None``) to model "quota lifted"."""
        self.smtp.set_daily_quota(recipients)

    def set_latency(self, seconds: float) -> None:
        self.smtp.set_latency(seconds)

    def set_outage(self, kind: Outage | str | None, reply: str | None = None) -> None:
        self.smtp.set_outage(kind, reply)

    def outage(self, kind: Outage | str, reply: str | None = None) -> contextlib.AbstractContextManager[None]:
        return self.smtp.outage(kind, reply)

    def account_status(self) -> AccountStatus:
        """The account as SES's GetAccount / GetSendQuota describe it."""
        rate, quota = self.smtp.max_send_rate, self.smtp.daily_quota
        return AccountStatus(
            max_24_hour_send=UNLIMITED if quota is None else float(quota),
            max_send_rate=float(rate) if rate else UNLIMITED,
            sent_last_24_hours=float(self.smtp.sent_last_24_hours()),
            production_access_enabled=not self.sandbox,
            verified_identities=self.smtp.handler.verified_identities,
        )

    # --- what tests read ---------------------------------------------------------------------

    def counters(self) -> SmtpCounters:
        return self.smtp.counters()

    @property
    def messages(self) -> list[ReceivedMessage]:
        return self.smtp.messages

    def events(self, ses_message_id: str | None = None) -> list[Mapping[str, Any]]:
        events = self.publisher.events()
        if ses_message_id is None:
            return events
        return [event for event in events if event["mail"]["messageId"] == ses_message_id]

    def wait_for_events(self, ses_message_id: str, count: int, timeout: float = 30) -> list[Mapping]:
        deadline = time.monotonic() + timeout
        while True:
            events = self.events(ses_message_id)
            if len(events) >= count or time.monotonic() > deadline:
                return events
            time.sleep(0.05)

    # --- what SES does after 250 Ok ----------------------------------------------------------

    def _accepted(self, received: ReceivedMessage) -> None:
        log.info(
            "accepted %s from=<%s> to=%s configuration_set=%s",
            received.ses_message_id,
            received.mail_from,
            ",".join(received.rcpt_tos),
            received.configuration_set or "-",
        )
        if self._executor is None:
            return
        future = self._executor.submit(self._process, received)
        with self._lock:
            self._futures.append(future)

    def _pause(self) -> None:
        low, high = self.event_delay
        if high > 0:
            time.sleep(random.uniform(low, high))

    def _mail(self, received: ReceivedMessage) -> AcceptedMail:
        headers = tuple(received.headers)
        return AcceptedMail(
            message_id=received.ses_message_id,
            accepted_at=received.accepted_at,
            source=received.mail_from,
            destination=received.rcpt_tos,
            headers=headers,
            client_ip=received.client_address,
            helo=received.helo,
            smtp_session_id=received.smtp_session_id,
            configuration_set=received.configuration_set,
            region=self.region,
            account_id=self.account_id,
            caller_identity=self.caller_identity,
            source_identity=received.source_identity,
            extra_tags=message_tags(headers),
        )

    def _process(self, received: ReceivedMessage) -> None:
        mail = self._mail(received)
        publishing = received.configuration_set is not None

        def emit(event: Mapping[str, Any]) -> None:
            if not publishing:
                return
            record = self.publisher.publish(event)
            log.info(
                "event %s %s %s%s",
                event["eventType"],
                mail.message_id,
                _recipients_of(event),
                f" (publish failed: {record.error})" if record.error else "",
            )

        outcomes = {recipient: simulator_outcome(recipient) for recipient in received.rcpt_tos}
        self._pause()
        emit(send_event(mail))

        suppressed = [rcpt for rcpt, outcome in outcomes.items() if outcome is Outcome.SUPPRESSED]
        if suppressed:
            self._pause()
            emit(
                bounce_event(
                    mail,
                    "Permanent",
                    "OnAccountSuppressionList",
                    [suppressed_recipient(rcpt) for rcpt in suppressed],
                    _now(),
                    reporting_mta="dns; amazonses.com",
                )
            )
        hard = [rcpt for rcpt, outcome in outcomes.items() if outcome is Outcome.BOUNCE]
        if hard:
            self._pause()
            # The simulator combines several bounces of one send into one notification.
            emit(
                bounce_event(
                    mail,
                    "Permanent",
                    "General",
                    [hard_bounce_recipient(rcpt) for rcpt in hard],
                    _now(),
                    reporting_mta=SIMULATOR_BOUNCE_MTA,
                )
            )

        delivered = [rcpt for rcpt, outcome in outcomes.items() if outcome in _DELIVERED]
        if not delivered:
            return
        self._pause()
        replies, remote_ip = self._deliver(received, delivered)
        accepted = [rcpt for rcpt in delivered if replies[rcpt].startswith("2")]
        for rcpt in delivered:
            reply = replies[rcpt]
            if reply.startswith("2"):
                emit(delivery_event(mail, [rcpt], _now(), reply, remote_mta_ip=remote_ip))
            elif reply.startswith("5"):
                status = _enhanced_status(reply) or "5.0.0"
                refused = {"emailAddress": rcpt, "action": "failed", "status": status}
                refused["diagnosticCode"] = f"smtp; {reply}"
                emit(
                    bounce_event(
                        mail,
                        "Permanent",
                        "General",
                        [refused],
                        _now(),
                        reporting_mta=f"dsn; {SIMULATOR_REPORTING_MTA}",
                        remote_mta_ip=remote_ip,
                    )
                )
            else:
                delayed = {"emailAddress": rcpt, "status": _enhanced_status(reply) or "4.4.1"}
                delayed["diagnosticCode"] = f"smtp; {reply}"
                emit(delivery_delay_event(mail, [delayed], _now()))

        complaints = [rcpt for rcpt in accepted if outcomes[rcpt] is Outcome.COMPLAINT]
        if complaints:
            self._pause()
            emit(complaint_event(mail, complaints, _now()))
        auto_replies = [rcpt for rcpt in accepted if outcomes[rcpt] is Outcome.OOTO]
        if auto_replies:
            self._pause()
            emit(
                bounce_event(
                    mail, "Transient", "General", [{"emailAddress": r} for r in auto_replies], _now()
                )
            )

    def _deliver(
        self, received: ReceivedMessage, recipients: Sequence[str]
    ) -> tuple[dict[str, str], str | None]:
        """Hand the message to the receiving side (MailHog); each recipient's reply, and its IP."""
        if self.mailhog is None:
            return dict.fromkeys(recipients, SIMULATOR_DEFAULT_SMTP_RESPONSE), None
        content = outgoing_message(
            received.content,
            received.ses_message_id,
            self.region,
            received.accepted_at,
            SIMULATOR_OUTGOING_IP,
        )
        envelope_from = f"{received.ses_message_id}@{amazonses_domain(self.region)}"
        host, port = self.mailhog
        replies: dict[str, str] = {}
        remote_ip: str | None = None
        try:
            with smtplib.SMTP(host, port, timeout=30, local_hostname=SIMULATOR_REPORTING_MTA) as smtp:
                remote_ip = smtp.sock.getpeername()[0] if smtp.sock else None
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                code, text = smtp.mail(envelope_from)
                if code >= 300:
                    return dict.fromkeys(recipients, _reply(code, text)), remote_ip
                for rcpt in recipients:
                    code, text = smtp.rcpt(rcpt)
                    if code >= 300:
                        replies[rcpt] = _reply(code, text)
                if len(replies) < len(recipients):
                    code, text = smtp.data(content)
                    for rcpt in recipients:
                        replies.setdefault(rcpt, _reply(code, text))
        except (OSError, smtplib.SMTPException) as error:
            log.warning("delivery of %s to %s:%s failed: %s", received.ses_message_id, host, port, error)
            for rcpt in recipients:
                replies.setdefault(rcpt, "421 4.4.1 Unable to connect to remote host")
        with self._lock:
            self.deliveries.append((received.ses_message_id, tuple(recipients), replies[recipients[0]]))
        return replies, remote_ip


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(message.split())}"


def _enhanced_status(reply: str) -> str | None:
    parts = reply.split()
    if len(parts) > 1 and parts[1].count(".") == 2 and parts[1].replace(".", "").isdigit():
        return parts[1]
    return None


def _recipients_of(event: Mapping[str, Any]) -> str:
    kind = event["eventType"]
    if kind == "Delivery":
        return ",".join(event["delivery"]["recipients"])
    if kind == "Bounce":
        return ",".join(r["emailAddress"] for r in event["bounce"]["bouncedRecipients"])
    if kind == "Complaint":
        return ",".join(r["emailAddress"] for r in event["complaint"]["complainedRecipients"])
    if kind == "DeliveryDelay":
        return ",".join(r["emailAddress"] for r in event["deliveryDelay"]["delayedRecipients"])
    return ",".join(event["mail"]["destination"])


# --- standalone ------------------------------------------------------------------------------


def load_or_create_pki(directory: Path, server_names: Sequence[str], min_validity: float = 3600) -> TestPki:
    """The PKI in ``directory`` if it is still valid for ``server_names``, else a new one."""
    pki = TestPki(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    if all(path.exists() for path in (pki.ca_file, pki.cert_file, pki.key_file)):
        try:
            certificate = x509.load_pem_x509_certificate(pki.cert_file.read_bytes())
            names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            remaining = certificate.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
            if set(server_names) <= set(names.get_values_for_type(x509.DNSName)) and (
                remaining.total_seconds() > min_validity
            ):
                return pki
        except (ValueError, x509.ExtensionNotFound):
            pass
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):  # a mounted directory someone else owns
        directory.chmod(0o755)
    # A compose stack may run for months; its CA is only remade when the simulator starts.
    return create_pki(directory, list(server_names), valid_days=365)


def _host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host or "0.0.0.0", int(port)


def _delay(value: str) -> tuple[float, float]:
    low, _, high = value.partition(":")
    return float(low) / 1000, float(high or low) / 1000


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m devstack.ses_simulator",
        description="A local Amazon SES: SMTP interface, mailbox simulator, event publishing to SNS.",
    )
    parser.add_argument("--listen", default=env("SES_SIMULATOR_LISTEN", "0.0.0.0:2587"), metavar="HOST:PORT")
    parser.add_argument(
        "--tls-dir", type=Path, required=True, help="where the CA (ca.pem) and certificate live"
    )
    parser.add_argument(
        "--server-name",
        action="append",
        dest="server_names",
        metavar="NAME",
        help=f"a name the certificate covers (repeatable; default {', '.join(DEFAULT_SERVER_NAMES)})",
    )
    parser.add_argument("--username", default=env("SES_SIMULATOR_USERNAME"), help="SMTP user name")
    parser.add_argument(
        "--password", default=env("SES_SIMULATOR_PASSWORD"), help="SMTP password (prefer the env variable)"
    )
    parser.add_argument("--password-file", type=Path, help="file holding the SMTP password")
    parser.add_argument("--region", default=env("SES_SIMULATOR_REGION", "us-east-1"))
    parser.add_argument("--account-id", default="000000000000")
    parser.add_argument(
        "--verified-identity",
        action="append",
        dest="verified_identities",
        metavar="ADDRESS|DOMAIN",
        help="a verified identity (repeatable); without any, every sender is verified",
    )
    parser.add_argument("--sandbox", action="store_true", help="recipients must be verified too")
    parser.add_argument("--max-send-rate", type=float, help="recipients per second before 454 Throttling")
    parser.add_argument(
        "--daily-quota",
        type=int,
        metavar="N",
        help="recipients per rolling 24 h before 454 (default: unlimited)",
    )
    parser.add_argument(
        "--max-messages-per-session",
        type=int,
        default=SES_MAX_MESSAGES_PER_SESSION,
        metavar="N",
        help=f"messages per connection before 421 (default {SES_MAX_MESSAGES_PER_SESSION}; 0: unlimited)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=SES_IDLE_TIMEOUT,
        metavar="SECONDS",
        help=f"client silence before 451 and close (default {SES_IDLE_TIMEOUT:g}; 0: never)",
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, metavar="MS", help="added to everything the SMTP side sends"
    )
    parser.add_argument(
        "--api-listen",
        metavar="HOST:PORT",
        help="serve SES's GetAccount, GetSendQuota and GetIdentityVerificationAttributes there "
        "(default: off)",
    )
    parser.add_argument("--max-message-size", type=int, default=SES_MAX_MESSAGE_BYTES, metavar="BYTES")
    parser.add_argument(
        "--configuration-set",
        action="append",
        dest="configuration_sets",
        metavar="NAME",
        help="a configuration set that exists (repeatable); without any, every name is accepted",
    )
    parser.add_argument("--default-configuration-set", metavar="NAME", help="for mail that names none")
    parser.add_argument("--sns-topic-arn", default=env("SES_SIMULATOR_SNS_TOPIC_ARN"), metavar="ARN")
    parser.add_argument("--aws-endpoint-url", default=env("AWS_ENDPOINT_URL"), metavar="URL")
    parser.add_argument("--mailhog", default=env("SES_SIMULATOR_MAILHOG"), metavar="HOST:PORT")
    parser.add_argument("--event-delay", type=_delay, default=(0.05, 0.3), metavar="MIN_MS:MAX_MS")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    password = args.password
    if args.password_file:
        password = args.password_file.read_text().rstrip("\n")
    if not args.username or not password:
        parser.error("--username and a password (--password-file or SES_SIMULATOR_PASSWORD) are required")
    host, port = _host_port(args.listen)
    pki = load_or_create_pki(args.tls_dir, args.server_names or list(DEFAULT_SERVER_NAMES))
    simulator = SesSimulator(
        pki,
        args.username,
        password,
        host=host,
        port=port,
        region=args.region,
        account_id=args.account_id,
        verified_identities=args.verified_identities,
        sandbox=args.sandbox,
        max_send_rate=args.max_send_rate,
        daily_quota=args.daily_quota,
        max_messages_per_session=args.max_messages_per_session or None,
        idle_timeout=args.idle_timeout or None,
        latency=args.latency_ms / 1000,
        max_message_size=args.max_message_size,
        configuration_sets=args.configuration_sets,
        default_configuration_set=args.default_configuration_set,
        sns_topic_arn=args.sns_topic_arn,
        aws_endpoint_url=args.aws_endpoint_url,
        mailhog=_host_port(args.mailhog) if args.mailhog else None,
        event_delay=args.event_delay,
        api_listen=_host_port(args.api_listen) if args.api_listen else None,
    )
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    with simulator:
        log.info(
            "SES SMTP on %s:%s (CA %s), events to %s, delivering to %s",
            host,
            simulator.port,
            pki.ca_file,
            args.sns_topic_arn or "nowhere (no --sns-topic-arn)",
            args.mailhog or "nowhere (no --mailhog)",
        )
        status = simulator.account_status()
        log.info(
            "account: %g recipients/s, %g per 24 h (-1: unlimited); sessions: %s messages, %ss idle, "
            "%gms latency; SES API %s",
            status.max_send_rate,
            status.max_24_hour_send,
            args.max_messages_per_session or "unlimited",
            f"{args.idle_timeout:g}" if args.idle_timeout else "never",
            args.latency_ms,
            simulator.api_url or "off (no --api-listen)",
        )
        stopped.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
