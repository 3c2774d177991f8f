"""The local SES stack's parts, without the appliance: SES's SMTP replies, the events it publishes,
what it delivers to MailHog, and (with LocalStack) what reaches the SQS queue."""

from __future__ import annotations

import base64
import datetime
import json
import re
import signal
import smtplib
import ssl
import subprocess
import sys
import time
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography import x509

from devstack import tls
from devstack.event_json import SNS_SUBJECT, sns_message
from devstack.mailhog import MailHogStandIn
from devstack.net import LOOPBACK, free_port, wait_for_banner
from devstack.ses_simulator import SesSimulator
from devstack.ses_smtp import THROTTLED
from devstack.tls import create_pki
from ses_events.core import format_sqs_body
from tests.e2e.conftest import SIMULATOR, make_message
from tests.harness.mailhog_client import MailHogClient, header
from tests.harness.waiting import wait_until

USER = "AKIAIOSFODNN7EXAMPLE"
PASSWORD = "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9"
SES_ID = re.compile(r"^0100[0-9a-f]{12}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-000000$")
FIXTURES = Path(__file__).resolve().parents[1] / "unit/fixtures/ses_events/raw"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def local_pki(tmp_path_factory: pytest.TempPathFactory) -> tls.TestPki:
    return create_pki(tmp_path_factory.mktemp("simulator-pki"), ["ses-smtp.test", "localhost"])


@pytest.fixture
def client_tls(local_pki: tls.TestPki) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(local_pki.ca_file))
    context.check_hostname = False  # we dial 127.0.0.1; the chain is still verified
    return context


@pytest.fixture
def mailhog_stand_in():
    with MailHogStandIn() as stand_in:
        yield stand_in


def simulator(local_pki: tls.TestPki, **options) -> SesSimulator:
    options.setdefault("event_delay", (0.0, 0.01))
    return SesSimulator(local_pki, USER, PASSWORD, **options)


def session(port: int, context: ssl.SSLContext, login: bool = True) -> smtplib.SMTP:
    client = smtplib.SMTP(LOOPBACK, port, timeout=30)
    client.ehlo("client.example.com")
    client.starttls(context=context)
    client.ehlo("client.example.com")
    if login:
        client.login(USER, PASSWORD)
    return client


def transaction(
    client: smtplib.SMTP, sender: str, recipients: list[str], content: bytes
) -> tuple[int, bytes]:
    assert client.mail(sender) == (250, b"Ok")
    for recipient in recipients:
        assert client.rcpt(recipient) == (250, b"Ok")
    return client.data(content)


def content(sender: str, recipients: list[str], subject: str = "hello", **headers: str) -> bytes:
    message = make_message(sender, recipients, subject)
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    return message.as_bytes()


# --- SES's SMTP replies ----------------------------------------------------------------------


def test_starttls_comes_first_then_auth_plain_or_login_and_no_size(local_pki, client_tls):
    with simulator(local_pki) as ses, smtplib.SMTP(LOOPBACK, ses.port, timeout=30) as client:
        client.ehlo("client.example.com")
        assert "starttls" in client.esmtp_features
        assert "auth" not in client.esmtp_features
        code, reply = client.docmd(
            "AUTH", "PLAIN " + base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
        )
        assert code == 530
        assert client.docmd("MAIL", "FROM:<app@example.com>")[0] == 530
        client.starttls(context=client_tls)
        client.ehlo("client.example.com")
        assert client.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
        assert "size" not in client.esmtp_features
        assert client.docmd("MAIL", "FROM:<app@example.com>") == (530, b"Authentication required")
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.login(USER, "wrong")
        assert (refused.value.smtp_code, refused.value.smtp_error) == (
            535,
            b"Authentication Credentials Invalid",
        )
        client.login(USER, PASSWORD)
        message = content("app@example.com", ["bob@example.net"])
        code, reply = transaction(client, "app@example.com", ["bob@example.net"], message)
    assert code == 250
    word, ses_id = reply.decode().split()
    assert word == "Ok"
    assert SES_ID.match(ses_id)
    [received] = ses.messages
    assert received.ses_message_id == ses_id
    assert received.rcpt_tos == ("bob@example.net",)
    assert received.tls_version in ("TLSv1.2", "TLSv1.3")


def test_at_most_50_recipients_per_message(local_pki, client_tls):
    fifty = [f"user{i}@example.net" for i in range(50)]
    with simulator(local_pki) as ses, session(ses.port, client_tls) as client:
        assert transaction(client, "app@example.com", fifty, content("app@example.com", fifty[:1]))[0] == 250
        code, reply = transaction(
            client, "app@example.com", [*fifty, "one-more@example.net"], content("app@example.com", fifty[:1])
        )
    assert (code, reply) == (554, b"Transaction failed: Recipient count exceeds 50.")
    assert len(ses.messages) == 1


def test_message_over_the_size_limit_is_too_long(local_pki, client_tls):
    with simulator(local_pki, max_message_size=4096) as ses, session(ses.port, client_tls) as client:
        small = content("app@example.com", ["bob@example.net"])
        assert transaction(client, "app@example.com", ["bob@example.net"], small)[0] == 250
        large = small + (b"x" * 70 + b"\r\n") * 80
        code, reply = transaction(client, "app@example.com", ["bob@example.net"], large)
    assert (code, reply) == (552, b"Message is too long.")


@pytest.mark.parametrize(
    ("sender", "from_header", "refused"),
    [
        ("app@example.com", "App <app@example.com>", None),
        ("billing@mail.example.com", "billing@mail.example.com", None),  # a verified domain's subdomain
        ("owner@example.org", "owner@example.org", None),  # a verified address
        ("other@example.org", "other@example.org", "other@example.org"),
        ("app@example.com", "Spoof <ceo@evil.test>", "ceo@evil.test"),  # From header checked too
        ("x@example.com.evil.test", "x@example.com.evil.test", "x@example.com.evil.test"),
    ],
)
def test_sender_must_be_a_verified_identity(local_pki, client_tls, sender, from_header, refused):
    with (
        simulator(local_pki, verified_identities=["example.com", "owner@example.org"]) as ses,
        session(ses.port, client_tls) as client,
    ):
        message = content(sender, ["bob@example.net"]).replace(
            f"From: {sender}".encode(), f"From: {from_header}".encode(), 1
        )
        code, reply = transaction(client, sender, ["bob@example.net"], message)
    if refused is None:
        assert code == 250
        assert ses.messages[0].source_identity in ("example.com", "owner@example.org")
    else:
        assert (code, reply.decode()) == (
            554,
            "Message rejected: Email address is not verified. The following identities failed the check "
            f"in region US-EAST-1: {refused}",
        )
        assert ses.messages == []
        assert ses.smtp.rejections[0].reply.startswith("554 Message rejected")


def test_sandbox_needs_verified_recipients_but_not_the_mailbox_simulator(local_pki, client_tls):
    with (
        simulator(local_pki, verified_identities=["example.com"], sandbox=True) as ses,
        session(ses.port, client_tls) as client,
    ):
        message = content("app@example.com", ["x"])
        assert transaction(client, "app@example.com", [f"success@{SIMULATOR}"], message)[0] == 250
        code, reply = transaction(
            client, "app@example.com", ["bob@example.net", f"bounce@{SIMULATOR}"], message
        )
    assert code == 554
    assert reply.decode().endswith("in region US-EAST-1: bob@example.net")


def test_unknown_configuration_set_is_refused(local_pki, client_tls):
    with (
        simulator(local_pki, configuration_sets=["relay-events"]) as ses,
        session(ses.port, client_tls) as client,
    ):
        good = content("app@example.com", ["bob@example.net"], X_SES_CONFIGURATION_SET="relay-events")
        assert transaction(client, "app@example.com", ["bob@example.net"], good)[0] == 250
        bad = content("app@example.com", ["bob@example.net"], X_SES_CONFIGURATION_SET="typo-events")
        code, reply = transaction(client, "app@example.com", ["bob@example.net"], bad)
    assert (code, reply) == (554, b"Transaction failed: Configuration set typo-events does not exist.")


def test_sending_faster_than_the_maximum_rate_is_throttled(local_pki, client_tls):
    with simulator(local_pki, max_send_rate=2) as ses, session(ses.port, client_tls) as client:
        message = content("app@example.com", ["bob@example.net"])
        assert transaction(client, "app@example.com", ["a@example.net", "b@example.net"], message)[0] == 250
        code, reply = transaction(client, "app@example.com", ["c@example.net"], message)
        assert f"{code} {reply.decode()}" == THROTTLED
        time.sleep(1.1)
        assert transaction(client, "app@example.com", ["c@example.net"], message)[0] == 250
    assert [m.rcpt_tos for m in ses.messages] == [("a@example.net", "b@example.net"), ("c@example.net",)]


def test_fail_next_answers_the_next_message_only(local_pki, client_tls):
    with simulator(local_pki) as ses, session(ses.port, client_tls) as client:
        ses.smtp.fail_next(THROTTLED)
        message = content("app@example.com", ["bob@example.net"])
        assert transaction(client, "app@example.com", ["bob@example.net"], message) == (
            454,
            b"Throttling failure: Maximum sending rate exceeded.",
        )
        assert transaction(client, "app@example.com", ["bob@example.net"], message)[0] == 250


# --- what SES publishes ----------------------------------------------------------------------

OUTCOMES = {
    "success": [("Send", None), ("Delivery", None)],
    "bounce": [("Send", None), ("Bounce", ("Permanent", "General"))],
    "suppressionlist": [("Send", None), ("Bounce", ("Permanent", "OnAccountSuppressionList"))],
    "complaint": [("Send", None), ("Delivery", None), ("Complaint", None)],
    "ooto": [("Send", None), ("Delivery", None), ("Bounce", ("Transient", "General"))],
}


def _kinds(events) -> list[tuple[str, tuple[str, str] | None]]:
    return [
        (e["eventType"], (e["bounce"]["bounceType"], e["bounce"]["bounceSubType"]) if "bounce" in e else None)
        for e in events
    ]


def _send_one(ses: SesSimulator, context: ssl.SSLContext, recipients: list[str], **headers: str) -> str:
    with session(ses.port, context) as client:
        code, reply = transaction(
            client, "app@example.com", recipients, content("App <app@example.com>", recipients, **headers)
        )
    assert code == 250
    ses.wait_idle()
    return reply.decode().split()[1]


@pytest.mark.parametrize("mailbox", sorted(OUTCOMES))
@pytest.mark.parametrize("label", ["", "+order-42"])
def test_mailbox_simulator_outcomes(local_pki, client_tls, mailhog_stand_in, mailbox, label):
    recipient = f"{mailbox}{label}@{SIMULATOR}"
    with simulator(
        local_pki, default_configuration_set="relay-events", mailhog=(LOOPBACK, mailhog_stand_in.smtp_port)
    ) as ses:
        ses_id = _send_one(ses, client_tls, [recipient])
    events = ses.events(ses_id)
    assert _kinds(events) == OUTCOMES[mailbox]
    for event in events:
        assert event["mail"]["messageId"] == ses_id
        assert event["mail"]["destination"] == [recipient]
    by_type = {event["eventType"]: event for event in events}
    if "Bounce" in by_type:
        [bounced] = by_type["Bounce"]["bounce"]["bouncedRecipients"]
        assert bounced["emailAddress"] == recipient
        if mailbox != "ooto":  # an auto-reply carries no DSN
            assert (bounced["action"], bounced["status"]) == ("failed", "5.1.1")
    if "Complaint" in by_type:
        complaint = by_type["Complaint"]["complaint"]
        assert complaint["complainedRecipients"] == [{"emailAddress": recipient}]
        assert complaint["complaintFeedbackType"] == "abuse"
    delivered = MailHogClient(mailhog_stand_in.api_url).messages_to(recipient)
    assert len(delivered) == (1 if "Delivery" in by_type else 0)


def test_bounces_of_one_send_are_combined_and_each_outcome_reported(local_pki, client_tls):
    recipients = [f"bounce+a@{SIMULATOR}", f"bounce+b@{SIMULATOR}", f"success@{SIMULATOR}", "bob@example.net"]
    with simulator(local_pki, default_configuration_set="relay-events") as ses:
        ses_id = _send_one(ses, client_tls, recipients)
    events = ses.events(ses_id)
    [bounce] = [e for e in events if e["eventType"] == "Bounce"]
    assert [r["emailAddress"] for r in bounce["bounce"]["bouncedRecipients"]] == recipients[:2]
    deliveries = [e["delivery"]["recipients"] for e in events if e["eventType"] == "Delivery"]
    assert sorted(deliveries) == [["bob@example.net"], [f"success@{SIMULATOR}"]]


def test_events_have_the_shape_of_ses_event_publishing(local_pki, client_tls, mailhog_stand_in):
    recipients = [f"success@{SIMULATOR}", f"bounce@{SIMULATOR}", f"complaint@{SIMULATOR}"]
    with simulator(
        local_pki, default_configuration_set="relay-events", mailhog=(LOOPBACK, mailhog_stand_in.smtp_port)
    ) as ses:
        ses_id = _send_one(ses, client_tls, recipients)
    seen = set()
    for event in ses.events(ses_id):
        kind = event["eventType"].lower()
        example = json.loads((FIXTURES / f"event_{kind}.json").read_text())
        assert list(event) == list(example), kind  # same keys, same order
        assert list(event["mail"]) == list(example["mail"]), kind
        detail = kind if kind != "send" else None
        if detail:
            assert set(event[detail]) <= set(example[detail]), kind
            assert set(example[detail]) - set(event[detail]) <= {"remoteMtaIp", "reportingMTA"}, kind
        assert json.loads(sns_message(event)) == event
        assert sns_message(event).endswith("}\n") and ", " not in sns_message(event)[:40]
        seen.add(kind)
    assert seen == {"send", "delivery", "bounce", "complaint"}


def test_mail_object_describes_the_submitted_message(local_pki, client_tls):
    recipients = [f"success@{SIMULATOR}", "bob@example.net"]
    with simulator(local_pki, configuration_sets=["relay-events"]) as ses:
        ses_id = _send_one(
            ses,
            client_tls,
            recipients,
            X_SES_CONFIGURATION_SET="relay-events",
            X_SES_MESSAGE_TAGS="campaign=spring, tier=gold",
            Reply_To="Help <help@example.com>",
        )
    mail = ses.events(ses_id)[0]["mail"]
    assert mail["messageId"] == ses_id
    assert mail["source"] == "app@example.com"
    assert mail["sourceArn"] == "arn:aws:ses:us-east-1:000000000000:identity/example.com"
    assert mail["sourceIp"] == LOOPBACK
    assert mail["destination"] == recipients
    assert mail["headersTruncated"] is False
    first = mail["headers"][0]
    assert first["name"] == "Received"
    assert first["value"].startswith(
        "from client.example.com (unknown [127.0.0.1]) by email-smtp.amazonaws.com"
    )
    assert " for <" not in first["value"]  # only with a single recipient
    names = [h["name"] for h in mail["headers"][1:]]
    assert names[:3] == ["From", "To", "Subject"]
    assert {"X-SES-CONFIGURATION-SET", "X-SES-MESSAGE-TAGS"} <= set(names)
    assert mail["commonHeaders"] == {
        "from": ["App <app@example.com>"],
        "replyTo": ["Help <help@example.com>"],
        "to": recipients,
        "messageId": ses_id,
        "subject": "hello",
    }
    assert mail["tags"] == {
        "ses:operation": ["SendSmtpEmail"],
        "ses:configuration-set": ["relay-events"],
        "ses:source-ip": [LOOPBACK],
        "ses:from-domain": ["example.com"],
        "ses:caller-identity": ["ses-smtp-user.20240101-000000"],
        "campaign": ["spring"],
        "tier": ["gold"],
    }
    delivery = next(e for e in ses.events(ses_id) if e["eventType"] == "Delivery")
    assert delivery["mail"]["tags"]["ses:outgoing-ip"]
    stamp = datetime.datetime.strptime(mail["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.UTC
    )
    assert abs((stamp - ses.messages[0].accepted_at).total_seconds()) < 0.002


def test_only_mail_with_a_configuration_set_publishes_events(local_pki, client_tls):
    with simulator(local_pki) as ses:
        without = _send_one(ses, client_tls, [f"bounce@{SIMULATOR}"])
        with_set = _send_one(ses, client_tls, [f"bounce@{SIMULATOR}"], X_SES_CONFIGURATION_SET="relay-events")
    assert ses.events(without) == []
    assert _kinds(ses.events(with_set)) == OUTCOMES["bounce"]


def test_delivered_mail_reaches_mailhog_as_ses_sends_it(local_pki, client_tls, mailhog_stand_in):
    recipients = [f"success@{SIMULATOR}", f"bounce@{SIMULATOR}", "bob@example.net"]
    with simulator(
        local_pki, default_configuration_set="relay-events", mailhog=(LOOPBACK, mailhog_stand_in.smtp_port)
    ) as ses:
        ses_id = _send_one(
            ses, client_tls, recipients, X_SES_CONFIGURATION_SET="relay-events", X_SES_MESSAGE_TAGS="a=b"
        )
    [item] = MailHogClient(mailhog_stand_in.api_url).messages()
    assert item["Raw"]["From"] == f"{ses_id}@amazonses.com"
    assert item["Raw"]["To"] == [f"success@{SIMULATOR}", "bob@example.net"]  # the bounce never left SES
    assert header(item, "Message-ID") == [f"<{ses_id}@email.amazonses.com>"]
    assert header(item, "Subject") == ["hello"]
    assert not [
        name
        for name in item["Content"]["Headers"]
        if name.lower() in ("x-ses-configuration-set", "x-ses-message-tags")
    ]
    assert header(item, "Feedback-ID")[0].endswith(":AmazonSES")
    assert "body of hello" in item["Content"]["Body"]
    replies = {e["delivery"]["smtpResponse"] for e in ses.events(ses_id) if e["eventType"] == "Delivery"}
    assert replies == {f"250 Ok: queued as {item['ID']}"}


def test_unreachable_receiver_gives_a_delivery_delay(local_pki, client_tls):
    with simulator(
        local_pki, default_configuration_set="relay-events", mailhog=(LOOPBACK, free_port())
    ) as ses:
        ses_id = _send_one(ses, client_tls, ["bob@example.net"])
    kinds = [e["eventType"] for e in ses.events(ses_id)]
    assert kinds == ["Send", "DeliveryDelay"]


def test_the_event_logger_formats_every_published_event(local_pki, client_tls):
    """The appliance's own formatter (ses_events) turns these events into the expected lines."""
    recipients = [f"{mailbox}@{SIMULATOR}" for mailbox in sorted(OUTCOMES)]
    with simulator(local_pki, default_configuration_set="relay-events") as ses:
        ses_id = _send_one(ses, client_tls, recipients)
    lines = [
        line
        for event in ses.events(ses_id)
        for line in format_sqs_body(sns_message(event), lambda message_id: "4F1A22C0D3E").lines
    ]
    expected = {
        "bounce": r"dsn=5\.1\.1, status=bounced \(Permanent/General\)",
        "suppressionlist": r"dsn=5\.1\.1, status=bounced \(Permanent/OnAccountSuppressionList\)",
        "complaint": r"dsn=2\.0\.0, status=complained \(abuse\)",
        "ooto": r"dsn=4\.0\.0, status=bounced \(Transient/General\)",
        "success": r"dsn=2\.\d\.\d, status=delivered",
    }
    for mailbox, outcome in expected.items():
        pattern = (
            rf"^4F1A22C0D3E: to=<{mailbox}@{re.escape(SIMULATOR)}>, relay=[^,]+, {outcome}.*ses_id={ses_id}"
        )
        assert any(re.search(pattern, line) for line in lines), (mailbox, lines)
    assert sum("status=accepted" in line for line in lines) == len(recipients)


# --- MailHog stand-in --------------------------------------------------------------------------


def test_mailhog_stand_in_speaks_mailhogs_api(mailhog_stand_in):
    message = EmailMessage()
    message["From"] = "a@example.com"
    message["To"] = "b@example.net"
    message["Subject"] = "first"
    message.set_content("one\n")
    with smtplib.SMTP(LOOPBACK, mailhog_stand_in.smtp_port, timeout=30) as client:
        client.ehlo("sender.example.com")
        client.send_message(message)
        del message["Subject"]
        message["Subject"] = "second"
        client.send_message(message, to_addrs=["c@example.org", "d@example.org"])
    with urllib.request.urlopen(f"{mailhog_stand_in.api_url}/api/v2/messages") as response:  # noqa: S310
        document = json.load(response)
    assert (document["total"], document["count"], document["start"]) == (2, 2, 0)
    newest, oldest = document["items"]
    assert newest["Content"]["Headers"]["Subject"] == ["second"]
    assert newest["From"] == {"Relays": None, "Mailbox": "a", "Domain": "example.com", "Params": ""}
    assert [(p["Mailbox"], p["Domain"]) for p in newest["To"]] == [("c", "example.org"), ("d", "example.org")]
    assert newest["Raw"]["To"] == ["c@example.org", "d@example.org"]
    assert newest["Raw"]["Helo"] == "sender.example.com"
    assert newest["Raw"]["Data"].startswith("From: a@example.com\r\n")
    assert newest["Content"]["Headers"]["Return-Path"] == ["<a@example.com>"]
    assert newest["Content"]["Headers"]["Message-ID"] == [newest["ID"]]  # MailHog adds one when missing
    assert newest["Content"]["Headers"]["Received"][0].startswith(
        "from sender.example.com by mailhog.example"
    )
    assert oldest["Content"]["Body"] == "one\r\n"
    client = MailHogClient(mailhog_stand_in.api_url)
    assert [m["ID"] for m in client.messages_to("b@example.net")] == [oldest["ID"]]
    client.delete_all()
    assert client.messages() == []


# --- with LocalStack: SNS -> SQS ----------------------------------------------------------------


@pytest.mark.localstack
def test_events_reach_the_queue_as_ses_publishes_them(local_pki, client_tls, ses_pipeline):
    with simulator(
        local_pki,
        configuration_sets=[ses_pipeline.names.configuration_set],
        sns_topic_arn=ses_pipeline.topic_arn,
        aws_endpoint_url=ses_pipeline.endpoint_url,
    ) as ses:
        ses_id = _send_one(
            ses,
            client_tls,
            [f"success@{SIMULATOR}", f"bounce@{SIMULATOR}"],
            X_SES_CONFIGURATION_SET=ses_pipeline.names.configuration_set,
        )
    published = ses.events(ses_id)
    assert all(record.error is None for record in ses.publisher.published)
    sqs = ses_pipeline.sqs()
    bodies: list[str] = []

    def receive() -> bool:
        for message in sqs.receive_message(
            QueueUrl=ses_pipeline.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", []):
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=ses_pipeline.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return sum(ses_id in body for body in bodies) >= len(published)

    wait_until(receive, timeout=30, what="every event in the queue")
    envelopes = [json.loads(body) for body in bodies if ses_id in body]
    assert [json.loads(envelope["Message"]) for envelope in envelopes] == published
    for envelope in envelopes:
        assert envelope["Type"] == "Notification"
        assert envelope["Subject"] == SNS_SUBJECT
        assert envelope["TopicArn"] == ses_pipeline.topic_arn
        assert envelope["Message"].endswith("\n")
    lines = [line for body in bodies if ses_id in body for line in format_sqs_body(body).lines]
    assert any("status=bounced (Permanent/General)" in line for line in lines)
    assert any("status=delivered" in line for line in lines)


# --- standalone, as the compose stack runs it ---------------------------------------------------


def test_standalone_simulator_writes_its_ca_and_keeps_it_across_restarts(tmp_path: Path):
    port = free_port()
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    command = [
        sys.executable,
        "-m",
        "devstack.ses_simulator",
        f"--listen={LOOPBACK}:{port}",
        f"--tls-dir={tmp_path / 'pki'}",
        "--server-name=ses-simulator",
        f"--username={USER}",
        f"--password-file={password_file}",
    ]
    cas = []
    for _ in range(2):
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            assert wait_for_banner(port, timeout=20).startswith(b"220 email-smtp.amazonaws.com ESMTP")
            cas.append((tmp_path / "pki/ca.pem").read_bytes())
            context = ssl.create_default_context(cafile=str(tmp_path / "pki/ca.pem"))
            context.check_hostname = False
            with session(port, context) as client:
                assert client.noop()[0] == 250
        finally:
            process.send_signal(signal.SIGTERM)
            output = process.communicate(timeout=30)[0].decode()
        assert process.returncode == 0, output
    assert cas[0] == cas[1]
    certificate = x509.load_pem_x509_certificate((tmp_path / "pki/server.pem").read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["ses-simulator"]
    assert PASSWORD not in output
