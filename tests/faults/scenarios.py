"""The scenarios: one fault each, injected into the real image under a steady load.

A scenario starts its own stack (stack.py), sends ``Scale.rate`` messages a second for
``before + fault + after`` seconds (load.py), injects its fault ``before`` seconds in, waits until
everything is accounted for, and counts (tally.py). ``run`` returns one table row.

Kills are ``kill -9`` inside the container. When the container exits, it is started again as
Docker's restart policy or ECS would (``docker start``: same container, same volumes), and the
row says so.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.tls import TestPki
from tests.faults.load import Load
from tests.faults.stack import STOP_TIMEOUT, FaultStack
from tests.faults.tally import Counts, MailLogWatcher, count, settle
from tests.harness.waiting import wait_until

MASTER_PID = "/var/spool/postfix/pid/master.pid"
SUPERVISORD_PID = "/run/supervisord.pid"
LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")
CLOCK_JUMP = "+2h"
# libfaketime 0.9.10 reads "+0" (and "-0") so that every poll() with a timeout fails with EINVAL,
# which stalls the pacer's subprocesses; "+0s" is the same offset without that.
NO_OFFSET = "+0s\n"
LOG_TMPFS_SIZE = "16m"
FILLER = "/var/log/faults-filler"


@dataclass(frozen=True)
class Scale:
    name: str
    rate: float  # messages a second
    before: float  # seconds of load before the fault
    fault: float  # seconds a lasting fault lasts
    after: float  # seconds of load after it
    burst: int  # messages in the docker stop burst
    visibility_timeout: int  # SES_EVENTS_VISIBILITY_TIMEOUT
    settle: float  # seconds allowed for everything to be accounted for

    @property
    def duration(self) -> float:
        return self.before + self.fault + self.after


FULL = Scale("full", rate=5, before=15, fault=60, after=25, burst=1000, visibility_timeout=60, settle=420)
SHORT = Scale("short", rate=3, before=5, fault=10, after=5, burst=120, visibility_timeout=15, settle=150)


@dataclass
class Context:
    stack: FaultStack
    load: Load
    scale: Scale
    container: str = "kept running"
    notes: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)  # what the scenario's stack_options made


@dataclass(frozen=True)
class Scenario:
    name: str
    injected: str  # what is done, at full scale
    inject: Callable[[Context], float]  # does it; returns when the fault ended (time.time())
    explanation: str = ""  # why the counts are what they are, where that needs saying
    # FaultStack's options (and ``extras``), made in a work directory; cleanups go on the ExitStack.
    stack_options: Callable[[Scale, Path, contextlib.ExitStack], dict[str, Any]] = lambda *_: {}
    steady_load: bool = True
    cannot_run: Callable[[], str | None] = lambda: None


@dataclass
class Row:
    scenario: Scenario
    counts: Counts = field(default_factory=Counts)
    container: str = ""
    notes: list[str] = field(default_factory=list)
    settled: bool = True
    not_run: str | None = None


# --- what happened inside ------------------------------------------------------------------


def _read_pid(stack: FaultStack, path: str) -> int | None:
    text = stack.sh(f"cat {path}").stdout.strip()
    return int(text) if text.isdigit() else None


def _restarts(logs: str) -> str:
    """supervisord's "exited: NAME (...)" lines that were not a stop on purpose, per program."""
    exits = Counter(
        found[1] for found in re.finditer(r"exited: (\S+) \((?!terminated by SIGTERM)[^)]*\)", logs)
    )
    return ", ".join(f"{name} x{n}" for name, n in sorted(exits.items()))


def _await_recovery(context: Context, is_back: Callable[[], bool], what: str) -> None:
    """The container either heals itself (``is_back``) or exits; then it is started again."""
    stack = context.stack
    killed_at = time.monotonic()
    state = wait_until(
        lambda: (
            "exited" if not stack.relay.is_running() else "back" if is_back() and stack.is_healthy() else None
        ),
        timeout=120,
        what=f"{what} back, or the container to exit",
    )
    took = time.monotonic() - killed_at
    if state == "back":
        context.container = f"recovered by itself in {took:.0f} s ({what})"
        return
    code = stack.relay.exit_code()
    stack.restart_like_an_orchestrator()
    context.container = (
        f"exited {code} after {took:.0f} s; started again (docker start), healthy "
        f"{time.monotonic() - killed_at:.0f} s after the kill"
    )


def _kill(context: Context, pid_of: Callable[[], int | None], what: str) -> float:
    """``kill -9`` the process ``pid_of`` names; then wait for another in its place (``what``)."""
    pid = pid_of()
    assert pid, f"nothing running before: {what}"
    context.stack.sh(f"kill -9 {pid}")
    killed = time.time()

    def replaced() -> bool:
        now = pid_of()
        return now not in (None, pid) and context.stack.sh(f"kill -0 {now}").returncode == 0

    _await_recovery(context, replaced, what)
    return killed


def _kill_program(program: str) -> Callable[[Context], float]:
    return lambda context: _kill(
        context, lambda: context.stack.program_pid(program), f"supervisord restarted {program}"
    )


def _kill_master(context: Context) -> float:
    return _kill(context, lambda: _read_pid(context.stack, MASTER_PID), "supervisord restarted Postfix")


def _kill_supervisord(context: Context) -> float:
    return _kill(context, lambda: _read_pid(context.stack, SUPERVISORD_PID), "a new supervisord")


def _ses_outage(kind: str) -> Callable[[Context], float]:
    def inject(context: Context) -> float:
        simulator = context.stack.simulator
        simulator.set_outage(kind)
        try:
            time.sleep(context.scale.fault)  # the outage itself
        finally:
            simulator.set_outage(None)
        return time.time()

    return inject


def _cut_sqs(context: Context) -> float:
    proxy = context.stack.proxy
    assert proxy is not None
    published = len(context.stack.simulator.publisher.published)
    proxy.cut()
    try:
        time.sleep(context.scale.fault)  # SQS unreachable while SES keeps publishing
    finally:
        proxy.restore()
    during = len(context.stack.simulator.publisher.published) - published
    context.notes.append(f"{during} events published to SNS while the relay could not reach SQS")
    return time.time()


def _docker_stop_in_a_burst(context: Context) -> float:
    stack, load = context.stack, context.load
    load.burst(context.scale.burst, sessions=10)
    wait_until(lambda: load.accepted_count() >= context.scale.burst // 2, 300, "half the burst accepted")
    accepted_then = load.accepted_count()
    stopping = time.monotonic()
    code = stack.relay.stop(timeout=STOP_TIMEOUT)
    took = time.monotonic() - stopping
    accepted = {attempt.recipient for attempt in load.by_outcome()["accepted"]}
    at_ses = {rcpt for message in stack.simulator.messages for rcpt in message.rcpt_tos}
    load.wait()
    context.container = (
        f"docker stop -t {STOP_TIMEOUT} at {accepted_then} accepted: exit {code} after {took:.0f} s"
    )
    context.notes.append(
        f"when the stop returned: {len(accepted)} accepted (sessions already open go on during the "
        f"drain), {len(accepted & at_ses)} at SES (the drain hands mail over at the pacer's rate, "
        f"for up to 40 s), {len(accepted - at_ses)} left queued for after the start"
    )
    restarted = time.time()
    stack.restart_like_an_orchestrator()
    return restarted


def _fill_the_log_volume(context: Context) -> float:
    stack = context.stack
    filler = context.extras["log_dir"] / "faults-filler"
    with filler.open("wb") as handle, contextlib.suppress(OSError):  # until ENOSPC
        while True:
            handle.write(bytes(1 << 16))
            handle.flush()
    context.notes.append(f"/var/log (a {LOG_TMPFS_SIZE} tmpfs) full")
    try:
        time.sleep(context.scale.fault)  # the volume stays full
        if stack.relay.is_running():
            health = stack.relay.exec("ses-relay-healthcheck", check=False).stdout.strip()
            context.notes.append(f"health check at the end of the fault: {health}")
    finally:
        filler.unlink()
    freed = time.time()
    if not stack.relay.is_running():
        code = stack.relay.exit_code()
        context.container = (
            f"exited {code} while the volume was full; started again (docker start) once it was not"
        )
        stack.restart_like_an_orchestrator()
    return freed


def _remove_dev_log(context: Context) -> float:
    stack = context.stack
    stack.sh("rm -f /dev/log")
    try:
        time.sleep(context.scale.fault)  # mail flows with no /dev/log
    finally:
        recreated = stack.sh("test -S /dev/log").returncode == 0
        health = stack.relay.exec("ses-relay-healthcheck", check=False).stdout.strip()
        context.notes.append(
            f"after {context.scale.fault:.0f} s /dev/log was {'back' if recreated else 'still gone'}; "
            f"health check: {health}"
        )
    window_end = time.time()
    if not stack.is_healthy():
        stack.restart_like_an_orchestrator()
        context.container = (
            f"ran on, unhealthy; restarted (docker restart -t {STOP_TIMEOUT}) as ECS replaces it"
        )
    return window_end


def _jump_the_clock(context: Context) -> float:
    rc_file = context.extras["faketime_rc"]
    rc_file.write_text(f"{CLOCK_JUMP}\n")
    wait_until(lambda: _clock_offset(context.stack) > 3600, 30, "the container's clock to jump")
    context.notes.append(f"container clock {_clock_offset(context.stack):+.0f} s, then back")
    try:
        time.sleep(context.scale.fault)  # the clock runs 2 h ahead
    finally:
        rc_file.write_text(NO_OFFSET)
    wait_until(lambda: abs(_clock_offset(context.stack)) < 60, 30, "the container's clock to jump back")
    return time.time()


def _clock_offset(stack: FaultStack) -> float:
    inside = stack.sh("date +%s").stdout.strip()
    return float(inside) - time.time() if inside.isdigit() else 0.0


def _faketime_stack(_scale: Scale, workdir: Path, _cleanup: contextlib.ExitStack) -> dict[str, Any]:
    directory = workdir / "faketime"
    directory.mkdir()
    shutil.copy(LIBFAKETIME, directory / "libfaketime.so.1")
    (directory / "faketimerc").write_text(NO_OFFSET)
    directory.chmod(0o755)
    return {
        "mounts": [(directory, "/faketime")],
        "settings": {
            "LD_PRELOAD": "/faketime/libfaketime.so.1",
            "FAKETIME_TIMESTAMP_FILE": "/faketime/faketimerc",
            "FAKETIME_CACHE_DURATION": "1",
            # Only the wall clock jumps, as it does for a real clock: monotonic clocks never do.
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        },
        "extras": {"faketime_rc": directory / "faketimerc"},
    }


def _small_log_volume(_scale: Scale, workdir: Path, cleanup: contextlib.ExitStack) -> dict[str, Any]:
    """A tmpfs mounted on the host, not by Docker: Docker's own goes with the container at a stop,
    and so would the mail log that the count reads after a restart."""
    directory = workdir / "log"
    directory.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={LOG_TMPFS_SIZE}", "tmpfs", str(directory)], check=True
    )
    cleanup.callback(subprocess.run, ["umount", str(directory)], check=False)
    return {"docker_args": ["--volume", f"{directory}:/var/log"], "extras": {"log_dir": directory}}


def _cannot_mount() -> str | None:
    if os.geteuid() == 0 and shutil.which("mount"):
        return None
    return "needs root on the host, to mount a small tmpfs that outlives the container"


def _no_libfaketime() -> str | None:
    if LIBFAKETIME.exists():
        return None
    return (
        f"{LIBFAKETIME} is missing (apt-get install libfaketime); a container's clock cannot be changed alone"
    )


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "postfix-master-kill",
            "`kill -9` of Postfix's master",
            _kill_master,
            "Postfix's other processes end with their master and supervisord starts Postfix again. "
            "Queued mail is on disk; a session open at the kill ends without its 250, so its client "
            "keeps that mail.",
        ),
        Scenario(
            "rsyslog-kill",
            "`kill -9` of rsyslogd",
            _kill_program("rsyslog"),
            "supervisord starts rsyslog again. While /dev/log is gone the logger takes nothing and "
            "keeps what it could not write in the queue. Lines rsyslog had read but not yet written "
            "die with it: the logger deletes an event only once it has read its lines back from the "
            "mail log, so such an event comes back after the visibility timeout and its missing "
            "lines are written then (the recovery is mostly that timeout).",
        ),
        Scenario(
            "event-logger-kill",
            "`kill -9` of the event logger (`ses-events run`)",
            _kill_program("ses-events"),
            "Events it had received come back after the visibility timeout; one recorded as pending "
            "gets only the lines the mail log lacks. The recovery is mostly that timeout.",
        ),
        Scenario(
            "supervisord-kill",
            "`kill -9` of supervisord",
            _kill_supervisord,
            "PID 1 (the entrypoint) sees supervisord die and exits non-zero; every other process ends "
            "with the container. The queue and the logger's memory are on volumes, so a start (as an "
            "orchestrator does) picks everything up.",
        ),
        Scenario(
            "ses-refuses",
            "SES refuses connections for 60 s",
            _ses_outage("refuse"),
            "Postfix defers and tries again every 10 to 20 s; nothing is bounced.",
        ),
        Scenario(
            "ses-421",
            "SES greets every connection with 421 for 60 s",
            _ses_outage("421"),
            "Postfix defers and tries again every 10 to 20 s; nothing is bounced.",
        ),
        Scenario(
            "ses-454",
            "SES answers every message 454 (throttling) for 60 s",
            _ses_outage("454"),
            "The pacer puts throttled mail back on hold, backs off, and sends it again once SES takes it.",
        ),
        Scenario(
            "sqs-unreachable",
            "SQS unreachable from the relay for 60 s (proxy killed) while SES keeps publishing",
            _cut_sqs,
            "Events wait in SQS; the logger backs off (30 s at most) and catches up.",
            stack_options=lambda *_: {"sqs_proxy": True},
        ),
        Scenario(
            "docker-stop-mid-burst",
            "`docker stop -t 90` halfway through a 1,000-message burst, then `docker start`",
            _docker_stop_in_a_burst,
            "The drain hands the queue to SES before the programs stop; what is left waits on the "
            "spool volume and goes out after the start.",
            steady_load=False,
        ),
        Scenario(
            "log-volume-full",
            f"/var/log (a {LOG_TMPFS_SIZE} tmpfs) filled to the last byte for 60 s",
            _fill_the_log_volume,
            "rsyslog drops every line it cannot write (omfile does not suspend on ENOSPC, "
            "rsyslog/rsyslog#4796), so Postfix's own lines of that minute are gone; mail is not (the "
            "queue has its own volume). The logger takes no event while the volume has less than "
            "1 MiB free, and records each event (in SQLite, on that volume) before it writes: what it "
            "cannot record it neither writes nor deletes. Before this suite it crashed until the "
            "container exited, and lost 32 of 1,050 lines. A batch in flight at the moment the volume "
            "fills is not deleted either: the logger deletes an event only once it has read its "
            "lines back from the mail log.",
            stack_options=_small_log_volume,
            cannot_run=_cannot_mount,
        ),
        Scenario(
            "dev-log-removed",
            "`rm /dev/log` while mail flows, for 60 s",
            _remove_dev_log,
            "rsyslog makes /dev/log only at its start. Postfix processes started since log nothing "
            "(those lines are lost); the logger takes nothing, so no event is lost. The health check "
            "now says unhealthy, so ECS replaces the task; plain Docker does not act on health.",
        ),
        Scenario(
            "clock-jump",
            "the container's wall clock jumps 2 h ahead for 60 s, then back (libfaketime)",
            _jump_the_clock,
            "Only the wall clock jumps; monotonic clocks do not, as with a real clock. Postfix's daemons "
            "preload only tcp_nodelay.so (import_environment), not libfaketime, so they keep the real "
            "clock while the pacer, the logger and supervisord jump: the pacer once stamped released "
            "mail in the queue manager's future, and it sat there; it now leaves time stamps alone. "
            "LocalStack does not check request times: real SQS would refuse requests signed 2 h off "
            "(SigV4 allows 5 min).",
            stack_options=_faketime_stack,
            cannot_run=_no_libfaketime,
        ),
    )
}


def run(scenario: Scenario, localstack_url: str, pki: TestPki, scale: Scale) -> Row:
    why_not = scenario.cannot_run()
    if why_not:
        return Row(scenario, not_run=why_not)
    with contextlib.ExitStack() as cleanup:
        workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="faults-")))
        options = scenario.stack_options(scale, workdir, cleanup)
        extras = options.pop("extras", {})
        settings = {
            "SES_EVENTS_VISIBILITY_TIMEOUT": str(scale.visibility_timeout),
            **options.pop("settings", {}),
        }
        stack = cleanup.enter_context(FaultStack(localstack_url, pki, settings=settings, **options))
        with MailLogWatcher(stack) as watcher:
            load = Load(stack.relay.port, f"{scenario.name}-{uuid.uuid4().hex[:6]}")
            context = Context(stack, load, scale, extras=extras)
            if scenario.steady_load:
                load.steady(scale.rate, scale.duration)
                time.sleep(scale.before)  # the load's first part, before the fault
            fault_end = scenario.inject(context)
            load.wait()
            settled = settle(stack, load, scale.settle)
            watcher.poll()
            counts = count(stack, load, watcher, fault_end)
        restarts = _restarts(stack.relay.logs())
        if restarts:
            context.notes.append(f"supervisord saw exits: {restarts}")
        if not settled:
            context.notes.append(f"not everything was accounted for within {scale.settle:.0f} s")
        return Row(scenario, counts, context.container, context.notes, settled)
