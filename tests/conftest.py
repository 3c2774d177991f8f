"""Fixtures shared by every test: the SES stand-in and its CA come from devstack/, LocalStack from
tests/harness. They are imported inside the fixtures, so the fast unit tests need neither aiosmtpd
nor cryptography."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.harness.appliance import SES_SMTP_NAME

if TYPE_CHECKING:
    from devstack.ses_smtp import SesSmtpStandIn
    from devstack.tls import TestPki

# Test-only credentials, as fake as LocalStack's: they open nothing anywhere.
SMTP_USERNAME = "AKIAIOSFODNN7EXAMPLE"
SMTP_PASSWORD = "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9"
CA_IN_CONTAINER = "/run/ses-relay-test/ca.pem"
ALLOWED_SENDER = "app@example.com"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    from devstack.tls import create_pki

    directory = tmp_path_factory.mktemp("pki")
    directory.chmod(0o755)
    return create_pki(directory, [SES_SMTP_NAME])


@pytest.fixture
def ses_smtp(pki: TestPki) -> Iterator[SesSmtpStandIn]:
    from devstack.ses_smtp import SesSmtpStandIn

    with SesSmtpStandIn(pki, SMTP_USERNAME, SMTP_PASSWORD) as stand_in:
        yield stand_in


@pytest.fixture
def pki_mount(pki: TestPki) -> list[tuple[Path, str]]:
    return [(pki.ca_file, CA_IN_CONTAINER)]


@pytest.fixture
def relay_settings(ses_smtp: SesSmtpStandIn) -> dict[str, str]:
    """Settings of an appliance that relays to the SES stand-in."""
    return {
        "SES_REGION": "us-east-1",
        "SES_SMTP_HOST": SES_SMTP_NAME,
        "SES_SMTP_PORT": str(ses_smtp.port),
        "SES_SMTP_USERNAME": SMTP_USERNAME,
        "SES_SMTP_PASSWORD": SMTP_PASSWORD,
        "SES_TLS_CA_FILE": CA_IN_CONTAINER,
        "RELAY_ALLOWED_SENDERS": f"{ALLOWED_SENDER} @apps.example.org",
        "RELAY_ALLOWED_NETWORKS": "127.0.0.1/32",
        "RELAY_HOSTNAME": "relay.example.com",
    }


@pytest.fixture(scope="session")
def localstack_url() -> Iterator[str]:
    from tests.harness.localstack import DUMMY_CREDENTIALS, localstack

    for name, value in DUMMY_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    with localstack() as url:
        yield url
