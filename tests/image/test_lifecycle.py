"""The container's life: refusing bad configuration, its sources, restarts, health and failure."""

from __future__ import annotations

import json
import smtplib
import uuid

import boto3
import pytest

from devstack.net import LOOPBACK, free_port
from devstack.ses_smtp import SesSmtpStandIn
from tests.conftest import ALLOWED_SENDER, SMTP_PASSWORD, SMTP_USERNAME
from tests.harness.appliance import Appliance, docker, run_once
from tests.harness.localstack import DUMMY_CREDENTIALS
from tests.harness.waiting import wait_until

pytestmark = pytest.mark.image

EX_CONFIG = 78


def _send(port: int, subject: str = "hello") -> None:
    with smtplib.SMTP(LOOPBACK, port, timeout=30) as client:
        client.sendmail(ALLOWED_SENDER, ["bob@example.net"], f"Subject: {subject}\r\n\r\nbody\r\n".encode())


def test_invalid_configuration_exits_78_naming_every_variable(relay_settings):
    settings = {
        **relay_settings,
        "SES_REGION": "mars-north",
        "RELAY_ALLOWED_NETWORKS": "0.0.0.0/0",
        "SES_SMTP_PASWORD": "typo-of-a-password",
        "SES_SMTP_PASSWORD": SMTP_PASSWORD,
        "SES_SMTP_SECRET_ACCESS_KEY": "also-set-by-mistake",
    }
    result = run_once(settings)
    output = result.stdout + result.stderr
    assert result.returncode == EX_CONFIG, output
    assert "SES_REGION: 'mars-north' is not an AWS region name" in output
    assert "RELAY_ALLOWED_NETWORKS: '0.0.0.0/0'" in output
    assert "SES_SMTP_PASWORD: unknown setting; did you mean SES_SMTP_PASSWORD?" in output
    assert "set only one of SES_SMTP_PASSWORD and SES_SMTP_SECRET_ACCESS_KEY" in output
    for secret in (SMTP_PASSWORD, "typo-of-a-password", "also-set-by-mistake"):
        assert secret not in output


def test_value_with_a_line_break_is_refused_without_echoing_it(relay_settings):
    settings = {**relay_settings, "SES_SMTP_PASSWORD": "secret-part\nsmtpd_client_restrictions = permit"}
    result = run_once(settings)
    output = result.stdout + result.stderr
    assert result.returncode == EX_CONFIG, output
    assert "SES_SMTP_PASSWORD: contains a line break at position 12" in output
    assert "secret-part" not in output


def test_credentials_from_a_localstack_secrets_manager_secret(
    relay_settings, pki_mount, ses_smtp, localstack_url
):
    secret_name = f"ses-relay/test-{uuid.uuid4()}"
    boto3.client("secretsmanager", endpoint_url=localstack_url, region_name="us-east-1").create_secret(
        Name=secret_name,
        SecretString=json.dumps({"SES_SMTP_USERNAME": SMTP_USERNAME, "SES_SMTP_PASSWORD": SMTP_PASSWORD}),
    )
    settings = {
        key: value
        for key, value in relay_settings.items()
        if key not in ("SES_SMTP_USERNAME", "SES_SMTP_PASSWORD")
    }
    settings |= {
        "SECRETS_MANAGER_SECRET_ID": secret_name,
        "AWS_ENDPOINT_URL": localstack_url,
        **DUMMY_CREDENTIALS,
    }
    with Appliance(settings, mounts=pki_mount) as relay:
        _send(relay.port)
        [received] = ses_smtp.wait_for_messages(1)
        assert received.auth_login == SMTP_USERNAME
        relay.wait_for_mail_log(rf"status=sent \(250 Ok {received.ses_message_id}\)")
        output = relay.logs()
        assert "SES_SMTP_PASSWORD from Secrets Manager" in output
        assert SMTP_PASSWORD not in output


def test_missing_secret_is_a_configuration_error(relay_settings, localstack_url):
    settings = {
        **relay_settings,
        "SECRETS_MANAGER_SECRET_ID": "does-not-exist",
        "AWS_ENDPOINT_URL": localstack_url,
        **DUMMY_CREDENTIALS,
    }
    result = run_once(settings)
    assert result.returncode == EX_CONFIG
    assert (
        "SECRETS_MANAGER_SECRET_ID: cannot read secret 'does-not-exist': "
        "Secrets Manager refused: ResourceNotFoundException" in result.stderr
    )


def test_queued_mail_survives_stop_and_restart(relay_settings, pki_mount, pki):
    ses_port = free_port()  # nothing listens yet: SES is "down"
    settings = {**relay_settings, "SES_SMTP_PORT": str(ses_port)}
    with Appliance(settings, mounts=pki_mount) as relay:
        _send(relay.port, "queued while SES was down")
        relay.wait_for_mail_log(r"to=<bob@example\.net>, .*status=deferred")

        assert relay.stop() == 0
        assert "stopped: postfix" in relay.logs()

        with SesSmtpStandIn(pki, SMTP_USERNAME, SMTP_PASSWORD, port=ses_port) as ses:
            relay_restarted = relay  # same container, same volumes: a restart, not a new one
            docker("start", relay_restarted.container_id)
            relay_restarted.wait_until_ready()
            relay_restarted.exec("postqueue", "-f")
            [received] = ses.wait_for_messages(1)
            assert b"queued while SES was down" in received.content
            relay_restarted.wait_for_mail_log(rf"status=sent \(250 Ok {received.ses_message_id}\)")


def test_docker_stop_shuts_down_in_order_and_exits_zero(relay_settings, pki_mount):
    with Appliance(relay_settings, mounts=pki_mount) as relay:
        wait_until(lambda: relay.exec("ses-relay-healthcheck", check=False).returncode == 0, what="healthy")
        assert relay.stop() == 0
        output = relay.logs()
        assert output.index("stopped: postfix") < output.index("stopped: rsyslog")


def test_healthcheck_reports_a_stopped_program(relay_settings, pki_mount):
    with Appliance(relay_settings, mounts=pki_mount) as relay:
        result = wait_until(lambda: relay.exec("ses-relay-healthcheck", check=False), what="health check run")
        wait_until(lambda: relay.exec("ses-relay-healthcheck", check=False).returncode == 0, what="healthy")
        relay.exec("supervisorctl", "-c", "/etc/supervisor/supervisord.conf", "stop", "postfix")
        result = relay.exec("ses-relay-healthcheck", check=False)
        assert result.returncode == 1
        assert "postfix is STOPPED" in result.stdout


def test_program_that_dies_for_good_stops_the_container_non_zero(relay_settings, pki_mount):
    with Appliance(relay_settings, mounts=pki_mount) as relay:
        wait_until(lambda: relay.exec("ses-relay-healthcheck", check=False).returncode == 0, what="healthy")
        # rsyslogd can no longer be started, so supervisord gives up on it (FATAL).
        relay.exec(
            "sh",
            "-c",
            "rm /usr/sbin/rsyslogd && kill $(cat /run/rsyslog.pid 2>/dev/null || "
            "supervisorctl -c /etc/supervisor/supervisord.conf pid rsyslog)",
        )
        wait_until(lambda: not relay.is_running(), timeout=90, what="the container to exit")
        assert relay.exit_code() != 0
        assert "rsyslog kept failing; exiting non-zero" in relay.logs()


def test_own_host_name_resolves_without_dns_on_the_host_network(relay_settings, pki_mount):
    # SASL looks the name up at every login to SES; with --network host Docker does not list it.
    with Appliance(relay_settings, mounts=pki_mount) as relay:
        resolved = relay.exec("sh", "-c", 'getent hosts "$(hostname)"').stdout.split()
        assert resolved[0] == "127.0.1.1"
        docker("restart", "--time", "30", relay.container_id, timeout=90)
        relay.wait_until_ready()
        assert relay.exec("sh", "-c", 'grep -c "added by ses-relay" /etc/hosts').stdout.strip() == "1"
