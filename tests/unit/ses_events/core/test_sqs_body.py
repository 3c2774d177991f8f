"""unwrap_sqs_body: SNS envelope or raw delivery, events, non-events and poison (reference §2)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ses_events.core import MessageKind, PoisonMessage, read_ses_event, unwrap_sqs_body
from tests.unit.ses_events.fixtures import (
    EVENT_NAMES,
    FIXTURES,
    NON_EVENT_FIXTURES,
    SES_ID,
    fixture_text,
    load_event,
)


def sns_notification(message: str, **extra: Any) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "5f2b0a51-63e9-5c1e-9d3e-2b7a7f0c9a11",
            "Message": message,
            **extra,
        }
    )


def test_every_reference_example_has_an_sns_wrapped_twin() -> None:
    assert sorted(path.stem for path in (FIXTURES / "sns").glob("*.json")) == EVENT_NAMES
    assert len(EVENT_NAMES) == 13


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_sns_twin_carries_exactly_the_raw_event(name: str) -> None:
    envelope = json.loads(fixture_text(f"sns/{name}.json"))
    raw = json.loads(fixture_text(f"raw/{name}.json"))

    assert json.loads(envelope["Message"]) == raw
    # Producer style (reference §1.1): event publishing has a Subject and a trailing newline.
    assert ("Subject" in envelope) == ("eventType" in raw) == envelope["Message"].endswith("\n")


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_raw_delivery_body_is_the_event(name: str) -> None:
    unwrapped = unwrap_sqs_body(fixture_text(f"raw/{name}.json"))

    assert unwrapped.kind is MessageKind.SES_EVENT
    assert unwrapped.event == read_ses_event(load_event(name))
    assert unwrapped.sns_envelope is None


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_sns_envelope_body_is_unwrapped_to_the_event(name: str) -> None:
    unwrapped = unwrap_sqs_body(fixture_text(f"sns/{name}.json"))

    assert unwrapped.kind is MessageKind.SES_EVENT
    assert unwrapped.event == read_ses_event(load_event(name))
    assert unwrapped.sns_envelope is not None
    assert unwrapped.sns_envelope["Type"] == "Notification"


@pytest.mark.parametrize(
    ("fixture", "type_field"),
    [
        ("sns_examples/sns_identity_delivery.json", "notificationType"),
        ("sns_examples/sns_event_delivery.json", "eventType"),
    ],
)
def test_reference_sns_examples(fixture: str, type_field: str) -> None:
    message = json.loads(json.loads(fixture_text(fixture))["Message"])

    unwrapped = unwrap_sqs_body(fixture_text(fixture))

    assert unwrapped.kind is MessageKind.SES_EVENT
    assert unwrapped.event == read_ses_event(message)
    assert message[type_field] == unwrapped.event.event_type == "Delivery"
    assert unwrapped.event.message_id == SES_ID


def test_reference_raw_delivery_example_equals_the_sns_message() -> None:
    raw_body = fixture_text("sns_examples/raw_event_delivery.txt")
    envelope = json.loads(fixture_text("sns_examples/sns_event_delivery.json"))

    assert raw_body == envelope["Message"]  # with its trailing newline, as §2.3 expects
    assert unwrap_sqs_body(raw_body).event == unwrap_sqs_body(json.dumps(envelope)).event


def test_localstack_events_are_events() -> None:
    for name in ("localstack_send", "localstack_delivery"):
        assert unwrap_sqs_body(fixture_text(f"sns_examples/{name}.json")).kind is MessageKind.SES_EVENT


# --- Recognised non-events: acknowledged, no lines, no error ---


@pytest.mark.parametrize(
    ("fixture", "kind"),
    NON_EVENT_FIXTURES,
)
def test_non_event_fixture_is_recognised(fixture: str, kind: MessageKind) -> None:
    unwrapped = unwrap_sqs_body(fixture_text(fixture))

    assert unwrapped.kind is kind
    assert unwrapped.event is None


@pytest.mark.parametrize(
    "body",
    [
        "Successfully validated SNS topic for Amazon SES event publishing.",
        "Successfully validated SNS topic for Amazon SES event publishing.\n",
        "  Successfully validated SNS topic for Amazon SES event publishing.\r\n",
        sns_notification("Successfully validated SNS topic for Amazon SES event publishing.\n"),
    ],
)
def test_validation_sentence_with_or_without_envelope_and_newline(body: str) -> None:
    assert unwrap_sqs_body(body).kind is MessageKind.SES_TOPIC_VALIDATION


def test_topic_subscribed_notice_with_raw_delivery() -> None:
    envelope = json.loads(fixture_text("sns_examples/sns_ses_topic_subscribed.json"))

    unwrapped = unwrap_sqs_body(envelope["Message"])

    assert unwrapped.kind is MessageKind.SES_TOPIC_SUBSCRIBED
    assert unwrapped.sns_envelope is None


def test_subscription_confirmation_keeps_the_envelope_for_the_subscribe_url() -> None:
    unwrapped = unwrap_sqs_body(fixture_text("sns_examples/sns_subscription_confirmation.json"))

    assert unwrapped.sns_envelope is not None
    assert unwrapped.sns_envelope["SubscribeURL"].startswith(
        "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
    )


def test_every_kind_has_a_description() -> None:
    assert all(kind.description for kind in MessageKind)


def test_an_event_with_both_type_fields_that_agree_is_accepted() -> None:
    event = json.loads(fixture_text("raw/event_bounce.json"))
    event["notificationType"] = "Bounce"

    assert unwrap_sqs_body(json.dumps(event)).kind is MessageKind.SES_EVENT


def test_unknown_fields_are_ignored() -> None:
    envelope = json.loads(fixture_text("sns/event_delivery.json"))
    event = json.loads(envelope["Message"])
    event["somethingNew"] = {"added": "by SES in 2030"}
    event["delivery"]["alsoNew"] = [1, 2, 3]
    envelope["Message"] = json.dumps(event)
    envelope["MessageAttributes"] = {"source": {"Type": "String", "Value": "billing"}}

    assert unwrap_sqs_body(json.dumps(envelope)).event == read_ses_event(event)


# --- Poison: a clear reason, never a crash ---


def _event(**changes: Any) -> str:
    event = json.loads(fixture_text("raw/event_bounce.json"))
    event.update(changes)
    return json.dumps(event)


def _event_without_message_id(message_id: Any) -> str:
    event = json.loads(fixture_text("raw/event_bounce.json"))
    event["mail"]["messageId"] = message_id
    return json.dumps(event)


ENVELOPE_LEVEL_POISON = [
    ("", "SQS body is empty"),
    (" \n\t", "SQS body is empty"),
    ("not json", "SQS body is not valid JSON (Expecting value at line 1 column 1)"),
    (
        '{"eventType": "Bounce",',
        "SQS body is not valid JSON (Expecting property name enclosed in double quotes at line 1 column 24)",
    ),
    ("[1, 2]", "SQS body is a JSON array, not an object"),
    ('"Successfully validated"', "SQS body is a JSON string, not an object"),
    ("null", "SQS body is a JSON null, not an object"),
    ("{}", "JSON object is neither an SNS envelope (Type) nor an SES event (eventType/notificationType)"),
    ('{"Type": "Weird"}', "SNS envelope has unknown Type 'Weird'"),
    ('{"Type": null}', "SNS envelope has unknown Type null"),
    ('{"Type": ["Notification"]}', "SNS envelope has unknown Type (a JSON array)"),
    ('{"Type": {"Notification": 1}}', "SNS envelope has unknown Type (a JSON object)"),
    ('{"Type": 7.5}', "SNS envelope has unknown Type 7.5"),
    ('{"Type": 1e400}', "SNS envelope has unknown Type Infinity"),
    ('{"Type": ' + "9" * 4300 + "}", "SNS envelope has unknown Type " + "9" * 79 + "…"),
    ('{"Type": ' + "9" * 4301 + "}", "SQS body holds a number too long to read"),
    (sns_notification('{"eventType": ' + "9" * 5000 + "}"), "SNS Message holds a number too long to read"),
    ('{"Type": "Notification"}', "SNS Notification has no string Message"),
    (
        '{"Type": "Notification", "Message": {"eventType": "Bounce"}}',
        "SNS Notification has no string Message",
    ),
    (sns_notification("hello"), "SNS Message is not valid JSON (Expecting value at line 1 column 1)"),
    (sns_notification("[]"), "SNS Message is a JSON array, not an object"),
    (
        sns_notification("Successfully validated SNS topic for Amazon SES event publishing. Really."),
        "SNS Message is not valid JSON (Expecting value at line 1 column 1)",
    ),
    (
        sns_notification(json.dumps({"Type": "Notification", "Message": "{}"})),
        "SNS Message is not an SES event (no eventType/notificationType)",
    ),
]

# Poison found in the SES event itself: the same reason with or without an SNS envelope.
EVENT_LEVEL_POISON = [
    (_event(eventType="Explosion"), "unknown SES event type 'Explosion'"),
    (_event(eventType="bounce"), "unknown SES event type 'bounce'"),
    (_event(eventType=42), "SES event type must be a string, not number"),
    (_event(eventType=None), "SES event type must be a string, not null"),
    (_event(notificationType="Delivery"), "eventType 'Bounce' and notificationType 'Delivery' disagree"),
    (_event(mail=None), "Bounce event has no 'mail' object"),
    (_event(mail=["0100018f34069e7b"]), "Bounce event has no 'mail' object"),
    (_event_without_message_id(None), "Bounce event has no mail.messageId"),
    (_event_without_message_id(""), "Bounce event has no mail.messageId"),
    (_event_without_message_id("   "), "Bounce event has no mail.messageId"),
    (_event_without_message_id(12345), "Bounce event has no mail.messageId"),
    ('{"eventType": "Send"}', "Send event has no 'mail' object"),
    ('{"notificationType": "Delivery", "mail": {}}', "Delivery event has no mail.messageId"),
]


@pytest.mark.parametrize(("body", "reason"), ENVELOPE_LEVEL_POISON + EVENT_LEVEL_POISON)
def test_poison_body_has_a_clear_reason(body: str, reason: str) -> None:
    with pytest.raises(PoisonMessage) as caught:
        unwrap_sqs_body(body)

    assert caught.value.reason == reason
    assert str(caught.value) == reason


@pytest.mark.parametrize(("event", "reason"), EVENT_LEVEL_POISON)
def test_poison_event_in_an_sns_envelope_has_the_same_reason(event: str, reason: str) -> None:
    with pytest.raises(PoisonMessage) as caught:
        unwrap_sqs_body(sns_notification(event + "\n"))

    assert caught.value.reason == reason


def test_message_published_by_something_else_than_ses_is_poison() -> None:
    """Reference §2.2 item 4: the topic may carry messages that are not SES's."""
    with pytest.raises(PoisonMessage, match=r"^SNS Message is not an SES event"):
        unwrap_sqs_body(fixture_text("sns_examples/sns_foreign_message.json"))


def test_deeply_nested_json_is_poison_not_a_crash() -> None:
    with pytest.raises(PoisonMessage, match="nested too deeply"):
        unwrap_sqs_body("[" * 100_000 + "]" * 100_000)


def test_non_text_body_is_poison() -> None:
    with pytest.raises(PoisonMessage, match="SQS body must be text, not bytes"):
        unwrap_sqs_body(b"{}")  # type: ignore[arg-type]


def test_reason_never_echoes_a_long_or_multi_line_value() -> None:
    hostile = "Bounce\nMay  1 relay postfix/smtp[1]: FAKE" + "x" * 10_000

    with pytest.raises(PoisonMessage) as caught:
        unwrap_sqs_body(_event(eventType=hostile))

    assert "\n" not in caught.value.reason
    assert len(caught.value.reason) < 120
    assert caught.value.reason.startswith(
        "unknown SES event type 'Bounce May  1 relay postfix/smtp[1]: FAKExx"
    )


def test_poison_message_is_a_value_error() -> None:
    assert issubclass(PoisonMessage, ValueError)
