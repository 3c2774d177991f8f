"""supervisord event listener: when a program is FATAL (it kept dying), stop the container."""

from __future__ import annotations

import os
import signal
import sys

from supervisor import childutils

from entrypoint.paths import FATAL_MARKER


def main() -> None:
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        if headers["eventname"] == "PROCESS_STATE_FATAL":
            process_headers, _ = childutils.eventdata(payload + "\n")
            program = process_headers.get("processname", "a program")
            FATAL_MARKER.parent.mkdir(parents=True, exist_ok=True)
            FATAL_MARKER.write_text(program + "\n", encoding="utf-8")
            print(f"ses-relay: {program} entered FATAL state; stopping", file=sys.stderr, flush=True)
            # Our parent is supervisord: SIGTERM makes it stop every program in order.
            os.kill(os.getppid(), signal.SIGTERM)
        childutils.listener.ok(sys.stdout)
