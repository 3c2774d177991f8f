"""postqueue -j's lines, and what SES's replies kept in them mean for pacing."""

from __future__ import annotations

import json

from ses_pacer.queue import Throttle, parse_postqueue_json, throttle_in


def _line(queue_id: str, queue_name: str, *reasons: str, arrival: int = 1) -> str:
    recipients = [
        {"address": f"r{i}@example.net", "delay_reason": reason} for i, reason in enumerate(reasons)
    ]
    return json.dumps(
        {"queue_name": queue_name, "queue_id": queue_id, "arrival_time": arrival, "recipients": recipients}
    )


def test_ses_throttle_texts_are_told_apart():
    said = "host email-smtp.eu-west-1.amazonaws.com[1.2.3.4] said: "
    assert (
        throttle_in(
            said + "454 Throttling failure: Maximum sending rate exceeded. (in reply to end of DATA command)"
        )
        is Throttle.RATE
    )
    assert (
        throttle_in(said + "454 Throttling failure: Maximum SigV2 SMTP sending rate exceeded.")
        is Throttle.RATE
    )
    assert throttle_in(said + "454 Throttling failure: Daily message quota exceeded.") is Throttle.DAILY_QUOTA
    assert throttle_in(said + "454 Temporary service failure") is None
    assert (
        throttle_in("connect to email-smtp.eu-west-1.amazonaws.com[1.2.3.4]:587: Connection refused") is None
    )


def test_postqueue_lines_become_messages_counting_recipients():
    lines = [
        _line("A1", "hold", "", ""),
        _line("B2", "deferred", "said: 454 Throttling failure: Maximum sending rate exceeded."),
        _line("C3", "deferred", "said: 454 Throttling failure: Daily message quota exceeded.", "x"),
        "not json",
        json.dumps({"queue_name": "active"}),  # no queue_id: not one of postqueue's objects
    ]
    messages = parse_postqueue_json(lines)
    assert [(m.queue_id, m.queue_name, m.recipients, m.throttle) for m in messages] == [
        ("A1", "hold", 2, None),
        ("B2", "deferred", 1, Throttle.RATE),
        ("C3", "deferred", 2, Throttle.DAILY_QUOTA),
    ]
