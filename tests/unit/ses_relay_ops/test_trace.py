from __future__ import annotations

import json

from ses_relay_ops.timeline import Query, find_journeys
from ses_relay_ops.trace import render_json, render_text, since
from tests.unit.ses_relay_ops.fixtures import THROTTLED, THROTTLED_SES_ID, fixture_lines


def _journeys(query):
    lines = fixture_lines()
    return find_journeys(lambda: iter(lines), Query(query))


def test_delays_between_steps_read_at_a_glance():
    assert [since(s) for s in (0, 0.4, 42, 187, 7500, 3 * 86400 + 4 * 3600)] == [
        "+0s",
        "+0s",
        "+42s",
        "+3m07s",
        "+2h05m",
        "+3d04h",
    ]


def test_text_names_the_message_and_each_step_with_its_delay():
    text = render_text(_journeys("carol@example.net"))
    lines = text.splitlines()
    assert lines[0] == f"== {THROTTLED}  <app@example.com> -> <carol@example.net>, <dave@example.net>"
    assert lines[1] == (
        "   client app-2.internal[10.0.3.18], message-id <invoice-42@app.example.com>, "
        f"SES message {THROTTLED_SES_ID}"
    )
    assert lines[2].startswith("   2026-12-03 12:25:30          accepted")
    assert "sender <app@example.com>" in lines[2]
    released = next(line for line in lines if " released " in line)
    assert "2026-12-03 12:25:31     +1s  released" in released
    deferred = next(line for line in lines if " deferred " in line and "carol" in line)
    assert "+0s  deferred" in deferred and "454 Throttling failure" in deferred
    delivered = lines[-1]
    assert "+4m30s  delivered" in delivered and "369800ms after SES took it" in delivered


def test_json_for_scripts():
    [journey] = json.loads(render_json(_journeys(THROTTLED_SES_ID)))
    assert journey["queue_id"] == THROTTLED
    assert journey["ses_message_ids"] == [THROTTLED_SES_ID]
    assert journey["message_id"] == "<invoice-42@app.example.com>"
    assert journey["sender"] == "app@example.com"
    assert journey["recipients"] == ["carol@example.net", "dave@example.net"]
    first, last = journey["steps"][0], journey["steps"][-1]
    assert first["seconds_since_previous"] is None
    assert first["step"] == "accepted" and first["fields"]["client"] == "app-2.internal[10.0.3.18]"
    assert last["step"] == "delivered" and last["seconds_since_previous"] == 270.0
    assert last["line"].startswith("Dec  3 12:31:40 vm postfix/ses-events[97]: ")
    assert last["time"].startswith("2026-12-03T12:31:40")


def test_nothing_found_renders_nothing():
    assert render_text([]) == ""
    assert json.loads(render_json([])) == []
