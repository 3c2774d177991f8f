"""The real image relays over real SMTP to the SES stand-in, and refuses what it must."""

from __future__ import annotations

import email
import smtplib
from email.message import EmailMessage

import pytest

from devstack.net import LOOPBACK
from tests.conftest import ALLOWED_SENDER, SMTP_PASSWORD
from tests.harness.appliance import Appliance
from tests.harness.waiting import wait_until

pytestmark = pytest.mark.image


def _message(
    sender: str, recipient: str, subject: str = "hello", headers: dict | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(f"body of {subject}\n")
    return message


def _send(port: int, sender: str, recipients: list[str], message: EmailMessage, source: str = LOOPBACK):
    with smtplib.SMTP(LOOPBACK, port, timeout=30, source_address=(source, 0)) as client:
        client.ehlo("client.example.com")
        return client.send_message(message, from_addr=sender, to_addrs=recipients)


def test_allowed_sender_is_relayed_over_verified_tls_with_auth(relay_settings, pki_mount, ses_smtp):
    with Appliance(relay_settings, mounts=pki_mount) as relay:
        _send(
            relay.port,
            ALLOWED_SENDER,
            ["bob@example.net", "carol@example.net"],
            _message(ALLOWED_SENDER, "bob@example.net", "first"),
        )

        [received] = ses_smtp.wait_for_messages(1)
        assert received.mail_from == ALLOWED_SENDER
        assert received.rcpt_tos == ("bob@example.net", "carol@example.net")
        assert received.tls_version in ("TLSv1.2", "TLSv1.3")
        assert email.message_from_bytes(received.content)["Subject"] == "first"
        assert b"body of first" in received.content

        sent = relay.wait_for_mail_log(
            rf"postfix/smtp\[\d+\]: ([0-9A-F]+): to=<bob@example\.net>, relay=ses-smtp\.test\[127\.0\.0\.1\]:"
            rf"{ses_smtp.port}, .*dsn=2\.0\.0, status=sent \(250 Ok {received.ses_message_id}\)"
        )
        queue_id = sent.group(1)
        relay.wait_for_mail_log(rf"{queue_id}: to=<carol@example\.net>, .*status=sent \(250 Ok ")
        assert "Verified TLS connection established to ses-smtp.test" in relay.mail_log()

        # The same lines reach the container's stdout, once each, and the password never does.
        # qmgr's "removed" comes after both sent lines: once it is on stdout, so is any copy.
        def stdout_through_removed() -> str | None:
            output = relay.logs()
            return output if f"{queue_id}: removed" in output else None

        output = wait_until(stdout_through_removed, 30, "qmgr's 'removed' line on stdout")
        assert output.count(f"status=sent (250 Ok {received.ses_message_id})") == 2
        assert SMTP_PASSWORD not in output


def test_password_derived_from_secret_access_key(relay_settings, pki_mount, ses_smtp):
    settings = dict(relay_settings)
    del settings["SES_SMTP_PASSWORD"]
    # AWS's documented example key: its us-east-1 SMTP password is the stand-in's password.
    settings["SES_SMTP_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    with Appliance(settings, mounts=pki_mount) as relay:
        _send(relay.port, ALLOWED_SENDER, ["bob@example.net"], _message(ALLOWED_SENDER, "bob@example.net"))
        [received] = ses_smtp.wait_for_messages(1)
        relay.wait_for_mail_log(rf"status=sent \(250 Ok {received.ses_message_id}\)")
        assert settings["SES_SMTP_SECRET_ACCESS_KEY"] not in relay.logs()


def test_wrong_password_is_deferred_not_bounced(relay_settings, pki_mount, ses_smtp):
    settings = {**relay_settings, "SES_SMTP_PASSWORD": "not-the-password"}
    with Appliance(settings, mounts=pki_mount) as relay:
        _send(relay.port, ALLOWED_SENDER, ["bob@example.net"], _message(ALLOWED_SENDER, "bob@example.net"))
        relay.wait_for_mail_log(
            r"SASL authentication failed; server ses-smtp\.test\[127\.0\.0\.1\] said: "
            r"535 Authentication Credentials Invalid"
        )
        relay.wait_for_mail_log(r"to=<bob@example\.net>, .*status=deferred")
        assert ses_smtp.messages == []
        assert "not-the-password" not in relay.logs()


@pytest.mark.parametrize(
    "sender",
    ["intruder@example.com", "app@sub.example.com", "someone@example.org", "app@apps.example.org.evil.test"],
)
def test_sender_not_allowed_is_refused_with_5_7_1(relay_settings, pki_mount, ses_smtp, sender):
    with Appliance(relay_settings, mounts=pki_mount) as relay:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            _send(relay.port, sender, ["bob@example.net"], _message(sender, "bob@example.net"))
        code, reply = refused.value.recipients["bob@example.net"]
        assert code == 554
        assert reply.startswith(b"5.7.1 ")
        assert b"RELAY_ALLOWED_SENDERS" in reply
        relay.wait_for_mail_log(rf"NOQUEUE: reject: RCPT from .*from=<{sender}>")
    assert ses_smtp.messages == []


def test_domain_entry_allows_every_address_of_that_domain(relay_settings, pki_mount, ses_smtp):
    with Appliance(relay_settings, mounts=pki_mount) as relay:
        _send(
            relay.port,
            "billing@apps.example.org",
            ["bob@example.net"],
            _message("billing@apps.example.org", "bob@example.net"),
        )
        [received] = ses_smtp.wait_for_messages(1)
        assert received.mail_from == "billing@apps.example.org"


def test_client_outside_allowed_networks_is_refused(relay_settings, pki_mount, ses_smtp):
    with Appliance(relay_settings, mounts=pki_mount) as relay:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            _send(
                relay.port,
                ALLOWED_SENDER,
                ["bob@example.net"],
                _message(ALLOWED_SENDER, "bob@example.net"),
                source="127.0.0.2",
            )
        code, reply = refused.value.recipients["bob@example.net"]
        assert code == 554
        assert reply.startswith(b"5.7.1 ")
        relay.wait_for_mail_log(r"NOQUEUE: reject: RCPT from .*\[127\.0\.0\.2\]")
    assert ses_smtp.messages == []


def test_banner_hides_the_version_and_no_auth_is_offered(relay_settings, pki_mount):
    with Appliance(relay_settings, mounts=pki_mount) as relay:
        with smtplib.SMTP(LOOPBACK, relay.port, timeout=30) as client:
            code, _features = client.ehlo("client.example.com")
            assert code == 250
            assert "auth" not in client.esmtp_features
            assert client.verify("root")[0] == 502
        banner = relay.exec("postconf", "-h", "smtpd_banner").stdout.strip()
        assert banner == "$myhostname ESMTP"
