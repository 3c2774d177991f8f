"""Relay throughput: Postfix's smtp-source through ses-relay, next to stock Postfix and the limit.

ses-relay always speaks verified TLS to its next hop and smtp-sink has no STARTTLS, so both relays
deliver to the same TLS sink: a stock Postfix smtpd (the stock-postfix image) that offers STARTTLS
with a certificate for ses-smtp.test from a throwaway CA, and hands every transaction, unqueued, to
smtp-sink on the host (smtpd_proxy_filter: smtp-sink's 250 is the sink's 250). Both relays verify
that certificate against that name with the same CA (level "secure"), so they do the same crypto
work; the stock relay is Debian's Postfix with only the settings a relay needs.

A message counts as relayed once the next hop has it (smtp-sink's -c counter), not when
smtp-source finishes: smtp-source only measures acceptance. The relays alternate over several
rounds, each a fresh container with its queue on a volume; the table gives the median round.

The SES simulator path (STARTTLS, then AUTH PLAIN; aiosmtpd in this process) gets fewer messages;
there a message counts once the simulator has answered 250. Latencies are Postfix's own delay= of
each status=sent line: from the queue file's creation (the client's MAIL FROM) to the next hop's
250, at 10 ms resolution (syslog's time stamps have 1 s).
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from devstack.net import LOOPBACK, free_port, wait_for_banner
from devstack.ses_simulator import SesSimulator
from devstack.tls import TestPki, create_pki
from tests.bench.bench_image import STOCK_IMAGE, STOCK_PORT, build_stock
from tests.harness.appliance import DOCKER, SES_SMTP_NAME, Appliance

MESSAGES = 2000
SIMULATOR_MESSAGES = 300
SESSIONS = 20
MESSAGE_BYTES = 4096
ROUNDS = 5
ROUND_TIMEOUT = 300  # seconds, for one round of one path
SETTLE_SECONDS = 2  # after a relay answers SMTP, for the rest of its start-up to finish

SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
SENDER = "app@example.com"
RECIPIENT = "bob@example.net"
# Fake credentials, as in tests/conftest.py: they open nothing anywhere.
SMTP_USERNAME = "AKIAIOSFODNN7EXAMPLE"
SMTP_PASSWORD = "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9"
PKI_IN_CONTAINER = "/run/bench-pki"
CA_IN_CONTAINER = f"{PKI_IN_CONTAINER}/ca.pem"
# Cyrus SASL resolves the machine's host name on every AUTH connection (sasl_client_new). On the
# host network Docker does not put that name in a container's /etc/hosts as its bridge networks
# do, so each AUTH waited on the host's resolver (5 s stalls here). ses-relay's entrypoint now adds
# it itself; the stock relay is given it, so that neither waits.
EXTRA_HOSTS = {SES_SMTP_NAME: LOOPBACK, socket.gethostname(): LOOPBACK}
# Neither next hop limits the send rate: ses-relay is told so, or its pacer, reading no SES API,
# would start slow and find the rate (measured in bench_delivery), not relay as fast as it can.
NO_RATE_LIMIT = {"SES_MAX_SEND_RATE": "100000"}


def _docker(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [DOCKER, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise RuntimeError(f"docker {args[0]} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def _docker_logs(container: str) -> str:
    result = subprocess.run([DOCKER, "logs", container], capture_output=True, text=True, check=False)
    return result.stdout + result.stderr


def _remove(container: str) -> None:
    subprocess.run([DOCKER, "rm", "--force", "--volumes", container], capture_output=True, check=False)


def _start_postfix(port: int, settings: list[str], arguments: list[str], env: dict[str, str]) -> str:
    """The stock image's Postfix, its smtpd on ``port``, ``settings`` applied by postconf: its id."""
    script = " && ".join(
        [
            f"postconf -MX {STOCK_PORT}/inet",
            "postconf -M " + shlex.quote(f"{port}/inet={port} inet n - n - - smtpd"),
            "postconf -e " + " ".join(shlex.quote(setting) for setting in settings),
            # The SASL password comes from the environment, never a command line.
            'if [ -n "${SASL_PASSWORD_MAP:-}" ]; then '
            'postconf -e "smtp_sasl_password_maps = static:$SASL_PASSWORD_MAP"; fi',
            "exec postfix start-fg",
        ]
    )
    container = _docker(
        "run", "--detach", "--network", "host", *arguments, STOCK_IMAGE, "sh", "-c", script, env=env
    )
    try:
        wait_for_banner(port, timeout=60)
    except TimeoutError as error:
        logs = _docker_logs(container)
        _remove(container)
        raise TimeoutError(f"{error}\n--- container output ---\n{logs}") from None
    return container


# --- where the relays deliver ------------------------------------------------------------------


class NextHop(Protocol):
    def expect(self, more: int) -> None:
        """Watch for ``more`` messages beyond those received so far."""

    def wait(self, timeout: float) -> float:
        """When the expected messages were all received (time.monotonic()), or TimeoutError."""


class SmtpSink:
    """Postfix's smtp-sink on the host, counting the messages it receives (its -c counter)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.count = 0
        self._changed = threading.Condition()
        self._target = 0
        self._reached_at: float | None = None
        self._process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> SmtpSink:
        user = ["-u", "postfix"] if os.geteuid() == 0 else []
        self._process = subprocess.Popen(
            [SMTP_SINK, *user, "-c", f"{LOOPBACK}:{self.port}", "256"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._reader = threading.Thread(target=self._read, args=(self._process,), daemon=True)
        self._reader.start()
        try:
            wait_for_banner(self.port, timeout=10)
        except TimeoutError:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None
        if self._reader is not None:
            self._reader.join(timeout=10)

    def _read(self, process: subprocess.Popen) -> None:
        # "sess=5 quit=4 mesg=5\r" after every session end, QUIT and end of DATA.
        descriptor = process.stdout.fileno()  # type: ignore[union-attr]
        pending = b""
        while chunk := os.read(descriptor, 65536):
            now = time.monotonic()
            *updates, pending = (pending + chunk).split(b"\r")
            counts = [int(found[1]) for line in updates if (found := re.search(rb"mesg=(\d+)", line))]
            if counts:
                with self._changed:
                    self.count = max(self.count, *counts)
                    if self._reached_at is None and self.count >= self._target:
                        self._reached_at = now
                    self._changed.notify_all()

    def expect(self, more: int) -> None:
        with self._changed:
            self._target = self.count + more
            self._reached_at = None

    def wait(self, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._reached_at is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"smtp-sink has {self.count} of {self._target} messages")
                self._changed.wait(remaining)
            return self._reached_at


class TlsSink:
    """Stock Postfix smtpd offering STARTTLS as ses-smtp.test, each transaction proxied to smtp-sink."""

    def __init__(self, pki_dir: Path, sink: SmtpSink):
        self.port = free_port()
        settings = [
            "myhostname = ses-smtp.test",
            f"smtpd_tls_cert_file = {PKI_IN_CONTAINER}/server.pem",
            f"smtpd_tls_key_file = {PKI_IN_CONTAINER}/server.key",
            "smtpd_tls_security_level = may",
            # No queue: each transaction goes on to smtp-sink as it happens.
            f"smtpd_proxy_filter = {LOOPBACK}:{sink.port}",
        ]
        self.container = _start_postfix(
            self.port, settings, ["--volume", f"{pki_dir}:{PKI_IN_CONTAINER}:ro"], {}
        )

    def stop(self) -> None:
        _remove(self.container)


class SimulatorCounter:
    """The SES simulator as a next hop: a message counts once it has answered 250."""

    def __init__(self, simulator: SesSimulator):
        self._simulator = simulator
        self._target = 0

    def expect(self, more: int) -> None:
        self._target = len(self._simulator.messages) + more

    def wait(self, timeout: float) -> float:
        received = self._simulator.smtp.wait_for_messages(self._target, timeout)
        if len(received) < self._target:
            raise TimeoutError(f"the simulator has {len(received)} of {self._target} messages")
        return time.monotonic()


# --- the relays --------------------------------------------------------------------------------


class Relay(Protocol):
    port: int

    def mail_log(self) -> str: ...

    def stop(self) -> None: ...


class SesRelay:
    """The appliance, relaying to ses-smtp.test (127.0.0.1) on ``next_hop_port``."""

    def __init__(self, pki: TestPki, next_hop_port: int, more: Mapping[str, str] | None = None):
        settings = {
            "SES_REGION": "us-east-1",
            "SES_SMTP_HOST": SES_SMTP_NAME,
            "SES_SMTP_PORT": str(next_hop_port),
            "SES_SMTP_USERNAME": SMTP_USERNAME,
            "SES_SMTP_PASSWORD": SMTP_PASSWORD,
            "SES_TLS_CA_FILE": CA_IN_CONTAINER,
            "RELAY_ALLOWED_SENDERS": SENDER,
            "RELAY_ALLOWED_NETWORKS": "127.0.0.1/32",
            "RELAY_HOSTNAME": "relay.example.com",
            # smtp-source is one client opening a connection per message, as stock Postfix lets
            # it; measure capacity, not the per-client limits meant for hostile clients.
            "RELAY_MAX_CONNECTIONS_PER_CLIENT": "99",
            "RELAY_MAX_CONNECTION_RATE_PER_CLIENT": "0",
            **(more or {}),
        }
        self._appliance = Appliance(
            settings, mounts=[(pki.ca_file, CA_IN_CONTAINER)], extra_hosts={SES_SMTP_NAME: LOOPBACK}
        ).start()
        self.port = self._appliance.port

    def mail_log(self) -> str:
        return self._appliance.mail_log()

    def stop(self) -> None:
        self._appliance.remove()


class StockRelay:
    """Debian's Postfix as a minimal relay to [127.0.0.1]:``next_hop_port``, verified TLS and SASL.

    Its smtp client runs chrooted, as Debian ships it, where /etc/hosts does not exist: the next hop
    is an address, and the name its certificate must match (ses-smtp.test) is in the TLS policy.
    """

    def __init__(self, pki_dir: Path, next_hop_port: int):
        self.port = free_port()
        next_hop = f"[{LOOPBACK}]:{next_hop_port}"
        settings = [
            "myhostname = stock-relay.example.com",
            "mydestination =",
            f"relayhost = {next_hop}",
            "smtp_tls_security_level = secure",
            f"smtp_tls_CAfile = {CA_IN_CONTAINER}",
            f"smtp_tls_policy_maps = inline:{{ {{{next_hop} = secure match={SES_SMTP_NAME}}} }}",
            "smtp_sasl_auth_enable = yes",
            "smtp_sasl_security_options = noanonymous",
        ]
        arguments = [
            # The queue on a volume, as the appliance's is (its image declares one).
            "--volume",
            "/var/spool/postfix",
            "--volume",
            f"{pki_dir}:{PKI_IN_CONTAINER}:ro",
            *[f"--add-host={name}:{address}" for name, address in EXTRA_HOSTS.items()],
            "--env",
            "SASL_PASSWORD_MAP",
        ]
        env = {"SASL_PASSWORD_MAP": f"{SMTP_USERNAME}:{SMTP_PASSWORD}"}
        self.container = _start_postfix(self.port, settings, arguments, env)

    def mail_log(self) -> str:
        return _docker_logs(self.container)  # maillog_file = /dev/stdout

    def stop(self) -> None:
        _remove(self.container)


# --- one round ---------------------------------------------------------------------------------


@dataclass
class Round:
    messages: int
    accepted_seconds: float  # smtp-source done: every message accepted
    relayed_seconds: float  # the next hop has every message
    delays: list[float] = field(default_factory=list)  # Postfix's delay= of each, in seconds

    @property
    def rate(self) -> float:
        return self.messages / self.relayed_seconds


def smtp_source_command(port: int, messages: int) -> list[str]:
    """The benchmarks' load: ``messages`` of MESSAGE_BYTES over SESSIONS parallel sessions to ``port``."""
    # -N: a distinct recipient each, so the rewrite and resolve caches do real work.
    return [
        *(SMTP_SOURCE, "-s", str(SESSIONS), "-m", str(messages), "-l", str(MESSAGE_BYTES), "-N"),
        *("-M", "client.example.com", "-f", SENDER, "-t", RECIPIENT, f"{LOOPBACK}:{port}"),
    ]


def _send(port: int, messages: int, next_hop: NextHop) -> Round:
    """smtp-source's load to ``port``, timed until smtp-source is done and until the next hop is."""
    command = smtp_source_command(port, messages)
    next_hop.expect(messages)
    started = time.monotonic()
    source = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, errors = source.communicate(timeout=ROUND_TIMEOUT)
    finally:
        if source.poll() is None:
            source.kill()
            source.wait()
    accepted = time.monotonic()
    if source.returncode != 0:
        raise RuntimeError(f"smtp-source failed ({source.returncode}): {errors.strip()}")
    relayed = next_hop.wait(max(1.0, started + ROUND_TIMEOUT - time.monotonic()))
    return Round(messages, accepted - started, relayed - started)


def _sent_delays(relay: Relay, messages: int, timeout: float = 30) -> list[float]:
    """Every status=sent line's delay=, once all ``messages`` are in the log (syslog may lag)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in relay.mail_log().splitlines() if "status=sent" in line]
        if len(lines) >= messages or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    delays = [float(found[1]) for line in lines if (found := re.search(r" delay=([0-9.]+),", line))]
    if len(delays) != messages:
        raise RuntimeError(f"{len(delays)} status=sent lines with a delay= for {messages} messages")
    return delays


def _relay_round(start: Callable[[], Relay], messages: int, next_hop: NextHop) -> Round:
    relay = start()
    try:
        time.sleep(SETTLE_SECONDS)
        result = _send(relay.port, messages, next_hop)
        result.delays = _sent_delays(relay, messages)
        return result
    except Exception as error:
        tail = "\n".join(relay.mail_log().splitlines()[-30:])
        raise RuntimeError(f"{error}\n--- the relay's mail log, last lines ---\n{tail}") from error
    finally:
        relay.stop()


def _rounds(paths: dict[str, Callable[[], Round]]) -> dict[str, list[Round]]:
    """ROUNDS rounds of every path, in reverse order every other round so drift hits each alike."""
    results: dict[str, list[Round]] = {name: [] for name in paths}
    for number in range(ROUNDS):
        for name in list(paths) if number % 2 == 0 else reversed(paths):
            print(f"bench: relay throughput, {name}, round {number + 1} of {ROUNDS} ...", end="", flush=True)
            results[name].append(paths[name]())
            print(f" {results[name][-1].rate:,.0f} msg/s", flush=True)
    return results


# --- the figures -------------------------------------------------------------------------------


def _median_round(rounds: list[Round]) -> Round:
    return sorted(rounds, key=lambda r: r.rate)[len(rounds) // 2]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(len(ordered) * fraction) - 1)]


def _row(path: str, rounds: list[Round], baseline: list[Round] | None = None, target: str = "") -> str:
    median = _median_round(rounds)
    rates = sorted(r.rate for r in rounds)
    ratio = f"{median.rate / _median_round(baseline).rate:.2f}x" if baseline else ""
    delays = [delay for r in rounds for delay in r.delays]
    latency = (
        f"{_percentile(delays, 0.5) * 1000:.0f} ms | {_percentile(delays, 0.99) * 1000:.0f} ms"
        if delays
        else " | "
    )
    return (
        f"| {path} | {median.messages:,} | **{median.rate:,.0f}** ({rates[0]:,.0f}-{rates[-1]:,.0f}) | "
        f"{median.messages / median.accepted_seconds:,.0f} | {latency} | {ratio} | {target} |"
    )


def run() -> list[str]:
    build_stock()
    with tempfile.TemporaryDirectory() as directory, SmtpSink() as sink:
        pki_dir = Path(directory)
        pki_dir.chmod(0o755)
        pki = create_pki(pki_dir, [SES_SMTP_NAME])
        pki.key_file.chmod(0o644)  # read by the sink container's Postfix, whatever uid it maps to

        direct = _rounds({"direct": lambda: _send(sink.port, MESSAGES, sink)})["direct"]

        tls_sink = TlsSink(pki_dir, sink)
        try:
            plain = _rounds(
                {
                    "stock Postfix": lambda: _relay_round(
                        lambda: StockRelay(pki_dir, tls_sink.port), MESSAGES, sink
                    ),
                    "ses-relay": lambda: _relay_round(
                        lambda: SesRelay(pki, tls_sink.port, NO_RATE_LIMIT), MESSAGES, sink
                    ),
                }
            )
        finally:
            tls_sink.stop()

        with SesSimulator(pki, SMTP_USERNAME, SMTP_PASSWORD, event_delay=(0, 0)) as simulator:
            ses = SimulatorCounter(simulator)
            simulated = _rounds(
                {
                    "stock Postfix via the SES simulator": lambda: _relay_round(
                        lambda: StockRelay(pki_dir, simulator.port), SIMULATOR_MESSAGES, ses
                    ),
                    "ses-relay via the SES simulator": lambda: _relay_round(
                        lambda: SesRelay(pki, simulator.port, NO_RATE_LIMIT), SIMULATOR_MESSAGES, ses
                    ),
                }
            )

    tls_sink_path = "TLS sink (stock Postfix smtpd, STARTTLS, verified) → `smtp-sink`"
    simulator_path = "SES simulator (STARTTLS, verified, AUTH PLAIN; aiosmtpd)"
    return [
        f"Every path gets the same load in the same run: `smtp-source -s {SESSIONS} -l {MESSAGE_BYTES} -N`",
        "(20 sessions, a connection per message). A message counts once the next hop has it (smtp-sink's",
        "counter, the simulator's 250), not when smtp-source is done (that is *accepted*). The relays",
        f"alternate over {ROUNDS} rounds, each a fresh container with its queue on a volume: msg/s is the",
        "median round (slowest-fastest). Both relays verify the next hop's certificate for ses-smtp.test",
        "against the same CA. Stock Postfix opens a TLS session per message (its default); ses-relay",
        "reuses them (see SES-native delivery) and is told that the account has no send-rate limit,",
        "as neither next hop has one (`SES_MAX_SEND_RATE="
        f"{NO_RATE_LIMIT['SES_MAX_SEND_RATE']}`): left at `auto`",
        "with no SES API to read, its pacer would start at 10 recipients/s and double every second.",
        "Latency is Postfix's `delay=` on every `status=sent` line of every round: MAIL FROM to the",
        "next hop's 250, while the whole burst is queued.",
        "",
        "| Path (all on loopback) | Messages | Relayed msg/s | Accepted msg/s | delay p50 | delay p99 "
        "| vs stock | target |",
        "|---|---|---|---|---|---|---|---|",
        _row("`smtp-source` → `smtp-sink` directly (the limit)", direct),
        _row(f"`smtp-source` → stock Postfix relay → {tls_sink_path}", plain["stock Postfix"]),
        _row(
            f"`smtp-source` → **ses-relay** → {tls_sink_path}",
            plain["ses-relay"],
            plain["stock Postfix"],
            ">= 0.95x",
        ),
        _row(
            f"`smtp-source` → stock Postfix relay → {simulator_path}",
            simulated["stock Postfix via the SES simulator"],
        ),
        _row(
            f"`smtp-source` → **ses-relay** → {simulator_path}",
            simulated["ses-relay via the SES simulator"],
            simulated["stock Postfix via the SES simulator"],
        ),
    ]
