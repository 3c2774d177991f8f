"""format_sqs_body: the single entry point of the CLI and the daemon."""

from __future__ import annotations

import json

import pytest

from ses_events import (
    FormattedMessage,
    MessageKind,
    PoisonMessage,
    event_key,
    event_to_log_lines,
    format_sqs_body,
)
from tests.unit.ses_events_fixtures import EVENT_NAMES, NON_EVENT_FIXTURES, SES_ID, fixture_text


def queue_ids(ses_message_id: str) -> str | None:
    return {SES_ID: "4F1A22C0D3E"}.get(ses_message_id)


def test_sns_wrapped_bounce() -> None:
    formatted = format_sqs_body(fixture_text("sns/event_bounce.json"), queue_ids)

    assert formatted == FormattedMessage(
        kind=MessageKind.SES_EVENT,
        lines=(
            "4F1A22C0D3E: to=<alice@example.net>, "
            "relay=a8-30.smtp-out.amazonses.com[203.0.113.20], dsn=5.1.1, "
            f"status=bounced (Permanent/NoEmail), delay=1389ms, ses_id={SES_ID}, response=(smtp; 550 5.1.1 "
            "<alice@example.net>: Recipient address rejected: User unknown)",
        ),
        event_key="Bounce:86aac91ac31510e60e752aa54627aa7eaea07ac01e57ba40e40354318281eafb",
        event_type="Bounce",
        ses_message_id=SES_ID,
    )


@pytest.mark.parametrize("name", EVENT_NAMES)
@pytest.mark.parametrize("folder", ["raw", "sns"])
def test_body_gives_the_lines_and_key_of_its_event(name: str, folder: str) -> None:
    event = json.loads(fixture_text(f"raw/{name}.json"))

    formatted = format_sqs_body(fixture_text(f"{folder}/{name}.json"), queue_ids)

    assert formatted.kind is MessageKind.SES_EVENT
    assert formatted.lines == tuple(event_to_log_lines(event, queue_ids))
    assert formatted.event_key == event_key(event)
    assert formatted.event_type == (event.get("eventType") or event.get("notificationType"))
    assert formatted.ses_message_id == event["mail"]["messageId"]


def test_raw_delivery_and_sns_envelope_of_the_reference_give_the_same_result() -> None:
    raw = format_sqs_body(fixture_text("sns_examples/raw_event_delivery.txt"), queue_ids)
    wrapped = format_sqs_body(fixture_text("sns_examples/sns_event_delivery.json"), queue_ids)
    identity = format_sqs_body(fixture_text("sns_examples/sns_identity_delivery.json"), queue_ids)

    assert raw == wrapped
    assert identity.lines == wrapped.lines
    assert identity.event_key == wrapped.event_key
    assert wrapped.lines == (
        "4F1A22C0D3E: to=<bob@example.org>, relay=a8-30.smtp-out.amazonses.com[203.0.113.45], dsn=2.0.0, "
        f"status=delivered, delay=1081ms, ses_id={SES_ID}, response=(250 2.0.0 Ok: queued as 4VTrq21mQmz9sQ)",
    )


def test_localstack_events() -> None:
    """The minimal events the integration harness will see (reference §10)."""
    ses_id = "rvkiwgrngqfhgnci-cxjfuxhs-oqjv-dcmb-qyjd-lqvrmyowtgyq-qdcxly"

    send = format_sqs_body(fixture_text("sns_examples/localstack_send.json"))
    delivery = format_sqs_body(
        fixture_text("sns_examples/localstack_delivery.json"), {ses_id: "9AB12C3D4E"}.get
    )

    assert send.lines == tuple(
        f"{ses_id}: to=<{rcpt}>, relay=amazonses.com, dsn=2.0.0, status=accepted, ses_id={ses_id}, "
        "response=()"
        for rcpt in ("alice@example.net", "bob@example.org")
    )
    assert delivery.lines == tuple(
        f"9AB12C3D4E: to=<{rcpt}>, relay=amazonses.com, dsn=2.0.0, status=delivered, delay=333ms, "
        f"ses_id={ses_id}, response=()"
        for rcpt in ("alice@example.net", "bob@example.org")
    )


@pytest.mark.parametrize(
    ("fixture", "kind"),
    NON_EVENT_FIXTURES,
)
def test_non_events_give_nothing_to_log(fixture: str, kind: MessageKind) -> None:
    def must_not_be_called(ses_message_id: str) -> str | None:
        raise AssertionError("a non-event has no message to look up")

    assert format_sqs_body(fixture_text(fixture), must_not_be_called) == FormattedMessage(kind=kind)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "{",
        '{"Type": "Notification", "Message": "nope"}',
        fixture_text("sns_examples/sns_foreign_message.json"),
    ],
)
def test_poison_is_raised(body: str) -> None:
    with pytest.raises(PoisonMessage):
        format_sqs_body(body)


def test_lookup_errors_are_not_swallowed() -> None:
    def broken(ses_message_id: str) -> str | None:
        raise RuntimeError("queue-ID store unavailable")

    with pytest.raises(RuntimeError, match="queue-ID store unavailable"):
        format_sqs_body(fixture_text("sns/event_send.json"), broken)


def test_public_api_is_importable_from_the_package() -> None:
    import ses_events

    assert set(ses_events.__all__) <= set(dir(ses_events))
