"""compose.yaml (production) and compose.override.yaml (the local SES stack) as Compose reads them.

No image can be pulled on the test machines, so the stack is never brought up here. What can be
checked is checked: both files validate with the Compose installed (v1 1.29 on these machines, v2
elsewhere), plain ``docker compose config`` works with no .env, the services wait for each other
as they must, the relay's settings name exactly what ``deploy.bootstrap`` creates and are all
settings the appliance knows, and the devtools image really runs the bootstrap and the simulator
with the very command lines the override gives them.
"""

from __future__ import annotations

import json
import os
import shutil
import smtplib
import ssl
import subprocess
import uuid
from pathlib import Path

import boto3
import pytest

from deploy.bootstrap import Names, local_queue_url
from devstack.mailhog import MailHogStandIn
from devstack.net import LOOPBACK, free_port, wait_for_banner
from entrypoint.settings.schema import SETTINGS_BY_NAME, is_owned_name
from tests.e2e.conftest import SIMULATOR, make_message
from tests.harness.appliance import DOCKER
from tests.harness.localstack import DUMMY_CREDENTIALS
from tests.harness.mailhog_client import MailHogClient
from tests.harness.waiting import wait_until

yaml = pytest.importorskip("yaml")

REPO = Path(__file__).resolve().parents[2]
DEVTOOLS_IMAGE = os.environ.get("SES_RELAY_DEVTOOLS_IMAGE", "ses-relay-devtools:test")
LOCAL_STACK = {"localstack", "mailhog", "ses-simulator", "bootstrap", "relay"}


def _compose_command() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    probe = subprocess.run([DOCKER, "compose", "version"], capture_output=True, text=True, check=False)
    if probe.returncode == 0:
        return [DOCKER, "compose"]
    pytest.skip("no Docker Compose on this machine")


def _project(tmp_path: Path, with_env: bool) -> Path:
    """A copy of the project's Compose files (and what they refer to) in a directory of its own, so
    a developer's own .env cannot change the outcome."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("compose.yaml", "compose.override.yaml", ".env.example"):
        shutil.copy(REPO / name, project / name)
    if (REPO / "deploy").is_dir():
        shutil.copytree(REPO / "deploy", project / "deploy", ignore=shutil.ignore_patterns("__pycache__"))
    if with_env:
        shutil.copy(REPO / ".env.example", project / ".env")
    return project


def _config(project: Path, *files: str) -> dict:
    arguments = [argument for name in files for argument in ("-f", name)]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("COMPOSE_")}
    for name in ("SES_RELAY_IMAGE", "RELAY_PUBLISH", "RELAY_LOG_DIR", "LOCALSTACK_IMAGE", "ENV_FILE"):
        environment.pop(name, None)
    result = subprocess.run(
        [*_compose_command(), *arguments, "config"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, f"compose config failed:\n{result.stderr}"
    return yaml.safe_load(result.stdout)


def _flags(command: list[str]) -> dict[str, list[str]]:
    flags: dict[str, list[str]] = {}
    for argument in command:
        if argument.startswith("--") and "=" in argument:
            name, value = argument[2:].split("=", 1)
            flags.setdefault(name, []).append(value)
    return flags


def _env_example() -> dict[str, str]:
    pairs = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            pairs[key] = value
    return pairs


def test_production_file_alone_is_the_relay_with_settings_from_env(tmp_path):
    config = _config(_project(tmp_path, with_env=True), "compose.yaml")
    assert set(config["services"]) == {"relay"}
    relay = config["services"]["relay"]
    assert relay["environment"]["SES_REGION"] == _env_example()["SES_REGION"]
    assert [_published(port) for port in relay["ports"]] == ["127.0.0.1:25"]
    assert not any(key.startswith("AWS_") for key in relay["environment"])


def test_plain_compose_up_needs_no_env_file(tmp_path):
    """`docker compose up` with no -f and no .env: compose.yaml merged with the override."""
    config = _config(_project(tmp_path, with_env=False))
    assert set(config["services"]) == LOCAL_STACK


@pytest.fixture
def local_stack(tmp_path) -> dict:
    return _config(_project(tmp_path, with_env=False))["services"]


def test_services_start_in_order_and_wait_for_health(local_stack):
    def condition(service: str, dependency: str) -> str:
        return local_stack[service]["depends_on"][dependency]["condition"]

    assert condition("relay", "bootstrap") == "service_completed_successfully"
    assert condition("relay", "ses-simulator") == "service_healthy"
    assert condition("bootstrap", "localstack") == "service_healthy"
    for service in ("localstack", "mailhog", "ses-simulator"):
        assert local_stack[service]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), service
    assert local_stack["bootstrap"]["restart"] == "no"
    for service in local_stack.values():
        for port in service.get("ports", []):
            assert _published(port).startswith("127.0.0.1:"), f"{port} is not on loopback"


def test_relay_settings_name_what_bootstrap_creates(local_stack):
    names = Names(_flags(local_stack["bootstrap"]["command"])["name"][0])
    relay = local_stack["relay"]["environment"]
    simulator = _flags(local_stack["ses-simulator"]["command"])
    account = "000000000000"
    assert relay["SES_EVENTS_QUEUE_URL"] == local_queue_url(relay["AWS_ENDPOINT_URL"], account, names.queue)
    assert relay["SES_CONFIGURATION_SET"] == names.configuration_set
    assert relay["SECRETS_MANAGER_SECRET_ID"] == names.secret
    assert simulator["sns-topic-arn"] == [f"arn:aws:sns:{relay['SES_REGION']}:{account}:{names.topic}"]
    assert simulator["configuration-set"] == [names.configuration_set]
    # The relay trusts the simulator's CA, for the name it dials, with the credentials in the secret.
    assert relay["SES_SMTP_HOST"] in simulator["server-name"]
    assert simulator["listen"] == [f"0.0.0.0:{relay['SES_SMTP_PORT']}"]
    [tls_dir] = simulator["tls-dir"]
    [shared] = [v for v in local_stack["ses-simulator"]["volumes"] if _target(v) == tls_dir]
    [mounted] = [v for v in local_stack["relay"]["volumes"] if _source(v) == _source(shared)]
    assert relay["SES_TLS_CA_FILE"] == f"{_target(mounted)}/ca.pem"
    bootstrap = local_stack["bootstrap"]["environment"]
    credentials = local_stack["ses-simulator"]["environment"]
    assert bootstrap["SES_SMTP_USERNAME"] == credentials["SES_SIMULATOR_USERNAME"]
    assert bootstrap["SES_SMTP_PASSWORD"] == credentials["SES_SIMULATOR_PASSWORD"]
    # Every sender the relay lets through is one the simulated SES account has verified.
    verified = simulator["verified-identity"]
    for entry in relay["RELAY_ALLOWED_SENDERS"].split():
        assert entry.lstrip("@").rpartition("@")[2] in verified
    for service in ("bootstrap", "ses-simulator", "relay"):
        assert local_stack[service]["environment"]["AWS_ENDPOINT_URL"] == "http://localstack:4566"


def test_relay_settings_are_all_known_to_the_appliance(local_stack):
    relay = local_stack["relay"]["environment"]
    unknown = [name for name in relay if is_owned_name(name) and name not in SETTINGS_BY_NAME]
    assert unknown == []
    assert "SES_SMTP_PASSWORD" not in relay or not relay["SES_SMTP_PASSWORD"]  # it comes from the secret


PUBLISHED_IMAGE = "ghcr.io/ses-relay/ses-relay:"


def test_production_runs_the_published_image_and_the_local_stack_this_checkout(tmp_path):
    project = _project(tmp_path, with_env=False)
    production = _config(project, "compose.yaml")["services"]["relay"]
    assert production["image"].startswith(PUBLISHED_IMAGE)
    relay = _config(project)["services"]["relay"]
    assert relay["image"] == "ses-relay:latest"
    assert relay["build"] == production["build"]
    # Log lines carry the host name: the same one every start, not the container's ID.
    assert production["hostname"] == relay["hostname"] == "relay"


def test_the_simulators_health_check_opens_no_smtp_session(local_stack):
    simulator = local_stack["ses-simulator"]
    probe = " ".join(simulator["healthcheck"]["test"])
    [smtp] = _flags(simulator["command"])["listen"]
    [api] = _flags(simulator["command"])["api-listen"]
    assert smtp.rsplit(":", 1)[1] not in probe
    assert f"localhost:{api.rsplit(':', 1)[1]}/" in probe


def test_the_pip_cert_file_gives_every_build_the_secret_both_dockerfiles_mount(local_stack):
    extra = yaml.safe_load((REPO / "compose.pip-cert.yaml").read_text())
    built = {name for name, service in local_stack.items() if "build" in service}
    assert set(extra["services"]) == built
    for name, service in extra["services"].items():
        assert service["build"]["secrets"] == ["pip_cert"], name
        dockerfile = service["build"].get("dockerfile", "Dockerfile")
        assert local_stack[name]["build"].get("dockerfile", "Dockerfile") == dockerfile
        assert "--mount=type=secret,id=pip_cert,required=false" in (REPO / dockerfile).read_text()
    assert extra["secrets"]["pip_cert"]["file"].startswith("${PIP_CERT:-")


def _published(port) -> str:
    """``host_ip:published`` from Compose v1's ``127.0.0.1:25:25/tcp`` or v2's mapping."""
    if isinstance(port, dict):
        return f"{port.get('host_ip', '')}:{port['published']}"
    host, published, _target = str(port).rsplit(":", 2)
    return f"{host}:{published}"


def _source(volume) -> str:
    return volume["source"] if isinstance(volume, dict) else volume.split(":")[0]


def _target(volume) -> str:
    return volume["target"] if isinstance(volume, dict) else volume.split(":")[1]


# --- the devtools image runs what the override says ------------------------------------------


@pytest.fixture(scope="session")
def devtools_image() -> str:
    docker = os.environ.get("DOCKER", "docker")
    arguments = [docker, "build", "-f", "devstack/Dockerfile", "-t", DEVTOOLS_IMAGE]
    pip_cert = os.environ.get("PIP_CERT", "/etc/ssl/certs/ca-certificates.crt")
    if Path(pip_cert).is_file():
        arguments += ["--secret", f"id=pip_cert,src={pip_cert}"]
    result = subprocess.run(
        [*arguments, "."],
        cwd=REPO,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return DEVTOOLS_IMAGE


def _override() -> dict:
    return yaml.safe_load((REPO / "compose.override.yaml").read_text())["services"]


def _replace(command: list[str], **values: str) -> list[str]:
    replaced = [a for a in command if not any(a.startswith(f"--{k.replace('_', '-')}=") for k in values)]
    return replaced + [f"--{key.replace('_', '-')}={value}" for key, value in values.items()]


def _environment(service: dict, localstack_url: str) -> dict[str, str]:
    environment = {key: str(value) for key, value in service["environment"].items()}
    environment.update(DUMMY_CREDENTIALS, AWS_ENDPOINT_URL=localstack_url)
    return environment


def _run_arguments(environment: dict[str, str]) -> list[str]:
    arguments = ["--network", "host"]
    for name in environment:
        arguments += ["--env", name]
    return arguments


@pytest.mark.image
@pytest.mark.localstack
def test_devtools_image_runs_the_stack_as_the_override_says(devtools_image, localstack_url, tmp_path):
    services = _override()
    docker = os.environ.get("DOCKER", "docker")

    bootstrap = services["bootstrap"]
    environment = _environment(bootstrap, localstack_url)
    run = subprocess.run(
        [docker, "run", "--rm", *_run_arguments(environment), devtools_image, *bootstrap["command"]],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    settings = dict(line.split("=", 1) for line in run.stdout.splitlines())
    relay = services["relay"]["environment"]
    assert settings["SES_CONFIGURATION_SET"] == relay["SES_CONFIGURATION_SET"]
    assert settings["SECRETS_MANAGER_SECRET_ID"] == relay["SECRETS_MANAGER_SECRET_ID"]
    assert (
        settings["SES_EVENTS_QUEUE_URL"].rsplit("/", 2)[1:]
        == relay["SES_EVENTS_QUEUE_URL"].rsplit("/", 2)[1:]
    )
    assert environment["SES_SMTP_PASSWORD"] not in run.stdout + run.stderr

    simulator = services["ses-simulator"]
    pki = tmp_path / "pki"
    pki.mkdir()
    pki.chmod(0o777)  # the image runs as an unprivileged user
    port = free_port()
    with MailHogStandIn() as mailhog:
        command = _replace(
            simulator["command"],
            listen=f"{LOOPBACK}:{port}",
            mailhog=f"{LOOPBACK}:{mailhog.smtp_port}",
            server_name="localhost",
            api_listen=f"{LOOPBACK}:{free_port()}",
        )
        environment = _environment(simulator, localstack_url)
        name = f"ses-simulator-{uuid.uuid4().hex[:8]}"
        arguments = ["--detach", "--name", name, "--volume", f"{pki}:/pki", *_run_arguments(environment)]
        subprocess.run(
            [docker, "run", *arguments, devtools_image, *command],
            env={**os.environ, **environment},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        try:
            wait_for_banner(port, timeout=30)
            context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
            recipients = [f"success@{SIMULATOR}", f"bounce@{SIMULATOR}"]
            message = make_message("app@example.com", recipients, "through the devtools image")
            message["X-SES-CONFIGURATION-SET"] = relay["SES_CONFIGURATION_SET"]
            with smtplib.SMTP("localhost", port, timeout=30) as client:
                client.starttls(context=context)
                client.login(environment["SES_SIMULATOR_USERNAME"], environment["SES_SIMULATOR_PASSWORD"])
                client.send_message(message)
            MailHogClient(mailhog.api_url).wait_for_recipient(f"success@{SIMULATOR}")
            sqs = boto3.client("sqs", endpoint_url=localstack_url, region_name="us-east-1")
            queue_url = sqs.get_queue_url(QueueName=Names("ses-relay").queue)["QueueUrl"]
            seen: list[dict] = []

            def events_arrived() -> bool:
                for received in sqs.receive_message(
                    QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                ).get("Messages", []):
                    envelope = json.loads(received["Body"])
                    if "through the devtools image" in envelope["Message"]:
                        seen.append(json.loads(envelope["Message"]))
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=received["ReceiptHandle"])
                return {"Send", "Delivery", "Bounce"} <= {event["eventType"] for event in seen}

            wait_until(events_arrived, timeout=60, what="Send, Delivery and Bounce in the queue")
        finally:
            output = subprocess.run([docker, "logs", name], capture_output=True, text=True, check=False)
            logs = output.stdout + output.stderr
            subprocess.run([docker, "rm", "--force", name], capture_output=True, check=False)
        assert environment["SES_SIMULATOR_PASSWORD"] not in logs
