"""One step of pacing, with made-up queues and times."""

from __future__ import annotations

import pytest

from ses_pacer.pacer import QUOTA_PROBE_SECONDS, Pacer
from ses_pacer.queue import QueuedMessage, Throttle
from ses_pacer.rate import AdaptiveRate

RATE_454 = Throttle.RATE


def held(
    queue_id: str, arrival: int = 0, recipients: int = 1, throttle: Throttle | None = None
) -> QueuedMessage:
    return QueuedMessage(queue_id, "hold", arrival, recipients, throttle)


def deferred(queue_id: str, throttle: Throttle | None, arrival: int = 0) -> QueuedMessage:
    return QueuedMessage(queue_id, "deferred", arrival, 1, throttle)


def _drain(pacer: Pacer, start: float, seconds: float, step: float = 0.05) -> list[tuple[float, str]]:
    released = []
    for i in range(int(seconds / step)):
        now = start + i * step
        released += [(now, queue_id) for queue_id in pacer.due(now)]
    return released


def test_held_mail_is_released_oldest_first_at_the_rate_in_recipients():
    pacer = Pacer(AdaptiveRate.starting(10, now=0), now=0)
    queue = [held(f"Q{i:03d}", arrival=i, recipients=2) for i in range(100)]
    pacer.observe(reversed(queue), now=0)
    released = _drain(pacer, 0, 5)
    ids = [queue_id for _now, queue_id in released]
    assert ids == sorted(ids)  # oldest first
    # 9 recipients/s (just under 10) at 2 recipients a message, after the warm-up's first two
    # seconds at a third and two thirds of it: (3 + 6 + 3 * 9) / 2 = 18 messages.
    assert 16 <= len(ids) <= 21


def test_after_a_cold_spell_the_first_seconds_release_at_a_third_then_two_thirds():
    pacer = Pacer(AdaptiveRate.starting(100, now=0), now=0)  # 90 recipients/s
    pacer.observe([held(f"A{i:04d}", arrival=i) for i in range(1000)], now=0)

    def per_second(start: float, seconds: int) -> list[int]:
        released = _drain(pacer, start, seconds)
        return [sum(1 for at, _ in released if start + n <= at < start + n + 1) for n in range(seconds)]

    first, second, third = per_second(0, 3)
    assert 25 <= first <= 40 and 55 <= second <= 70 and 85 <= third <= 100

    # Idle for less than Postfix keeps connections: straight back to the full rate.
    pacer.observe([], now=3)
    assert _drain(pacer, 3, 3) == []  # the daemon's ticks while nothing waits
    pacer.observe([held(f"B{i:04d}", arrival=2000 + i) for i in range(500)], now=6)
    assert 85 <= per_second(6, 1)[0] <= 100

    # Idle for longer: the connections are gone, so the warm-up again.
    pacer.observe([], now=7)
    assert _drain(pacer, 7, 6) == []
    pacer.observe([held(f"C{i:04d}", arrival=3000 + i) for i in range(500)], now=13)
    assert 25 <= per_second(13, 1)[0] <= 40


def test_throttled_mail_goes_back_on_hold_and_the_rate_comes_down():
    pacer = Pacer(AdaptiveRate.starting(50, now=0), now=0)
    observed = pacer.observe(
        [deferred("T1", RATE_454), deferred("T2", RATE_454), deferred("D1", None)], now=5
    )
    assert observed.rehold == ["T1", "T2"]  # not D1: a connection failure is Postfix's to retry
    assert pacer.rate.rate < 50 * 0.95
    assert (
        len(observed.log) == 1 and "454 Throttling failure: Maximum sending rate exceeded" in observed.log[0]
    )
    # Back on hold, they go out again ahead of newer mail.
    pacer.observe([held("NEW", arrival=9), held("T1", arrival=1), held("T2", arrival=2)], now=5.5)
    assert [queue_id for _now, queue_id in _drain(pacer, 5.5, 2)][:3] == ["T1", "T2", "NEW"]


def test_daily_quota_holds_mail_says_so_once_and_probes_until_ses_takes_mail_again():
    pacer = Pacer(AdaptiveRate.starting(50, now=0), now=0)
    first = pacer.observe(
        [deferred("A", Throttle.DAILY_QUOTA)] + [held(f"H{i}", arrival=i + 1) for i in range(5)], 0
    )
    again = pacer.observe([deferred("B", Throttle.DAILY_QUOTA)], 0.5)
    assert first.rehold == ["A"] and again.rehold == ["B"]
    assert [line for line in first.log + again.log if "daily sending quota" in line] == first.log
    pacer.observe(
        [held("A", 0, throttle=Throttle.DAILY_QUOTA)] + [held(f"H{i}", arrival=i + 1) for i in range(5)], 1
    )
    # Only one message, every QUOTA_PROBE_SECONDS, while the quota is used up.
    released = _drain(pacer, 1, QUOTA_PROBE_SECONDS * 2.5)
    assert [queue_id for _now, queue_id in released] == ["A", "H0"]
    # The probe H0 left the queue (SES took it): back to full pace, said once.
    remaining = [held(f"H{i}", arrival=i + 1) for i in range(1, 5)] + [
        held("A", 0, throttle=Throttle.DAILY_QUOTA)
    ]
    lifted = pacer.observe(remaining, 30)
    assert len(lifted.log) == 1 and "again" in lifted.log[0]
    assert len(_drain(pacer, 30, 1)) == 5


def test_mail_released_by_someone_else_is_forgotten():
    pacer = Pacer(AdaptiveRate.starting(1, now=0), now=0)
    pacer.observe([held("A"), held("B", arrival=1)], 0)
    pacer.observe([held("B", arrival=1)], 0.5)  # an operator released A with postsuper -H
    assert pacer.waiting == 1
    assert [queue_id for _now, queue_id in _drain(pacer, 0.5, 3)] == ["B"]


def test_learning_the_account_rate_is_logged_once():
    pacer = Pacer(AdaptiveRate.starting(None, now=0), now=0)
    assert "14 recipients/s" in pacer.set_ceiling(14, 1)
    assert pacer.set_ceiling(14, 300) is None


def test_a_few_throttled_among_many_released_cut_the_rate_gently_many_cut_it_deeply():
    def after_a_second_then(throttled: int) -> float:
        pacer = Pacer(AdaptiveRate.starting(100, now=0), now=0)  # 93 recipients/s
        pacer.observe([held(f"A{i:04d}", arrival=i) for i in range(1000)], now=0)
        _drain(pacer, 0, 4)  # past the warm-up
        released_last_second = sum(1 for at, _ in _drain(pacer, 4, 1))
        assert released_last_second > 80
        pacer.observe([deferred(f"T{i}", RATE_454) for i in range(throttled)], now=5)
        return pacer.rate.rate / 93

    assert after_a_second_then(3) == pytest.approx(0.9)  # deliveries bunching
    assert after_a_second_then(90) == pytest.approx(0.5)  # another appliance sending as much


def test_the_pacer_remembers_only_the_last_seconds_releases():
    pacer = Pacer(AdaptiveRate.starting(100, now=0), now=0)
    pacer.observe([held(f"A{i:05d}", arrival=i) for i in range(5000)], now=0)
    _drain(pacer, 0, 30)
    assert len(pacer._released) <= 100
