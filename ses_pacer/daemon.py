"""``ses-pacer run``: the pacing loop under supervisord.

Every half second it reads the queue (new held mail, throttled deferrals); every 50 ms it
releases what the bucket allows. The account's rate, with SES_MAX_SEND_RATE=auto, is read in a
background thread so a slow or unreachable API never stalls the releases.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import syslog
import threading
import time

from ses_pacer import postfix
from ses_pacer.config import PacerConfig
from ses_pacer.pacer import Pacer
from ses_pacer.rate import UNKNOWN_START_RATE, AdaptiveRate
from ses_pacer.send_quota import SendQuota, read_send_quota

SNAPSHOT_SECONDS = 0.5
RELEASE_SECONDS = 0.05
STATUS_SECONDS = 1.0


def _log(message: str, priority: int = syslog.LOG_INFO) -> None:
    syslog.syslog(priority, message)


def _read_quota_forever(config: PacerConfig, results: queue.Queue, stopping: threading.Event) -> None:
    while not stopping.is_set():
        try:
            results.put(read_send_quota(config.region))
        except LookupError as error:
            results.put(error)
        stopping.wait(config.quota_refresh_seconds)


class Daemon:
    def __init__(self, config: PacerConfig):
        self.config = config
        self.stopping = threading.Event()
        now = time.monotonic()
        self.pacer = Pacer(AdaptiveRate.starting(config.max_send_rate, now), now)
        self.quota_results: queue.Queue[SendQuota | LookupError] = queue.Queue()
        self._quota_unreadable_logged = False
        self._postfix_down_logged = False
        self._next_status = 0.0
        self._status_unwritable_logged = False

    def run(self) -> int:
        syslog.openlog("postfix/ses-pacer", syslog.LOG_PID, syslog.LOG_MAIL)
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        if self.config.max_send_rate is not None:
            rate, setting = self.pacer.rate.rate, self.config.max_send_rate
            _log(f"pacing to SES at {rate:.1f} recipients/s (SES_MAX_SEND_RATE={setting:g})")
        else:
            _log("SES_MAX_SEND_RATE=auto: reading the account's maximum send rate from SES")
            threading.Thread(
                target=_read_quota_forever, args=(self.config, self.quota_results, self.stopping), daemon=True
            ).start()
        next_snapshot = 0.0
        while not self.stopping.is_set():
            now = time.monotonic()
            self._apply_quota(now)
            self._write_status(now)
            try:
                if now >= next_snapshot:
                    observed = self.pacer.observe(postfix.list_queue(), now)
                    postfix.hold(observed.rehold)
                    for line in observed.log:
                        _log(line)
                    next_snapshot = now + SNAPSHOT_SECONDS
                for queue_id in postfix.release(self.pacer.due(now)):
                    # Postfix's own words for it (postsuper's), which `ses-relay trace` reads.
                    _log(f"{queue_id}: released from hold")
                self._postfix_down_logged = False
            except postfix.PostfixUnavailable as error:
                if not self._postfix_down_logged:
                    _log(f"Postfix does not answer ({error}); trying again", syslog.LOG_WARNING)
                    self._postfix_down_logged = True
                self.stopping.wait(1.0)
                continue
            self.stopping.wait(RELEASE_SECONDS)
        _log(f"stopping; {self.pacer.waiting} held messages stay queued for the next start")
        return 0

    def _write_status(self, now: float) -> None:
        """The rate in force, for the metrics exporter: a small JSON file replaced whole, every second."""
        if self.config.status_file is None or now < self._next_status:
            return
        self._next_status = now + STATUS_SECONDS
        status = {
            "pid": os.getpid(),
            "written_at": time.time(),
            "send_rate": self.pacer.rate.rate,
            "account_max_send_rate": self.pacer.rate.ceiling,
            "daily_quota_exhausted": self.pacer.quota_exhausted,
            "held_waiting": self.pacer.waiting,
        }
        path = self.config.status_file
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(f"{path}.tmp", "w", encoding="utf-8") as handle:
                json.dump(status, handle)
            os.replace(f"{path}.tmp", path)
        except OSError as error:
            if not self._status_unwritable_logged:
                _log(
                    f"cannot write {path} ({error.strerror}): no send rate in the metrics", syslog.LOG_WARNING
                )
                self._status_unwritable_logged = True

    def _apply_quota(self, now: float) -> None:
        while True:
            try:
                result = self.quota_results.get_nowait()
            except queue.Empty:
                return
            if isinstance(result, LookupError):
                if not self._quota_unreadable_logged:
                    _log(
                        f"cannot read SES's send rate ({result}): adapting to SES's throttling instead, "
                        f"from {UNKNOWN_START_RATE:g} recipients/s",
                        syslog.LOG_WARNING,
                    )
                    self._quota_unreadable_logged = True
                continue
            line = self.pacer.set_ceiling(result.max_send_rate, now)
            if line:
                _log(line)
