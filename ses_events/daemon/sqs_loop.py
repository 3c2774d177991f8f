"""The daemon's loop: long-poll SQS with a few workers, hand each batch to BatchProcessor, delete.

Failure paths, each explicit:
- SQS or network errors: exponential backoff with jitter, then try again, forever.
- syslog taking lines that never reach the mail log (rsyslog killed with them in its queue, or
  dropping them on a full volume): nothing is deleted until the mail log is read to hold its
  lines (``read_back``); the rest comes back after the visibility timeout.
- syslog not taking lines: nothing unwritten is deleted, and nothing more is received until
  it is back (so receive counts are not spent towards the dead-letter queue); the batch comes
  back after the visibility timeout.
- the mail log's volume (nearly) full: rsyslog takes a line and then drops it when it cannot
  write it, so nothing is received while less than ``MAIL_LOG_ROOM_BYTES`` are free there.
- a DeleteMessageBatch entry that fails: the message comes back and is recognised as done.
- the state file cannot be written (the log volume is full): as with syslog, nothing unrecorded
  is written or deleted; the batch comes back after the visibility timeout, and the next tries
  back off until there is room again.
- SIGTERM/SIGINT: batches in flight are finished; a receive still waiting is abandoned (its
  messages, if any, become visible again after the visibility timeout).

SQS and syslog errors are counted, and the counts kept in a small status file (``status_file``)
for the metrics exporter; they start at 0 with each start, as Prometheus counters do.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ses_events.daemon.batch import READ_BACK_SECONDS, BatchProcessor, SqsMessage
from ses_events.daemon.config import DaemonConfig
from ses_events.daemon.mail_log_follower import MailLogFollower
from ses_events.daemon.sns_verifier import SnsVerifier
from ses_events.daemon.store import LoggerStore, StateUnwritable
from ses_events.daemon.syslog_writer import SyslogWriter

# sysexits.h: an internal error. supervisord restarts the logger; nothing unwritten was deleted.
EX_SOFTWARE = 70
# rsyslog drops a line it cannot write (omfile does not wait for room), after the logger has sent
# it and would delete its event: below this much free on the mail log's volume, take no events.
MAIL_LOG_ROOM_BYTES = 1 << 20


def report(message: str) -> None:
    """The daemon's own diagnostics go to stderr (the container's log), not to the mail log."""
    print(f"ses-events: {message}", file=sys.stderr, flush=True)


def mail_log_room(mail_log: str) -> int | None:
    """Bytes free on the mail log's volume for root (rsyslog), or None if it cannot be told."""
    try:
        status = os.statvfs(os.path.dirname(mail_log) or ".")
    except OSError:
        return None
    return status.f_bfree * status.f_frsize


class Backoff:
    """Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter")."""

    def __init__(self, base: float = 0.5, cap: float = 30.0):
        self.base = base
        self.cap = cap
        self.failures = 0

    def next_delay(self) -> float:
        """Seconds to wait after one more failure; full jitter spreads workers apart."""
        self.failures += 1
        return random.uniform(0, min(self.cap, self.base * 2 ** min(self.failures, 16)))  # noqa: S311

    def reset(self) -> None:
        self.failures = 0


def _sqs_client(config: DaemonConfig):
    import boto3  # deferred: `ses-events format` needs no AWS SDK
    from botocore.config import Config

    region = config.queue_region() or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return boto3.client(
        "sqs",
        region_name=region or config.region,
        config=Config(
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=5,
            read_timeout=config.wait_seconds + 10,
        ),
    )


class Daemon:
    def __init__(self, config: DaemonConfig, sns_verifier: SnsVerifier | None = None):
        """``sns_verifier``: who checks SNS signatures when the config says to; by default AWS's
        certificate URLs and the system's CA bundle (tests pass one that trusts their own)."""
        self.config = config
        self.store = LoggerStore(Path(config.state_file))
        self.follower = MailLogFollower(config.mail_log, self.store)
        verifier = (sns_verifier or SnsVerifier()) if config.verify_sns_signatures else None
        self.stopping = threading.Event()
        self.processor = BatchProcessor(
            self.store,
            self.follower,
            config.relay_hostname,
            verifier,
            # Well inside the visibility timeout: the batch's claim on its events must end before
            # SQS hands the same messages out again.
            read_back_seconds=min(READ_BACK_SECONDS, config.visibility_timeout / 3),
            stopping=self.stopping,
        )
        # A worker holds its lock while it processes a batch; stopping waits for all of them.
        self._busy = [threading.Lock() for _ in range(config.concurrency)]
        # Set when a thread met an error we did not foresee: the daemon then stops as a whole
        # rather than running on with a dead worker.
        self.failed = False
        self.errors: Counter[str] = Counter(sqs=0, syslog=0)
        self._errors_lock = threading.Lock()
        self._status_unwritable_reported = False
        self._state_unwritable_reported = False
        self.mail_log_room_bytes = MAIL_LOG_ROOM_BYTES

    def _count_error(self, kind: str) -> None:
        with self._errors_lock:
            self.errors[kind] += 1

    def write_status(self) -> None:
        """The error counts, replaced whole, for the metrics exporter."""
        path = self.config.status_file
        if not path:
            return
        with self._errors_lock:
            status = {
                "pid": os.getpid(),
                "written_at": time.time(),
                **{f"{k}_errors": v for k, v in self.errors.items()},
            }
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            temporary = f"{path}.tmp"
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump(status, handle)
            os.replace(temporary, path)
        except OSError as error:
            if not self._status_unwritable_reported:
                report(f"cannot write {path} ({error.strerror}): no error counts in the metrics")
                self._status_unwritable_reported = True

    def _delete(self, client, messages: Sequence[SqsMessage]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            response = client.delete_message_batch(QueueUrl=self.config.queue_url, Entries=entries)
            for failure in response.get("Failed", []):
                # It comes back after the visibility timeout and is then skipped as done.
                report(f"could not delete an SQS message: {failure.get('Code')} {failure.get('Message', '')}")

    def _fail(self, where: str) -> None:
        self.failed = True
        report(f"unexpected error in {where}; stopping:\n{traceback.format_exc().rstrip()}")
        self.stopping.set()

    def _worker(self, index: int) -> None:
        try:
            self._poll(index)
        except Exception:
            self._fail(f"worker {index}")

    def _poll(self, index: int) -> None:
        import botocore.exceptions

        client = _sqs_client(self.config)
        writer = SyslogWriter(self.config.syslog_socket)
        backoff = Backoff()
        while not self.stopping.is_set():
            if self._held_back(writer, backoff):
                continue
            try:
                response = client.receive_message(
                    QueueUrl=self.config.queue_url,
                    MaxNumberOfMessages=self.config.max_messages,
                    WaitTimeSeconds=self.config.wait_seconds,
                    VisibilityTimeout=self.config.visibility_timeout,
                )
                messages = response.get("Messages", [])
                if not messages:
                    backoff.reset()
                    continue
                # The receive may have waited WaitTimeSeconds, and the volume filled meanwhile: what
                # is not written now is received again after the visibility timeout.
                if self._held_back(writer, backoff, f"{len(messages)} messages left in the queue; "):
                    continue
                with self._busy[index]:
                    if self.stopping.is_set():
                        break  # leave them: they are visible again after the visibility timeout
                    outcome = self.processor.process(messages, writer)
                    if outcome.deletable:
                        self._delete(client, outcome.deletable)
                if outcome.not_read_back:
                    self._count_error("syslog")
                    report(
                        f"{outcome.not_read_back} events' lines were not in {self.config.mail_log} "
                        f"{self.processor.read_back_seconds:g}s after syslog took them: kept in the queue, "
                        "to be written again where missing after the visibility timeout"
                    )
                if outcome.syslog_error:
                    self._count_error("syslog")
                    delay = backoff.next_delay()
                    report(f"{outcome.syslog_error}; messages kept in the queue, retrying in {delay:.1f}s")
                    self.stopping.wait(delay)
                else:
                    backoff.reset()
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
                self._count_error("sqs")
                delay = backoff.next_delay()
                report(f"SQS error: {error}; retrying in {delay:.1f}s")
                self.stopping.wait(delay)
            except StateUnwritable as error:
                delay = backoff.next_delay()
                report(f"{error}; messages kept in the queue, retrying in {delay:.1f}s")
                self.stopping.wait(delay)
        writer.close()

    def why_lines_would_be_lost(self, writer: SyslogWriter) -> str | None:
        """Checked before each receive: why lines written now would not reach the mail log, if so."""
        if not writer.is_available():
            return f"syslog socket {self.config.syslog_socket} is not accepting lines"
        room = mail_log_room(self.config.mail_log)
        if room is not None and room < self.mail_log_room_bytes:
            return f"{self.config.mail_log} has {room} bytes free: rsyslog would drop the lines"
        return None

    def _held_back(self, writer: SyslogWriter, backoff: Backoff, holding: str = "") -> bool:
        """True, after a backoff, when lines written now would not reach the mail log."""
        unwritable = self.why_lines_would_be_lost(writer)
        if not unwritable:
            return False
        self._count_error("syslog")
        delay = backoff.next_delay()
        report(f"{unwritable}; {holding}waiting {delay:.1f}s")
        self.stopping.wait(delay)
        return True

    def _catch_up(self) -> None:
        """Follow the mail log; one that cannot be recorded now is read again from the saved cursor."""
        try:
            self.follower.catch_up()
        except StateUnwritable as error:
            if not self._state_unwritable_reported:
                report(f"{error}; learning queue IDs again once it can be written")
                self._state_unwritable_reported = True
        else:
            self._state_unwritable_reported = False

    def stop(self, *_signal_args: object) -> None:
        self.stopping.set()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        try:
            self._catch_up()
            report(
                f"polling {self.config.queue_url} with {self.config.concurrency} workers; "
                f"writing to {self.config.syslog_socket}"
            )
            if not self.config.verify_sns_signatures:
                report("SNS signatures are not verified (SES_EVENTS_VERIFY_SNS_SIGNATURES=off)")
            for index in range(self.config.concurrency):
                threading.Thread(
                    target=self._worker, args=(index,), name=f"worker-{index}", daemon=True
                ).start()
            while not self.stopping.wait(1.0):
                # Keep learning queue IDs while the queue is idle, so the next event finds its ID.
                self._catch_up()
                self.write_status()
        except Exception:
            self._fail("the main thread")
        for lock in self._busy:
            with lock:
                pass  # wait for the batch in flight
        self.follower.close()
        self.store.close()
        report("stopped")
        return EX_SOFTWARE if self.failed else 0
