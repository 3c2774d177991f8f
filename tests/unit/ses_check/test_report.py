"""The check's lines: each names the setting to look at, and none carries the password."""

from __future__ import annotations

from ses_check import report
from ses_check.identities import verdicts
from ses_check.ses_api import AccountState
from ses_check.smtp_login import Endpoint, LoginResult, Outcome

ENDPOINT = Endpoint(
    "email-smtp.eu-west-1.amazonaws.com", 587, False, "/etc/ssl/certs/ca.pem", "relay.example.com"
)


def test_a_refused_login_names_the_password_setting_and_ses_reply():
    line = report.login(
        LoginResult(Outcome.REFUSED, "535 Authentication Credentials Invalid"),
        ENDPOINT,
        "AKIAEXAMPLE",
        "SES_SMTP_PASSWORD",
        5,
    )
    assert line.severity == report.ERR
    assert line.text.startswith(
        "SES refused the SMTP login at [email-smtp.eu-west-1.amazonaws.com]:587 with "
        "535 Authentication Credentials Invalid: check SES_SMTP_PASSWORD, the SMTP password SES made "
        "for SES_SMTP_USERNAME=AKIAEXAMPLE"
    )
    derived = report.login(
        LoginResult(Outcome.REFUSED, "535 Authentication Credentials Invalid"),
        ENDPOINT,
        "AKIAEXAMPLE",
        "SES_SMTP_SECRET_ACCESS_KEY",
        5,
    )
    assert "check SES_SMTP_SECRET_ACCESS_KEY, the secret access key of" in derived.text


def test_an_accepted_login_an_untrusted_certificate_and_an_unreachable_ses():
    accepted = report.login(
        LoginResult(Outcome.ACCEPTED, "235 Authentication successful."), ENDPOINT, "A", "X", 5
    )
    assert (accepted.severity, accepted.text) == (
        report.INFO,
        "SES accepts this relay's SMTP login at [email-smtp.eu-west-1.amazonaws.com]:587: TLS verified, "
        "235 Authentication successful.",
    )
    untrusted = report.login(LoginResult(Outcome.UNTRUSTED, "Hostname mismatch"), ENDPOINT, "A", "X", 5)
    assert untrusted.severity == report.ERR
    assert "SES_TLS_CA_FILE=/etc/ssl/certs/ca.pem for SES_SMTP_HOST=email-smtp" in untrusted.text
    unreachable = report.login(LoginResult(Outcome.UNREACHABLE, "connection refused"), ENDPOINT, "A", "X", 20)
    assert (unreachable.severity, unreachable.text) == (
        report.WARNING,
        "cannot reach SES at [email-smtp.eu-west-1.amazonaws.com]:587 (connection refused): mail waits in "
        "the queue; checking again in 20 s",
    )


def test_the_sandbox_and_a_paused_account():
    sandbox = report.account(AccountState(False, True, "HEALTHY"), "eu-west-1")
    assert [line.severity for line in sandbox] == [report.WARNING]
    assert sandbox[0].text.startswith("the SES account in eu-west-1 is in the SES sandbox")
    paused = report.account(AccountState(True, False, "SHUTDOWN"), "eu-west-1")
    assert [line.severity for line in paused] == [report.ERR, report.INFO]
    assert "EnforcementStatus=SHUTDOWN" in paused[0].text
    assert paused[1].text == "the SES account in eu-west-1 has production access (out of the sandbox)"


def test_verified_entries_in_one_line_each_unverified_entry_in_its_own():
    found = verdicts(
        ["app@example.com", "@apps.example.org", "@example.net"],
        {"example.com": "Success", "apps.example.org": "Pending", "example.net": "Success"},
    )
    lines = report.identities(found, "us-east-1")
    assert [(line.severity, line.text) for line in lines] == [
        (
            report.INFO,
            "SES has verified RELAY_ALLOWED_SENDERS in us-east-1: app@example.com (by example.com), "
            "@example.net",
        ),
        (
            report.WARNING,
            "RELAY_ALLOWED_SENDERS entry @apps.example.org is not an identity SES has verified in us-east-1 "
            "(apps.example.org: Pending): SES will refuse its mail with 554 Message rejected: Email address "
            "is not verified",
        ),
    ]
    unknown = report.identities(verdicts(["billing@example.org"], {}), "us-east-1")
    assert "(SES has no identity billing@example.org or example.org)" in unknown[0].text
    every = report.identities(verdicts(["@example.com"], {"example.com": "Success"}), "us-east-1")
    assert every[0].text == "SES has verified every RELAY_ALLOWED_SENDERS entry in us-east-1: @example.com"
