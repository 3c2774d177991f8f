"""How fast to hand mail to SES: a token bucket, and the rate it is filled at.

SES counts recipients per second (reference 3.6). When the account's rate is known (a setting,
or SES's GetAccount), the pacer stays just under it. When it is not, it finds it the way TCP
finds a path's capacity: doubling until SES first throttles, then additive increase and
multiplicative decrease. That same decrease is what lets several appliances share one account
without talking to each other: each backs off when SES throttles any of them, and they converge
on shares that add up to the account's rate.
"""

from __future__ import annotations

from dataclasses import dataclass

# Under a known rate, aim this much lower: SES counts over its own one-second windows, and
# deliveries finish unevenly even when releases are even.
KNOWN_RATE_MARGIN = 0.93
# What a throttle multiplies the rate by, and the least the pacer ever sends at. Under a known
# rate the cut is proportional, as DCTCP's is: by the share of the last second's recipients SES
# throttled, between these two. A few deliveries bunching cost a little; another appliance on the
# account, sending as much, halves the rate at once.
DECREASE_FACTOR = 0.6
KNOWN_RATE_GENTLEST_CUT = 0.9
KNOWN_RATE_DEEPEST_CUT = 0.5
MINIMUM_RATE = 1.0
# Throttles within this long of a decrease come from the same overshoot: one decrease for all.
DECREASE_HOLD_OFF_SECONDS = 2.0
# The starting rate when nothing is known, and the fastest an unknown account is assumed to take.
UNKNOWN_START_RATE = 10.0
UNKNOWN_MAXIMUM_RATE = 5000.0


@dataclass
class TokenBucket:
    """Tokens are recipients. A message may take more than there are (a 50-recipient message at
    14/s): the bucket then goes into debt, and the next message waits until it is repaid."""

    rate: float
    capacity: float
    tokens: float = 0.0
    updated: float = 0.0

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = now

    def try_take(self, recipients: int, now: float) -> bool:
        self.refill(now)
        if self.tokens <= 0:
            return False
        self.tokens -= recipients
        return True

    def set_rate(self, rate: float, now: float) -> None:
        self.refill(now)
        self.rate = rate
        # A fifth of a second's worth: a release tick that ran up to 200 ms late (a busy machine)
        # still releases what the time allows, and no more bunches up. Idle time saves up
        # nothing (``idle``), so the capacity never becomes a burst after a quiet spell.
        self.capacity = max(1.0, rate / 5)
        self.tokens = min(self.tokens, self.capacity)

    def idle(self, now: float) -> None:
        """Nothing is waiting: SES counts any one-second window, so a burst saved up while idle
        would push the window over even at the average rate."""
        self.refill(now)
        self.tokens = min(self.tokens, 1.0)


@dataclass
class AdaptiveRate:
    """The rate the bucket is filled at, in recipients per second."""

    ceiling: float | None = None  # the account's rate, when known
    rate: float = UNKNOWN_START_RATE
    slow_start: bool = True
    last_decrease: float = float("-inf")
    last_increase: float = 0.0

    @classmethod
    def starting(cls, ceiling: float | None, now: float) -> AdaptiveRate:
        if ceiling is None:
            return cls(None, UNKNOWN_START_RATE, True, last_increase=now)
        return cls(ceiling, ceiling * KNOWN_RATE_MARGIN, False, last_increase=now)

    @property
    def limit(self) -> float:
        return self.ceiling * KNOWN_RATE_MARGIN if self.ceiling is not None else UNKNOWN_MAXIMUM_RATE

    def set_ceiling(self, ceiling: float | None, now: float) -> None:
        """A newly learnt account rate: jump to it if we were below and never throttled."""
        self.ceiling = ceiling
        if ceiling is not None and (self.slow_start or self.rate > self.limit):
            self.rate = self.limit
            self.slow_start = False
            self.last_increase = now

    def throttled(self, now: float, share: float = 1.0) -> bool:
        """SES answered 454 for the rate, to ``share`` of what was sent in the last second;
        returns whether this lowered the rate."""
        if now - self.last_decrease < DECREASE_HOLD_OFF_SECONDS:
            return False
        if self.ceiling is None:
            factor = DECREASE_FACTOR
        else:
            factor = min(KNOWN_RATE_GENTLEST_CUT, max(KNOWN_RATE_DEEPEST_CUT, 1.0 - share))
        self.rate = max(MINIMUM_RATE, self.rate * factor)
        self.slow_start = False
        self.last_decrease = now
        self.last_increase = now
        return True

    def tick(self, now: float, busy: bool = True) -> None:
        """Speed up again, once a second, while SES takes what it gets. Only while there is mail
        waiting: an idle relay has learnt nothing about how much more SES would take."""
        if not busy:
            self.last_increase = now
            return
        if now - self.last_increase < 1.0:
            return
        seconds = now - self.last_increase
        if self.slow_start:
            self.rate *= 2 ** min(seconds, 4)
        else:
            step = max(0.5, (self.ceiling if self.ceiling is not None else self.rate) * 0.05)
            self.rate += step * seconds
        self.rate = min(self.rate, self.limit)
        self.last_increase = now
