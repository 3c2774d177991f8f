"""Run supervisord as our child, as PID 1 would: forward signals, reap orphans, report the outcome.

supervisord exits 0 however its programs ended. The container must exit non-zero when a
program died for good, so that Docker's restart policy or ECS replaces it: the fatal-exit
listener leaves a marker and stops supervisord, and we turn the marker into the exit status.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence

from entrypoint import log
from entrypoint.paths import DRAINING, FATAL_MARKER
from entrypoint.settings.schema import FILE_SUFFIX, SECRET_NAMES

FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)


def run(command: list[str], environment: Mapping[str, str], drain: Sequence[str] = ()) -> int:
    """Run supervisord until it exits. With a drain command, the first SIGTERM runs it first
    (entrypoint.drain: no new mail, the queue handed to SES) and only then reaches supervisord;
    a second SIGTERM goes through at once, for an operator who will not wait."""
    FATAL_MARKER.parent.mkdir(parents=True, exist_ok=True)
    FATAL_MARKER.unlink(missing_ok=True)
    DRAINING.unlink(missing_ok=True)
    child = subprocess.Popen(command, env=dict(environment))
    draining: subprocess.Popen | None = None

    def forward(signum: int, _frame: object) -> None:
        nonlocal draining
        if signum == signal.SIGTERM and drain and draining is None:
            draining = subprocess.Popen(list(drain), env=dict(environment))
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signum)

    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, forward)

    # As PID 1 we inherit every orphan of the container; wait() for all of them so none stays a
    # zombie, until supervisord itself has exited. The drain's end is supervisord's cue to stop.
    while True:
        pid, status = os.wait()
        if draining is not None and pid == draining.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGTERM)
        if pid == child.pid:
            child.returncode = os.waitstatus_to_exitcode(status)
            break

    if FATAL_MARKER.exists():
        program = FATAL_MARKER.read_text(encoding="utf-8").strip() or "a program"
        log.error(f"{program} kept failing; exiting non-zero so the container is replaced")
        return child.returncode or 1
    return child.returncode


def environment_without_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    """What the supervised programs inherit: the secrets are already in root-only files."""
    hidden = SECRET_NAMES | {name + FILE_SUFFIX for name in SECRET_NAMES}
    return {name: value for name, value in environ.items() if name not in hidden}
