"""Drain on stop: on SIGTERM, take no new mail, hand what is queued to SES, then let supervisord stop.

A replaced Fargate task takes its queue with it, and an NLB may already send a stopping task's
clients elsewhere; so before anything stops, Postfix closes its listener (new connections are
refused at once, which clients and the NLB's health check both take as "try another"), deferred
mail is tried again, and the pacer keeps releasing held mail at SES's rate. The drain ends when
the queue is empty, when nothing left can be delivered now (every message deferred by something
other than SES's throttling, e.g. SES unreachable: waiting would only lose time), or after
RELAY_DRAIN_SECONDS. What is left stays in the queue, named in the mail log one message a line.
"""

from __future__ import annotations

import subprocess
import sys
import syslog
import time

from entrypoint import log, paths
from ses_pacer import postfix as postfix_queue
from ses_pacer.queue import QueuedMessage

CHECK_SECONDS = 0.5
FLUSH_SECONDS = 3.0
# Every message deferred for a reason other than throttling, this long after the retry: SES
# cannot take them now, and the rest of the drain would be waiting in vain.
HOPELESS_AFTER_SECONDS = 3.0


def _stop_listening() -> None:
    for command in (["postconf", "-e", "master_service_disable = inet"], ["postfix", "reload"]):
        subprocess.run(command, capture_output=True, check=False, timeout=30)


def _queue() -> list[QueuedMessage]:
    try:
        return postfix_queue.list_queue()
    except postfix_queue.PostfixUnavailable as error:
        log.warning(f"drain: cannot list the queue ({error})")
        return []


def _nothing_deliverable(messages: list[QueuedMessage]) -> bool:
    return all(message.queue_name == "deferred" and message.throttle is None for message in messages)


def _deliver_now() -> None:
    """Ask the queue manager to scan its queues and try deferred mail now (postqueue -f)."""
    subprocess.run(["postqueue", "-f"], capture_output=True, check=False, timeout=30)


def wait_for_empty_queue(seconds: float) -> list[QueuedMessage]:
    """What is still queued when the drain ends (empty when everything went to SES)."""
    deadline = time.monotonic() + seconds
    hopeless_since: float | None = None
    next_flush = time.monotonic() + FLUSH_SECONDS
    while True:
        messages = _queue()
        now = time.monotonic()
        if not messages or now >= deadline:
            return messages
        if now >= next_flush:
            # The reload that closed the listener restarted the queue manager, and a wake-up
            # sent to it meanwhile is lost: mail released then would wait for its next scan.
            _deliver_now()
            next_flush = now + FLUSH_SECONDS
        if _nothing_deliverable(messages):
            hopeless_since = hopeless_since if hopeless_since is not None else now
            if now - hopeless_since >= HOPELESS_AFTER_SECONDS:
                return messages
        else:
            hopeless_since = None
        time.sleep(CHECK_SECONDS)


def _report_left_behind(messages: list[QueuedMessage]) -> None:
    syslog.openlog("postfix/ses-relay-drain", syslog.LOG_PID, syslog.LOG_MAIL)
    for message in messages:
        syslog.syslog(
            syslog.LOG_WARNING,
            f"{message.queue_id}: left in the {message.queue_name} queue at stop, {message.recipients} "
            "recipients: delivered after the next start from this queue's volume",
        )
    recipients = sum(message.recipients for message in messages)
    log.warning(f"stopping with {len(messages)} messages ({recipients} recipients) still queued")


def drain(seconds: int) -> None:
    """Runs in the entrypoint when SIGTERM arrives, before supervisord is told to stop."""
    paths.DRAINING.parent.mkdir(parents=True, exist_ok=True)
    paths.DRAINING.touch()
    log.info(f"stopping: taking no new mail, handing the queue to SES for up to {seconds} s")
    _stop_listening()
    _deliver_now()
    started = time.monotonic()
    left = wait_for_empty_queue(seconds)
    if left:
        _report_left_behind(left)
    else:
        log.info(f"drained: the queue is empty after {time.monotonic() - started:.1f} s")


def main(argv: list[str] | None = None) -> int:
    """``python -m entrypoint.drain SECONDS``: PID 1 runs the drain as a child process of its own,
    so the drain's own subprocesses are its to reap, not PID 1's."""
    arguments = sys.argv[1:] if argv is None else argv
    drain(int(arguments[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
