"""SNS signature verification against LocalStack's SQS (with a DLQ): signed is logged, the rest is not.

The logger runs with verification on and a verifier that trusts the test's own signing
certificate, served over HTTPS on loopback (``tests.events.verifying_logger``). Bodies signed with
that key go straight into the queue; one of them altered after signing. An event LocalStack's SNS
publishes carries LocalStack's signature and certificate URL, which no AWS rule admits.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from ses_events.core import format_sqs_body, read_signed_sns_message
from ses_events.daemon.sns_verifier import check_signature
from tests.events.conftest import logged_messages
from tests.harness.logger_process import LoggerProcess, write_config
from tests.harness.pipeline import Pipeline, delivery_event
from tests.harness.sns_signing import CertificateServer, SnsSigner, certificate_server, notification
from tests.harness.syslog_listener import SyslogListener
from tests.harness.waiting import wait_until

pytestmark = pytest.mark.localstack

CERT_PATH = "/SimpleNotificationService-test.pem"


class VerifyingLogger(LoggerProcess):
    def __init__(self, config_path: Path, localstack_url: str, log_path: Path, server: CertificateServer):
        super().__init__(config_path, localstack_url, log_path)
        self.server = server

    def start(self) -> VerifyingLogger:
        command = [
            sys.executable,
            "-m",
            "tests.events.verifying_logger",
            "--config",
            str(self.config_path),
            "--certificate-base-url",
            self.server.base_url,
            "--ca-file",
            str(self.server.ca_file),
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.environment, stdout=log, stderr=subprocess.STDOUT
            )
        return self


@pytest.fixture(scope="module")
def signer() -> SnsSigner:
    return SnsSigner()


@pytest.fixture
def server(tmp_path: Path, signer: SnsSigner) -> Iterator[CertificateServer]:
    with certificate_server(tmp_path / "pki", {CERT_PATH: signer.certificate_pem}) as running:
        yield running


@pytest.fixture
def verifying_logger(tmp_path, localstack_url, pipeline: Pipeline, syslog: SyslogListener, server):
    config = write_config(
        tmp_path / "ses-events.json",
        pipeline.queue_url,
        syslog,
        tmp_path / "state",
        verify_sns_signatures=True,
    )
    logger = VerifyingLogger(config, localstack_url, tmp_path / "logger.out", server).start()
    yield logger
    logger.stop()


def _dlq_bodies(pipeline: Pipeline) -> list[str]:
    response = pipeline.sqs.receive_message(QueueUrl=pipeline.dlq_url, MaxNumberOfMessages=10)
    return [message["Body"] for message in response.get("Messages", [])]


def test_signed_events_are_logged_and_forged_ones_reach_the_dlq_unlogged(
    pipeline, syslog, server, signer, verifying_logger
):
    signed_event = delivery_event(["signed@example.net"])
    signed_body = signer.signed_body(notification(json.dumps(signed_event)), server.url(CERT_PATH), "1")
    tampered = signer.sign(
        notification(json.dumps(delivery_event(["tampered@example.net"]))), server.url(CERT_PATH)
    )
    tampered["Message"] = json.dumps(delivery_event(["changed-in-the-queue@example.net"]))
    tampered_id = pipeline.sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody=json.dumps(tampered))[
        "MessageId"
    ]
    pipeline.sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody=signed_body)
    # Published by LocalStack's SNS: signed, but by LocalStack, with its certificate on plain HTTP.
    pipeline.publish(delivery_event(["localstack@example.net"]))

    expected = format_sqs_body(signed_body).lines
    wait_until(lambda: set(expected) <= set(logged_messages(syslog)), what="the signed event's line")
    wait_until(
        lambda: pipeline.messages_left(pipeline.dlq_url) == 2, timeout=90, what="two messages in the DLQ"
    )
    wait_until(lambda: pipeline.messages_left() == 0, what="an empty queue")

    dead = _dlq_bodies(pipeline)
    assert json.dumps(tampered) in dead
    assert all("localstack@example.net" in body or "changed-in-the-queue" in body for body in dead)
    lines = logged_messages(syslog)
    assert [line for line in lines if ", status=" in line] == list(expected)
    assert not any("changed-in-the-queue" in line or "localstack@example.net" in line for line in lines)
    [report] = [line for line in lines if line.startswith(f"{tampered_id}: ")]
    assert report.startswith(
        f"{tampered_id}: unverified SQS message left in the queue for its dead-letter queue"
    )
    assert report.endswith("the message was forged or altered")
    assert any("unverified SQS message" in line and "not fetched" in line for line in lines)
    assert server.requests == [CERT_PATH]  # once, and never LocalStack's URL


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("subject", ["Amazon SES Email Event Notification", None])
def test_our_string_to_sign_is_the_one_localstack_signs(pipeline, localstack_url, version, subject):
    """An independent SNS implementation signs; the core's string to sign must verify with it."""
    pipeline.sns.set_topic_attributes(
        TopicArn=pipeline.topic_arn, AttributeName="SignatureVersion", AttributeValue=version
    )
    publish = {
        "TopicArn": pipeline.topic_arn,
        "Message": json.dumps(delivery_event(["x@example.net"])) + "\n",
    }
    if subject is not None:
        publish["Subject"] = subject
    pipeline.sns.publish(**publish)
    [message] = wait_until(
        lambda: pipeline.sqs.receive_message(QueueUrl=pipeline.queue_url, WaitTimeSeconds=1).get("Messages"),
        what="LocalStack's SNS message",
    )
    envelope = json.loads(message["Body"])
    assert envelope["SignatureVersion"] == version
    assert ("Subject" in envelope) is (subject is not None)

    # LocalStack serves its certificate over plain HTTP: fetched here by the test, never by the logger.
    path = urllib.parse.urlsplit(envelope["SigningCertURL"]).path
    with urllib.request.urlopen(f"{localstack_url}{path}", timeout=10) as response:  # noqa: S310
        key = x509.load_pem_x509_certificate(response.read()).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    signed = read_signed_sns_message(message["Body"], certificate_url_allowed=lambda _url: True)
    assert signed.signature == base64.b64decode(envelope["Signature"])

    check_signature(key, signed)  # raises if our string to sign differs from LocalStack's
