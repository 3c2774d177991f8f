from __future__ import annotations

import re

import pytest

from ses_relay_ops.fields import FIELD_RULES, fields_of, split_detail
from tests.unit.ses_relay_ops.fixtures import (
    BOUNCE,
    BOUNCE_SES_ID,
    THROTTLED,
    THROTTLED_SES_ID,
    fixture_lines,
    line_with,
)


@pytest.mark.parametrize("rule", FIELD_RULES, ids=lambda rule: rule.name)
def test_patterns_mean_the_same_to_rsyslog_and_python(rule):
    # POSIX ERE (rsyslog's re_extract) and Python's re agree on these, and rsyslog's single-quoted
    # strings take them as they are.
    for forbidden in ("\\", "'", "|", "*?", "+?", "(?"):
        assert forbidden not in rule.pattern, (rule.name, forbidden)
    assert re.compile(rule.pattern).groups >= 1
    assert rule.requires and "'" not in rule.requires and "\\" not in rule.requires


def test_a_postfix_sent_line():
    line = line_with(f"{BOUNCE}: to=<bounce@simulator.amazonses.com>, relay=ses-smtp.test")
    assert line.fields == {
        "queue_id": BOUNCE,
        "to": "bounce@simulator.amazonses.com",
        "relay": "ses-smtp.test[127.0.0.1]:47151",
        "delay": "0.12",
        "delays": "0.06/0.04/0.02/0",
        "dsn": "2.0.0",
        "status": "sent",
        "detail": f"250 Ok {BOUNCE_SES_ID}",
        "ses_id": BOUNCE_SES_ID,
    }


def test_an_event_line_keeps_its_detail_and_response_apart():
    line = line_with("status=bounced (Permanent/General)")
    assert line.fields["detail"] == "Permanent/General"
    assert line.fields["delay"] == "255ms"
    assert line.fields["response"] == "smtp; 550 5.1.1 user unknown"
    assert line.fields["ses_id"] == BOUNCE_SES_ID


def test_an_event_line_under_the_ses_id_has_no_queue_id():
    line = line_with(f"{THROTTLED_SES_ID}: to=<carol@example.net>, relay=amazonses.com")
    assert "queue_id" not in line.fields
    assert line.fields["ses_id"] == THROTTLED_SES_ID


def test_a_postfix_reason_runs_to_the_end_of_its_line():
    line = line_with(f"{THROTTLED}: to=<carol@example.net>, relay=ses-smtp.test[127.0.0.1]:47151, conn_use=3")
    assert line.fields["detail"] == (
        "host ses-smtp.test[127.0.0.1] said: 454 Throttling failure: Maximum sending rate exceeded. "
        "(in reply to end of DATA command)"
    )
    assert line.fields["conn_use"] == "3"


def test_sender_client_message_id_and_refused_recipients():
    assert line_with(f"{THROTTLED}: client=").fields["client"] == "app-2.internal[10.0.3.18]"
    assert line_with(f"{THROTTLED}: message-id=").fields["message_id"] == "<invoice-42@app.example.com>"
    queued = line_with(f"{THROTTLED}: from=<app@example.com>, size=812").fields
    assert (queued["from"], queued["size"], queued["nrcpt"]) == ("app@example.com", "812", "2")
    held = line_with(f"{THROTTLED}: hold: DATA").fields
    assert (held["from"], held["to"]) == ("app@example.com", "carol@example.net")
    refused = line_with("NOQUEUE: reject:").fields
    assert refused == {"from": "intruder@example.com", "to": "bob@example.net"}
    assert line_with("from=<>, size=2911").fields["from"] == ""


def test_lines_that_are_neither_delivery_nor_event_lines_have_no_fields():
    assert line_with("daemon started -- version").fields == {}
    assert line_with("SES throttled the send rate").fields == {}


def test_network_text_in_an_event_line_cannot_pose_as_an_earlier_field():
    message = (
        "4F1A22C0D3E: to=<bob@example.org>, relay=amazonses.com, dsn=2.0.0, status=complained (abuse), "
        "delay=5ms, ses_id=0100-aa-000000, response=(x, ses_id=forged, status=delivered)"
    )
    fields = fields_of("postfix/ses-events", message)
    assert (fields["status"], fields["ses_id"]) == ("complained", "0100-aa-000000")


def test_every_fixture_line_parses():
    assert len(fixture_lines()) == 91


def test_split_detail():
    assert split_detail("Permanent/General") == ("Permanent", "General")
    assert split_detail("abuse") == ("abuse", "")
