"""SNS message signatures, the pure half: what SNS signed, and where its certificate may come from.

SNS signs each message it delivers to the queue (the SNS envelope; raw message delivery has no
envelope and so no signature). Checking a signature takes two steps with I/O, fetching the
signing certificate and verifying with it, which are the daemon's (``ses_events.daemon.
sns_verifier``). What is pure is here:

* ``read_signed_sns_message``: one SQS body -> the signature, its version, the certificate URL
  and the exact bytes SNS signed, or ``UnverifiableMessage`` saying why it cannot be checked.
* ``sns_string_to_sign``: those bytes. Each signed field as ``name\\nvalue\\n``, in byte order of
  the names, as the SNS Developer Guide ("Verifying the signatures of Amazon SNS messages") and
  AWS's own validators build them: Notification signs Message, MessageId, Subject (only when
  present), Timestamp, TopicArn and Type; SubscriptionConfirmation and UnsubscribeConfirmation
  sign Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn and Type.
* ``is_sns_certificate_url``: AWS's rule for ``SigningCertURL``, checked before anything is
  fetched: ``https://sns.<region>.amazonaws.com/…pem`` or ``https://sns.<region>.amazonaws.com.cn/…pem``.
  The host must be SNS's own regional endpoint and nothing else under amazonaws.com (an S3 bucket
  there is anyone's); no user, port, query or fragment.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ses_events.core._json import PoisonMessage, parse_json_object, quoted
from ses_events.core._sqs_body import SES_VALIDATION_TEXT

#: SignatureVersion -> the hash of its RSA PKCS #1 v1.5 signature (SHA1withRSA, SHA256withRSA).
SNS_SIGNATURE_HASHES: Mapping[str, str] = {"1": "sha1", "2": "sha256"}

_CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_SIGNED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": _CONFIRMATION_FIELDS,
    "UnsubscribeConfirmation": _CONFIRMATION_FIELDS,
}
# Signed when present; SNS leaves it out (or, for some subscribers, sends null) when the
# publisher gave none.
_OPTIONAL_FIELDS = frozenset({"Subject"})
_SIGNATURE_FIELDS = ("SignatureVersion", "Signature", "SigningCertURL")

# Lower case, as SNS writes it: a region name (us-east-1, us-gov-west-1, cn-north-1) between
# "sns." and the partition's domain, then a path of plain segments ending in .pem.
_SNS_CERTIFICATE_URL = re.compile(
    r"https://sns\.[a-z]+(?:-[a-z]+)+-[0-9]{1,2}\.amazonaws\.com(?:\.cn)?"
    r"(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)*/[A-Za-z0-9][A-Za-z0-9_.-]*\.pem"
)


class UnverifiableMessage(PoisonMessage):
    """An SQS body whose SNS signature cannot be checked, or does not hold.

    A PoisonMessage: redelivery does not change it, so it is reported once and left for the
    dead-letter queue, never logged as an outcome. ``reason`` never quotes the message body.
    """


@dataclass(frozen=True)
class SignedSnsMessage:
    """What checking one SNS envelope's signature needs."""

    sns_type: str
    topic_arn: str
    signature_version: str
    signature: bytes
    signing_cert_url: str
    string_to_sign: bytes

    @property
    def hash_name(self) -> str:
        """``sha1`` (SignatureVersion 1) or ``sha256`` (2)."""
        return SNS_SIGNATURE_HASHES[self.signature_version]


def is_sns_certificate_url(url: object) -> bool:
    """True for an ``https://sns.<region>.amazonaws.com[.cn]/….pem`` URL, the only kind fetched."""
    return isinstance(url, str) and _SNS_CERTIFICATE_URL.fullmatch(url) is not None


def read_signed_sns_message(
    body: str, certificate_url_allowed: Callable[[str], bool] = is_sns_certificate_url
) -> SignedSnsMessage:
    """The signature of one SQS body and what it signs; UnverifiableMessage when there is none.

    ``SigningCertURL`` must pass ``certificate_url_allowed`` (AWS's rule unless a test says
    otherwise): a URL that does not is refused here, before anything could fetch it. Raises
    PoisonMessage when the body is no JSON object at all, as ``format_sqs_body`` would.
    """
    if isinstance(body, str) and body.strip() == SES_VALIDATION_TEXT:
        raise _raw_delivery()
    envelope = parse_json_object(body, what="SQS body")
    if "Type" not in envelope:
        raise _raw_delivery()
    sns_type = envelope["Type"]
    if not isinstance(sns_type, str) or sns_type not in _SIGNED_FIELDS:
        raise UnverifiableMessage(f"SNS envelope has unknown Type {quoted(sns_type)}: nothing to verify")
    missing = [name for name in _SIGNATURE_FIELDS if not isinstance(envelope.get(name), str)]
    if missing:
        raise UnverifiableMessage(
            f"unsigned SNS envelope (no {', '.join(missing)}): SNS signs every message it delivers; "
            "a local stand-in such as LocalStack may not"
        )
    version = envelope["SignatureVersion"]
    if version not in SNS_SIGNATURE_HASHES:
        raise UnverifiableMessage(f"SNS SignatureVersion {quoted(version)} is neither 1 nor 2")
    try:
        signature = base64.b64decode(envelope["Signature"], validate=True)
    except (binascii.Error, ValueError):
        raise UnverifiableMessage("SNS Signature is not base64") from None
    if not signature:
        raise UnverifiableMessage("SNS Signature is empty")
    if not certificate_url_allowed(envelope["SigningCertURL"]):
        raise UnverifiableMessage(
            f"SNS SigningCertURL {quoted(envelope['SigningCertURL'])} is not an "
            "https://sns.<region>.amazonaws.com[.cn]/….pem URL; not fetched"
        )
    return SignedSnsMessage(
        sns_type=sns_type,
        topic_arn=str(envelope.get("TopicArn", "")),
        signature_version=version,
        signature=signature,
        signing_cert_url=envelope["SigningCertURL"],
        string_to_sign=sns_string_to_sign(envelope),
    )


def sns_string_to_sign(envelope: Mapping[str, Any]) -> bytes:
    """The UTF-8 bytes SNS signed for ``envelope`` (Notification or (Un)SubscriptionConfirmation)."""
    sns_type = envelope.get("Type")
    if not isinstance(sns_type, str) or sns_type not in _SIGNED_FIELDS:
        raise UnverifiableMessage(f"SNS envelope has unknown Type {quoted(sns_type)}: nothing to verify")
    parts = []
    for name in _SIGNED_FIELDS[sns_type]:
        value = envelope.get(name)
        if value is None and name in _OPTIONAL_FIELDS:
            continue
        if not isinstance(value, str):
            raise UnverifiableMessage(f"SNS {sns_type} has no string {name}, which SNS signs")
        parts.append(f"{name}\n{value}\n")
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (\ud800) in the JSON: SNS never signed that
        raise UnverifiableMessage("SNS envelope holds text that is not Unicode (a lone surrogate)") from None


def _raw_delivery() -> UnverifiableMessage:
    return UnverifiableMessage(
        "no SNS envelope (raw message delivery?): only SNS-wrapped messages carry a signature, so "
        "this one cannot be verified"
    )
