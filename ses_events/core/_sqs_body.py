"""Turn one SQS message body into a validated ``SesEvent``, a known non-event, or a PoisonMessage.

The queue is subscribed to the SNS topic SES publishes to, so a body is either the SNS envelope
(the default: the SES JSON is a *string* in its ``Message`` field and is parsed a second time) or,
with raw message delivery, the SES JSON itself. Both are detected automatically.

Besides events, a consumer sees messages that must be acknowledged without writing a line:
SES's plain-text topic-validation sentence, SES's ``AmazonSnsSubscriptionSucceeded`` notice for
identity notifications, and SNS subscription/unsubscription confirmations. If those were treated
as errors they would be redelivered until they reached the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ses_events.core._json import PoisonMessage, parse_json_object, quoted
from ses_events.core._ses_event import SesEvent, has_type_field, read_ses_event

#: Published (as plain text, not JSON) when an SNS event destination is created or updated.
SES_VALIDATION_TEXT = "Successfully validated SNS topic for Amazon SES event publishing."

#: ``notificationType`` of the notice SES publishes when an identity's notification topic is set
#: (observed in public consumers; it has no ``mail`` object and describes no message).
SES_TOPIC_SUBSCRIBED_TYPE = "AmazonSnsSubscriptionSucceeded"


class MessageKind(StrEnum):
    """What one SQS message body turned out to be."""

    SES_EVENT = "ses-event"
    SES_TOPIC_VALIDATION = "ses-topic-validation"
    SES_TOPIC_SUBSCRIBED = "ses-topic-subscribed"
    SNS_SUBSCRIPTION_CONFIRMATION = "sns-subscription-confirmation"
    SNS_UNSUBSCRIBE_CONFIRMATION = "sns-unsubscribe-confirmation"

    @property
    def description(self) -> str:
        """One sentence for a human: what this kind of message is."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS: Mapping[MessageKind, str] = {
    MessageKind.SES_EVENT: "SES event",
    MessageKind.SES_TOPIC_VALIDATION: "SES validated the SNS topic for event publishing",
    MessageKind.SES_TOPIC_SUBSCRIBED: "SES subscribed the SNS topic to an identity's notifications",
    MessageKind.SNS_SUBSCRIPTION_CONFIRMATION: "SNS asks to confirm a subscription (SubscribeURL)",
    MessageKind.SNS_UNSUBSCRIBE_CONFIRMATION: "SNS confirms the queue was unsubscribed",
}

_SNS_CONFIRMATION_KINDS: Mapping[str, MessageKind] = {
    "SubscriptionConfirmation": MessageKind.SNS_SUBSCRIPTION_CONFIRMATION,
    "UnsubscribeConfirmation": MessageKind.SNS_UNSUBSCRIBE_CONFIRMATION,
}


@dataclass(frozen=True)
class UnwrappedBody:
    """The result of unwrapping one SQS body.

    ``event`` is the validated SES event when ``kind`` is SES_EVENT, else None.
    ``sns_envelope`` is the SNS envelope when there was one (None with raw message delivery); it
    lets a caller act on a SubscriptionConfirmation (``SubscribeURL``) if it chooses to.
    """

    kind: MessageKind
    event: SesEvent | None = None
    sns_envelope: Mapping[str, Any] | None = None


def unwrap_sqs_body(body: str) -> UnwrappedBody:
    """Classify one SQS message body; raise PoisonMessage when it is neither event nor non-event."""
    if not isinstance(body, str):
        raise PoisonMessage(f"SQS body must be text, not {type(body).__name__}")
    if not body.strip():
        raise PoisonMessage("SQS body is empty")
    if body.strip() == SES_VALIDATION_TEXT:
        return UnwrappedBody(MessageKind.SES_TOPIC_VALIDATION)
    document = parse_json_object(body, what="SQS body")
    if "Type" in document:
        return _unwrap_sns_envelope(document)
    if has_type_field(document):
        return _classify_ses_document(document, sns_envelope=None)
    raise PoisonMessage(
        "JSON object is neither an SNS envelope (Type) nor an SES event (eventType/notificationType)"
    )


def _unwrap_sns_envelope(envelope: Mapping[str, Any]) -> UnwrappedBody:
    sns_type = envelope["Type"]
    if sns_type == "Notification":
        return _unwrap_sns_notification(envelope)
    if isinstance(sns_type, str) and sns_type in _SNS_CONFIRMATION_KINDS:
        return UnwrappedBody(_SNS_CONFIRMATION_KINDS[sns_type], sns_envelope=envelope)
    raise PoisonMessage(f"SNS envelope has unknown Type {quoted(sns_type)}")


def _unwrap_sns_notification(envelope: Mapping[str, Any]) -> UnwrappedBody:
    message = envelope.get("Message")
    if not isinstance(message, str):
        raise PoisonMessage("SNS Notification has no string Message")
    if message.strip() == SES_VALIDATION_TEXT:
        return UnwrappedBody(MessageKind.SES_TOPIC_VALIDATION, sns_envelope=envelope)
    document = parse_json_object(message, what="SNS Message")
    if not has_type_field(document):
        raise PoisonMessage("SNS Message is not an SES event (no eventType/notificationType)")
    return _classify_ses_document(document, sns_envelope=envelope)


def _classify_ses_document(
    document: Mapping[str, Any], sns_envelope: Mapping[str, Any] | None
) -> UnwrappedBody:
    if document.get("notificationType") == SES_TOPIC_SUBSCRIBED_TYPE:
        return UnwrappedBody(MessageKind.SES_TOPIC_SUBSCRIBED, sns_envelope=sns_envelope)
    # The only place a body's event is validated: everything after it works on the SesEvent.
    return UnwrappedBody(MessageKind.SES_EVENT, event=read_ses_event(document), sns_envelope=sns_envelope)
