"""What each SES event type means for each recipient (reference §1), asserted on the exact lines."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from ses_events.core._outcomes import elapsed_ms, parse_ses_timestamp
from tests.unit.ses_events.fixtures import FIXTURES, SES_ID, lines_for, load_event


def minimal_event(event_type: str, **payload: Any) -> dict[str, Any]:
    """An event with nothing but what read_ses_event requires, plus the given top-level objects."""
    return {"eventType": event_type, "mail": {"messageId": SES_ID}, **payload}


# Golden lines for every §1.12 example, as the daemon writes them once Postfix's "250 Ok" line is known.
GOLDEN: dict[str, list[str]] = {
    "identity_bounce": [
        "4F1A22C0D3E: to=<alice@example.net>, relay=a8-30.smtp-out.amazonses.com[203.0.113.20], dsn=5.1.1, "
        f"status=bounced (Permanent/General), delay=1389ms, ses_id={SES_ID}, response=(smtp; 550 5.1.1 "
        "<alice@example.net>: Recipient address rejected: User unknown in virtual mailbox table)"
    ],
    "identity_complaint": [
        "4F1A22C0D3E: to=<bob@example.org>, relay=amazonses.com, dsn=2.0.0, status=complained (abuse), "
        f"delay=72842877ms, ses_id={SES_ID}, response=(Yahoo!-Mail-Feedback/2.0)"
    ],
    "identity_delivery": [
        "4F1A22C0D3E: to=<bob@example.org>, relay=a8-30.smtp-out.amazonses.com[203.0.113.45], dsn=2.0.0, "
        f"status=delivered, delay=1081ms, ses_id={SES_ID}, response=(250 2.0.0 Ok: queued as 4VTrq21mQmz9sQ)"
    ],
    "event_send": [
        "4F1A22C0D3E: to=<alice@example.net>, relay=amazonses.com, dsn=2.0.0, status=accepted, "
        f"ses_id={SES_ID}, response=()",
        "4F1A22C0D3E: to=<bob@example.org>, relay=amazonses.com, dsn=2.0.0, status=accepted, "
        f"ses_id={SES_ID}, response=()",
    ],
    "event_delivery": [
        "4F1A22C0D3E: to=<bob@example.org>, relay=a8-30.smtp-out.amazonses.com[203.0.113.45], dsn=2.0.0, "
        f"status=delivered, delay=1081ms, ses_id={SES_ID}, response=(250 2.0.0 Ok: queued as 4VTrq21mQmz9sQ)"
    ],
    "event_bounce": [
        "4F1A22C0D3E: to=<alice@example.net>, relay=a8-30.smtp-out.amazonses.com[203.0.113.20], dsn=5.1.1, "
        f"status=bounced (Permanent/NoEmail), delay=1389ms, ses_id={SES_ID}, response=(smtp; 550 5.1.1 "
        "<alice@example.net>: Recipient address rejected: User unknown)"
    ],
    "event_complaint": [
        "4F1A22C0D3E: to=<bob@example.org>, relay=amazonses.com, dsn=2.0.0, status=complained (abuse), "
        f"delay=72842877ms, ses_id={SES_ID}, response=(Yahoo!-Mail-Feedback/2.0)"
    ],
    "event_delivery_delay": [
        "4F1A22C0D3E: to=<alice@example.net>, relay=203.0.113.20, dsn=4.2.2, status=deferred (MailboxFull), "
        f"delay=602208ms, ses_id={SES_ID}, response=(smtp; 452 4.2.2 The email account that you tried to "
        "reach is over quota)"
    ],
    "event_reject": [
        "4F1A22C0D3E: to=<alice@example.net>, relay=amazonses.com, dsn=5.0.0, status=rejected (Bad content), "
        f"ses_id={SES_ID}, response=(Bad content)",
        "4F1A22C0D3E: to=<bob@example.org>, relay=amazonses.com, dsn=5.0.0, status=rejected (Bad content), "
        f"ses_id={SES_ID}, response=(Bad content)",
    ],
    # A templated API send: no Postfix queue ID exists, so the line starts with the SES message ID.
    "event_rendering_failure": [
        "0100018f34069f10-3a4b5c6d-7e8f-4091-a2b3-c4d5e6f70819-000000: to=<alice@example.net>, "
        "relay=amazonses.com, dsn=5.0.0, status=failed (InvoiceTemplate), "
        "ses_id=0100018f34069f10-3a4b5c6d-7e8f-4091-a2b3-c4d5e6f70819-000000, "
        "response=(Attribute 'invoiceNumber' is not present in the rendering data.)"
    ],
    "event_open": [
        f"4F1A22C0D3E: to=<{rcpt}>, relay=amazonses.com, dsn=2.0.0, status=opened (192.0.2.77), "
        f"delay=1900785ms, ses_id={SES_ID}, response=(Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36)"
        for rcpt in ("alice@example.net", "bob@example.org")
    ],
    "event_click": [
        f"4F1A22C0D3E: to=<{rcpt}>, relay=amazonses.com, dsn=2.0.0, status=clicked (192.0.2.77), "
        f"delay=1924989ms, ses_id={SES_ID}, response=(https://www.example.com/invoices/2024-0501)"
        for rcpt in ("alice@example.net", "bob@example.org")
    ],
    "event_subscription": [
        f"4F1A22C0D3E: to=<{rcpt}>, relay=amazonses.com, dsn=2.0.0, status=unsubscribed (Customers), "
        f"delay=162017787ms, ses_id={SES_ID}, response=(source=UnsubscribeHeader; unsubscribeAll=true; "
        "Invoices=OptOut)"
        for rcpt in ("alice@example.net", "bob@example.org")
    ],
}


def test_golden_covers_every_reference_example() -> None:
    assert sorted(GOLDEN) == sorted(path.stem for path in (FIXTURES / "raw").glob("*.json"))


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_reference_example_gives_exact_lines(name: str) -> None:
    assert lines_for(load_event(name)) == GOLDEN[name]


def test_both_producers_give_the_same_line_for_the_same_delivery() -> None:
    assert lines_for(load_event("identity_delivery")) == lines_for(load_event("event_delivery"))


# --- Bounce: every documented type/subtype (reference §1.4), plus subtypes seen in third-party code ---

BOUNCE_KINDS = [
    ("Undetermined", "Undetermined", "5.0.0"),
    ("Permanent", "General", "5.0.0"),
    ("Permanent", "NoEmail", "5.0.0"),
    ("Permanent", "Suppressed", "5.0.0"),
    ("Permanent", "OnAccountSuppressionList", "5.0.0"),
    ("Transient", "General", "4.0.0"),
    ("Transient", "MailboxFull", "4.0.0"),
    ("Transient", "MessageTooLarge", "4.0.0"),
    ("Transient", "CustomTimeoutExceeded", "4.0.0"),
    ("Transient", "ContentRejected", "4.0.0"),
    ("Transient", "AttachmentRejected", "4.0.0"),
    # "Treat subtype as an open set": these are not in AWS text but must not break anything.
    ("Permanent", "OnTenantSuppressionList", "5.0.0"),
    ("Permanent", "UnsubscribedRecipient", "5.0.0"),
    ("Permanent", "EmailValidationSuppressed", "5.0.0"),
]


@pytest.mark.parametrize(("bounce_type", "sub_type", "default_dsn"), BOUNCE_KINDS)
def test_bounce_type_and_subtype_with_dsn_status(bounce_type: str, sub_type: str, default_dsn: str) -> None:
    event = load_event("event_bounce")
    event["bounce"].update(bounceType=bounce_type, bounceSubType=sub_type)
    event["bounce"]["bouncedRecipients"][0]["status"] = "5.7.1"

    (line,) = lines_for(event)

    assert f", dsn=5.7.1, status=bounced ({bounce_type}/{sub_type}), delay=1389ms, " in line


@pytest.mark.parametrize(("bounce_type", "sub_type", "default_dsn"), BOUNCE_KINDS)
def test_bounce_without_dsn_fields_uses_the_class_of_its_type(
    bounce_type: str, sub_type: str, default_dsn: str
) -> None:
    event = minimal_event(
        "Bounce",
        bounce={
            "bounceType": bounce_type,
            "bounceSubType": sub_type,
            "bouncedRecipients": [{"emailAddress": "alice@example.net"}],
        },
    )

    assert lines_for(event) == [
        f"4F1A22C0D3E: to=<alice@example.net>, relay=amazonses.com, dsn={default_dsn}, "
        f"status=bounced ({bounce_type}/{sub_type}), ses_id={SES_ID}, response=()"
    ]


def test_suppressed_bounce_as_captured() -> None:
    """Real capture (reference §1.4): reported by 'dns; amazonses.com' with no remote MTA."""
    event = load_event("identity_bounce")
    event["bounce"].update(bounceSubType="Suppressed", reportingMTA="dns; amazonses.com")
    del event["bounce"]["remoteMtaIp"]
    event["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = (
        "Amazon SES has suppressed sending to this address because it has a recent history of bouncing "
        "as an invalid address."
    )

    assert lines_for(event) == [
        "4F1A22C0D3E: to=<alice@example.net>, relay=amazonses.com, dsn=5.1.1, "
        f"status=bounced (Permanent/Suppressed), delay=1389ms, ses_id={SES_ID}, "
        "response=(Amazon SES has suppressed sending to this address because it has a recent history of "
        "bouncing as an invalid address.)"
    ]


def test_expired_soft_bounce_keeps_its_4xx_status() -> None:
    """Real capture (reference §1.4): SES gave up after retrying for 840 minutes."""
    event = load_event("event_bounce")
    event["bounce"].update(bounceType="Transient", bounceSubType="General")
    event["bounce"]["bouncedRecipients"][0].update(
        status="4.4.7",
        diagnosticCode="smtp; 554 4.4.7 Message expired: unable to deliver in 840 minutes."
        "<421 4.4.0 Unable to lookup DNS for example.net>",
    )

    (line,) = lines_for(event)

    assert ", dsn=4.4.7, status=bounced (Transient/General), " in line
    assert line.endswith(
        "response=(smtp; 554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 "
        "4.4.0 Unable to lookup DNS for example.net>)"
    )


def test_out_of_office_auto_reply_bounce() -> None:
    """Simulator ooto@ (reference §5): Transient/General, recipient without any DSN field."""
    event = load_event("identity_bounce")
    event["bounce"].update(bounceType="Transient", bounceSubType="General")
    event["bounce"]["bouncedRecipients"] = [{"emailAddress": "ooto@simulator.amazonses.com"}]

    assert lines_for(event) == [
        "4F1A22C0D3E: to=<ooto@simulator.amazonses.com>, relay=a8-30.smtp-out.amazonses.com[203.0.113.20], "
        f"dsn=4.0.0, status=bounced (Transient/General), delay=1389ms, ses_id={SES_ID}, response=()"
    ]


@pytest.mark.parametrize("status", ["smtp; 550 5.1.1", "5.1", "5.1.1 user unknown", "6.1.1", "5.1234.1", " "])
def test_malformed_recipient_status_falls_back_to_the_default_dsn(status: str) -> None:
    event = load_event("event_bounce")
    event["bounce"]["bouncedRecipients"][0]["status"] = status

    assert ", dsn=5.0.0, status=bounced (Permanent/NoEmail), " in lines_for(event)[0]


def test_bounce_of_many_recipients_gives_one_line_each_in_order() -> None:
    event = load_event("event_bounce")
    recipients = [f"user{number:02d}@example.net" for number in range(50)]
    event["bounce"]["bouncedRecipients"] = [
        {"emailAddress": address, "status": "5.1.1", "diagnosticCode": f"smtp; 550 5.1.1 <{address}> unknown"}
        for address in recipients
    ]

    lines = lines_for(event)

    assert len(lines) == 50
    for address, line in zip(recipients, lines, strict=True):
        assert line.startswith(f"4F1A22C0D3E: to=<{address}>, ")
        assert line.endswith(f"response=(smtp; 550 5.1.1 <{address}> unknown)")


def test_each_bounced_recipient_keeps_its_own_status_and_diagnostic() -> None:
    event = load_event("event_bounce")
    event["bounce"]["bouncedRecipients"] = [
        {
            "emailAddress": "alice@example.net",
            "action": "failed",
            "status": "5.1.1",
            "diagnosticCode": "smtp; 550 no",
        },
        {
            "emailAddress": "bob@example.org",
            "action": "failed",
            "status": "5.2.2",
            "diagnosticCode": "smtp; 552 full",
        },
    ]

    alice, bob = lines_for(event)

    assert ", dsn=5.1.1, " in alice
    assert alice.endswith("response=(smtp; 550 no)")
    assert ", dsn=5.2.2, " in bob
    assert bob.endswith("response=(smtp; 552 full)")


# --- Complaint (reference §1.5) ---


def test_complaint_without_feedback_report() -> None:
    event = load_event("event_complaint")
    for field in ("userAgent", "complaintFeedbackType", "arrivalDate"):
        del event["complaint"][field]

    assert lines_for(event) == [
        "4F1A22C0D3E: to=<bob@example.org>, relay=amazonses.com, dsn=2.0.0, status=complained, "
        f"delay=72842877ms, ses_id={SES_ID}, response=()"
    ]


@pytest.mark.parametrize("feedback_type", ["abuse", "auth-failure", "fraud", "not-spam", "other", "virus"])
def test_complaint_feedback_type_is_the_detail(feedback_type: str) -> None:
    event = load_event("identity_complaint")
    event["complaint"]["complaintFeedbackType"] = feedback_type

    assert f", status=complained ({feedback_type}), " in lines_for(event)[0]


def test_complaint_on_account_suppression_list() -> None:
    event = load_event("event_complaint")
    event["complaint"]["complaintSubType"] = "OnAccountSuppressionList"
    del event["complaint"]["complaintFeedbackType"]

    assert ", status=complained (OnAccountSuppressionList), " in lines_for(event)[0]


def test_complaint_with_several_complained_recipients() -> None:
    event = load_event("event_complaint")
    event["complaint"]["complainedRecipients"] = [
        {"emailAddress": "alice@example.net"},
        {"emailAddress": "bob@example.org"},
    ]

    assert [line.split(", relay=")[0] for line in lines_for(event)] == [
        "4F1A22C0D3E: to=<alice@example.net>",
        "4F1A22C0D3E: to=<bob@example.org>",
    ]


# --- Delivery (reference §1.6) ---


def test_delivery_to_several_recipients() -> None:
    event = load_event("event_delivery")
    event["delivery"]["recipients"] = ["alice@example.net", "bob@example.org", "carol@example.com"]

    lines = lines_for(event)

    assert [line.split(", relay=")[0] for line in lines] == [
        "4F1A22C0D3E: to=<alice@example.net>",
        "4F1A22C0D3E: to=<bob@example.org>",
        "4F1A22C0D3E: to=<carol@example.com>",
    ]
    assert len({line.split(", relay=")[1] for line in lines}) == 1  # everything else is the same


@pytest.mark.parametrize(
    ("smtp_response", "dsn"),
    [
        ("250 2.0.0 OK  1765170850 af79cd13be357-8b5f3c1e2d9si1234567a.123 - gsmtp", "2.0.0"),
        ("250 2.6.0 <id@example.net> [InternalId=1] Queued mail for delivery", "2.6.0"),
        ("250 ok: Message 122614849 accepted", "2.0.0"),
        ("250 OK", "2.0.0"),
        ("250-2.1.5 first line of a multi-line reply", "2.1.5"),
        ("250 5.0.0 nonsense class", "2.0.0"),
        ("", "2.0.0"),
    ],
)
def test_delivery_dsn_comes_from_the_remote_reply(smtp_response: str, dsn: str) -> None:
    event = load_event("event_delivery")
    event["delivery"]["smtpResponse"] = smtp_response

    assert f", dsn={dsn}, status=delivered, " in lines_for(event)[0]


def test_delivery_without_remote_ip_or_reporting_mta() -> None:
    event = load_event("identity_delivery")
    del event["delivery"]["remoteMtaIp"]
    assert ", relay=a8-30.smtp-out.amazonses.com, " in lines_for(event)[0]

    del event["delivery"]["reportingMTA"]
    assert ", relay=amazonses.com, " in lines_for(event)[0]

    event["delivery"]["remoteMtaIp"] = "2001:db8::25"
    assert ", relay=amazonses.com[2001:db8::25], " in lines_for(event)[0]


@pytest.mark.parametrize("processing_time", ["1081", -5, True, None, 1.5e400])
def test_delivery_delay_falls_back_to_timestamps_when_processing_time_is_unusable(
    processing_time: Any,
) -> None:
    event = load_event("event_delivery")
    event["delivery"]["processingTimeMillis"] = processing_time

    # 12:00:01.204 - 12:00:00.123
    assert ", status=delivered, delay=1081ms, " in lines_for(event)[0]
    event["delivery"]["timestamp"] = "2024-05-01T12:00:03.000Z"
    assert ", status=delivered, delay=2877ms, " in lines_for(event)[0]


def test_delivery_processing_time_wins_over_timestamps() -> None:
    event = load_event("event_delivery")
    event["delivery"]["processingTimeMillis"] = 42

    assert ", delay=42ms, " in lines_for(event)[0]


# --- DeliveryDelay (reference §1.8) ---

DELAY_TYPES = [
    "InternalFailure",
    "General",
    "MailboxFull",
    "SpamDetected",
    "RecipientServerError",
    "IPFailure",
    "TransientCommunicationFailure",
    "BYOIPHostNameLookupUnavailable",
    "Undetermined",
    "SendingDeferral",
]


@pytest.mark.parametrize("delay_type", DELAY_TYPES)
def test_every_delay_type_is_the_detail(delay_type: str) -> None:
    event = load_event("event_delivery_delay")
    event["deliveryDelay"]["delayType"] = delay_type

    assert f", dsn=4.2.2, status=deferred ({delay_type}), " in lines_for(event)[0]


def test_delivery_delay_for_several_recipients_without_reporting_mta() -> None:
    event = load_event("event_delivery_delay")
    del event["deliveryDelay"]["reportingMTA"]
    event["deliveryDelay"]["delayedRecipients"] = [
        {
            "emailAddress": "alice@example.net",
            "status": "4.4.1",
            "diagnosticCode": "smtp; 421 4.4.1 Unable to connect to remote host",
        },
        {"emailAddress": "bob@example.org"},
    ]

    assert lines_for(event) == [
        "4F1A22C0D3E: to=<alice@example.net>, relay=amazonses.com, dsn=4.4.1, status=deferred (MailboxFull), "
        f"delay=602208ms, ses_id={SES_ID}, response=(smtp; 421 4.4.1 Unable to connect to remote host)",
        "4F1A22C0D3E: to=<bob@example.org>, relay=amazonses.com, dsn=4.0.0, status=deferred (MailboxFull), "
        f"delay=602208ms, ses_id={SES_ID}, response=()",
    ]


# --- Subscription (reference §1.9) ---


def test_subscription_change_that_is_not_a_full_unsubscribe() -> None:
    event = load_event("event_subscription")
    event["mail"]["destination"] = ["alice@example.net"]
    event["subscription"]["newTopicPreferences"] = {
        "unsubscribeAll": False,
        "topicSubscriptionStatus": [
            {"topicName": "Invoices", "subscriptionStatus": "OptOut"},
            {"topicName": "News", "subscriptionStatus": "OptIn"},
        ],
    }

    assert lines_for(event) == [
        "4F1A22C0D3E: to=<alice@example.net>, relay=amazonses.com, dsn=2.0.0, status=subscription "
        "(Customers), "
        f"delay=162017787ms, ses_id={SES_ID}, response=(source=UnsubscribeHeader; unsubscribeAll=false; "
        "Invoices=OptOut; News=OptIn)"
    ]


def test_subscription_with_unreadable_preferences() -> None:
    event = minimal_event(
        "Subscription",
        subscription={
            "newTopicPreferences": {"topicSubscriptionStatus": [{"topicName": "Invoices"}, "junk", {}]}
        },
    )

    assert lines_for(event) == [
        "4F1A22C0D3E: to=<>, relay=amazonses.com, dsn=2.0.0, status=subscription, "
        f"ses_id={SES_ID}, response=(Invoices=?; ?=?)"
    ]


# --- Missing optional fields never raise ---

MINIMAL_LINES = {
    "Send": "dsn=2.0.0, status=accepted",
    "Delivery": "dsn=2.0.0, status=delivered",
    "Bounce": "dsn=5.0.0, status=bounced",
    "Complaint": "dsn=2.0.0, status=complained",
    "DeliveryDelay": "dsn=4.0.0, status=deferred",
    "Reject": "dsn=5.0.0, status=rejected",
    "Rendering Failure": "dsn=5.0.0, status=failed",
    "Open": "dsn=2.0.0, status=opened",
    "Click": "dsn=2.0.0, status=clicked",
    "Subscription": "dsn=2.0.0, status=subscription",
}


@pytest.mark.parametrize("event_type", sorted(MINIMAL_LINES))
def test_event_with_only_type_and_message_id_still_gives_one_line(event_type: str) -> None:
    """An event SES stripped to the bone still says what happened to which message."""
    assert lines_for(minimal_event(event_type)) == [
        f"4F1A22C0D3E: to=<>, relay=amazonses.com, {MINIMAL_LINES[event_type]}, ses_id={SES_ID}, response=()"
    ]


@pytest.mark.parametrize("notification_type", ["Bounce", "Complaint", "Delivery"])
def test_identity_notification_minimal_event(notification_type: str) -> None:
    event = {"notificationType": notification_type, "mail": {"messageId": SES_ID}}

    assert lines_for(event) == lines_for(minimal_event(notification_type))


@pytest.mark.parametrize(
    ("event_type", "payload_key"),
    [("Bounce", "bounce"), ("Delivery", "delivery"), ("Open", "open"), ("Rendering Failure", "failure")],
)
@pytest.mark.parametrize("junk", [None, [], "text", 7])
def test_payload_object_of_the_wrong_type_is_treated_as_missing(
    event_type: str, payload_key: str, junk: Any
) -> None:
    assert lines_for(minimal_event(event_type, **{payload_key: junk})) == lines_for(minimal_event(event_type))


@pytest.mark.parametrize("fixture", sorted(GOLDEN))
def test_any_single_optional_field_can_be_removed(fixture: str) -> None:
    """Remove each field except the type and mail.messageId, one at a time: always a line per recipient."""
    event = load_event(fixture)
    for path in _field_paths(event):
        if path in (("eventType",), ("notificationType",), ("mail",), ("mail", "messageId")):
            continue
        pruned = copy.deepcopy(event)
        _delete(pruned, path)
        lines = lines_for(pruned)
        assert lines, path
        assert all(", ses_id=" in line and line.endswith(")") for line in lines), path


def _field_paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths: list[tuple[Any, ...]] = []
    children = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    for key, value in children:
        paths.append((*prefix, key))
        paths.extend(_field_paths(value, (*prefix, key)))
    return paths


def _delete(obj: Any, path: tuple[Any, ...]) -> None:
    for key in path[:-1]:
        obj = obj[key]
    del obj[path[-1]]


@pytest.mark.parametrize("recipients", [[], None, "alice@example.net", {"emailAddress": "x"}])
def test_missing_or_malformed_recipient_list_gives_one_nameless_line(recipients: Any) -> None:
    event = load_event("event_bounce")
    event["bounce"]["bouncedRecipients"] = recipients

    (line,) = lines_for(event)

    assert line.startswith(
        "4F1A22C0D3E: to=<>, relay=a8-30.smtp-out.amazonses.com[203.0.113.20], dsn=5.0.0, "
    )


def test_malformed_recipient_entries_keep_their_place() -> None:
    event = load_event("event_send")
    event["mail"]["destination"] = ["alice@example.net", None, 42, {"emailAddress": "bob@example.org"}, {}]

    assert [line.split(", relay=")[0] for line in lines_for(event)] == [
        "4F1A22C0D3E: to=<alice@example.net>",
        "4F1A22C0D3E: to=<>",
        "4F1A22C0D3E: to=<>",
        "4F1A22C0D3E: to=<bob@example.org>",
        "4F1A22C0D3E: to=<>",
    ]


def test_send_to_fifty_recipients() -> None:
    event = load_event("event_send")
    event["mail"]["destination"] = [f"user{number}@example.net" for number in range(50)]

    lines = lines_for(event)

    assert [line.split(", ")[0] for line in lines] == [
        f"4F1A22C0D3E: to=<user{n}@example.net>" for n in range(50)
    ]


# --- Delay (reference §1.3 timestamps) ---


def test_event_timestamp_before_mail_timestamp_gives_zero_delay() -> None:
    event = load_event("event_bounce")
    event["bounce"]["timestamp"] = "2024-05-01T11:59:59.000Z"

    assert ", delay=0ms, " in lines_for(event)[0]


def test_documented_space_offset_timestamp_form() -> None:
    event = load_event("event_bounce")
    event["mail"]["timestamp"] = "2024-05-01T12:00:00 +0000"

    assert ", delay=1512ms, " in lines_for(event)[0]


@pytest.mark.parametrize("broken", [None, "", "yesterday", 1714564800, "2024-13-45T99:00:00Z"])
def test_unreadable_timestamp_leaves_the_delay_out(broken: Any) -> None:
    event = load_event("event_bounce")
    event["mail"]["timestamp"] = broken

    line = lines_for(event)[0]

    assert "delay=" not in line
    assert ", status=bounced (Permanent/NoEmail), ses_id=" in line


# --- Timestamps: SES's forms, and the delay between two of them ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:00:00.123Z", datetime(2024, 5, 1, 12, 0, 0, 123_000, tzinfo=UTC)),
        ("2018-10-08T14:05:45 +0000", datetime(2018, 10, 8, 14, 5, 45, tzinfo=UTC)),  # documented form
        ("2018-10-08T14:05:45+0000", datetime(2018, 10, 8, 14, 5, 45, tzinfo=UTC)),
        (
            "2024-05-01T12:00:00.123456+00:00",
            datetime(2024, 5, 1, 12, 0, 0, 123_456, tzinfo=UTC),
        ),  # LocalStack
        ("2024-05-01T14:00:00+02:00", datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),
        ("2024-05-01T12:00:00", datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),  # no offset: UTC
        (" 2024-05-01T12:00:00Z\n", datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),
    ],
)
def test_accepted_forms(text: str, expected: datetime) -> None:
    assert parse_ses_timestamp(text) == expected


@pytest.mark.parametrize("value", [None, "", "yesterday", "2024-13-01T00:00:00Z", 1714564800, 1.5, [], {}])
def test_unreadable_values_give_none(value: Any) -> None:
    assert parse_ses_timestamp(value) is None


def test_elapsed_milliseconds() -> None:
    assert elapsed_ms("2024-05-01T12:00:00.123Z", "2024-05-01T12:00:01.512Z") == 1389
    assert elapsed_ms("2024-05-01T12:00:00.123Z", "2024-05-02T08:14:03.000Z") == 72_842_877


def test_elapsed_across_offsets_and_forms() -> None:
    assert elapsed_ms("2018-10-08T14:05:45 +0000", "2018-10-08T16:05:45.5+02:00") == 500


def test_elapsed_truncates_sub_millisecond_parts() -> None:
    assert elapsed_ms("2024-05-01T12:00:00.000000Z", "2024-05-01T12:00:00.000999Z") == 0


def test_elapsed_is_never_negative() -> None:
    assert elapsed_ms("2024-05-01T12:00:01Z", "2024-05-01T12:00:00Z") == 0


@pytest.mark.parametrize(
    ("start", "end"), [(None, "2024-05-01T12:00:00Z"), ("2024-05-01T12:00:00Z", None), ("x", "y")]
)
def test_elapsed_is_none_when_a_side_is_unknown(start: Any, end: Any) -> None:
    assert elapsed_ms(start, end) is None
