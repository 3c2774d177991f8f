"""The start-up check on the real image: what SES says of this relay's setup, in the mail log,
while the relay already takes mail.

SES's SMTP side is the stand-in; its API is the simulator's (devstack/ses_api.py). LocalStack's
SES is not used for the identity check: its GetIdentityVerificationAttributes answers "Success"
for any identity, even one it never created, so it cannot show an unverified sender.
"""

from __future__ import annotations

import smtplib
import urllib.request

import pytest

from devstack.net import LOOPBACK, free_port
from devstack.ses_simulator import SesSimulator
from tests.conftest import ALLOWED_SENDER, SMTP_PASSWORD, SMTP_USERNAME
from tests.harness.appliance import Appliance
from tests.harness.localstack import DUMMY_CREDENTIALS
from tests.harness.waiting import wait_until

pytestmark = pytest.mark.image

CHECK = r"postfix/ses-check\[\d+\]: "
WRONG_PASSWORD = "Wr0ngPassw0rdThatMustNeverBeLogged+/x"


def _healthy(relay: Appliance) -> bool:
    return relay.exec("ses-relay-healthcheck", check=False).stdout.strip() == "healthy"


def test_a_wrong_password_gets_one_clear_line_and_nothing_is_sent(relay_settings, pki_mount, ses_smtp):
    settings = {**relay_settings, "SES_SMTP_PASSWORD": WRONG_PASSWORD}
    with Appliance(settings, mounts=pki_mount) as relay:
        relay.wait_for_mail_log(
            CHECK + r"SES refused the SMTP login at \[ses-smtp\.test\]:\d+ with 535 Authentication "
            r"Credentials Invalid: check SES_SMTP_PASSWORD, the SMTP password SES made for "
            rf"SES_SMTP_USERNAME={SMTP_USERNAME} "
        )
        # No AWS credentials in this container: the API half says what it did not check.
        relay.wait_for_mail_log(CHECK + r"cannot read SES's API in us-east-1 \(no AWS credentials\)")
        wait_until(lambda: _healthy(relay), 30, "the relay healthy beside a failed check")
        log, output = relay.mail_log(), relay.logs()
        assert log.count("SES refused the SMTP login") == 1
        assert WRONG_PASSWORD not in log and WRONG_PASSWORD not in output
    # The check logs in and quits: SES received no message, and no session carried one.
    assert ses_smtp.messages == []
    assert set(ses_smtp.counters().messages_per_session) <= {0}


@pytest.fixture
def sandboxed_account(pki) -> SesSimulator:
    """An account still in the sandbox that has verified example.com only, with its API."""
    with SesSimulator(
        pki,
        SMTP_USERNAME,
        SMTP_PASSWORD,
        verified_identities=["example.com"],
        sandbox=True,
        api_listen=(LOOPBACK, free_port()),
    ) as simulator:
        yield simulator


def _metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def test_an_unverified_sender_and_the_sandbox_are_reported_and_counted(
    relay_settings, pki_mount, sandboxed_account
):
    metrics_port = free_port()
    settings = {
        **relay_settings,
        "SES_SMTP_PORT": str(sandboxed_account.port),
        "AWS_ENDPOINT_URL_SES": sandboxed_account.api_url,
        "AWS_ENDPOINT_URL_SESV2": sandboxed_account.api_url,
        "METRICS_PORT": str(metrics_port),
        **{name: value for name, value in DUMMY_CREDENTIALS.items() if not name.endswith("REGION")},
    }
    with Appliance(settings, mounts=pki_mount) as relay:
        relay.wait_for_mail_log(
            CHECK + r"SES accepts this relay's SMTP login at \[ses-smtp\.test\]:\d+: TLS verified, "
            r"235 Authentication successful\."
        )
        relay.wait_for_mail_log(CHECK + r"the SES account in us-east-1 is in the SES sandbox")
        relay.wait_for_mail_log(
            CHECK
            + r"SES has verified RELAY_ALLOWED_SENDERS in us-east-1: app@example\.com \(by example\.com\)$"
        )
        relay.wait_for_mail_log(
            CHECK + r"RELAY_ALLOWED_SENDERS entry @apps\.example\.org is not an identity SES has verified in "
            r"us-east-1 \(SES has no identity apps\.example\.org or example\.org\): SES will refuse its mail"
        )
        expected = (
            'ses_relay_ses_check_passed{check="smtp_login"} 1.0',
            'ses_relay_ses_check_passed{check="sender_identities"} 0.0',
            'ses_relay_ses_check_passed{check="production_access"} 0.0',
        )
        wait_until(
            lambda: all(sample in _metrics(metrics_port) for sample in expected), 30, "the check's metrics"
        )
    assert sandboxed_account.api.calls.get("GetIdentityVerificationAttributes") == 1
    assert sandboxed_account.smtp.messages == []


def test_while_ses_cannot_be_reached_mail_is_taken_and_the_check_tries_again(
    relay_settings, pki_mount, ses_smtp
):
    ses_smtp.set_outage("refuse")
    with Appliance(relay_settings, mounts=pki_mount) as relay:
        relay.wait_for_mail_log(
            CHECK + r"cannot reach SES at \[ses-smtp\.test\]:\d+ \(connection refused\): mail waits in the "
            r"queue; checking again in 5 s"
        )
        # The check holds nothing up: the relay queues mail meanwhile.
        with smtplib.SMTP(LOOPBACK, relay.port, timeout=30) as client:
            client.sendmail(ALLOWED_SENDER, ["bob@example.net"], "Subject: while SES is away\r\n\r\nhi\r\n")
        ses_smtp.set_outage(None)
        relay.wait_for_mail_log(CHECK + r"SES accepts this relay's SMTP login", timeout=90)
        ses_smtp.wait_for_messages(1, timeout=90)
