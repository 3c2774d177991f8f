"""One whole pipeline per scenario, as tests/e2e assembles it, with the handles a fault needs.

LocalStack (shared by every scenario) <- ``deploy.bootstrap`` (a fresh topic, queue + DLQ, secret
and configuration set per scenario) <- the SES simulator (publishing SES's events to SNS and
delivering to a MailHog stand-in) <- the appliance (real image, --network host on loopback).

With ``sqs_proxy`` the appliance reaches LocalStack (SQS, Secrets Manager) through a TCP proxy
that the SQS fault kills and starts again on the same port, while the simulator keeps
publishing to LocalStack directly.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import boto3

from deploy.bootstrap import Names
from devstack.mailhog import MailHogStandIn
from devstack.net import LOOPBACK, free_port
from devstack.ses_simulator import SesSimulator
from devstack.tls import TestPki
from entrypoint.settings.schema import SETTINGS
from tests.conftest import ALLOWED_SENDER, CA_IN_CONTAINER, SMTP_PASSWORD, SMTP_USERNAME
from tests.e2e.conftest import VERIFIED_IDENTITIES, run_bootstrap
from tests.harness.appliance import SES_SMTP_NAME, Appliance, docker
from tests.harness.localstack import DUMMY_CREDENTIALS
from tests.harness.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
SUPERVISORCTL = ("supervisorctl", "-c", "/etc/supervisor/supervisord.conf")
# The pacer's rate is fixed so that every scenario paces alike (auto would ask LocalStack).
SEND_RATE = "20"
# docker stop -t: RELAY_DRAIN_SECONDS (40 s), then about 20 s for the programs to stop.
STOP_TIMEOUT = 90


class SqsLine:
    """tests/bench/latency_proxy.py (no added delay) between the appliance and LocalStack: ``cut``
    kills it by its PID, so open connections drop and new ones are refused; ``restore`` starts it
    again on the same port."""

    def __init__(self, upstream_url: str):
        self.upstream_port = urlsplit(upstream_url).port
        self.port = free_port()
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def restore(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.latency_proxy", str(self.upstream_port), "0", str(self.port)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert self._process.stdout is not None
        assert int(self._process.stdout.readline()) == self.port

    def cut(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None


def _through(url: str, proxy: SqsLine | None) -> str:
    if proxy is None:
        return url
    parts = urlsplit(url)
    return parts._replace(netloc=f"{LOOPBACK}:{proxy.port}").geturl()


def _image_knows(setting: str) -> bool:
    """The image is built from this checkout: a setting it does not know would be refused (78)."""
    return any(known.name == setting for known in SETTINGS)


class FaultStack:
    """``with FaultStack(localstack_url, pki) as stack:`` starts everything, the appliance last."""

    def __init__(
        self,
        localstack_url: str,
        pki: TestPki,
        *,
        sqs_proxy: bool = False,
        settings: Mapping[str, str] | None = None,
        docker_args: Iterable[str] = (),
        mounts: Iterable[tuple[Path, str]] = (),
    ):
        self.localstack_url = localstack_url
        self.pki = pki
        self.names = Names(f"faults-{uuid.uuid4().hex[:8]}")
        self.proxy = SqsLine(localstack_url) if sqs_proxy else None
        self._extra_settings = dict(settings or {})
        self._docker_args = list(docker_args)
        self._mounts = [(pki.ca_file, CA_IN_CONTAINER), *mounts]
        self._exit = ExitStack()
        self.simulator: SesSimulator
        self.relay: Appliance
        self.queue_url = ""

    def __enter__(self) -> FaultStack:
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self._exit.close()

    def _start(self) -> None:
        result = run_bootstrap(
            self.localstack_url,
            self.names.name,
            identities=list(VERIFIED_IDENTITIES),
            smtp_username=SMTP_USERNAME,
            smtp_password=SMTP_PASSWORD,
        )
        self._exit.callback(self._delete_pipeline)
        self.queue_url = result.settings["SES_EVENTS_QUEUE_URL"]
        mailhog = self._exit.enter_context(MailHogStandIn())
        self.simulator = self._exit.enter_context(
            SesSimulator(
                self.pki,
                SMTP_USERNAME,
                SMTP_PASSWORD,
                verified_identities=VERIFIED_IDENTITIES,
                configuration_sets=[self.names.configuration_set],
                sns_topic_arn=self.topic_arn,
                aws_endpoint_url=self.localstack_url,
                mailhog=(LOOPBACK, mailhog.smtp_port),
            )
        )
        if self.proxy is not None:
            self.proxy.restore()
            self._exit.callback(self.proxy.cut)
        aws_url = self.proxy.url if self.proxy else self.localstack_url
        settings = {
            **result.settings,
            "SES_EVENTS_QUEUE_URL": _through(self.queue_url, self.proxy),
            "SES_SMTP_HOST": SES_SMTP_NAME,
            "SES_SMTP_PORT": str(self.simulator.port),
            "SES_TLS_CA_FILE": CA_IN_CONTAINER,
            "SES_MAX_SEND_RATE": SEND_RATE,
            "RELAY_ALLOWED_SENDERS": ALLOWED_SENDER,
            "RELAY_ALLOWED_NETWORKS": "127.0.0.1/32",
            "RELAY_HOSTNAME": "relay.example.com",
            "AWS_ENDPOINT_URL": aws_url,
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "AWS_REGION": "us-east-1",
            **self._extra_settings,
        }
        if _image_knows("SES_EVENTS_VERIFY_SNS_SIGNATURES"):
            # LocalStack signs with its own key, not AWS's, as compose.override.yaml says.
            settings["SES_EVENTS_VERIFY_SNS_SIGNATURES"] = "off"
        self.relay = Appliance(settings, mounts=self._mounts, docker_args=self._docker_args)
        self._exit.callback(self.relay.remove)
        self.relay.start()

    @property
    def topic_arn(self) -> str:
        return f"arn:aws:sns:us-east-1:000000000000:{self.names.topic}"

    def _sqs(self):
        return boto3.client("sqs", endpoint_url=self.localstack_url, region_name="us-east-1")

    def events_left(self) -> int:
        """Events in the queue, visible or received and not yet deleted."""
        attributes = self._sqs().get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def _delete_pipeline(self) -> None:
        sqs = self._sqs()
        for queue in (self.names.event_queue, self.names.dead_letter_queue):
            url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
            sqs.delete_queue(QueueUrl=url)
        boto3.client("sns", endpoint_url=self.localstack_url, region_name="us-east-1").delete_topic(
            TopicArn=self.topic_arn
        )

    # --- the appliance, from outside and from inside -------------------------------------------

    def sh(self, script: str) -> subprocess.CompletedProcess:
        return self.relay.exec("sh", "-c", script, check=False)

    def program_pid(self, program: str) -> int | None:
        result = self.relay.exec(*SUPERVISORCTL, "pid", program, check=False)
        text = result.stdout.strip()
        return int(text) if text.isdigit() and text != "0" else None

    def is_healthy(self) -> bool:
        return self.relay.exec("ses-relay-healthcheck", check=False).returncode == 0

    def queue_is_empty(self) -> bool:
        """Postfix holds no mail, held or deferred: nothing more will be sent."""
        result = self.relay.exec("postqueue", "-j", check=False)
        return result.returncode == 0 and not result.stdout.strip()

    def restart_like_an_orchestrator(self, timeout: float = 120) -> None:
        """Start the same container again (same volumes), as Docker's restart policy does for one
        that exited; one that runs unhealthy is restarted (ECS would replace it)."""
        if self.relay.is_running():
            docker("restart", "--time", str(STOP_TIMEOUT), self.relay.container_id, timeout=STOP_TIMEOUT + 60)
        else:
            docker("start", self.relay.container_id)
        self.relay.wait_until_ready(timeout=timeout)
        wait_until(self.is_healthy, timeout, "the restarted appliance to be healthy")
