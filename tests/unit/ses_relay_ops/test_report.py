from __future__ import annotations

import json
from datetime import datetime

import pytest

from ses_relay_ops.line import parse_line
from ses_relay_ops.report import (
    BOUNCE,
    COMPLAINT,
    build_report,
    deferral_reason,
    render_json,
    render_text,
    verdict,
)
from tests.unit.ses_relay_ops.fixtures import NOW, POSTFIX_FIGURES, fixture_lines

SES_SMTP = "email-smtp.eu-west-1.amazonaws.com[52.16.1.2]:587"
SES_ID = "0100019afc61a6a3-{n:08x}-1c2d-4e3f-8a9b-0a1b2c3d4e5f-000000"


def crafted_day(sent: int, hard: int, soft: int, complaints: int, throttled: int) -> list:
    """A day of mail at volume: `sent` recipients, of which some bounce or complain."""
    texts = []
    for n in range(sent):
        queue_id = f"{0xA00000 + n:X}0"
        domain = ("gmail.example", "yahoo.example", "corp.example")[n % 3]
        rcpt = f"user{n}@{domain}"
        ses_id = SES_ID.format(n=n)
        stamp = f"Dec  3 {8 + n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}"
        texts += [
            f"{stamp} relay postfix/smtpd[10]: {queue_id}: client=app[10.0.0.5]",
            f"{stamp} relay postfix/smtp[11]: {queue_id}: to=<{rcpt}>, relay={SES_SMTP}, "
            f"delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 Ok {ses_id})",
        ]
        outcome = None
        if n < hard:
            outcome = "dsn=5.1.1, status=bounced (Permanent/NoEmail)"
        elif n < hard + soft:
            outcome = "dsn=4.0.0, status=bounced (Transient/MailboxFull)"
        elif n < hard + soft + complaints:
            outcome = "dsn=2.0.0, status=complained (abuse)"
        if outcome:
            texts.append(
                f"{stamp} relay postfix/ses-events[12]: {queue_id}: to=<{rcpt}>, relay=amazonses.com, "
                f"{outcome}, delay=900ms, ses_id={ses_id}, response=()"
            )
    for n in range(throttled):
        texts.append(
            f"Dec  3 07:00:{n:02d} relay postfix/smtp[11]: B0000{n}: to=<t{n}@corp.example>, "
            f"relay={SES_SMTP}, delay=0.2, delays=0/0/0/0.2, dsn=4.0.0, status=deferred (host "
            "email-smtp.eu-west-1.amazonaws.com[52.16.1.2] said: 454 Throttling failure: Maximum sending "
            "rate exceeded. (in reply to end of DATA command))"
        )
    texts.append(
        "Dec  3 07:30:00 relay postfix/smtp[11]: C00001: to=<x@corp.example>, relay=none, delay=30, "
        "delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to email-smtp.eu-west-1.amazonaws.com"
        "[52.16.1.2]:587: Connection timed out)"
    )
    return [parse_line(text, NOW) for text in texts]


def test_figures_of_a_day_over_the_review_thresholds():
    report = build_report(crafted_day(sent=1000, hard=60, soft=10, complaints=2, throttled=3), None)
    assert (report.accepted, report.sent, report.deferred) == (1000, 1000, 4)
    assert report.hard_bounces == 60
    assert report.complaints == 2
    assert report.rate(report.hard_bounces) == pytest.approx(0.06)
    assert report.rate(report.complaints) == pytest.approx(0.002)
    assert report.throttled == {"rate": 3}
    figures = json.loads(render_json(report))
    assert figures["rates"]["bounce"]["verdict"] == "at or above the review threshold"
    assert figures["rates"]["complaint"]["verdict"] == "at or above the review threshold"
    # 70 bounces over three domains, the first gets one more of each kind.
    assert figures["bouncing_domains"][0] == {
        "domain": "gmail.example",
        "count": 24,
        "by_type": {"Permanent": 20, "Transient": 4},
    }
    assert figures["deferred_by_reason"] == [
        {"reason": "454 Throttling failure: Maximum sending rate exceeded.", "attempts": 3, "messages": 3},
        {
            "reason": "connect to email-smtp.eu-west-1.amazonaws.com[52.16.1.2]:587: Connection timed out",
            "attempts": 1,
            "messages": 1,
        },
    ]
    text = render_text(report)
    rates = [" ".join(line.split()) for line in text.splitlines() if " rate " in line]
    assert "hard-bounce rate 6.00 % 5 % 10 % at or above the review threshold" in rates
    assert "complaint rate 0.20 % 0.1 % 0.5 % at or above the review threshold" in rates


def test_a_healthy_day_and_the_pause_thresholds():
    healthy = build_report(crafted_day(sent=1000, hard=10, soft=0, complaints=0, throttled=0), None)
    assert verdict(healthy.rate(healthy.hard_bounces), BOUNCE) == "below the review threshold"
    assert verdict(0.10, BOUNCE) == "at or above the pause threshold"
    assert verdict(0.005, COMPLAINT) == "at or above the pause threshold"
    assert verdict(None, COMPLAINT) == "nothing sent"


def test_since_counts_only_the_lines_after_it():
    lines = crafted_day(sent=120, hard=0, soft=0, complaints=0, throttled=0)  # 08:00:00 to 08:01:59
    report = build_report(lines, datetime(2026, 12, 3, 8, 1, 0))
    assert report.sent == 60
    assert report.first_line == datetime(2026, 12, 3, 8, 1, 0)


def test_the_fixture_report():
    report = build_report(fixture_lines(), None)
    figures = json.loads(render_json(report))
    assert figures["postfix"] == POSTFIX_FIGURES
    assert {(row["status"], row["type"], row["subtype"]): row["count"] for row in figures["ses"]} == {
        ("accepted", "", ""): 4,
        ("bounced", "Permanent", "General"): 1,
        ("bounced", "Transient", "General"): 1,
        ("complained", "abuse", ""): 1,
        ("deferred", "MailboxFull", ""): 1,
        ("delivered", "", ""): 3,
    }
    assert figures["deferred_by_reason"] == [
        {"reason": "454 Throttling failure: Maximum sending rate exceeded.", "attempts": 2, "messages": 1}
    ]


def test_deferral_reasons_lose_the_host_and_the_command():
    assert (
        deferral_reason(
            "host email-smtp.eu-west-1.amazonaws.com[52.16.1.2] said: 421 Timeout waiting for data from "
            "client. (in reply to MAIL FROM command)"
        )
        == "421 Timeout waiting for data from client."
    )
    assert deferral_reason("x" * 300).endswith("…")
    assert len(deferral_reason("x" * 300)) == 120
