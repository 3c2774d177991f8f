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
from collections.abc import Mapping

from entrypoint import log
from entrypoint.paths import FATAL_MARKER
from entrypoint.settings.schema import FILE_SUFFIX, SECRET_NAMES

FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)


def run(command: list[str], environment: Mapping[str, str]) -> int:
    FATAL_MARKER.parent.mkdir(parents=True, exist_ok=True)
    FATAL_MARKER.unlink(missing_ok=True)
    child = subprocess.Popen(command, env=dict(environment))

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signum)

    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, forward)

    # As PID 1 we inherit every orphan of the container; wait() for all of them so none stays a
    # zombie, until supervisord itself has exited.
    while True:
        pid, status = os.wait()
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
