"""read_ses_event validates an event once; event_key: the same event always gets the same key, two
different events never share one."""

from __future__ import annotations

import copy
import itertools
import json
import re
from typing import Any

import pytest

from ses_events.core import PoisonMessage, SesEvent, event_key, read_ses_event, unwrap_sqs_body
from tests.unit.ses_events.fixtures import EVENT_NAMES, FIXTURES, SES_ID, load_event


def key_of(event: dict[str, Any]) -> str:
    return event_key(read_ses_event(event))


def test_key_is_pinned() -> None:
    """A daemon may persist keys across upgrades: changing the recipe must be a deliberate act."""
    assert key_of(load_event("event_bounce")) == (
        "Bounce:86aac91ac31510e60e752aa54627aa7eaea07ac01e57ba40e40354318281eafb"
    )
    assert key_of(load_event("event_rendering_failure")) == (
        "RenderingFailure:860010f25ce64e569b9abae7c7260f70e7567d3eef8ff2d6531e27c069c892ef"
    )


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_key_shape(name: str) -> None:
    assert re.fullmatch(r"[A-Za-z]+:[0-9a-f]{64}", key_of(load_event(name)))


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_redelivery_in_any_envelope_gives_the_same_key(name: str) -> None:
    raw_body = (FIXTURES / "raw" / f"{name}.json").read_text(encoding="utf-8")
    envelope = json.loads((FIXTURES / "sns" / f"{name}.json").read_text(encoding="utf-8"))
    # An SNS retry and an SQS redelivery: other envelope IDs, timestamps, signature, serialisation.
    retried = dict(
        envelope, MessageId="00000000-0000-0000-0000-000000000000", Timestamp="2024-05-01T13:00:00.000Z"
    )
    retried["Message"] = json.dumps(json.loads(envelope["Message"]), indent=4, sort_keys=True)

    keys = {
        event_key(unwrap_sqs_body(body).event)  # type: ignore[arg-type]
        for body in (raw_body, json.dumps(envelope), json.dumps(retried, indent=1))
    }

    assert keys == {key_of(load_event(name))}


def test_key_ignores_the_mail_object_beyond_the_message_id() -> None:
    event = load_event("event_delivery")
    trimmed = copy.deepcopy(event)
    trimmed["mail"] = {"messageId": event["mail"]["messageId"]}

    assert key_of(trimmed) == key_of(event)


def test_the_same_event_from_both_producers_shares_a_key() -> None:
    """Identity notifications and event publishing both report this delivery: log it once."""
    assert key_of(load_event("identity_delivery")) == key_of(load_event("event_delivery"))
    assert key_of(load_event("identity_complaint")) == key_of(load_event("event_complaint"))


def test_distinct_reference_events_have_distinct_keys() -> None:
    keys = {name: key_of(load_event(name)) for name in EVENT_NAMES}
    # The only shared keys are the two deliveries and the two complaints reported by both producers.
    same = {
        frozenset(pair) for pair in itertools.combinations(EVENT_NAMES, 2) if keys[pair[0]] == keys[pair[1]]
    }

    assert same == {
        frozenset({"identity_delivery", "event_delivery"}),
        frozenset({"identity_complaint", "event_complaint"}),
    }


def _variant(name: str, path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    event = load_event(name)
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return event


DIFFERENT_EVENTS = [
    # Two deliveries of one message (one per recipient), even at the very same millisecond.
    ("event_delivery", ("delivery", "recipients"), ["alice@example.net"]),
    # The same recipient delivered at another time (SES published a second event).
    ("event_delivery", ("delivery", "timestamp"), "2024-05-01T12:00:09.000Z"),
    # A second bounce notification of one message.
    (
        "event_bounce",
        ("bounce", "feedbackId"),
        "0100018f3407a1b2-ffffffff-1c2d-4e3f-9a8b-7c6d5e4f3a2b-000000",
    ),
    # SES may split one bounce into one notification per recipient with the same feedback ID.
    ("event_bounce", ("bounce", "bouncedRecipients", 0, "emailAddress"), "bob@example.org"),
    ("event_complaint", ("complaint", "feedbackId"), "another-feedback-id"),
    ("event_delivery_delay", ("deliveryDelay", "timestamp"), "2024-05-01T12:40:02.331Z"),
    ("event_open", ("open", "timestamp"), "2024-05-01T12:31:41.000Z"),
    ("event_open", ("open", "ipAddress"), "192.0.2.78"),
    ("event_click", ("click", "link"), "https://www.example.com/other"),
    ("event_click", ("click", "timestamp"), "2024-05-01T12:32:05.113Z"),
    ("event_subscription", ("subscription", "timestamp"), "2024-05-04T09:00:17.910Z"),
    # Same details, other message.
    ("event_send", ("mail", "messageId"), "0100018f34069e7b-00000000-5a6b-4c7d-8e9f-0a1b2c3d4e5f-000000"),
    ("event_reject", ("mail", "messageId"), "0100018f34069e7b-00000000-5a6b-4c7d-8e9f-0a1b2c3d4e5f-000000"),
]


@pytest.mark.parametrize(("name", "path", "value"), DIFFERENT_EVENTS)
def test_two_different_events_never_share_a_key(name: str, path: tuple[Any, ...], value: Any) -> None:
    assert key_of(_variant(name, path, value)) != key_of(load_event(name))


def test_types_with_empty_details_differ_by_type() -> None:
    message = {"messageId": "0100018f34069e7b-1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f-000000"}
    keys = {key_of({"eventType": event_type, "mail": message}) for event_type in ("Send", "Reject", "Open")}

    assert len(keys) == 3


def test_key_does_not_depend_on_json_key_order() -> None:
    event = load_event("event_bounce")
    reordered = json.loads(json.dumps(event, sort_keys=True))
    reordered["bounce"] = dict(reversed(list(reordered["bounce"].items())))

    assert key_of(reordered) == key_of(event)


def test_key_survives_lone_surrogates_and_non_ascii() -> None:
    event = load_event("event_bounce")
    event["bounce"]["bouncedRecipients"][0]["emailAddress"] = "jörg@bücher.example\ud800"

    assert key_of(event).startswith("Bounce:")


@pytest.mark.parametrize(
    "event",
    [
        {"eventType": "Explosion", "mail": {"messageId": SES_ID}},
        {"eventType": "Bounce"},
        {"eventType": "Bounce", "mail": {}},
        {"mail": {"messageId": SES_ID}},
        ["not", "an", "object"],
    ],
)
def test_unusable_event_is_poison(event: Any) -> None:
    with pytest.raises(PoisonMessage):
        read_ses_event(event)


@pytest.mark.parametrize(
    ("name", "event_type", "payload_key"),
    [
        ("event_bounce", "Bounce", "bounce"),
        ("identity_delivery", "Delivery", "delivery"),
        ("event_rendering_failure", "Rendering Failure", "failure"),
    ],
)
def test_the_event_carries_its_type_message_id_mail_and_payload(
    name: str, event_type: str, payload_key: str
) -> None:
    raw = load_event(name)

    assert read_ses_event(raw) == SesEvent(
        event_type=event_type, message_id=raw["mail"]["messageId"], mail=raw["mail"], payload=raw[payload_key]
    )


def test_a_missing_or_malformed_payload_is_an_empty_mapping() -> None:
    assert read_ses_event({"eventType": "Bounce", "mail": {"messageId": SES_ID}}).payload == {}
    assert read_ses_event({"eventType": "Bounce", "mail": {"messageId": SES_ID}, "bounce": [1]}).payload == {}
