"""One login session against the SES stand-in (in process, on loopback): what each answer means.
Nothing is ever sent: the stand-in receives no message in any of these."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.net import LOOPBACK, free_port
from ses_check.smtp_login import Endpoint, Outcome, read_credentials, try_login
from tests.conftest import SMTP_PASSWORD, SMTP_USERNAME

pytest.importorskip("aiosmtpd")

NAME = "localhost"  # resolves everywhere, unlike the image tests' ses-smtp.test


@pytest.fixture(scope="module")
def local_pki(tmp_path_factory: pytest.TempPathFactory):
    from devstack.tls import create_pki

    return create_pki(tmp_path_factory.mktemp("pki"), [NAME])


@pytest.fixture
def ses(local_pki):
    from devstack.ses_smtp import SesSmtpStandIn

    with SesSmtpStandIn(local_pki, SMTP_USERNAME, SMTP_PASSWORD) as stand_in:
        yield stand_in


def _endpoint(port: int, ca_file: Path, host: str = NAME) -> Endpoint:
    return Endpoint(host, port, False, str(ca_file), "relay.example.com")


def test_ses_accepts_the_right_credentials_and_receives_nothing(ses, local_pki):
    result = try_login(_endpoint(ses.port, local_pki.ca_file), SMTP_USERNAME, SMTP_PASSWORD)
    assert (result.outcome, result.detail) == (Outcome.ACCEPTED, "235 Authentication successful.")
    counters = ses.counters()
    assert (counters.tls_handshakes, counters.auths, counters.messages_per_session) == (1, 1, (0,))
    assert ses.messages == []


def test_a_wrong_password_is_refused_with_ses_535(ses, local_pki):
    result = try_login(_endpoint(ses.port, local_pki.ca_file), SMTP_USERNAME, "not-the-password")
    assert (result.outcome, result.detail) == (Outcome.REFUSED, "535 Authentication Credentials Invalid")
    assert "not-the-password" not in repr(result)
    assert ses.messages == []


def test_a_certificate_that_does_not_verify_is_untrusted(ses, local_pki, tmp_path):
    from devstack.tls import create_pki

    other_ca = create_pki(tmp_path, [NAME]).ca_file
    result = try_login(_endpoint(ses.port, other_ca), SMTP_USERNAME, SMTP_PASSWORD)
    assert result.outcome is Outcome.UNTRUSTED and "unable to get local issuer certificate" in result.detail
    # The right CA, but dialled under a name the certificate does not carry (as Postfix's nexthop check).
    mismatch = try_login(_endpoint(ses.port, local_pki.ca_file, host=LOOPBACK), SMTP_USERNAME, SMTP_PASSWORD)
    assert mismatch.outcome is Outcome.UNTRUSTED and "mismatch" in mismatch.detail
    assert ses.counters().auths == 0


def test_no_answer_or_a_temporary_refusal_is_unreachable(ses, local_pki):
    refused = try_login(_endpoint(free_port(), local_pki.ca_file), SMTP_USERNAME, SMTP_PASSWORD)
    assert (refused.outcome, refused.detail) == (Outcome.UNREACHABLE, "connection refused")
    with ses.outage("421"):
        busy = try_login(_endpoint(ses.port, local_pki.ca_file), SMTP_USERNAME, SMTP_PASSWORD)
    assert busy.outcome is Outcome.UNREACHABLE and busy.detail.startswith("421 ")


def test_the_credentials_are_postfixs_own(tmp_path):
    sasl_passwd = tmp_path / "sasl_passwd"
    sasl_passwd.write_text("[email-smtp.eu-west-1.amazonaws.com]:587 AKIAEXAMPLE:pass:with+colon/=\n")
    assert read_credentials(sasl_passwd) == ("AKIAEXAMPLE", "pass:with+colon/=")
