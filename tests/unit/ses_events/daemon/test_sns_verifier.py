"""SnsVerifier over real HTTPS on loopback, and BatchProcessor with it: signed is logged, the rest is not.

Test messages are signed with a throwaway key whose certificate a loopback HTTPS server serves;
the verifier accepts that server's URLs only because the test builds it with ``server.owns`` as
its rule. Nothing here reaches the internet: with AWS's rule, the one URL a test offers is
refused before any fetch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ses_events.core import UnverifiableMessage, format_sqs_body
from ses_events.daemon.batch import BatchProcessor
from ses_events.daemon.config import DaemonConfig
from ses_events.daemon.mail_log_follower import MailLogFollower
from ses_events.daemon.sns_verifier import CertificateUnavailable, SnsVerifier
from ses_events.daemon.sqs_loop import Daemon
from ses_events.daemon.store import LoggerStore
from ses_events.daemon.syslog_writer import SyslogWriter
from tests.harness.pipeline import delivery_event
from tests.harness.sns_signing import (
    CertificateServer,
    SnsSigner,
    certificate_server,
    confirmation,
    notification,
)
from tests.unit.ses_events.daemon.syslog_capture import SyslogCapture

CERT_PATH = "/SimpleNotificationService-test.pem"


@pytest.fixture(scope="module")
def signer() -> SnsSigner:
    return SnsSigner()


@pytest.fixture(scope="module")
def impostor() -> SnsSigner:
    """Someone else's key: signs well, but not with the certificate the URL serves."""
    return SnsSigner()


@pytest.fixture
def server(tmp_path: Path, signer: SnsSigner) -> Iterator[CertificateServer]:
    files = {CERT_PATH: signer.certificate_pem, "/not-a-certificate.pem": b"<html>hello</html>"}
    with certificate_server(tmp_path / "pki", files) as running:
        yield running


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verifier_for(server: CertificateServer, **options) -> SnsVerifier:
    return SnsVerifier(certificate_url_allowed=server.owns, ssl_context=server.client_context(), **options)


def event_body() -> str:
    return json.dumps(delivery_event(["signed@example.net"])) + "\n"


# --- the verifier --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_message_sns_signed_passes(server, signer, version):
    body = signer.signed_body(notification(event_body()), server.url(CERT_PATH), version)

    verifier_for(server).verify(body)

    assert server.requests == [CERT_PATH]


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_notification_without_subject_passes(server, signer, version):
    verifier_for(server).verify(
        signer.signed_body(notification(event_body(), subject=None), server.url(CERT_PATH), version)
    )


@pytest.mark.parametrize("sns_type", ["SubscriptionConfirmation", "UnsubscribeConfirmation"])
def test_a_signed_confirmation_passes(server, signer, sns_type):
    verifier_for(server).verify(signer.signed_body(confirmation(sns_type), server.url(CERT_PATH)))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Message", json.dumps(delivery_event(["someone-else@example.net"]))),
        ("Subject", "Amazon SES Email Event Notification!"),
        ("Timestamp", "2030-01-01T00:00:00.000Z"),
        ("TopicArn", "arn:aws:sns:us-east-1:999999999999:other"),
        ("MessageId", "00000000-0000-0000-0000-000000000000"),
    ],
)
@pytest.mark.parametrize("version", ["1", "2"])
def test_a_message_altered_after_signing_is_refused(server, signer, field, value, version):
    signed = signer.sign(notification(event_body()), server.url(CERT_PATH), version)
    signed[field] = value

    with pytest.raises(UnverifiableMessage, match=r"does not verify .*: the message was forged or altered"):
        verifier_for(server).verify(json.dumps(signed))


def test_a_subject_added_after_signing_is_refused(server, signer):
    signed = signer.sign(notification(event_body(), subject=None), server.url(CERT_PATH))
    signed["Subject"] = "added"

    with pytest.raises(UnverifiableMessage, match="forged or altered"):
        verifier_for(server).verify(json.dumps(signed))


def test_a_signature_version_changed_after_signing_is_refused(server, signer):
    signed = signer.sign(notification(event_body()), server.url(CERT_PATH), "2")
    signed["SignatureVersion"] = "1"

    with pytest.raises(UnverifiableMessage, match="forged or altered"):
        verifier_for(server).verify(json.dumps(signed))


def test_a_message_signed_with_another_key_is_refused(server, impostor):
    forged = impostor.signed_body(notification(event_body()), server.url(CERT_PATH))

    with pytest.raises(UnverifiableMessage, match="forged or altered"):
        verifier_for(server).verify(forged)


def test_a_certificate_url_outside_aws_is_refused_without_fetching(server, signer):
    """AWS's rule, the default: the loopback server's URL is not an SNS one, so nothing is asked of it."""
    body = signer.signed_body(notification(event_body()), server.url(CERT_PATH))

    with pytest.raises(UnverifiableMessage, match="not fetched"):
        SnsVerifier(ssl_context=server.client_context()).verify(body)

    assert server.requests == []


def test_plain_http_is_never_fetched_whatever_the_rule(server, signer):
    url = f"http://localhost:{server.port}{CERT_PATH}"
    body = signer.signed_body(notification(event_body()), url)

    with pytest.raises(CertificateUnavailable, match="not on HTTPS; not fetched"):
        SnsVerifier(certificate_url_allowed=lambda _url: True).verify(body)

    assert server.requests == []


def test_a_server_the_ca_bundle_does_not_trust_is_not_believed(server, signer):
    body = signer.signed_body(notification(event_body()), server.url(CERT_PATH))

    with pytest.raises(CertificateUnavailable, match=r"could not be fetched .*CERTIFICATE_VERIFY_FAILED"):
        SnsVerifier(certificate_url_allowed=server.owns).verify(body)  # the system's CAs only


def test_a_certificate_is_fetched_once_per_url(server, signer):
    verifier = verifier_for(server)
    for version in ("1", "2", "1"):
        verifier.verify(signer.signed_body(notification(event_body()), server.url(CERT_PATH), version))

    assert server.requests == [CERT_PATH]


def test_the_cache_is_bounded_oldest_first(server, signer):
    paths = [f"/cert-{n}.pem" for n in range(3)]
    server.files.update(dict.fromkeys(paths, signer.certificate_pem))
    verifier = verifier_for(server, cache_size=2)
    for path in [*paths, paths[2], paths[0]]:
        verifier.verify(signer.signed_body(notification(event_body()), server.url(path)))

    # cert-0 was dropped for cert-2, so it is fetched again; cert-2 was still there.
    assert server.requests == [*paths, paths[0]]


def test_a_certificate_that_cannot_be_fetched_is_retried_later_not_at_once(server, signer):
    clock = Clock()
    verifier = verifier_for(server, retry_after=30, clock=clock)
    body = signer.signed_body(notification(event_body()), server.url("/missing.pem"))

    for _ in range(2):
        with pytest.raises(CertificateUnavailable, match=r"could not be fetched \(HTTP 404\)"):
            verifier.verify(body)
    assert server.requests == ["/missing.pem"]

    server.files["/missing.pem"] = signer.certificate_pem
    clock.now += 31
    verifier.verify(body)
    assert server.requests == ["/missing.pem", "/missing.pem"]


def test_a_redirect_is_not_followed(server, signer):
    body = signer.signed_body(notification(event_body()), server.url(f"/redirect{CERT_PATH}"))

    with pytest.raises(CertificateUnavailable, match=r"HTTP 302"):
        verifier_for(server).verify(body)

    assert server.requests == [f"/redirect{CERT_PATH}"]


def test_what_is_not_a_certificate_is_not_used(server, signer):
    body = signer.signed_body(notification(event_body()), server.url("/not-a-certificate.pem"))

    with pytest.raises(CertificateUnavailable, match="did not return a PEM certificate"):
        verifier_for(server).verify(body)


def test_a_fetch_gives_up_after_its_timeout(server, signer):
    server.files[f"/slow{CERT_PATH}"] = signer.certificate_pem
    body = signer.signed_body(notification(event_body()), server.url(f"/slow{CERT_PATH}"))

    with pytest.raises(CertificateUnavailable, match=r"could not be fetched .*timed out"):
        verifier_for(server, timeout=0.5).verify(body)


def test_localstacks_messages_are_refused(server):
    """LocalStack signs with its own key and serves the certificate over plain HTTP from itself."""
    localstack = notification(event_body()) | {
        "SignatureVersion": "1",
        "Signature": "dGVzdA==",
        "SigningCertURL": "http://localhost.localstack.cloud:4566/_aws/sns/SimpleNotificationService-6c6f63616c737461636b69736e696365.pem",
    }
    with pytest.raises(UnverifiableMessage, match="not fetched"):
        verifier_for(server).verify(json.dumps(localstack))
    with pytest.raises(UnverifiableMessage, match="unsigned SNS envelope"):
        verifier_for(server).verify(json.dumps(notification(event_body())))
    assert server.requests == []


# --- BatchProcessor with and without it ------------------------------------------------------------


@pytest.fixture
def parts(tmp_path: Path, syslog: SyslogCapture):
    store = LoggerStore(tmp_path / "state.sqlite3")
    follower = MailLogFollower(str(syslog.mail_log), store)
    writer = SyslogWriter(syslog.socket_path)
    yield store, follower, writer
    writer.close()
    follower.close()
    store.close()


def sqs_message(body: str, message_id: str) -> dict:
    return {"MessageId": message_id, "ReceiptHandle": f"handle-{message_id}", "Body": body}


def test_with_verification_the_signed_event_is_logged_and_the_forged_one_left_for_the_dlq(
    parts, syslog, server, signer
):
    store, follower, writer = parts
    processor = BatchProcessor(store, follower, sns_verifier=verifier_for(server))
    signed = sqs_message(signer.signed_body(notification(event_body()), server.url(CERT_PATH)), "signed-1")
    tampered_envelope = signer.sign(notification(event_body()), server.url(CERT_PATH))
    tampered_envelope["Message"] = json.dumps(delivery_event(["victim-of-tampering@example.net"]))
    tampered = sqs_message(json.dumps(tampered_envelope), "tampered-1")

    outcome = processor.process([signed, tampered], writer)

    assert outcome.deletable == [signed]
    [report, *lines] = syslog.settled(writer)
    assert report.startswith(
        "tampered-1: unverified SQS message left in the queue for its dead-letter queue: "
    )
    assert report.endswith("the message was forged or altered")
    assert "victim-of-tampering" not in report
    assert lines == list(format_sqs_body(signed["Body"]).lines)

    # Received again: left again, and not reported twice.
    assert processor.process([tampered], writer).deletable == []
    assert len([m for m in syslog.settled(writer) if m.startswith("tampered-1:")]) == 1


def test_with_verification_raw_delivery_and_unsigned_messages_are_refused_as_unverifiable(
    parts, syslog, server
):
    store, follower, writer = parts
    processor = BatchProcessor(store, follower, sns_verifier=verifier_for(server))
    raw = sqs_message(event_body(), "raw-1")
    unsigned = sqs_message(json.dumps(notification(event_body())), "unsigned-1")

    assert processor.process([raw, unsigned], writer).deletable == []
    left = "unverified SQS message left in the queue for its dead-letter queue"
    assert syslog.settled(writer) == [
        f"raw-1: {left}: no SNS envelope (raw message delivery?): only SNS-wrapped messages carry a "
        "signature, so this one cannot be verified",
        f"unsigned-1: {left}: unsigned SNS envelope (no SignatureVersion, Signature, SigningCertURL): SNS "
        "signs every message it delivers; a local stand-in such as LocalStack may not",
    ]


def test_with_verification_a_signed_confirmation_is_deleted_without_a_line(parts, syslog, server, signer):
    store, follower, writer = parts
    processor = BatchProcessor(store, follower, sns_verifier=verifier_for(server))
    message = sqs_message(signer.signed_body(confirmation(), server.url(CERT_PATH)), "confirm-1")

    assert processor.process([message], writer).deletable == [message]
    assert syslog.settled(writer) == []


def test_without_verification_unsigned_and_raw_events_are_logged_as_before(parts, syslog):
    store, follower, writer = parts
    processor = BatchProcessor(store, follower)  # SES_EVENTS_VERIFY_SNS_SIGNATURES=off
    unsigned = sqs_message(json.dumps(notification(event_body())), "unsigned-1")
    raw = sqs_message(event_body(), "raw-1")

    assert processor.process([unsigned, raw], writer).deletable == [unsigned, raw]
    lines = syslog.settled(writer)
    assert lines == [*format_sqs_body(unsigned["Body"]).lines, *format_sqs_body(raw["Body"]).lines]


def test_poison_is_still_called_poison_with_verification(parts, syslog, server):
    store, follower, writer = parts
    processor = BatchProcessor(store, follower, sns_verifier=verifier_for(server))

    assert processor.process([sqs_message("{not json", "bad-1")], writer).deletable == []
    [line] = syslog.settled(writer)
    assert line.startswith("bad-1: poison SQS message left in the queue for its dead-letter queue: ")


# --- the daemon's choice ---------------------------------------------------------------------------


def daemon_config(tmp_path: Path, **overrides) -> DaemonConfig:
    return DaemonConfig(
        queue_url="http://localhost:4566/000000000000/q",
        mail_log=str(tmp_path / "mail.log"),
        state_file=str(tmp_path / "state.sqlite3"),
        **overrides,
    )


def test_the_daemon_verifies_by_default_with_awss_rule(tmp_path):
    daemon = Daemon(daemon_config(tmp_path))
    try:
        assert isinstance(daemon.processor.sns_verifier, SnsVerifier)
        assert DaemonConfig.__dataclass_fields__["verify_sns_signatures"].default is True
    finally:
        daemon.store.close()


def test_the_daemon_takes_the_verifier_it_is_given_and_none_when_off(tmp_path, server):
    given = verifier_for(server)
    on = Daemon(daemon_config(tmp_path / "on"), sns_verifier=given)
    off = Daemon(daemon_config(tmp_path / "off", verify_sns_signatures=False), sns_verifier=given)
    try:
        assert on.processor.sns_verifier is given
        assert off.processor.sns_verifier is None
    finally:
        on.store.close()
        off.store.close()
