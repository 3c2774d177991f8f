"""deploy/bootstrap against LocalStack: what it creates, that a second run changes nothing, that it
puts back what drifted, and that it never prints the SMTP password. The SES v2 path, which LocalStack
does not emulate, is checked against botocore's own model of the SES v2 API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from deploy.bootstrap import SES_V1_EVENT_TYPES, SES_V2_EVENT_TYPES, Bootstrap, Options, ResourceNames
from tests.e2e.conftest import run_bootstrap
from tests.harness.waiting import wait_until

pytestmark = pytest.mark.localstack

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "local-only-Pa55word/+="


def _clients(url: str) -> dict:
    return {
        name: boto3.client(name, endpoint_url=url, region_name="us-east-1")
        for name in ("sns", "sqs", "ses", "secretsmanager")
    }


def _cli(url: str, *arguments: str, **environment: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deploy.bootstrap", *arguments],
        cwd=REPO,
        env={**os.environ, "AWS_ENDPOINT_URL": url, **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_creates_the_whole_pipeline_and_prints_the_appliance_settings(localstack_url):
    names = ResourceNames(f"bs-{uuid.uuid4().hex[:8]}")
    run = _cli(
        localstack_url,
        f"--name={names.name}",
        "--region=us-east-1",
        "--identity=example.com",
        "--identity=app@example.org",
        "--smtp-username=AKIAEXAMPLE",
        SES_SMTP_PASSWORD=PASSWORD,
    )
    assert run.returncode == 0, run.stderr
    settings = dict(line.split("=", 1) for line in run.stdout.splitlines())
    assert settings == {
        "SES_REGION": "us-east-1",
        "SES_EVENTS_QUEUE_URL": f"{localstack_url}/000000000000/{names.event_queue}",
        "SES_CONFIGURATION_SET": names.configuration_set,
        "SECRETS_MANAGER_SECRET_ID": names.secret,
    }
    assert PASSWORD not in run.stdout + run.stderr

    aws = _clients(localstack_url)
    topic_arn = f"arn:aws:sns:us-east-1:000000000000:{names.event_topic}"
    queue_arn = f"arn:aws:sqs:us-east-1:000000000000:{names.event_queue}"
    dlq_arn = f"arn:aws:sqs:us-east-1:000000000000:{names.dead_letter_queue}"
    queue = aws["sqs"].get_queue_attributes(
        QueueUrl=settings["SES_EVENTS_QUEUE_URL"], AttributeNames=["All"]
    )["Attributes"]
    assert json.loads(queue["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}
    [statement] = json.loads(queue["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": topic_arn}}
    assert queue["ReceiveMessageWaitTimeSeconds"] == "20"
    dlq_url = aws["sqs"].get_queue_url(QueueName=names.dead_letter_queue)["QueueUrl"]
    dlq = aws["sqs"].get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
    assert dlq["MessageRetentionPeriod"] == str(14 * 24 * 3600)
    assert json.loads(dlq["RedriveAllowPolicy"])["sourceQueueArns"] == [queue_arn]

    [subscription] = aws["sns"].list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("sqs", queue_arn)
    attributes = aws["sns"].get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
    assert attributes["Attributes"]["RawMessageDelivery"] == "false"
    topic_policy = json.loads(aws["sns"].get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"])
    ses_statement = next(
        s for s in topic_policy["Statement"] if s["Principal"] == {"Service": "ses.amazonaws.com"}
    )
    assert ses_statement["Condition"]["StringEquals"]["AWS:SourceArn"].endswith(
        f":configuration-set/{names.configuration_set}"
    )

    secret = aws["secretsmanager"].get_secret_value(SecretId=settings["SECRETS_MANAGER_SECRET_ID"])
    assert json.loads(secret["SecretString"]) == {
        "SES_SMTP_USERNAME": "AKIAEXAMPLE",
        "SES_SMTP_PASSWORD": PASSWORD,
    }

    assert {"example.com", "app@example.org"} <= set(aws["ses"].list_identities()["Identities"])
    described = aws["ses"].describe_configuration_set(
        ConfigurationSetName=names.configuration_set, ConfigurationSetAttributeNames=["eventDestinations"]
    )
    [destination] = described["EventDestinations"]
    assert destination["Enabled"] is True
    assert set(destination["MatchingEventTypes"]) == set(SES_V1_EVENT_TYPES)
    assert destination["SNSDestination"]["TopicARN"] == topic_arn

    # The queue URL printed works, and SES's topic-validation message came through the subscription.
    def validation_arrived() -> bool:
        received = aws["sqs"].receive_message(QueueUrl=settings["SES_EVENTS_QUEUE_URL"], WaitTimeSeconds=1)
        bodies = [json.loads(m["Body"])["Message"] for m in received.get("Messages", [])]
        return "Successfully validated SNS topic for Amazon SES event publishing." in bodies

    wait_until(validation_arrived, timeout=20, what="SES's topic-validation message in the queue", interval=0)


def test_second_run_changes_nothing(localstack_url):
    name = f"bs-{uuid.uuid4().hex[:8]}"
    options = {"identities": ["example.com"], "smtp_username": "AKIAEXAMPLE", "smtp_password": PASSWORD}
    first = run_bootstrap(localstack_url, name, **options)
    assert first.changed
    second = run_bootstrap(localstack_url, name, **options)
    assert [action for action, _, _ in second.changes] == ["unchanged"] * len(second.changes)
    assert len(second.changes) == len(first.changes) == 8
    assert second.settings == first.settings
    run = _cli(localstack_url, f"--name={name}", "--region=us-east-1", "--identity=example.com")
    assert run.returncode == 0, run.stderr
    assert "nothing to change" in run.stderr
    assert "created" not in run.stderr and "updated" not in run.stderr


def test_a_configuration_set_deleted_and_made_again_gets_its_destination(localstack_url):
    # LocalStack keeps a deleted set's event destinations; a bootstrap after such a deletion
    # (another tool, an earlier stack) must still end with the right destination.
    name = f"bs-{uuid.uuid4().hex[:8]}"
    names = ResourceNames(name)
    run_bootstrap(localstack_url, name)
    ses = boto3.client("ses", endpoint_url=localstack_url, region_name="us-east-1")
    ses.delete_configuration_set(ConfigurationSetName=names.configuration_set)

    result = run_bootstrap(localstack_url, name)
    assert ("updated", "ses event destination") in [(action, kind) for action, kind, _ in result.changes]
    described = ses.describe_configuration_set(
        ConfigurationSetName=names.configuration_set, ConfigurationSetAttributeNames=["eventDestinations"]
    )
    [destination] = described["EventDestinations"]
    assert destination["SNSDestination"]["TopicARN"].endswith(f":{names.event_topic}")


def test_what_drifted_is_put_back(localstack_url):
    name = f"bs-{uuid.uuid4().hex[:8]}"
    result = run_bootstrap(localstack_url, name, smtp_username="AKIAEXAMPLE", smtp_password=PASSWORD)
    names = ResourceNames(name)
    aws = _clients(localstack_url)
    queue_url = result.settings["SES_EVENTS_QUEUE_URL"]
    aws["sqs"].set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": "", "VisibilityTimeout": "5"})
    topic_arn = f"arn:aws:sns:us-east-1:000000000000:{names.event_topic}"
    [subscription] = aws["sns"].list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    aws["sns"].set_subscription_attributes(
        SubscriptionArn=subscription["SubscriptionArn"],
        AttributeName="RawMessageDelivery",
        AttributeValue="true",
    )
    aws["secretsmanager"].put_secret_value(SecretId=names.secret, SecretString="{}")

    again = run_bootstrap(
        localstack_url, name, smtp_username="AKIAEXAMPLE", smtp_password=PASSWORD, max_receive_count=7
    )
    changed = {(kind, action) for action, kind, _ in again.changes if action != "unchanged"}
    assert changed == {
        ("sqs queue", "updated"),
        ("sns subscription", "updated"),
        ("secretsmanager secret", "updated"),
    }
    queue = aws["sqs"].get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert queue["VisibilityTimeout"] == "60"
    assert json.loads(queue["RedrivePolicy"])["maxReceiveCount"] == 7
    assert json.loads(queue["Policy"])["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == topic_arn
    attributes = aws["sns"].get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
    assert attributes["Attributes"]["RawMessageDelivery"] == "false"
    secret = json.loads(aws["secretsmanager"].get_secret_value(SecretId=names.secret)["SecretString"])
    assert secret["SES_SMTP_PASSWORD"] == PASSWORD


def test_without_credentials_no_secret_and_no_secret_setting(localstack_url):
    name = f"bs-{uuid.uuid4().hex[:8]}"
    run = _cli(
        localstack_url, f"--name={name}", "--region=us-east-1", SES_SMTP_USERNAME="", SES_SMTP_PASSWORD=""
    )
    assert run.returncode == 0, run.stderr
    assert "SECRETS_MANAGER_SECRET_ID" not in run.stdout
    assert "skipped" in run.stderr


def test_a_username_without_a_password_is_refused_without_echoing_anything(localstack_url):
    run = _cli(localstack_url, "--name=bs-nopass", "--region=us-east-1", "--smtp-username=AKIAEXAMPLE")
    assert run.returncode == 1
    assert "needs a password" in run.stderr
    assert run.stdout == ""


def test_password_file_is_read_and_never_echoed(localstack_url, tmp_path):
    name = f"bs-{uuid.uuid4().hex[:8]}"
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    run = _cli(
        localstack_url,
        f"--name={name}",
        "--region=us-east-1",
        "--smtp-username=AKIAEXAMPLE",
        f"--smtp-password-file={password_file}",
        f"--env-file={tmp_path / 'relay.env'}",
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "relay.env").read_text() == run.stdout
    assert PASSWORD not in run.stdout + run.stderr
    secret = boto3.client("secretsmanager", endpoint_url=localstack_url, region_name="us-east-1")
    assert json.loads(secret.get_secret_value(SecretId=ResourceNames(name).secret)["SecretString"])[
        "SES_SMTP_PASSWORD"
    ] == (PASSWORD)


def test_ses_v2_requests_match_the_ses_v2_api():
    """Real AWS has SES v2 (LocalStack has not): every request and answer below is checked by botocore
    against the SES v2 service model, for a first run and for a run that finds everything in place."""
    bootstrap = Bootstrap(Options(name="relay", region="eu-west-1"), log=lambda _line: None)
    sesv2 = boto3.client("sesv2", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    bootstrap._clients["sesv2"] = sesv2
    topic = "arn:aws:sns:eu-west-1:123456789012:relay-events"
    destination = {
        "Enabled": True,
        "MatchingEventTypes": list(SES_V2_EVENT_TYPES),
        "SnsDestination": {"TopicArn": topic},
    }
    with Stubber(sesv2) as stub:
        not_found = {"service_error_code": "NotFoundException", "http_status_code": 404}
        stub.add_client_error(
            "get_email_identity", expected_params={"EmailIdentity": "example.com"}, **not_found
        )
        stub.add_response(
            "create_email_identity",
            {
                "IdentityType": "DOMAIN",
                "VerifiedForSendingStatus": False,
                "DkimAttributes": {"Tokens": ["tok1"]},
            },
            {"EmailIdentity": "example.com"},
        )
        stub.add_client_error(
            "get_configuration_set", expected_params={"ConfigurationSetName": "relay-events"}, **not_found
        )
        stub.add_response("create_configuration_set", {}, {"ConfigurationSetName": "relay-events"})
        stub.add_response(
            "get_configuration_set_event_destinations",
            {"EventDestinations": []},
            {"ConfigurationSetName": "relay-events"},
        )
        stub.add_response(
            "create_configuration_set_event_destination",
            {},
            {
                "ConfigurationSetName": "relay-events",
                "EventDestinationName": "relay-sns",
                "EventDestination": destination,
            },
        )
        # A second run: everything found as wanted.
        stub.add_response("get_email_identity", {"IdentityType": "DOMAIN"}, {"EmailIdentity": "example.com"})
        stub.add_response(
            "get_configuration_set",
            {"ConfigurationSetName": "relay-events"},
            {"ConfigurationSetName": "relay-events"},
        )
        stub.add_response(
            "get_configuration_set_event_destinations",
            {"EventDestinations": [{"Name": "relay-sns", **destination}]},
            {"ConfigurationSetName": "relay-events"},
        )
        for _ in range(2):
            bootstrap.ensure_identity("example.com")
            bootstrap.ensure_configuration_set(topic)
        stub.assert_no_pending_responses()
    assert [action for action, _, _ in bootstrap.changes] == ["created"] * 3 + ["unchanged"] * 3
    assert any("tok1._domainkey.example.com" in note for note in bootstrap.notes)
