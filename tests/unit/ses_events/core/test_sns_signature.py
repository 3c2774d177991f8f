"""The pure half of SNS signatures: what is signed, in which order, and which certificate URLs pass."""

from __future__ import annotations

import base64
import json

import pytest

from ses_events.core import (
    SES_VALIDATION_TEXT,
    PoisonMessage,
    UnverifiableMessage,
    is_sns_certificate_url,
    read_signed_sns_message,
    sns_string_to_sign,
)
from tests.unit.ses_events.fixtures import fixture_text

CERT_URL = (
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem"
)
SIGNATURE = base64.b64encode(b"\x01" * 256).decode()
LOCALSTACK_CERT_URL = "http://localhost.localstack.cloud:4566/_aws/sns/SimpleNotificationService-6c6f63616c737461636b69736e696365.pem"


def envelope(**fields: object) -> dict:
    base = {
        "Type": "Notification",
        "MessageId": "5f2b0a51-63e9-5c1e-9d3e-2b7a7f0c9a11",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-events",
        "Subject": "Amazon SES Email Event Notification",
        "Message": '{"eventType":"Send"}\n',
        "Timestamp": "2024-05-01T12:00:01.390Z",
        "SignatureVersion": "2",
        "Signature": SIGNATURE,
        "SigningCertURL": CERT_URL,
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x",
    }
    base.update(fields)
    return {name: value for name, value in base.items() if value is not ...}


# --- the string to sign ----------------------------------------------------------------------


def test_a_notification_signs_six_fields_in_byte_order_of_their_names() -> None:
    assert sns_string_to_sign(envelope()) == (
        b'Message\n{"eventType":"Send"}\n\n'
        b"MessageId\n5f2b0a51-63e9-5c1e-9d3e-2b7a7f0c9a11\n"
        b"Subject\nAmazon SES Email Event Notification\n"
        b"Timestamp\n2024-05-01T12:00:01.390Z\n"
        b"TopicArn\narn:aws:sns:us-east-1:123456789012:ses-events\n"
        b"Type\nNotification\n"
    )


@pytest.mark.parametrize("subject", [..., None], ids=["absent", "null"])
def test_a_notification_without_subject_signs_five(subject: object) -> None:
    signed = sns_string_to_sign(envelope(Subject=subject))

    assert b"Subject" not in signed
    assert signed.startswith(b"Message\n") and signed.endswith(b"Type\nNotification\n")


@pytest.mark.parametrize("sns_type", ["SubscriptionConfirmation", "UnsubscribeConfirmation"])
def test_a_confirmation_signs_subscribe_url_and_token_too(sns_type: str) -> None:
    confirmation = envelope(
        Type=sns_type,
        Subject=...,
        Token="2336412f37fb",
        SubscribeURL="https://sns.us-east-1.amazonaws.com/?x",
    )

    assert sns_string_to_sign(confirmation) == (
        b'Message\n{"eventType":"Send"}\n\n'
        b"MessageId\n5f2b0a51-63e9-5c1e-9d3e-2b7a7f0c9a11\n"
        b"SubscribeURL\nhttps://sns.us-east-1.amazonaws.com/?x\n"
        b"Timestamp\n2024-05-01T12:00:01.390Z\n"
        b"Token\n2336412f37fb\n"
        b"TopicArn\narn:aws:sns:us-east-1:123456789012:ses-events\n" + f"Type\n{sns_type}\n".encode()
    )


def test_unsigned_fields_do_not_count() -> None:
    assert sns_string_to_sign(envelope(UnsubscribeURL="https://elsewhere.example/")) == sns_string_to_sign(
        envelope()
    )


def test_text_is_signed_as_utf8() -> None:
    assert "Message\nbjörn 🙂\n".encode() in sns_string_to_sign(envelope(Message="björn 🙂"))


@pytest.mark.parametrize("field", ["Message", "MessageId", "Timestamp", "TopicArn"])
def test_a_missing_signed_field_cannot_be_verified(field: str) -> None:
    with pytest.raises(UnverifiableMessage, match=f"no string {field}"):
        sns_string_to_sign(envelope(**{field: ...}))


def test_a_lone_surrogate_cannot_be_verified() -> None:
    with pytest.raises(UnverifiableMessage, match="lone surrogate"):
        sns_string_to_sign(envelope(Message="\ud800"))


# --- reading one SQS body ----------------------------------------------------------------------


@pytest.mark.parametrize(("version", "hash_name"), [("1", "sha1"), ("2", "sha256")])
def test_a_signed_body_gives_what_verifying_it_needs(version: str, hash_name: str) -> None:
    body = envelope(SignatureVersion=version)
    signed = read_signed_sns_message(json.dumps(body))

    assert signed.sns_type == "Notification"
    assert signed.signature_version == version
    assert signed.hash_name == hash_name
    assert signed.signature == b"\x01" * 256
    assert signed.signing_cert_url == CERT_URL
    assert signed.topic_arn == body["TopicArn"]
    assert signed.string_to_sign == sns_string_to_sign(body)


@pytest.mark.parametrize(
    "body",
    [fixture_text("sns_examples/raw_event_delivery.txt"), fixture_text("raw/event_delivery.json")],
    ids=["raw-delivery-example", "raw-delivery-event"],
)
def test_raw_message_delivery_cannot_be_verified(body: str) -> None:
    with pytest.raises(UnverifiableMessage, match="raw message delivery"):
        read_signed_sns_message(body)


@pytest.mark.parametrize("body", [SES_VALIDATION_TEXT, f"{SES_VALIDATION_TEXT}\n"])
def test_the_raw_validation_sentence_cannot_be_verified(body: str) -> None:
    with pytest.raises(UnverifiableMessage, match="raw message delivery"):
        read_signed_sns_message(body)


def test_an_unsigned_envelope_cannot_be_verified() -> None:
    unsigned = envelope(SignatureVersion=..., Signature=..., SigningCertURL=...)

    with pytest.raises(UnverifiableMessage, match=r"unsigned SNS envelope \(no SignatureVersion, Signature"):
        read_signed_sns_message(json.dumps(unsigned))


def test_localstacks_certificate_url_is_refused_before_any_fetch() -> None:
    with pytest.raises(
        UnverifiableMessage, match=r"is not an https://sns\.<region>\.amazonaws\.com.*not fetched"
    ):
        read_signed_sns_message(
            json.dumps(envelope(SignatureVersion="1", SigningCertURL=LOCALSTACK_CERT_URL))
        )


def test_the_url_rule_can_be_replaced() -> None:
    url = "https://localhost:8443/test.pem"
    body = json.dumps(envelope(SigningCertURL=url))

    assert read_signed_sns_message(body, lambda candidate: candidate == url).signing_cert_url == url
    with pytest.raises(UnverifiableMessage, match="not fetched"):
        read_signed_sns_message(body)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"SignatureVersion": "3"}, "SignatureVersion '3' is neither 1 nor 2"),
        ({"SignatureVersion": 2}, "unsigned SNS envelope"),
        ({"Signature": "EXAMPLEpH+...base64...=="}, "Signature is not base64"),
        ({"Signature": ""}, "Signature is empty"),
        ({"Type": "Publish"}, "unknown Type 'Publish'"),
        ({"Type": ["Notification"]}, "unknown Type"),
    ],
)
def test_what_cannot_be_checked_says_why(fields: dict, reason: str) -> None:
    with pytest.raises(UnverifiableMessage, match=reason.replace("(", r"\(").replace("+", r"\+")):
        read_signed_sns_message(json.dumps(envelope(**fields)))


def test_a_body_that_is_no_json_object_is_poison_as_before() -> None:
    with pytest.raises(PoisonMessage) as raised:
        read_signed_sns_message("{not json")

    assert not isinstance(raised.value, UnverifiableMessage)


@pytest.mark.parametrize(
    "fields",
    [
        {"Signature": "@@"},
        {"SignatureVersion": "9"},
        {"SigningCertURL": "https://evil.example/x.pem"},
        {"Signature": ...},
        {"Message": ...},
    ],
)
def test_a_reason_never_quotes_the_body(fields: dict) -> None:
    secret = "recipient-nobody-should-read@example.net"
    body = envelope(**{"Message": json.dumps({"mail": {"destination": [secret]}}), **fields})

    with pytest.raises(UnverifiableMessage) as raised:
        read_signed_sns_message(json.dumps(body))

    assert secret not in raised.value.reason
    assert "\n" not in raised.value.reason


def test_the_references_sns_examples_are_recognised_as_signed() -> None:
    """§2.1's example carries a placeholder signature ("EXAMPLE…"): read, then refused as not base64."""
    with pytest.raises(UnverifiableMessage, match="not base64"):
        read_signed_sns_message(fixture_text("sns_examples/sns_event_delivery.json"))


# --- the certificate URL rule --------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        CERT_URL,
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-01d088a6f77103d0fe307c0069e40ed6.pem",
        "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
        "https://sns.ap-southeast-5.amazonaws.com/certs/SimpleNotificationService-abc.pem",
    ],
)
def test_sns_regional_certificate_urls_pass(url: str) -> None:
    assert is_sns_certificate_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",  # not HTTPS
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.crt",  # not .pem
        "https://sns.us-east-1.amazonaws.com/",
        "https://sns.amazonaws.com/SimpleNotificationService-abc.pem",  # no region
        "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-abc.pem",
        "https://evil.example/sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.us-east-1.amazonaws.com@evil.example/x.pem",  # user info
        "https://user@sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com:8443/x.pem",  # port
        "https://sns.us-east-1.amazonaws.com/x.pem?download=1",  # query
        "https://sns.us-east-1.amazonaws.com/x.php?f=.pem",
        "https://sns.us-east-1.amazonaws.com/x.pem#frag",
        "https://sns.us-east-1.amazonaws.com/../x.pem",  # dot segments
        "https://sns.us-east-1.amazonaws.com/x.pem\n",
        "https://sns-bucket.s3.amazonaws.com/x.pem",  # anyone's bucket
        "https://sns.s3.amazonaws.com/x.pem",
        "https://s3.amazonaws.com/sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.s3.amazonaws.com/x.pem",
        "https://SNS.US-EAST-1.AMAZONAWS.COM/x.pem",
        "https://sns.us-east-1.amazonaws.cn/x.pem",
        "https://localhost:8443/x.pem",
        LOCALSTACK_CERT_URL,
        "",
        None,
        ["https://sns.us-east-1.amazonaws.com/x.pem"],
    ],
)
def test_every_other_url_fails(url: object) -> None:
    assert not is_sns_certificate_url(url)
