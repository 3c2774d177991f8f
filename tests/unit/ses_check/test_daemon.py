"""The check's course: the login first, then the API, then the login again with backoff while SES
cannot be reached; its findings for the metrics. SES and the clock are fakes here."""

from __future__ import annotations

import json
import threading

from ses_check.config import CheckConfig
from ses_check.daemon import Check, Findings, write_status
from ses_check.ses_api import AccountState
from ses_check.smtp_login import LoginResult, Outcome

PASSWORD = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


class NoWaiting(threading.Event):
    """A stopping event whose waits return at once, remembering how long they were asked to be."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return self.is_set()


def _config(tmp_path, **overrides) -> CheckConfig:
    credentials = tmp_path / "sasl_passwd"
    credentials.write_text(f"[ses-smtp.test]:2587 AKIAEXAMPLE:{PASSWORD}\n")
    values = {
        "smtp_host": "ses-smtp.test",
        "smtp_port": 2587,
        "implicit_tls": False,
        "ca_file": "/ca.pem",
        "helo_name": "relay.example.com",
        "region": "us-east-1",
        "allowed_senders": ("app@example.com", "@apps.example.org"),
        "credentials_file": str(credentials),
        **overrides,
    }
    return CheckConfig(**values)


def _run(config, logins, account=None, statuses=None):
    said, stopping = [], NoWaiting()
    answers = iter(logins)
    logged_in_with = []

    def login(endpoint, username, password):
        logged_in_with.append((endpoint.host, endpoint.port, username, password))
        return next(answers)

    def read_account(region):
        if isinstance(account, Exception):
            raise account
        return account

    def verification_statuses(region, identities):
        if isinstance(statuses, Exception):
            raise statuses
        return statuses

    check = Check(config, said.append, stopping, login, read_account, verification_statuses)
    check.run()
    return check, [(line.severity, line.text) for line in said], stopping.waits, logged_in_with


UNREACHABLE = LoginResult(Outcome.UNREACHABLE, "connection refused")
ACCEPTED = LoginResult(Outcome.ACCEPTED, "235 Authentication successful.")


def test_it_logs_in_with_postfixs_credentials_and_retries_with_backoff_until_ses_answers(tmp_path):
    check, said, waits, logged_in_with = _run(
        _config(tmp_path),
        [UNREACHABLE, UNREACHABLE, LoginResult(Outcome.UNREACHABLE, "timed out"), UNREACHABLE, ACCEPTED],
        account=AccountState(True, True, "HEALTHY"),
        statuses={"example.com": "Success", "apps.example.org": "Success"},
    )
    assert logged_in_with[0] == ("ses-smtp.test", 2587, "AKIAEXAMPLE", PASSWORD)
    assert waits == [5, 10, 20, 40]
    texts = [text for _, text in said]
    # One line per change of reason, the API's findings right after the first try, then success.
    assert [text.split(" (")[0] for text in texts if text.startswith("cannot reach")] == [
        "cannot reach SES at [ses-smtp.test]:2587"
    ] * 3
    assert "checking again in 5 s" in texts[0]
    assert texts[1].startswith("the SES account in us-east-1 has production access")
    assert texts[2].startswith("SES has verified every RELAY_ALLOWED_SENDERS entry in us-east-1")
    assert "(timed out)" in texts[3] and "checking again in 20 s" in texts[3]
    assert "(connection refused)" in texts[4]
    assert texts[-1].startswith("SES accepts this relay's SMTP login at [ses-smtp.test]:2587")
    assert check.findings == Findings(
        smtp_login=True, sender_identities=True, production_access=True, sending_enabled=True
    )
    assert all(PASSWORD not in text for text in texts)


def test_the_backoff_stops_growing_at_five_minutes(tmp_path):
    _, _, waits, _ = _run(_config(tmp_path), [UNREACHABLE] * 9 + [ACCEPTED], AccountState(True, True, ""), {})
    assert waits == [5, 10, 20, 40, 80, 160, 300, 300, 300]


def test_a_refused_login_is_final_and_said_once(tmp_path):
    refused = LoginResult(Outcome.REFUSED, "535 Authentication Credentials Invalid")
    check, said, waits, _ = _run(
        _config(tmp_path), [refused], account=LookupError("no AWS credentials"), statuses=LookupError("x")
    )
    assert waits == []
    assert said[0][0] == "err"
    assert "535 Authentication Credentials Invalid: check SES_SMTP_PASSWORD" in said[0][1]
    assert said[1] == (
        "info",
        "cannot read SES's API in us-east-1 (no AWS credentials): the SES sandbox not checked; the check "
        "needs ses:GetAccount and a route to SES's API (HTTPS 443)",
    )
    assert "ses:GetIdentityVerificationAttributes" in said[2][1]
    assert check.findings == Findings(smtp_login=False)


def test_an_unverified_sender_and_the_sandbox_are_findings(tmp_path):
    check, said, _, _ = _run(
        _config(tmp_path),
        [ACCEPTED],
        account=AccountState(False, True, "HEALTHY"),
        statuses={"example.com": "Success"},
    )
    assert [severity for severity, _ in said] == ["info", "warning", "info", "warning"]
    assert said[3][1].startswith("RELAY_ALLOWED_SENDERS entry @apps.example.org is not an identity SES")
    assert check.findings == Findings(
        smtp_login=True, sender_identities=False, production_access=False, sending_enabled=True
    )


def test_without_readable_credentials_it_says_so_and_still_asks_the_api(tmp_path):
    config = _config(tmp_path, credentials_file=str(tmp_path / "missing"))
    check, said, _, logged_in_with = _run(
        config, [], AccountState(True, True, ""), {"example.com": "Success"}
    )
    assert logged_in_with == []
    assert said[0][0] == "err" and said[0][1].startswith("cannot read the SMTP credentials Postfix uses")
    assert check.findings.smtp_login is None


def test_the_status_file_holds_the_findings(tmp_path):
    path = tmp_path / "run" / "ses-check.status.json"
    write_status(str(path), Findings(smtp_login=False, production_access=True))
    status = json.loads(path.read_text())
    assert {key: status[key] for key in ("smtp_login", "sender_identities", "production_access")} == {
        "smtp_login": False,
        "sender_identities": None,
        "production_access": True,
    }
    assert list(path.parent.iterdir()) == [path]


def test_the_config_refuses_unknown_keys(tmp_path):
    path = tmp_path / "ses-check.json"
    document = {
        "smtp_host": "h",
        "smtp_port": 587,
        "implicit_tls": False,
        "ca_file": "/ca.pem",
        "helo_name": "relay",
        "region": "us-east-1",
        "allowed_senders": ["@example.com"],
    }
    path.write_text(json.dumps(document))
    assert CheckConfig.load(path).allowed_senders == ("@example.com",)
    path.write_text(json.dumps({**document, "password": "x"}))
    try:
        CheckConfig.load(path)
    except ValueError as error:
        assert "unknown keys ['password']" in str(error)
    else:
        raise AssertionError("an unknown key was accepted")
