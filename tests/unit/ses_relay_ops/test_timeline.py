from __future__ import annotations

from ses_relay_ops.line import parse_line
from ses_relay_ops.timeline import Query, find_journeys
from tests.unit.ses_relay_ops.fixtures import (
    BOUNCE,
    BOUNCE_SES_ID,
    COMPLAINT,
    NOW,
    SUCCESS,
    THROTTLED,
    THROTTLED_SES_ID,
    UNVERIFIED,
    fixture_lines,
)


def journeys_for(query: str, lines=None):
    lines = lines if lines is not None else fixture_lines()
    return find_journeys(lambda: iter(lines), Query(query))


def steps(journey) -> list[str]:
    return [step.name for step in journey.steps]


def test_by_queue_id_the_whole_story_in_order():
    [journey] = journeys_for(COMPLAINT)
    assert steps(journey) == [
        "accepted",
        "held",
        "message-id",
        "released",
        "queued",
        "sent to SES",
        "removed",
        "SES accepted",
        "delivered",
        "complained (abuse)",
    ]
    assert journey.steps[0].summary == "from localhost[127.0.0.1], sender <app@example.com>"
    assert journey.recipients == ["complaint@simulator.amazonses.com"]


def test_by_ses_message_id_and_by_ses_message_id_header():
    for query in (BOUNCE_SES_ID, f"<{BOUNCE_SES_ID}@email.amazonses.com>"):
        [journey] = journeys_for(query)
        assert journey.queue_id == BOUNCE
        assert steps(journey)[-1] == "bounced (Permanent/General)"


def test_event_lines_logged_under_the_ses_id_join_their_queue_id():
    for query in (THROTTLED, THROTTLED_SES_ID, "carol@example.net", "<invoice-42@app.example.com>"):
        [journey] = journeys_for(query)
        assert journey.queue_id == THROTTLED, query
        assert journey.ses_ids == [THROTTLED_SES_ID]
        assert steps(journey) == [
            "accepted",
            "held",
            "message-id",
            "released",
            "queued",
            "deferred",
            "deferred",
            "held again",
            "released",
            "queued",
            "sent to SES",
            "sent to SES",
            "removed",
            "SES accepted",
            "SES deferred (MailboxFull)",
            "bounced (Transient/General)",
            "delivered",
        ], query
        assert journey.recipients == ["carol@example.net", "dave@example.net"]


def test_by_address_sender_or_recipient_any_case():
    assert [j.queue_id for j in journeys_for("Success@Simulator.AmazonSES.com")] == [SUCCESS]
    assert len(journeys_for("app@example.com")) == 4
    [refused] = [j for j in journeys_for("intruder@example.com")]
    assert refused.queue_id == ""
    assert refused.steps[0].name == "refused"
    assert refused.steps[0].summary.startswith("554 5.7.1 <intruder@example.com>: Sender address rejected")


def test_a_bounce_by_postfix_names_the_notice_and_the_refusing_reply():
    [bounced, refused] = journeys_for("bob@example.net")  # in time order; the refusal came later
    assert bounced.queue_id == UNVERIFIED
    assert "bounced by Postfix" in steps(bounced)
    assert (
        "554 Message rejected: Email address is not verified"
        in bounced.steps[steps(bounced).index("bounced by Postfix")].summary
    )
    assert steps(bounced)[-2:] == ["notice", "removed"]
    assert refused.steps[0].name == "refused"


def test_a_queue_id_postfix_used_again_later_is_another_message():
    texts = [
        "Dec  3 10:00:00 r postfix/smtpd[1]: ABC123DEF: client=a[10.0.0.1]",
        "Dec  3 10:00:01 r postfix/qmgr[2]: ABC123DEF: removed",
        "Dec  3 11:00:00 r postfix/smtpd[1]: ABC123DEF: client=b[10.0.0.2]",
        "Dec  3 11:00:01 r postfix/qmgr[2]: ABC123DEF: removed",
    ]
    journeys = journeys_for("ABC123DEF", [parse_line(text, NOW) for text in texts])
    assert [j.client for j in journeys] == ["a[10.0.0.1]", "b[10.0.0.2]"]


def test_nothing_matches():
    assert journeys_for("nobody@example.net") == []
    assert journeys_for("FFFFFFFFFF") == []
