"""Postfix's own queue tools, as root: list the queue, hold, release."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from ses_pacer.queue import QueuedMessage, parse_postqueue_json


class PostfixUnavailable(RuntimeError):
    """Postfix did not answer (not started yet, or stopping)."""


def _run(command: list[str], stdin: str | None = None) -> str:
    try:
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PostfixUnavailable(f"{command[0]}: {error}") from None
    if result.returncode != 0:
        raise PostfixUnavailable(f"{' '.join(command)}: {(result.stderr or result.stdout).strip()}")
    return result.stdout


def list_queue() -> list[QueuedMessage]:
    return parse_postqueue_json(_run(["postqueue", "-j"]).splitlines())


def hold(queue_ids: Sequence[str]) -> None:
    if queue_ids:
        _run(["postsuper", "-h", "-"], stdin="".join(f"{queue_id}\n" for queue_id in queue_ids))


def release(queue_ids: Sequence[str]) -> None:
    """From the hold queue into the active queue now: postsuper moves each to the deferred queue,
    and postqueue -i asks for its delivery at once rather than at the next deferred-queue scan."""
    if not queue_ids:
        return
    _run(["postsuper", "-H", "-"], stdin="".join(f"{queue_id}\n" for queue_id in queue_ids))
    for queue_id in queue_ids:
        _run(["postqueue", "-i", queue_id])
