"""deploy/README.md's EC2 steps, followed as a new user would: copy .env.example to .env, fill in
the runbook's block, `docker compose -f compose.yaml up -d`, and SMTP answers on the published
address.

The block is read from the runbook itself, so a step that stops working there fails here. Only
what cannot exist on this machine is swapped, each for its local twin: the host's private address
(loopback and a free port), the stack's secret and queue (LocalStack's, reached over the Docker
bridge), the instance role (LocalStack's dummy credentials), the log directory (a temporary one)
and the image (the one under test).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from deploy.bootstrap import local_queue_url
from devstack.net import LOOPBACK, free_port, wait_for_banner
from tests.conftest import SMTP_PASSWORD, SMTP_USERNAME
from tests.harness.appliance import IMAGE, docker_bridge_address
from tests.harness.localstack import DUMMY_CREDENTIALS, localstack
from tests.harness.waiting import wait_until

pytestmark = [pytest.mark.image, pytest.mark.localstack]

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = REPO / "deploy" / "README.md"
ACCOUNT = "000000000000"


def runbook_env_block() -> dict[str, str]:
    """The settings that section 3.3 of the runbook says to fill in, in order."""
    text = RUNBOOK.read_text(encoding="utf-8")
    section = text[text.index("### 3.3 ") :]
    block = re.search(r"Fill in.*?\n\n```sh\n(.*?)```", section, re.DOTALL)
    assert block, "deploy/README.md 3.3 lost its 'Fill in' block"
    pairs = {}
    for line in block.group(1).splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs


def fill_in(env_text: str, pairs: dict[str, str]) -> str:
    """What a user does with .env: set each line (commented out or not), or add it."""
    for name, value in pairs.items():
        line = re.compile(rf"^#?{re.escape(name)}=.*$", re.MULTILINE)
        if line.search(env_text):
            env_text = line.sub(lambda _match, n=name, v=value: f"{n}={v}", env_text, count=1)
        else:
            env_text += f"{name}={value}\n"
    return env_text


def _compose(project: Path, *arguments: str, check: bool = True) -> subprocess.CompletedProcess:
    command = (
        ["docker-compose"]
        if shutil.which("docker-compose")
        else [os.environ.get("DOCKER", "docker"), "compose"]
    )
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("COMPOSE_", "AWS_"))
    }
    # A project of its own (named after its directory), so a developer's running ses-relay
    # project is never touched; it wins over .env's COMPOSE_PROJECT_NAME.
    environment["COMPOSE_PROJECT_NAME"] = project.name
    return subprocess.run(
        [*command, *arguments],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        check=check,
        timeout=180,
    )


@pytest.fixture(scope="module")
def bridge_localstack() -> Iterator[str]:
    with localstack(host=docker_bridge_address()) as url:
        yield url


def test_the_ec2_runbook_followed_literally_starts_a_relay_that_answers(bridge_localstack, tmp_path):
    block = runbook_env_block()
    # The runbook's own names for what the stack created.
    region = block["SES_REGION"]
    aws = {"endpoint_url": bridge_localstack, "region_name": region, **_dummy_credentials()}
    secret_arn = boto3.client("secretsmanager", **aws).create_secret(
        Name=f"ses-relay-runbook-{uuid.uuid4().hex[:8]}/smtp",
        SecretString=json.dumps({"SES_SMTP_USERNAME": SMTP_USERNAME, "SES_SMTP_PASSWORD": SMTP_PASSWORD}),
    )["ARN"]
    queue_name = f"ses-relay-runbook-{uuid.uuid4().hex[:8]}"
    boto3.client("sqs", **aws).create_queue(QueueName=queue_name)

    port = free_port()
    log_dir = tmp_path / "log"
    here = {
        "SECRETS_MANAGER_SECRET_ID": secret_arn,
        "SES_EVENTS_QUEUE_URL": local_queue_url(bridge_localstack, ACCOUNT, queue_name),
        "RELAY_PUBLISH": f"{LOOPBACK}:{port}:25",
        "RELAY_LOG_DIR": str(log_dir),
        "SES_RELAY_IMAGE": IMAGE,
        # What the instance role gives a real host.
        "AWS_ENDPOINT_URL": bridge_localstack,
        **{name: value for name, value in DUMMY_CREDENTIALS.items() if not name.endswith("REGION")},
    }
    assert set(here) - set(block) <= {
        "SES_RELAY_IMAGE",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    }

    project = tmp_path / f"ses-relay-runbook-{uuid.uuid4().hex[:8]}"
    project.mkdir()
    for name in ("compose.yaml", ".env.example"):
        shutil.copy(REPO / name, project / name)
    (project / ".env").write_text(fill_in((project / ".env.example").read_text(), {**block, **here}))

    try:
        _compose(project, "-f", "compose.yaml", "up", "-d")
        try:
            greeting = wait_for_banner(port, timeout=60)
        except TimeoutError:
            logs = _compose(project, "-f", "compose.yaml", "logs", "--no-color", check=False)
            raise AssertionError(f"no SMTP on the published port:\n{logs.stdout}{logs.stderr}") from None
        assert greeting.startswith(f"220 {block['RELAY_HOSTNAME']} ESMTP".encode())
        # The mail log is where RELAY_LOG_DIR put it, for the host's log shipper.
        wait_until(lambda: (log_dir / "mail.log").exists(), timeout=30, what="mail.log in RELAY_LOG_DIR")
        logs = _compose(project, "-f", "compose.yaml", "logs", "--no-color").stdout
        assert "unknown setting" not in logs
        assert "setting SES_SMTP_PASSWORD from Secrets Manager" in logs
        assert SMTP_PASSWORD not in logs
    finally:
        _compose(project, "-f", "compose.yaml", "down", "--volumes", check=False)


def _dummy_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


def test_env_example_sets_no_placeholder_credential():
    """A credential in .env wins over the secret, so an example value there would be used."""
    for line in (REPO / ".env.example").read_text().splitlines():
        assert not re.match(r"SES_SMTP_(USERNAME|PASSWORD|SECRET_ACCESS_KEY)=", line), line
