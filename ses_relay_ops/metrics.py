"""``ses-relay metrics``: Prometheus metrics on ``METRICS_PORT`` (off by default).

Counters come from the mail log itself, followed as rsyslog writes it (across rotation), each
line counted by ``ses_relay_ops.outcomes.classify``: they cannot disagree with the log, and
``ses-relay report`` counts with the same function. They count from the point the mail log had
reached when the container started (the entrypoint notes it), so they start at 0 with every
start of the container, as Prometheus expects of a restarted target: ``rate()`` and
``increase()`` take the drop as a counter reset.

Gauges are read when Prometheus scrapes: Postfix's queue (``postqueue -j``), the pacer's, the
start-up check's and the event logger's status files, and the SQS queue's approximate depth
(``sqs:GetQueueAttributes``).
A source that cannot be read leaves its metrics out of that scrape rather than report a guess.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, disable_created_metrics, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ses_pacer.queue import QueuedMessage
from ses_relay_ops.config import OpsConfig
from ses_relay_ops.fields import EVENT_LOGGER
from ses_relay_ops.follower import LogFollower, StartAt
from ses_relay_ops.line import LogLine, parse_line
from ses_relay_ops.outcomes import Kind, classify

PREFIX = "ses_relay"
FOLLOW_SECONDS = 0.5
# Scrapes come every 15-60 s; several Prometheus servers may scrape one relay. These bound the
# cost of each source whatever the scrape rate.
QUEUE_CACHE_SECONDS = 5.0
SQS_CACHE_SECONDS = 15.0
# A status file older than this belongs to a program that is not running (supervisord restarts it).
STATUS_STALE_SECONDS = 30.0
POSTFIX_QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")


def log(message: str) -> None:
    print(f"ses-relay metrics: {message}", file=sys.stderr, flush=True)


class MailLogMetrics:
    """The counters, one increment per line as ``classify`` names it."""

    def __init__(self, registry: CollectorRegistry):
        def counter(name: str, documentation: str, labels: Iterable[str] = ()) -> Counter:
            return Counter(f"{PREFIX}_{name}", documentation, list(labels), registry=registry)

        self.lines = counter("mail_log_lines", "Mail-log lines read.")
        self.accepted = counter("messages_accepted", "Messages accepted from clients (smtpd's client= line).")
        self.refused = counter("recipients_refused", "Recipients refused before queueing (NOQUEUE: reject).")
        self.sent = counter(
            "recipients_sent", "Recipients handed to SES: Postfix's status=sent (250 Ok <id>)."
        )
        self.deferred = counter("recipients_deferred", "Postfix's status=deferred: tries to be retried.")
        self.bounced = counter(
            "recipients_bounced", "Recipients Postfix bounced: SES refused them (5xx), or they expired."
        )
        self.throttled = counter(
            "ses_throttled",
            "SES's 454 Throttling failure replies, by throttle (rate, daily_quota).",
            ["throttle"],
        )
        self.ses = counter(
            "ses_events",
            "SES's outcomes, one per recipient line of the event logger, by status word and SES's type and "
            "subtype (bounced: Permanent/General; complained: the feedback type; deferred: the delay type).",
            ["status", "type", "subtype"],
        )
        for throttle in ("rate", "daily_quota"):
            self.throttled.labels(throttle)
        for status in ("accepted", "delivered", "complained", "rejected"):
            self.ses.labels(status, "", "")
        self.newest_event: datetime | None = None

    def observe(self, line: LogLine | None) -> None:
        self.lines.inc()
        if line is None:
            return
        outcome = classify(line)
        if outcome is None:
            return
        if outcome.kind is Kind.SES:
            self.ses.labels(outcome.status, outcome.type, outcome.subtype).inc()
        elif outcome.kind is Kind.DEFERRED:
            self.deferred.inc()
            if outcome.throttle is not None:
                self.throttled.labels(outcome.throttle.name.lower()).inc()
        else:
            {
                Kind.ACCEPTED: self.accepted,
                Kind.REFUSED: self.refused,
                Kind.SENT: self.sent,
                Kind.BOUNCED: self.bounced,
            }[outcome.kind].inc()
        if line.program == EVENT_LOGGER:
            self.newest_event = line.time


class Cached:
    """A value read at most once per ``seconds``; an error is remembered for as long."""

    def __init__(self, read: Callable[[], Any], seconds: float, clock: Callable[[], float] = time.monotonic):
        self._read, self._seconds, self._clock = read, seconds, clock
        self._value: Any = None
        self._until = float("-inf")

    def get(self) -> Any:
        if self._clock() >= self._until:
            try:
                self._value = self._read()
            except Exception as error:  # one failing source leaves only its own metrics out
                log(f"cannot read {getattr(self._read, '__name__', 'a source')}: {error}")
                self._value = None
            self._until = self._clock() + self._seconds
        return self._value


def read_status(path: str, now: float) -> dict[str, Any] | None:
    try:
        status = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(status, dict) or now - float(status.get("written_at", 0)) > STATUS_STALE_SECONDS:
        return None
    return status


def queue_metrics(messages: list[QueuedMessage] | None, now: float) -> Iterator[Metric]:
    if messages is None:
        return
    depth = GaugeMetricFamily(
        f"{PREFIX}_postfix_queue_messages",
        "Messages in Postfix's queues (hold: waiting for the pacer).",
        labels=["queue"],
    )
    for queue in POSTFIX_QUEUES:
        depth.add_metric([queue], sum(1 for message in messages if message.queue_name == queue))
    yield depth
    deferred = [message.arrival_time for message in messages if message.queue_name == "deferred"]
    yield GaugeMetricFamily(
        f"{PREFIX}_postfix_oldest_deferred_age_seconds",
        "Age of the oldest message in the deferred queue, 0 when it is empty.",
        value=max(0.0, now - min(deferred)) if deferred else 0.0,
    )


def pacer_metrics(status: dict[str, Any] | None) -> Iterator[Metric]:
    if status is None:
        return
    yield GaugeMetricFamily(
        f"{PREFIX}_send_rate_limit",
        "Recipients per second the pacer releases mail to SES at now.",
        value=status["send_rate"],
    )
    if status.get("account_max_send_rate") is not None:
        yield GaugeMetricFamily(
            f"{PREFIX}_send_rate_account_max",
            "The SES account's maximum send rate, in recipients per second, as the pacer knows it.",
            value=status["account_max_send_rate"],
        )
    yield GaugeMetricFamily(
        f"{PREFIX}_daily_quota_exhausted",
        "1 while SES refuses mail for the daily quota and the pacer holds it.",
        value=1.0 if status.get("daily_quota_exhausted") else 0.0,
    )


SES_CHECKS = ("smtp_login", "sender_identities", "production_access", "sending_enabled")


def ses_check_metrics(status: dict[str, Any] | None) -> Iterator[Metric]:
    """The start-up check's findings (ses-check); a check without an answer yet is left out."""
    if status is None:
        return
    family = GaugeMetricFamily(
        f"{PREFIX}_ses_check_passed",
        "What the start-up check found, by check: 1 passed, 0 failed (smtp_login: SES accepts the "
        "login; sender_identities: SES verified every RELAY_ALLOWED_SENDERS entry; production_access: "
        "out of the sandbox; sending_enabled: SES has not paused the account).",
        labels=["check"],
    )
    for check in SES_CHECKS:
        if status.get(check) is not None:
            family.add_metric([check], 1.0 if status[check] else 0.0)
    yield family


def events_metrics(
    status: dict[str, Any] | None, depth: dict[str, int] | None, newest_event: datetime | None, now: datetime
) -> Iterator[Metric]:
    if status is not None:
        for kind, what in (
            ("sqs", "SQS or network errors"),
            ("syslog", "times syslog did not take its lines"),
        ):
            yield CounterMetricFamily(
                f"{PREFIX}_events_{kind}_errors",
                f"The event logger's {what}, since it started.",
                value=status.get(f"{kind}_errors", 0),
            )
    if depth is not None:
        family = GaugeMetricFamily(
            f"{PREFIX}_events_queue_messages",
            "SES events in the SQS queue (SQS's approximate counts): visible, or received and in flight.",
            labels=["state"],
        )
        for state, value in depth.items():
            family.add_metric([state], value)
        yield family
    if newest_event is not None:
        yield GaugeMetricFamily(
            f"{PREFIX}_events_newest_logged_age_seconds",
            "Seconds since the event logger wrote its newest line into the mail log.",
            value=max(0.0, (now - newest_event).total_seconds()),
        )


class StateCollector(Collector):
    """The gauges, read when Prometheus scrapes."""

    def __init__(
        self,
        config: OpsConfig,
        mail_log: MailLogMetrics,
        list_queue: Callable[[], list[QueuedMessage]],
        queue_depth: Callable[[], dict[str, int]] | None,
    ):
        self.config = config
        self.mail_log = mail_log
        self.queue = Cached(list_queue, QUEUE_CACHE_SECONDS)
        self.depth = Cached(queue_depth, SQS_CACHE_SECONDS) if queue_depth is not None else None

    def collect(self) -> Iterator[Metric]:
        now = time.time()
        yield from queue_metrics(self.queue.get(), now)
        yield from pacer_metrics(read_status(self.config.pacer_status_file, now))
        yield from ses_check_metrics(read_status(self.config.check_status_file, now))
        yield from events_metrics(
            read_status(self.config.events_status_file, now) if self.config.events_queue_url else None,
            self.depth.get() if self.depth is not None else None,
            self.mail_log.newest_event,
            datetime.now(),
        )


def sqs_queue_depth(config: OpsConfig) -> Callable[[], dict[str, int]] | None:
    if not config.events_queue_url:
        return None
    import boto3
    from botocore.config import Config

    from ses_events.daemon.config import DaemonConfig

    url = config.events_queue_url
    region = (
        DaemonConfig(queue_url=url).queue_region() or os.environ.get("AWS_REGION") or config.events_region
    )
    client = boto3.client(
        "sqs",
        region_name=region,
        config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2}),
    )

    def sqs_queue_depth() -> dict[str, int]:
        attributes = client.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return {
            "visible": int(attributes["ApproximateNumberOfMessages"]),
            "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        }

    return sqs_queue_depth


def start_position(path: str) -> StartAt | None:
    """Where the mail log stood when the container started, as the entrypoint noted it."""
    try:
        noted = json.loads(Path(path).read_text(encoding="utf-8"))
        return StartAt(int(noted["inode"]), int(noted["offset"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def run(config: OpsConfig) -> int:
    from ses_pacer.postfix import list_queue

    if config.metrics_port is None:
        log("METRICS_PORT is not set")
        return 78
    disable_created_metrics()
    registry = CollectorRegistry(auto_describe=True)
    mail_log = MailLogMetrics(registry)
    registry.register(StateCollector(config, mail_log, list_queue, sqs_queue_depth(config)))
    follower = LogFollower(Path(config.mail_log), start_position(config.mail_log_start_file))
    server, _thread = start_http_server(config.metrics_port, registry=registry)
    log(f"serving Prometheus metrics on port {config.metrics_port}")
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    while True:
        now = datetime.now()
        for text in follower.read():
            mail_log.observe(parse_line(text, now))
        if stopping.wait(FOLLOW_SECONDS):
            break
    server.shutdown()
    follower.close()
    return 0
