"""The local SES stack for end-to-end tests: LocalStack, the bootstrap, the SES simulator, MailHog.

- ``mailhog``: MailHog's API and SMTP address; a real MailHog when ``MAILHOG_API_URL`` and
  ``MAILHOG_SMTP`` (``host:port``) are set, else the stand-in. Emptied before each test.
- ``ses_pipeline``: ``deploy.bootstrap`` run against LocalStack under a fresh name per test, so each
  test has its own topic, queue, DLQ, secret and configuration set.
- ``ses_simulator``: SES's SMTP interface publishing events to that topic and delivering to MailHog;
  it also stands in for ``ses_smtp``, so the shared ``relay_settings`` point the appliance at it.
- ``pipeline_settings``: the appliance's settings as production has them: ``relay_settings`` plus
  bootstrap's output (queue URL, configuration set, secret) and LocalStack's endpoint.
"""

from __future__ import annotations

import os
import smtplib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import boto3
import pytest

from deploy.bootstrap import Bootstrap, Names, Options, Result
from devstack.mailhog import MailHogStandIn
from devstack.net import LOOPBACK
from devstack.ses_simulator import SesSimulator
from devstack.ses_smtp import SesSmtpStandIn
from devstack.tls import TestPki
from tests.conftest import SMTP_PASSWORD, SMTP_USERNAME
from tests.harness.localstack import DUMMY_CREDENTIALS
from tests.harness.mailhog_client import MailHogClient

# What the simulated SES account has verified: the relay's own sender's domain, not apps.example.org
# (which the relay does allow), so a sender SES refuses can be tested.
VERIFIED_IDENTITIES = ("example.com",)
SIMULATOR = "simulator.amazonses.com"


@dataclass(frozen=True)
class MailHog:
    client: MailHogClient
    smtp: tuple[str, int]


@pytest.fixture(scope="session")
def _mailhog_server() -> Iterator[MailHog]:
    api_url = os.environ.get("MAILHOG_API_URL")
    smtp = os.environ.get("MAILHOG_SMTP")
    if api_url and smtp:
        host, _, port = smtp.rpartition(":")
        yield MailHog(MailHogClient(api_url), (host, int(port)))
        return
    with MailHogStandIn() as stand_in:
        yield MailHog(MailHogClient(stand_in.api_url), (LOOPBACK, stand_in.smtp_port))


@pytest.fixture
def mailhog(_mailhog_server: MailHog) -> MailHog:
    _mailhog_server.client.delete_all()
    return _mailhog_server


@dataclass(frozen=True)
class SesPipeline:
    names: Names
    result: Result
    endpoint_url: str
    topic_arn: str

    @property
    def queue_url(self) -> str:
        return self.result.settings["SES_EVENTS_QUEUE_URL"]

    def sqs(self):
        return boto3.client("sqs", endpoint_url=self.endpoint_url, region_name="us-east-1")

    def dlq_url(self) -> str:
        return self.sqs().get_queue_url(QueueName=self.names.dead_letter_queue)["QueueUrl"]

    def messages_left(self, queue_url: str | None = None) -> int:
        attributes = self.sqs().get_queue_attributes(
            QueueUrl=queue_url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


def run_bootstrap(localstack_url: str, name: str, **options) -> Result:
    quiet = options.pop("log", lambda _line: None)
    return Bootstrap(
        Options(name=name, region="us-east-1", endpoint_url=localstack_url, **options), log=quiet
    ).run()


@pytest.fixture
def ses_pipeline(localstack_url: str) -> SesPipeline:
    names = Names(f"e2e-{uuid.uuid4().hex[:8]}")
    result = run_bootstrap(
        localstack_url,
        names.name,
        identities=list(VERIFIED_IDENTITIES),
        smtp_username=SMTP_USERNAME,
        smtp_password=SMTP_PASSWORD,
    )
    topic_arn = f"arn:aws:sns:us-east-1:000000000000:{names.topic}"
    return SesPipeline(names, result, localstack_url, topic_arn)


@pytest.fixture
def ses_simulator(pki: TestPki, ses_pipeline: SesPipeline, mailhog: MailHog) -> Iterator[SesSimulator]:
    with SesSimulator(
        pki,
        SMTP_USERNAME,
        SMTP_PASSWORD,
        verified_identities=VERIFIED_IDENTITIES,
        configuration_sets=[ses_pipeline.names.configuration_set],
        sns_topic_arn=ses_pipeline.topic_arn,
        aws_endpoint_url=ses_pipeline.endpoint_url,
        mailhog=mailhog.smtp,
    ) as simulator:
        yield simulator


@pytest.fixture
def ses_smtp(ses_simulator: SesSimulator) -> SesSmtpStandIn:
    """The shared ``relay_settings`` take the SES port from here: make it the simulator's."""
    return ses_simulator.smtp


@pytest.fixture
def pipeline_settings(relay_settings: dict[str, str], ses_pipeline: SesPipeline) -> dict[str, str]:
    """The appliance as production runs it: SMTP credentials from Secrets Manager, events from SQS."""
    settings = {key: value for key, value in relay_settings.items() if not key.startswith("SES_SMTP_")}
    settings.update(
        SES_SMTP_HOST=relay_settings["SES_SMTP_HOST"],
        SES_SMTP_PORT=relay_settings["SES_SMTP_PORT"],
        **ses_pipeline.result.settings,
        AWS_ENDPOINT_URL=ses_pipeline.endpoint_url,
        AWS_ACCESS_KEY_ID=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        AWS_SECRET_ACCESS_KEY=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        AWS_REGION="us-east-1",
        # LocalStack signs with its own key, not AWS's: off, as compose.override.yaml has it.
        SES_EVENTS_VERIFY_SNS_SIGNATURES="off",
    )
    return settings


def make_message(sender: str, recipients: list[str], subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message.set_content(f"body of {subject}\n")
    return message


def send(port: int, sender: str, recipients: list[str], subject: str = "hello") -> None:
    with smtplib.SMTP(LOOPBACK, port, timeout=30) as client:
        client.ehlo("client.example.com")
        client.send_message(make_message(sender, recipients, subject), from_addr=sender, to_addrs=recipients)
