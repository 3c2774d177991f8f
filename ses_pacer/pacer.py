"""One step of pacing: Postfix's queue as it is now in, what to release and re-hold out.

No I/O and no clock of its own: the daemon passes ``now`` and the queue, and carries out the
returned actions, so every decision here is tested with made-up queues and times.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from ses_pacer.queue import QueuedMessage, Throttle
from ses_pacer.rate import AdaptiveRate, TokenBucket

# While SES's daily quota is used up, one held message is tried this often to see if it is back.
QUOTA_PROBE_SECONDS = 10.0
# Postfix closes its connections to SES after 5 s unused (smtp_connection_cache_time_limit). Mail
# released while new ones are set up (TCP, TLS, AUTH: most of a second under load) is delivered
# all at once when they are up, on top of what is released then, and SES counts every one-second
# window: a burst into a cold relay met SES's 454 in its first seconds. So after that long without
# mail, the first second releases at a third of the rate and the next at two thirds.
COLD_AFTER_SECONDS = 5.0
WARM_UP = (1 / 3, 2 / 3)


@dataclass
class Observed:
    """What the queue showed: messages to put back on hold, and lines for the mail log."""

    rehold: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


def _rate_text(rate: float) -> str:
    return f"{rate:.1f} recipients/s"


class Pacer:
    def __init__(self, rate: AdaptiveRate, now: float):
        self.rate = rate
        self.bucket = TokenBucket(rate.rate, 1.0, 0.0, now)
        self.bucket.set_rate(rate.rate, now)
        # Held messages not yet released, oldest first: (arrival time, queue ID, recipients).
        self._waiting: list[tuple[int, str, int]] = []
        self._waiting_ids: set[str] = set()
        self.quota_exhausted = False
        self._probe: str | None = None
        self._next_probe = 0.0
        # When mail last waited, and when the current spell of waiting mail began after a cold spell.
        self._last_busy = float("-inf")
        self._warm_since = 0.0
        # (time, recipients) of each release in about the last second.
        self._released: deque[tuple[float, int]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def observe(self, messages: Iterable[QueuedMessage], now: float) -> Observed:
        observed = Observed()
        present: set[str] = set()
        held: dict[str, QueuedMessage] = {}
        rate_throttled = 0  # recipients
        for message in messages:
            present.add(message.queue_id)
            if message.queue_name == "hold":
                held[message.queue_id] = message
            elif message.queue_name == "deferred" and message.throttle is not None:
                # SES dropped it and will not retry (reference 3.5): it is ours to send again.
                observed.rehold.append(message.queue_id)
                if message.throttle is Throttle.DAILY_QUOTA:
                    self._quota_used_up(now, observed)
                else:
                    rate_throttled += message.recipients
        if rate_throttled:
            self._rate_throttled(rate_throttled, now, observed)

        if self.quota_exhausted and self._probe is not None and self._probe not in present:
            self.quota_exhausted = False
            self._probe = None
            rate = _rate_text(self.rate.rate)
            observed.log.append(f"SES takes mail again after its daily quota: releasing held mail at {rate}")

        # Keep the waiting list equal to the hold queue: add new arrivals (and re-held messages, in
        # arrival order, ahead of newer mail); forget what someone else released or deleted.
        gone = self._waiting_ids - held.keys()
        if gone:
            self._waiting = [entry for entry in self._waiting if entry[1] not in gone]
            self._waiting_ids -= gone
        for queue_id, message in held.items():
            if queue_id not in self._waiting_ids:
                bisect.insort(self._waiting, (message.arrival_time, queue_id, message.recipients))
                self._waiting_ids.add(queue_id)
        return observed

    def _quota_used_up(self, now: float, observed: Observed) -> None:
        if self.quota_exhausted:
            return
        self.quota_exhausted = True
        self._next_probe = now + QUOTA_PROBE_SECONDS
        observed.log.append(
            "SES's daily sending quota is used up (454 Throttling failure: Daily message quota "
            f"exceeded): holding mail in the queue, trying one message every {QUOTA_PROBE_SECONDS:.0f} s"
        )

    def _rate_throttled(self, recipients: int, now: float, observed: Observed) -> None:
        """SES throttled this many recipients since the last look: the share of what was released
        in the last second tells a few deliveries bunching from another sender on the account."""
        self._forget_releases_before(now - 1.0)
        released = sum(count for _, count in self._released)
        if self.rate.throttled(now, share=recipients / max(recipients, released)):
            self.bucket.set_rate(self.rate.rate, now)
            observed.log.append(
                "SES throttled the send rate (454 Throttling failure: Maximum sending rate exceeded): "
                f"pacing at {_rate_text(self.rate.rate)}; throttled mail is retried in seconds"
            )

    def set_ceiling(self, ceiling: float | None, now: float) -> str | None:
        """A new account rate from SES; returns a log line when it changed what we aim for."""
        if ceiling == self.rate.ceiling:
            return None
        self.rate.set_ceiling(ceiling, now)
        self.bucket.set_rate(self.rate.rate, now)
        if ceiling is None:
            return None
        return f"SES's maximum send rate is {ceiling:g} recipients/s: pacing at {_rate_text(self.rate.rate)}"

    def due(self, now: float) -> list[str]:
        """The held messages to release now, oldest first."""
        self.rate.tick(now, busy=bool(self._waiting))
        rate = self.rate.rate * (self._warm_up(now) if self._waiting else 1.0)
        if self.bucket.rate != rate:
            self.bucket.set_rate(rate, now)
        if self.quota_exhausted:
            if self._waiting and now >= self._next_probe:
                self._next_probe = now + QUOTA_PROBE_SECONDS
                self._probe = self._pop()
                return [self._probe]
            return []
        if not self._waiting:
            self.bucket.idle(now)
            return []
        released = []
        self._forget_releases_before(now - 1.0)
        while self._waiting and self.bucket.try_take(self._waiting[0][2], now):
            self._released.append((now, self._waiting[0][2]))
            released.append(self._pop())
        return released

    def _forget_releases_before(self, moment: float) -> None:
        while self._released and self._released[0][0] < moment:
            self._released.popleft()

    def _warm_up(self, now: float) -> float:
        """The share of the rate to release at while Postfix's connections to SES warm up."""
        if now - self._last_busy > COLD_AFTER_SECONDS:
            self._warm_since = now
        self._last_busy = now
        second = int(now - self._warm_since)
        return WARM_UP[second] if second < len(WARM_UP) else 1.0

    def _pop(self) -> str:
        _arrival, queue_id, _recipients = self._waiting.pop(0)
        self._waiting_ids.discard(queue_id)
        return queue_id
