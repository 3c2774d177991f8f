"""The SES event fixtures every ses_events test module reads (see fixtures/ses_events/README.md)."""

from __future__ import annotations

from pathlib import Path

from ses_events import MessageKind

FIXTURES = Path(__file__).parent / "fixtures" / "ses_events"
# The reference's complete examples (§1.12), by file stem: identity_* and event_*.
EVENT_NAMES = sorted(path.stem for path in (FIXTURES / "raw").glob("*.json"))
# The SES message ID of the reference's scenario, used by every example.
SES_ID = "0100018f34069e7b-1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f-000000"
# Messages that reach the queue but are not events: acknowledged, never logged.
NON_EVENT_FIXTURES = [
    ("sns_examples/sns_ses_validation.json", MessageKind.SES_TOPIC_VALIDATION),
    ("sns_examples/raw_ses_validation.txt", MessageKind.SES_TOPIC_VALIDATION),
    ("sns_examples/sns_subscription_confirmation.json", MessageKind.SNS_SUBSCRIPTION_CONFIRMATION),
    ("sns_examples/sns_unsubscribe_confirmation.json", MessageKind.SNS_UNSUBSCRIBE_CONFIRMATION),
    ("sns_examples/sns_ses_topic_subscribed.json", MessageKind.SES_TOPIC_SUBSCRIBED),
]


def fixture_text(relative: str) -> str:
    return (FIXTURES / relative).read_text(encoding="utf-8")
