"""The SES event fixtures every ses_events test module reads (see fixtures/ses_events/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ses_events.core import MessageKind, QueueIdLookup, event_to_log_lines, read_ses_event

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ses_events"
# The reference's complete examples (§1.12), by file stem: identity_* and event_*.
EVENT_NAMES = sorted(path.stem for path in (FIXTURES / "raw").glob("*.json"))
# The SES message ID of the reference's scenario, used by every example.
SES_ID = "0100018f34069e7b-1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f-000000"
# The Postfix queue ID that relayed SES_ID in the reference's scenario.
QUEUE_ID = "4F1A22C0D3E"
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


def load_event(name: str) -> dict[str, Any]:
    """One of the reference's raw events, as a fresh dict a test may change."""
    return json.loads(fixture_text(f"raw/{name}.json"))


def scenario_queue_ids(ses_message_id: str) -> str | None:
    """The Postfix side of the §1.12 scenario: queue QUEUE_ID was relayed as SES_ID."""
    return {SES_ID: QUEUE_ID}.get(ses_message_id)


def lines_for(
    event: dict[str, Any], queue_id_for: QueueIdLookup = scenario_queue_ids, relay_hostname: str | None = None
) -> list[str]:
    """The lines of an event object, validated as ``unwrap_sqs_body`` validates it."""
    return event_to_log_lines(read_ses_event(event), queue_id_for, relay_hostname)
