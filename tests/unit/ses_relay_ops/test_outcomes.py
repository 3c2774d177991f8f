from __future__ import annotations

from collections import Counter

from ses_pacer.queue import Throttle
from ses_relay_ops.fields import fields_of
from ses_relay_ops.line import parse_line
from ses_relay_ops.outcomes import Kind, classify
from tests.unit.ses_relay_ops.fixtures import NOW, fixture_lines, line_with


def test_the_fixture_counts():
    kinds = Counter(outcome.kind for line in fixture_lines() if (outcome := classify(line)))
    assert kinds == {
        Kind.ACCEPTED: 5,
        Kind.REFUSED: 1,
        Kind.SENT: 5,  # three demo recipients, then carol and dave; not the discarded notice
        Kind.DEFERRED: 2,
        Kind.BOUNCED: 1,
        Kind.SES: 11,
    }


def test_ses_outcomes_carry_their_type_and_subtype():
    ses = Counter(
        (outcome.status, outcome.type, outcome.subtype)
        for line in fixture_lines()
        if (outcome := classify(line)) and outcome.kind is Kind.SES
    )
    assert ses == {
        ("accepted", "", ""): 4,
        ("delivered", "", ""): 3,
        ("bounced", "Permanent", "General"): 1,
        ("bounced", "Transient", "General"): 1,
        ("complained", "abuse", ""): 1,
        ("deferred", "MailboxFull", ""): 1,
    }


def test_throttling_is_recognised_in_a_deferral():
    outcome = classify(
        line_with("5E0F11A0001: to=<carol@example.net>, relay=ses-smtp.test[127.0.0.1]:47151, conn_use=3")
    )
    assert outcome is not None
    assert (outcome.kind, outcome.throttle) == (Kind.DEFERRED, Throttle.RATE)
    assert outcome.recipient == "carol@example.net"


def test_labels_take_only_ses_own_words():
    text = (
        "Dec  3 12:00:00 relay postfix/ses-events[1]: 4F1A22C0D3E: to=<a@b.example>, relay=amazonses.com, "
        "dsn=5.0.0, status=bounced (Made-Up/Type), ses_id=0100-aa-000000, response=()"
    )
    outcome = classify(parse_line(text, NOW))
    assert outcome is not None
    assert (outcome.status, outcome.type, outcome.subtype) == ("bounced", "other", "other")
    opened = text.replace("status=bounced (Made-Up/Type)", "status=opened (198.51.100.7)")
    outcome = classify(parse_line(opened, NOW))
    assert outcome is not None
    assert (outcome.status, outcome.type) == ("opened", "")


def test_postfix_expiry_counts_as_a_bounce_and_other_programs_as_nothing():
    expired = parse_line(
        "Dec  3 12:00:00 relay postfix/qmgr[1]: 4F1A22C0D3E: to=<a@b.example>, relay=none, delay=432000, "
        "delays=432000/0/0/0, dsn=4.0.0, status=expired, returned to sender",
        NOW,
    )
    outcome = classify(expired)
    assert outcome is not None
    assert (outcome.kind, outcome.status) == (Kind.BOUNCED, "expired")
    assert classify(line_with("Verified TLS connection established")) is None
    assert fields_of("postfix/smtpd", "connect from x[1.2.3.4]") == {}
