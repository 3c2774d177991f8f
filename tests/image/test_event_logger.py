"""The event logger inside the image: SES events land in /var/log/mail.log beside Postfix's lines."""

from __future__ import annotations

import json
import smtplib

import pytest

from devstack.net import LOOPBACK
from ses_events.core import format_sqs_body
from tests.conftest import ALLOWED_SENDER
from tests.harness.appliance import Appliance, run_once
from tests.harness.localstack import DUMMY_CREDENTIALS
from tests.harness.pipeline import create_pipeline, delivery_event
from tests.harness.waiting import wait_until

pytestmark = [pytest.mark.image, pytest.mark.localstack]


@pytest.fixture
def events_settings(relay_settings, localstack_url):
    pipeline = create_pipeline(localstack_url)
    settings = {
        **relay_settings,
        **DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL": localstack_url,
        "SES_EVENTS_QUEUE_URL": pipeline.queue_url,
        "SES_EVENTS_WAIT_SECONDS": "2",
        # LocalStack signs with its own key, not AWS's (the default, on, is tested below).
        "SES_EVENTS_VERIFY_SNS_SIGNATURES": "off",
    }
    yield settings, pipeline
    pipeline.delete()


def test_delivery_event_is_logged_under_the_postfix_queue_id(events_settings, pki_mount, ses_smtp):
    settings, pipeline = events_settings
    with Appliance(settings, mounts=pki_mount) as relay:
        with smtplib.SMTP(LOOPBACK, relay.port, timeout=30) as client:
            client.sendmail(ALLOWED_SENDER, ["bob@example.net"], b"Subject: journey\r\n\r\nhello\r\n")
        [received] = ses_smtp.wait_for_messages(1)
        ses_id = received.ses_message_id
        sent = relay.wait_for_mail_log(
            rf"postfix/smtp\[\d+\]: ([0-9A-F]+): to=<bob@example\.net>, .*"
            rf"status=sent \(250 Ok {ses_id}\)"
        )
        queue_id = sent.group(1)

        pipeline.publish(delivery_event(["bob@example.net"], message_id=ses_id))
        delivered = relay.wait_for_mail_log(
            rf"postfix/ses-events\[\d+\]: {queue_id}: to=<bob@example\.net>, relay=\S+, dsn=2\.\d\.\d, "
            rf"status=delivered, delay=\d+ms, ses_id={ses_id}, response=\(.*\)$"
        )
        # One grep by queue ID tells the whole story, in order: accepted, sent, delivered.
        journey = [line for line in relay.mail_log().splitlines() if f"{queue_id}: " in line]
        assert "postfix/smtpd[" in journey[0] and f"{queue_id}: client=" in journey[0]
        sent_at = next(i for i, line in enumerate(journey) if "status=sent" in line)
        delivered_at = next(i for i, line in enumerate(journey) if "status=delivered" in line)
        assert sent_at < delivered_at
        assert journey[delivered_at].endswith(delivered.group(0).split("]: ", 1)[1])
        # Exactly once in the mail log, and once on stdout.
        assert relay.mail_log().count("status=delivered, ") == 1
        assert relay.logs().count("status=delivered, ") == 1
        wait_until(lambda: pipeline.messages_left() == 0, what="the event to be deleted")


def test_by_default_only_events_aws_signed_are_logged(events_settings, pki_mount):
    """SES_EVENTS_VERIFY_SNS_SIGNATURES defaults to on: LocalStack's SNS signature is not AWS's."""
    settings, pipeline = events_settings
    settings = {name: value for name, value in settings.items() if name != "SES_EVENTS_VERIFY_SNS_SIGNATURES"}
    with Appliance(settings, mounts=pki_mount) as relay:
        pipeline.publish(delivery_event(["unverified@example.net"]))
        relay.wait_for_mail_log(
            r"postfix/ses-events\[\d+\]: \S+: unverified SQS message left in the queue for its dead-letter "
            r"queue: SNS SigningCertURL '\S+' is not an https://sns\.<region>\.amazonaws\.com\[\.cn\]/….pem "
            r"URL; not fetched$"
        )
        assert "unverified@example.net" not in relay.mail_log()
        assert "SNS signatures are not verified" not in relay.logs()


def test_relay_only_without_a_queue_says_so_once(relay_settings, pki_mount):
    with Appliance(relay_settings, mounts=pki_mount) as relay:
        output = relay.logs()
        assert output.count("SES_EVENTS_QUEUE_URL is not set: relay only") == 1
        status = relay.exec("supervisorctl", "-c", "/etc/supervisor/supervisord.conf", "status", check=False)
        assert "ses-events" not in status.stdout


def test_docker_stop_stops_the_logger_first(events_settings, pki_mount):
    settings, _pipeline = events_settings
    with Appliance(settings, mounts=pki_mount) as relay:
        wait_until(lambda: "ses-events entered RUNNING" in relay.logs(), what="the logger to run")
        assert relay.stop() == 0
        output = relay.logs()
        assert (
            output.index("stopped: ses-events")
            < output.index("stopped: postfix")
            < output.index("stopped: rsyslog")
        )


def test_container_arguments_run_in_place_of_the_appliance(tmp_path):
    fixtures = tmp_path / "bodies"
    fixtures.mkdir()
    fixtures.chmod(0o755)
    event = delivery_event(["cli@example.net"])
    (fixtures / "event.json").write_text(json.dumps(event))
    (fixtures / "poison.json").write_text("{not json")
    mount = [(fixtures, "/bodies")]

    result = run_once({}, ["ses-events", "format", "/bodies/event.json"], mounts=mount)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == list(format_sqs_body(json.dumps(event)).lines)

    result = run_once({}, ["ses-events", "format", "/bodies/poison.json"], mounts=mount)
    assert result.returncode == 65
    assert "poison message" in result.stderr
