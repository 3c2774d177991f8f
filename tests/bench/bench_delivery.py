"""SES-native delivery (issue 11): ses-relay next to stock Postfix, in front of a simulated SES account.

Every round starts a fresh SES simulator (devstack/ses_simulator.py, in this process: STARTTLS,
AUTH PLAIN, SES's replies, its per-account send rate in recipients per second, 20 ms added to
everything it sends) and a fresh relay container on the host network. Both relays verify the
simulator's certificate for ses-smtp.test against the same CA (level "secure") and log in with
the same SMTP credentials; stock Postfix is bench_relay.StockRelay: Debian's Postfix as a relay,
default queue settings (300 s backoff, a connection and a login per message).

The load is Postfix's smtp-source (bench_relay.smtp_source_command): 20 parallel sessions, one
recipient per message, as fast as the relay accepts. A round's clock starts when smtp-source does
(at most milliseconds before the relay accepts the first message); the drain ends at the
simulator's 250 for the last message (its accepted_at). 454 replies and messages per TLS session
come from the simulator's counters(); bounces from the relay's mail log (``status=bounced``).

``python -m tests.bench.bench_delivery`` prints the section; ``--quick`` runs one small round of
the first scenario for both relays (a smoke test, no BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from devstack.net import LOOPBACK, free_port
from devstack.ses_simulator import SesSimulator
from devstack.ses_smtp import ReceivedMessage
from devstack.tls import TestPki, create_pki
from ses_pacer.rate import KNOWN_RATE_DEEPEST_CUT, KNOWN_RATE_GENTLEST_CUT, KNOWN_RATE_MARGIN
from tests.bench.bench_image import build_stock
from tests.bench.bench_relay import (
    MESSAGE_BYTES,
    SESSIONS,
    SETTLE_SECONDS,
    SMTP_PASSWORD,
    SMTP_USERNAME,
    Relay,
    SesRelay,
    StockRelay,
    smtp_source_command,
)
from tests.harness.appliance import SES_SMTP_NAME
from tests.harness.localstack import DUMMY_CREDENTIALS

ACCOUNT_RATE = 50  # recipients per second
LATENCY = 0.02  # seconds the simulator adds to everything it sends: SES 20 ms away
BURST = 2000
IDEAL_SECONDS = BURST / ACCOUNT_RATE
STOCK_BOUND = 180  # seconds: how long stock Postfix's burst is given (its 454s wait 300 s or more)
OUTAGE_SECONDS = 60
OUTAGE_MESSAGES = 200
OUTAGE_BOUND = 60  # seconds after SES returns (twice the target)
# Rounds: the relays alternate within a scenario; each round is a fresh simulator and container.
PACED_ROUNDS = 3
ADAPTIVE_ROUNDS = 2
UNLIMITED_ROUNDS = 3
UNLIMITED_RATE = "100000"  # SES_MAX_SEND_RATE for an account without a limit: pacing never binds
QUICK_MESSAGES = 200
QUICK_STOCK_BOUND = 30
READY_TIMEOUT = 60

# What each ses-relay path is told, and the pacer's line that says it is ready.
KNOWN_RATE = {"SES_MAX_SEND_RATE": str(ACCOUNT_RATE)}
KNOWN_RATE_READY = r"ses-pacer\[\d+\]: pacing to SES at"
API_READY = r"ses-pacer\[\d+\]: SES's maximum send rate is"
NO_API_READY = r"ses-pacer\[\d+\]: cannot read SES's send rate"
DEFERRED = re.compile(r"status=deferred \((.*)\)$")
SENT_DELAYS = re.compile(r" delays=([0-9.]+)/([0-9.]+)/([0-9.]+)/([0-9.]+),.* status=sent ")


@dataclass(frozen=True)
class Account:
    """The simulated SES account of a scenario."""

    max_send_rate: float | None
    api: bool = False  # serve GetAccount, for SES_MAX_SEND_RATE=auto

    def simulator(self, pki: TestPki) -> SesSimulator:
        return SesSimulator(
            pki,
            SMTP_USERNAME,
            SMTP_PASSWORD,
            max_send_rate=self.max_send_rate,
            latency=LATENCY,
            event_delay=(0, 0),
            api_listen=(LOOPBACK, free_port()) if self.api else None,
        )


@dataclass(frozen=True)
class RelayPath:
    """How to start one relay against a simulator, and what says it is ready for the burst."""

    start: Callable[[SesSimulator], Relay]
    ready: str | None = None  # a mail-log pattern; None: SETTLE_SECONDS after its 220


@dataclass
class Delivery:
    """One round: what reached the simulator, how fast, and what it cost."""

    messages: int
    delivered: int  # by the end of the round (all, or as many as the bound allowed)
    seconds: float  # drain: the load's start to the last 250; or the bound, when not all arrived
    replies_454: int
    bounced: int
    answered: int  # transactions the simulator answered at the end of DATA (250 or not)
    tls_handshakes: int
    accepted_seconds: float  # smtp-source's run: until the relay had accepted every message
    after_return: float | None = None  # outage rounds: SES back to the last 250
    first_after_return: float | None = None  # ... and to the first
    delays: list[tuple[float, ...]] = field(default_factory=list)  # Postfix's delays=a/b/c/d, sent
    times: list[float] = field(default_factory=list)  # each 250, in seconds from the load's start
    load: float = 0.0  # the machine's 1-minute load average at the round's end (shared machines)
    pacer: list[str] = field(default_factory=list)
    deferrals: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def drained(self) -> bool:
        return self.delivered >= self.messages

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds

    @property
    def per_session(self) -> float:
        return self.answered / max(1, self.tls_handshakes)

    @property
    def steady_rate(self) -> float:
        """Messages a second SES took over the middle half of the drain (no start, no tail)."""
        if len(self.times) < 2:
            return 0.0
        first, last = self.times[0], self.times[-1]
        low, high = first + (last - first) / 4, first + 3 * (last - first) / 4
        return sum(low <= t < high for t in self.times) / (high - low)

    @property
    def rate_cuts(self) -> int:
        """How often ses-relay's pacer lowered its rate after a 454."""
        return sum("SES throttled the send rate" in line for line in self.pacer)


def _wait_ready(relay: Relay, pattern: str | None) -> None:
    if pattern is None:
        time.sleep(SETTLE_SECONDS)
        return
    deadline = time.monotonic() + READY_TIMEOUT
    while not re.search(pattern, relay.mail_log()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {pattern!r} in the relay's mail log within {READY_TIMEOUT}s")
        time.sleep(0.2)


def _submit(port: int, messages: int) -> None:
    source = subprocess.run(
        smtp_source_command(port, messages), capture_output=True, text=True, timeout=300, check=False
    )
    if source.returncode != 0:
        raise RuntimeError(f"smtp-source failed ({source.returncode}): {source.stderr.strip()}")


def _keep(log: list[str], received: list[ReceivedMessage], started: float) -> None:
    """With BENCH_DELIVERY_LOGS=DIR, a round's mail log and the simulator's 250 times go there."""
    directory = os.environ.get("BENCH_DELIVERY_LOGS")
    if not directory:
        return
    stem = Path(directory) / f"{time.strftime('%H%M%S')}-{len(log)}"
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".mail.log").write_text("\n".join(log) + "\n", encoding="utf-8")
    times = [f"{m.accepted_at.timestamp() - started:.3f}" for m in received]
    stem.with_suffix(".accepted").write_text("\n".join(times) + "\n", encoding="utf-8")


def _deferral_reason(line: str) -> str:
    found = DEFERRED.search(line)
    # Queue IDs, addresses and ports vary; the reply's words are what matter.
    return re.sub(r"\[[0-9.]+\]:\d+|\d+(\.\d+)?", "N", found[1])[:120] if found else ""


def _round(
    pki: TestPki,
    path: RelayPath,
    account: Account,
    messages: int,
    bound: float,
    outage: float = 0.0,
    after_first_pass: Callable[[], None] | None = None,
) -> Delivery:
    """One round: ``messages`` into a fresh relay, waiting at most ``bound`` seconds for them all
    (from the load's start; with an ``outage``, from SES's return). ``after_first_pass`` is called
    once every message has been answered once by the simulator (stock Postfix then waits idle)."""
    with account.simulator(pki) as simulator:
        relay = path.start(simulator)
        try:
            _wait_ready(relay, path.ready)
            if outage:
                simulator.set_outage("refuse")
            down_at = time.monotonic()
            started = time.time()
            _submit(relay.port, messages)
            accepted = time.time() - started
            back = None
            deadline = down_at + bound
            if outage:
                time.sleep(max(0.0, down_at + outage - time.monotonic()))
                simulator.set_outage(None)
                back = time.time()
                deadline = time.monotonic() + bound
            while len(simulator.messages) < messages and time.monotonic() < deadline:
                if (
                    after_first_pass is not None
                    and sum(simulator.counters().messages_per_session) >= messages
                ):
                    after_first_pass()
                    after_first_pass = None
                time.sleep(0.2)
            if after_first_pass is not None:
                after_first_pass()
            received = simulator.messages
            counters = simulator.counters()
            time.sleep(1)  # for the last lines to reach the mail log
            log = relay.mail_log().splitlines()
            _keep(log, received, started)
        finally:
            relay.stop()
    drained = len(received) >= messages
    times = [message.accepted_at.timestamp() for message in received]
    last = times[-1] if times else started
    returned = [t - back for t in times if back is not None and t >= back]
    return Delivery(
        messages=messages,
        delivered=len(received),
        seconds=last - started if drained else bound + (back - started if back else 0.0),
        replies_454=sum(counters.replies_454.values()),
        bounced=sum("status=bounced" in line for line in log),
        answered=sum(counters.messages_per_session),
        tls_handshakes=counters.tls_handshakes,
        accepted_seconds=accepted,
        after_return=last - back if back is not None and drained else None,
        first_after_return=returned[0] if returned else None,
        delays=[tuple(map(float, found.groups())) for line in log if (found := SENT_DELAYS.search(line))],
        times=[t - started for t in times],
        load=os.getloadavg()[0],
        pacer=[line for line in log if "postfix/ses-pacer[" in line],
        deferrals=collections.Counter(_deferral_reason(line) for line in log if "status=deferred" in line),
    )


def _progress(name: str, result: Delivery) -> None:
    ending = f"drain {result.seconds:.1f} s" if result.drained else f"{result.delivered} of {result.messages}"
    if result.after_return is not None:
        ending += f", last {result.after_return:.1f} s after SES returned"
    print(
        f" {ending}, {result.replies_454} x 454, {result.bounced} bounced, "
        f"{result.per_session:.1f} msg/TLS session",
        flush=True,
    )
    pacer = result.pacer if len(result.pacer) <= 8 else [*result.pacer[:4], "...", *result.pacer[-4:]]
    for line in pacer:
        print(f"    {line}", flush=True)
    for reason, count in result.deferrals.most_common(3):
        print(f"    deferred x{count}: {reason}", flush=True)


def _alternate(
    scenario: str, paths: Mapping[str, Callable[[], Delivery]], rounds: int
) -> dict[str, list[Delivery]]:
    """``rounds`` rounds of every path, in reverse order every other round so drift hits each alike."""
    results: dict[str, list[Delivery]] = {name: [] for name in paths}
    for number in range(rounds):
        for name in list(paths) if number % 2 == 0 else reversed(paths):
            print(
                f"bench: delivery, {scenario}, {name}, round {number + 1} of {rounds} ...", end="", flush=True
            )
            results[name].append(paths[name]())
            _progress(name, results[name][-1])
    return results


# --- the scenarios -----------------------------------------------------------------------------


PACED = Account(ACCOUNT_RATE)
PACED_WITH_API = Account(ACCOUNT_RATE, api=True)
UNLIMITED = Account(None)


@dataclass
class Results:
    known: list[Delivery]  # row 1, ses-relay told the rate
    from_api: list[Delivery]  # row 1, ses-relay reading it from the account's API
    stock_burst: Delivery  # rows 1 and 2, stock Postfix (it is never told the rate)
    adaptive: list[Delivery]  # row 2, ses-relay finding the rate
    unlimited: dict[str, list[Delivery]]  # row 3, "stock" and "ours"
    outage: dict[str, Delivery]  # row 4, "stock" and "ours"

    def every(self) -> list[Delivery]:
        return [
            *self.known,
            *self.from_api,
            self.stock_burst,
            *self.adaptive,
            *self.unlimited["stock"],
            *self.unlimited["ours"],
            *self.outage.values(),
        ]


def _paths(pki: TestPki, pki_dir: Path) -> dict[str, RelayPath]:
    credentials = {name: value for name, value in DUMMY_CREDENTIALS.items() if not name.endswith("REGION")}
    return {
        "stock": RelayPath(lambda ses: StockRelay(pki_dir, ses.port)),
        "known": RelayPath(lambda ses: SesRelay(pki, ses.port, KNOWN_RATE), KNOWN_RATE_READY),
        "api": RelayPath(
            lambda ses: SesRelay(
                pki,
                ses.port,
                {"SES_MAX_SEND_RATE": "auto", "AWS_ENDPOINT_URL_SESV2": ses.api_url, **credentials},
            ),
            API_READY,
        ),
        # No AWS credentials in the container, and no metadata service (the harness disables it).
        "no api": RelayPath(lambda ses: SesRelay(pki, ses.port, {"SES_MAX_SEND_RATE": "auto"}), NO_API_READY),
        "unlimited": RelayPath(
            lambda ses: SesRelay(pki, ses.port, {"SES_MAX_SEND_RATE": UNLIMITED_RATE}), KNOWN_RATE_READY
        ),
    }


def _stock_waits(pki: TestPki, stock: RelayPath) -> tuple[Delivery, Delivery]:
    """Stock Postfix's burst and outage rounds, overlapped: the outage round (SES refusing, then
    Postfix's backoff) starts once the burst round's first pass is over and that relay only
    waits for its 300 s backoff, so neither round shares the machine with the other's work."""
    print("bench: delivery, stock Postfix: the burst (and, once its first pass is over, the outage) ...")
    with ThreadPoolExecutor(1) as pool:
        outage: list[Future[Delivery]] = []

        def start_outage() -> None:
            outage.append(
                pool.submit(_round, pki, stock, PACED, OUTAGE_MESSAGES, OUTAGE_BOUND, outage=OUTAGE_SECONDS)
            )

        burst = _round(pki, stock, PACED, BURST, STOCK_BOUND, after_first_pass=start_outage)
        print("bench: delivery, stock Postfix, burst:", end="")
        _progress("stock", burst)
        down = outage[0].result()
        print("bench: delivery, stock Postfix, outage:", end="")
        _progress("stock", down)
    return burst, down


def measure(pki: TestPki, pki_dir: Path) -> Results:
    paths = _paths(pki, pki_dir)
    bound = 4 * IDEAL_SECONDS  # for ses-relay's burst rounds: a miss is still measured

    def burst(path: str, account: Account = PACED) -> Callable[[], Delivery]:
        return lambda: _round(pki, paths[path], account, BURST, bound)

    known = _alternate("2,000 at 50/s", {"ses-relay, SES_MAX_SEND_RATE=50": burst("known")}, PACED_ROUNDS)
    from_api = _alternate("2,000 at 50/s", {"ses-relay, auto from the API": burst("api", PACED_WITH_API)}, 1)
    stock_burst, stock_outage = _stock_waits(pki, paths["stock"])
    adaptive = _alternate("2,000 at 50/s", {"ses-relay, auto, no API": burst("no api")}, ADAPTIVE_ROUNDS)
    unlimited = _alternate(
        "2,000, no limit",
        {
            "stock": lambda: _round(pki, paths["stock"], UNLIMITED, BURST, bound),
            "ours": lambda: _round(pki, paths["unlimited"], UNLIMITED, BURST, bound),
        },
        UNLIMITED_ROUNDS,
    )
    print("bench: delivery, SES down 60 s, ses-relay ...", end="", flush=True)
    ours_outage = _round(pki, paths["known"], PACED, OUTAGE_MESSAGES, OUTAGE_BOUND, outage=OUTAGE_SECONDS)
    _progress("ours", ours_outage)
    return Results(
        known=next(iter(known.values())),
        from_api=next(iter(from_api.values())),
        stock_burst=stock_burst,
        adaptive=next(iter(adaptive.values())),
        unlimited=unlimited,
        outage={"stock": stock_outage, "ours": ours_outage},
    )


# --- the figures -------------------------------------------------------------------------------


def _median(rounds: list[Delivery], key: Callable[[Delivery], float]) -> float:
    return statistics.median(key(r) for r in rounds)


def _range(values: list[float], text: str) -> str:
    return f" ({text.format(min(values))}-{text.format(max(values))})" if len(values) > 1 else ""


def _ideal(rounds: list[Delivery]) -> float:
    return rounds[0].messages / ACCOUNT_RATE


def _drain(rounds: list[Delivery]) -> tuple[str, float]:
    """A burst's result cell and its median drain over the ideal (inf when a round did not drain)."""
    if not all(r.drained for r in rounds):
        worst = min(rounds, key=lambda r: r.delivered)
        cell = f"{worst.delivered:,} of {worst.messages:,} delivered after {worst.seconds:.0f} s"
        return cell, float("inf")
    drains = [r.seconds for r in rounds]
    median = statistics.median(drains)
    return f"drain **{median:.1f} s**{_range(drains, '{:.1f}')}", median / _ideal(rounds)


def _common(rounds: list[Delivery]) -> str:
    """The cells every row has: 454s per round, bounces, messages per TLS session."""
    counts = [r.replies_454 for r in rounds]
    worst = f"{max(counts) / rounds[0].messages:.1%} of messages" + (
        ", worst round" if len(counts) > 1 else ""
    )
    per_session = _median(rounds, lambda r: r.per_session)
    bounced = sum(r.bounced for r in rounds)
    return f"{', '.join(f'{n:,}' for n in counts)} ({worst}) | {bounced} | {per_session:.1f}"


def _met(ok: bool) -> str:
    return "**yes**" if ok else "**no**"


def _burst_row(scenario: str, relay: str, rounds: list[Delivery], most: float, most_454: float | None) -> str:
    cell, ratio = _drain(rounds)
    ok = ratio <= most and sum(r.bounced for r in rounds) == 0
    target = f"drain <= {most:g}x ideal ({most * _ideal(rounds):.0f} s)"
    if most_454 is not None:
        ok = ok and max(r.replies_454 for r in rounds) <= most_454 * rounds[0].messages
        target += f", <= {most_454:.0%} 454"
    shown = f"{ratio:.2f}x ideal" if ratio != float("inf") else ""
    return (
        f"| {scenario} | {relay} | {len(rounds)} | {cell} | {shown} | {_common(rounds)} "
        f"| {target}, 0 bounced | {_met(ok)} |"
    )


def _stock_burst_row(scenario: str, stock: Delivery) -> str:
    cell = f"**{stock.delivered:,} of {stock.messages:,}** delivered after {stock.seconds:.0f} s"
    if stock.drained:
        cell = f"drain **{stock.seconds:.1f} s**"
    relay = "stock Postfix (also row 2's baseline: it is never told the rate)"
    return f"| {scenario} | {relay} | 1 | {cell} | | {_common([stock])} | (baseline) | |"


def _outage_cell(result: Delivery) -> str:
    if result.after_return is None:
        return f"**{result.delivered} of {result.messages}** delivered {OUTAGE_BOUND} s after SES returned"
    first = f"first {result.first_after_return:.1f} s, " if result.first_after_return is not None else ""
    return f"{first}last message **{result.after_return:.1f} s** after SES returned"


HEADER = [
    "| Scenario (SES simulator, 20 ms away) | Relay | Rounds | Result: median (range) | vs ideal / stock "
    "| 454 replies per round | Bounced | Messages per TLS session | Target | Met |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


def table(results: Results) -> list[str]:
    rates = {name: [r.rate for r in rounds] for name, rounds in results.unlimited.items()}
    ratio = statistics.median(rates["ours"]) / statistics.median(rates["stock"])
    per_round = ", ".join(f"{o / s:.1f}" for o, s in zip(rates["ours"], rates["stock"], strict=True))
    ours_unlimited = results.unlimited["ours"]
    unlimited_ok = ratio >= 3 and _median(ours_unlimited, lambda r: r.per_session) >= 10
    outage = results.outage
    ours_back = outage["ours"].after_return
    burst = f"{BURST:,}-recipient burst, {ACCOUNT_RATE}/s account"
    known = f"**ses-relay**, `SES_MAX_SEND_RATE={ACCOUNT_RATE}`"
    no_limit = f"{BURST:,} messages, no rate limit"
    down = f"SES down {OUTAGE_SECONDS} s (refusing connections), {OUTAGE_MESSAGES} messages queued, then back"

    def rate_cell(name: str) -> str:
        return f"**{statistics.median(rates[name]):.0f} msg/s**{_range(rates[name], '{:.0f}')}"

    return [
        *HEADER,
        _burst_row(burst, known, results.known, 1.15, 0.01),
        _burst_row(burst, "**ses-relay**, `auto`, read from the account's API", results.from_api, 1.15, 0.01),
        _stock_burst_row(burst, results.stock_burst),
        _burst_row(
            f"same, relay not told the rate ({ACCOUNT_RATE}/s)",
            "**ses-relay**, `auto`, no SES API reachable",
            results.adaptive,
            2,
            None,
        ),
        f"| {no_limit} | stock Postfix | {len(rates['stock'])} | {rate_cell('stock')} | "
        f"| {_common(results.unlimited['stock'])} | (baseline) | |",
        f"| {no_limit} | **ses-relay**, `SES_MAX_SEND_RATE={UNLIMITED_RATE}` | {len(rates['ours'])} | "
        f"{rate_cell('ours')} | **{ratio:.1f}x stock** (rounds: {per_round}) | {_common(ours_unlimited)} | "
        f">= 3x stock, >= 10 per TLS session | {_met(unlimited_ok)} |",
        f"| {down} | stock Postfix | 1 | {_outage_cell(outage['stock'])} | | {_common([outage['stock']])} "
        "| (baseline) | |",
        f"| same | {known} | 1 | {_outage_cell(outage['ours'])} | | {_common([outage['ours']])} "
        f"| last message <= 30 s after SES returns | {_met(ours_back is not None and ours_back <= 30)} |",
    ]


def _delays(rounds: list[Delivery], index: int) -> float:
    """The median of one part of Postfix's delays=a/b/c/d over every message sent in ``rounds``."""
    return statistics.median(delays[index] for r in rounds for delays in r.delays)


def _wrap(paragraphs: list[str]) -> list[str]:
    """Paragraphs (and "- " bullets) as BENCHMARKS.md's other prose is: lines of at most 100."""
    lines: list[str] = []
    for paragraph in paragraphs:
        indent = "  " if paragraph.startswith("- ") else ""
        lines += textwrap.wrap(paragraph, 100, subsequent_indent=indent, break_on_hyphens=False) or [""]
    return lines


def notes(results: Results) -> list[str]:
    """What the mail logs and the simulator say behind the figures, measured in this run."""
    return _wrap(_notes(results))


def _notes(results: Results) -> list[str]:
    floor = BURST / (ACCOUNT_RATE * KNOWN_RATE_MARGIN)
    cuts = ", ".join(str(r.rate_cuts) for r in results.known + results.from_api)
    steady = ", ".join(f"{r.steady_rate:.1f}" for r in results.known + results.from_api)
    bursts = {
        "ses-relay": [*results.known, *results.adaptive, *results.unlimited["ours"]],
        "stock Postfix": [results.stock_burst, *results.unlimited["stock"]],
    }
    accepted = {name: [r.accepted_seconds for r in rounds] for name, rounds in bursts.items()}
    ours, stock = results.unlimited["ours"], results.unlimited["stock"]
    outage = results.outage["ours"]
    return [
        "- Load: smtp-source had every message of a 2,000 burst accepted in "
        + ", ".join(f"{statistics.median(v):.1f} s by {name}" for name, v in accepted.items())
        + " (median), while the drains above take tens of seconds: the relay is what is measured.",
        f"- Row 1: with a known rate, ses-relay paces at {KNOWN_RATE_MARGIN:.0%} of it, so {floor:.1f} s "
        f"({floor / IDEAL_SECONDS:.2f}x ideal) is its floor, plus the warm-up (a third of the rate in the "
        "first second, two thirds in the next, while Postfix opens its sessions); a 454 also cuts the "
        f"pacer's rate by the share of the last second's recipients SES throttled, to between "
        f"{KNOWN_RATE_GENTLEST_CUT:.0%} and {KNOWN_RATE_DEEPEST_CUT:.0%} (`SES throttled the send rate ... "
        "pacing at ...`), from which it "
        f"climbs back over seconds. Cuts per round (row 1, in table order): {cuts}. Over the middle half "
        f"of each drain SES took {steady} messages a second (row 1, in table order).",
        f"- Row 3, per message sent (medians of Postfix's `delays=a/b/c/d`): stock Postfix sets up a "
        f"connection (TLS, AUTH) in c = {_delays(stock, 2) * 1000:.0f} ms and transmits in "
        f"d = {_delays(stock, 3) * 1000:.0f} ms; ses-relay, on reused sessions, c = "
        f"{_delays(ours, 2) * 1000:.0f} ms and d = {_delays(ours, 3) * 1000:.0f} ms. Stock Postfix delivers "
        "over its default 20 parallel connections, ses-relay over up to 50 "
        "(`smtp_destination_concurrency_limit`); the simulator, as SES, offers no PIPELINING, so MAIL, "
        "RCPT, DATA and the end of data each wait a 20 ms round trip. ses-relay's `tlsproxy` writes a "
        "message in 4 KB TLS records; with Nagle's algorithm on (before `tcp_nodelay.so`), the end of "
        "data also waited for the simulator's delayed acknowledgement: d was 140 ms.",
        f"- Row 4: SES took ses-relay's first queued message {outage.first_after_return or 0:.1f} s after it "
        "returned: the queued mail waits for its next retry (Postfix's backoff, 10-20 s in ses-relay)"
        + (
            f", then goes out at once: SES answered {outage.replies_454} of it 454 (re-held and paced)."
            if outage.replies_454
            else "."
        ),
    ]


DESCRIPTION = [
    "Each scenario runs both relays in the same run against the SES simulator (devstack/ses_simulator.py, "
    f"in the benchmark's process): STARTTLS with a certificate for ses-smtp.test, AUTH PLAIN, "
    f"{LATENCY * 1000:.0f} ms added to everything it sends (SES that far away), SES's 454 over the "
    "account's send rate (recipients in a sliding second) and its 350-message session cap. Both relays "
    "verify its certificate against the same CA (`secure`) and log in with the same credentials. Stock "
    "Postfix is Debian's with only a relay's settings: default queue settings (300 s backoff) and a "
    "connection, TLS handshake and AUTH per message. Every round is a fresh simulator and a fresh container "
    "(queue on a volume, host network, all on loopback); within a scenario the relays alternate.",
    "",
    f"Load: Postfix's `smtp-source -s {SESSIONS} -l {MESSAGE_BYTES} -N` ({SESSIONS} parallel sessions, one "
    "recipient per message, as fast as the relay accepts them), once the relay is ready (ses-relay: its "
    "pacer has logged the rate it uses). *Drain*: from smtp-source's start (the relay accepts the first "
    "message milliseconds later) to the simulator's 250 for the last message; msg/s is messages over the "
    "drain. 454 replies and messages per TLS session (transactions over TLS handshakes) are the "
    "simulator's counters; *bounced* counts `status=bounced` in the relay's mail log. *Met* judges the "
    f"median round and the worst round's 454s. Stock Postfix's burst is given {STOCK_BOUND} s (its 454s "
    f"wait out its 300 s backoff) and its outage round {OUTAGE_BOUND} s after SES returns. To fit the "
    "time, its outage round runs while its burst round only waits: it starts once the simulator has "
    "answered every message of the burst once.",
]


def _pki(directory: Path) -> TestPki:
    directory.chmod(0o755)
    return create_pki(directory, [SES_SMTP_NAME])


def run() -> list[str]:
    build_stock()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as directory:
        pki_dir = Path(directory)
        results = measure(_pki(pki_dir), pki_dir)
    minutes = (time.monotonic() - started) / 60
    loads = [r.load for r in results.every()]
    took = (
        f"This section took {minutes:.0f} minutes on this machine; its 1-minute load average at the end "
        f"of each round was {min(loads):.1f} to {max(loads):.1f} ({os.cpu_count()} cores)."
    )
    return [*_wrap(DESCRIPTION), "", *table(results), "", *notes(results), "", *_wrap([took])]


def quick() -> int:
    """One small round of the first scenario for each relay: the rows, printed."""
    build_stock()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as directory:
        pki_dir = Path(directory)
        pki = _pki(pki_dir)
        paths = _paths(pki, pki_dir)
        print("bench: delivery --quick, ses-relay ...", end="", flush=True)
        ours = _round(pki, paths["known"], PACED, QUICK_MESSAGES, 4 * QUICK_MESSAGES / ACCOUNT_RATE)
        _progress("ours", ours)
        print("bench: delivery --quick, stock Postfix ...", end="", flush=True)
        stock = _round(pki, paths["stock"], PACED, QUICK_MESSAGES, QUICK_STOCK_BOUND)
        _progress("stock", stock)
    scenario = f"{QUICK_MESSAGES:,}-recipient burst, {ACCOUNT_RATE}/s account"
    relay = f"**ses-relay**, `SES_MAX_SEND_RATE={ACCOUNT_RATE}`"
    rows = [*HEADER, _burst_row(scenario, relay, [ours], 1.15, 0.01), _stock_burst_row(scenario, stock)]
    print("\n".join(rows))
    print(f"({time.monotonic() - started:.0f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_delivery", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one small round of the first scenario")
    args = parser.parse_args(argv)
    if args.quick:
        return quick()
    print("\n".join(run()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
