"""The token bucket and the adaptive rate: pure, with made-up times."""

from __future__ import annotations

import pytest

from ses_pacer.rate import (
    DECREASE_FACTOR,
    KNOWN_RATE_DEEPEST_CUT,
    KNOWN_RATE_GENTLEST_CUT,
    KNOWN_RATE_MARGIN,
    UNKNOWN_START_RATE,
    AdaptiveRate,
    TokenBucket,
)


def test_bucket_hands_out_the_rate_evenly_not_in_one_burst():
    bucket = TokenBucket(rate=0, capacity=1)
    bucket.set_rate(50, now=0)
    taken_at = [t / 100 for t in range(0, 1000) if bucket.try_take(1, now=t / 100)]
    # 50 a second, and never more than a quarter second's worth at once.
    assert 495 <= len(taken_at) <= 515
    assert len([t for t in taken_at if t < 0.05]) <= 3


def test_a_late_tick_still_releases_what_the_time_allows_but_idle_time_saves_nothing():
    bucket = TokenBucket(rate=0, capacity=1)
    bucket.set_rate(40, now=0)
    taken = sum(bucket.try_take(1, now=t * 0.2) for t in range(1, 51) for _ in range(20))
    assert taken >= 380  # ticks 200 ms apart: 40/s all the same over 10 s
    bucket.idle(now=20)  # ten quiet seconds
    assert sum(bucket.try_take(1, now=20) for _ in range(20)) <= 2


def test_a_message_with_more_recipients_than_the_bucket_holds_goes_into_debt():
    bucket = TokenBucket(rate=0, capacity=1)
    bucket.set_rate(10, now=0)
    assert bucket.try_take(50, now=1)  # a 50-recipient message at 10/s goes out ...
    assert not bucket.try_take(1, now=2)  # ... and the next waits until its 5 s are repaid
    assert bucket.try_take(1, now=6.1)


def test_known_rate_is_paced_just_under_and_never_exceeded():
    rate = AdaptiveRate.starting(20, now=0)
    assert rate.rate == pytest.approx(20 * KNOWN_RATE_MARGIN)
    for second in range(1, 60):
        rate.tick(second)
    assert rate.rate == pytest.approx(20 * KNOWN_RATE_MARGIN)


def test_unknown_rate_doubles_until_the_first_throttle_then_backs_off():
    rate = AdaptiveRate.starting(None, now=0)
    assert rate.rate == UNKNOWN_START_RATE
    rate.tick(1)
    rate.tick(2)
    assert rate.rate == UNKNOWN_START_RATE * 4
    assert rate.throttled(2.5)
    assert rate.rate == pytest.approx(UNKNOWN_START_RATE * 4 * DECREASE_FACTOR)
    before = rate.rate
    rate.tick(3.5)
    # After a throttle, it grows by small steps, not by doubling.
    assert before < rate.rate < before * 1.2


def test_throttles_from_one_overshoot_lower_the_rate_once():
    rate = AdaptiveRate.starting(50, now=0)
    assert rate.throttled(10.0)
    after_first = rate.rate
    assert not rate.throttled(10.1)
    assert not rate.throttled(11.0)
    assert rate.rate == after_first
    assert rate.throttled(13.0)
    assert rate.rate < after_first


def test_throttled_known_rate_recovers_to_its_ceiling():
    rate = AdaptiveRate.starting(50, now=0)
    rate.throttled(1)
    for second in range(2, 120):
        rate.tick(second)
    assert rate.rate == pytest.approx(50 * KNOWN_RATE_MARGIN)


def test_learning_the_account_rate_ends_the_search():
    rate = AdaptiveRate.starting(None, now=0)
    rate.set_ceiling(14, now=1)
    assert rate.rate == pytest.approx(14 * KNOWN_RATE_MARGIN)
    rate.tick(10)
    assert rate.rate == pytest.approx(14 * KNOWN_RATE_MARGIN)


def test_two_appliances_on_one_account_converge_below_its_rate():
    """Both start at the account's rate (auto): together twice too fast. Each backs off when the
    account throttles, and the sum settles under the account's rate most of the time."""
    account_rate = 50.0
    relays = [AdaptiveRate.starting(account_rate, now=0), AdaptiveRate.starting(account_rate, now=0)]
    over = 0
    for tenth in range(1, 3000):
        now = tenth / 10
        for relay in relays:
            relay.tick(now)
        if sum(relay.rate for relay in relays) > account_rate:
            over += 1
            for relay in relays:  # SES throttles whoever sends next: both see 454s
                relay.throttled(now)
    assert over < 3000 * 0.15
    assert all(relay.rate > 5 for relay in relays)


def test_an_idle_relay_does_not_speed_up():
    rate = AdaptiveRate.starting(None, now=0)
    rate.tick(600, busy=False)
    rate.tick(601)
    assert rate.rate == UNKNOWN_START_RATE * 2


def test_a_throttle_under_a_known_rate_cuts_by_the_share_ses_throttled():
    few = AdaptiveRate.starting(50, now=0)
    assert few.throttled(1, share=0.02)  # deliveries bunching: the gentlest cut
    assert few.rate == pytest.approx(50 * KNOWN_RATE_MARGIN * KNOWN_RATE_GENTLEST_CUT)
    shared = AdaptiveRate.starting(50, now=0)
    assert shared.throttled(1, share=0.3)
    assert shared.rate == pytest.approx(50 * KNOWN_RATE_MARGIN * 0.7)
    doubled = AdaptiveRate.starting(50, now=0)
    assert doubled.throttled(1, share=0.8)  # another appliance sending as much: the deepest
    assert doubled.rate == pytest.approx(50 * KNOWN_RATE_MARGIN * KNOWN_RATE_DEEPEST_CUT)
