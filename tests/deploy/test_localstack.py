"""The template's event pipeline, secret and IAM, deployed to LocalStack's CloudFormation, at work.

See conftest.py for what is turned off and why. LocalStack does not enforce IAM or resource
policies, so these tests prove what is deployed and that messages flow; the policies' contents
are compared with what was deployed (test_iam.py checks their scope).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from entrypoint.settings import sources
from ses_events import MessageKind, format_sqs_body
from ses_events.core import SES_VALIDATION_TEXT
from tests.deploy import cfn
from tests.deploy.conftest import LOCALSTACK_PARAMETERS, DeployedStack
from tests.harness.waiting import wait_until

pytestmark = pytest.mark.localstack

Message = dict[str, Any]


def receive_until(
    stack: DeployedStack,
    queue_url: str,
    wanted: Callable[[Message], bool],
    count: int = 1,
    timeout: float = 20,
    **receive: Any,
) -> list[Message]:
    """Receive until `count` wanted messages arrived; every message received is returned."""
    sqs = stack.client("sqs")
    received: list[Message] = []

    def enough_arrived() -> bool:
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
            **receive,
        )
        received.extend(response.get("Messages", []))
        return sum(map(wanted, received)) >= count

    # Each receive long-polls for a second already: no pause between them.
    wait_until(enough_arrived, timeout=timeout, what=f"{count} wanted message(s) in {queue_url}", interval=0)
    return received


def delete(stack: DeployedStack, queue_url: str, messages: list[Message]) -> None:
    sqs = stack.client("sqs")
    for message in messages:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def envelope_of(message: Message) -> dict[str, Any]:
    return json.loads(message["Body"])


def test_everything_the_stack_reports_really_exists(stack_on_localstack: DeployedStack) -> None:
    """LocalStack skips unsupported types silently: prove each resource is real, and no more were made."""
    expected = cfn.Stack(cfn.load(), **LOCALSTACK_PARAMETERS).resources()
    assert {name: kind for name, (kind, _) in stack_on_localstack.resources.items()} == {
        name: resource["Type"] for name, resource in expected.items()
    }
    physical = {name: physical_id for name, (_, physical_id) in stack_on_localstack.resources.items()}
    sqs, sns = stack_on_localstack.client("sqs"), stack_on_localstack.client("sns")
    iam, secrets = stack_on_localstack.client("iam"), stack_on_localstack.client("secretsmanager")
    for queue in ("EventsQueue", "EventsDeadLetterQueue"):
        sqs.get_queue_attributes(QueueUrl=physical[queue], AttributeNames=["QueueArn"])
    assert sns.get_topic_attributes(TopicArn=physical["EventsTopic"])["Attributes"]["Policy"]
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=physical["EventsTopic"])["Subscriptions"]
    assert subscription["SubscriptionArn"] == physical["EventsSubscription"]
    secrets.describe_secret(SecretId=physical["SmtpCredentials"])
    for policy in ("EventsConsumerPolicy", "SecretReaderPolicy"):
        iam.get_policy(PolicyArn=physical[policy])
    profile = iam.get_instance_profile(InstanceProfileName=physical["InstanceProfile"])["InstanceProfile"]
    (profile_role,) = profile["Roles"]
    assert profile_role["RoleName"] == physical["InstanceRole"]


def test_a_message_published_to_the_topic_arrives_in_the_queue(stack_on_localstack: DeployedStack) -> None:
    outputs = stack_on_localstack.outputs
    marker = f"ses-relay deploy test {uuid.uuid4()}"
    published = stack_on_localstack.client("sns").publish(TopicArn=outputs["EventsTopicArn"], Message=marker)

    messages = receive_until(
        stack_on_localstack, outputs["EventsQueueUrl"], lambda m: envelope_of(m).get("Message") == marker
    )
    delete(stack_on_localstack, outputs["EventsQueueUrl"], messages)
    (envelope,) = [envelope_of(m) for m in messages if envelope_of(m).get("Message") == marker]
    # Raw delivery is off: the body is SNS's envelope, as the event logger expects.
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == outputs["EventsTopicArn"]
    assert envelope["MessageId"] == published["MessageId"]


def test_a_message_that_keeps_failing_ends_in_the_dead_letter_queue(
    stack_on_localstack: DeployedStack,
) -> None:
    outputs = stack_on_localstack.outputs
    template = cfn.load()
    max_receives = template["Resources"]["EventsQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    marker = f"poison {uuid.uuid4()}"
    stack_on_localstack.client("sns").publish(TopicArn=outputs["EventsTopicArn"], Message=marker)

    def is_poison(message: Message) -> bool:
        return envelope_of(message).get("Message") == marker

    # A consumer that never deletes it (visibility 0: back at once).
    receives = receive_until(
        stack_on_localstack, outputs["EventsQueueUrl"], is_poison, count=max_receives, VisibilityTimeout=0
    )
    counts = [int(m["Attributes"]["ApproximateReceiveCount"]) for m in receives if is_poison(m)]
    assert counts == list(range(1, max_receives + 1))

    # The next receive finds its count past maxReceiveCount: SQS moves it instead of returning it.
    # A sentinel published after it shows that receives which could have returned it happened.
    sentinel = f"sentinel {uuid.uuid4()}"
    stack_on_localstack.client("sns").publish(TopicArn=outputs["EventsTopicArn"], Message=sentinel)
    after = receive_until(
        stack_on_localstack, outputs["EventsQueueUrl"], lambda m: envelope_of(m).get("Message") == sentinel
    )
    delete(stack_on_localstack, outputs["EventsQueueUrl"], after)
    assert not [m for m in after if is_poison(m)]
    (dead,) = receive_until(stack_on_localstack, outputs["EventsDeadLetterQueueUrl"], is_poison)
    delete(stack_on_localstack, outputs["EventsDeadLetterQueueUrl"], [dead])


def test_queue_is_encrypted_redriven_and_open_only_to_the_topic(stack_on_localstack: DeployedStack) -> None:
    outputs, sqs = stack_on_localstack.outputs, stack_on_localstack.client("sqs")
    response = sqs.get_queue_attributes(QueueUrl=outputs["EventsQueueUrl"], AttributeNames=["All"])
    attributes = response["Attributes"]
    dead_letter_arn = sqs.get_queue_attributes(
        QueueUrl=outputs["EventsDeadLetterQueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert attributes["QueueArn"] == outputs["EventsQueueArn"]
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": dead_letter_arn,
        "maxReceiveCount": 5,
    }
    assert attributes["SqsManagedSseEnabled"] == "true"
    dead_letter_attributes = sqs.get_queue_attributes(
        QueueUrl=outputs["EventsDeadLetterQueueUrl"], AttributeNames=["RedriveAllowPolicy"]
    )["Attributes"]
    assert json.loads(dead_letter_attributes["RedriveAllowPolicy"]) == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [outputs["EventsQueueArn"]],
    }
    assert attributes["ReceiveMessageWaitTimeSeconds"] == "20"
    (statement,) = json.loads(attributes["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == outputs["EventsQueueArn"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": outputs["EventsTopicArn"]}}


def test_topic_lets_only_ses_publish_for_the_configuration_set(stack_on_localstack: DeployedStack) -> None:
    outputs = stack_on_localstack.outputs
    sns = stack_on_localstack.client("sns")
    attributes = sns.get_topic_attributes(TopicArn=outputs["EventsTopicArn"])["Attributes"]
    (statement,) = json.loads(attributes["Policy"])["Statement"]
    region, account = outputs["EventsTopicArn"].split(":")[3:5]
    configuration_set = f"arn:aws:ses:{region}:{account}:configuration-set/{outputs['ConfigurationSetName']}"
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == outputs["EventsTopicArn"]
    assert statement["Condition"] == {
        "StringEquals": {
            "AWS:SourceAccount": account,
            "AWS:SourceArn": configuration_set,
        }
    }


def test_secret_holds_only_placeholders_the_appliance_would_read(
    stack_on_localstack: DeployedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_arn = stack_on_localstack.outputs["SmtpCredentialsSecretArn"]
    secrets = stack_on_localstack.client("secretsmanager")
    placeholder = json.loads(secrets.get_secret_value(SecretId=secret_arn)["SecretString"])
    # Both credential keys, whichever SmtpPasswordKey ECS injects; the appliance refuses each value.
    assert placeholder.keys() == {"SES_SMTP_USERNAME", "SES_SMTP_PASSWORD", "SES_SMTP_SECRET_ACCESS_KEY"}
    assert all(value.startswith("REPLACE-WITH-") for value in placeholder.values())

    # The operator's step from deploy/README.md (the user name and exactly one credential key,
    # replacing the whole document), then the appliance's own reader (the EC2 path).
    filled = {
        "SES_SMTP_USERNAME": "AKIAIOSFODNN7EXAMPLE",
        "SES_SMTP_PASSWORD": "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9",
    }
    secrets.put_secret_value(SecretId=secret_arn, SecretString=json.dumps(filled))
    monkeypatch.setenv("AWS_ENDPOINT_URL", stack_on_localstack.endpoint_url)
    values, problems = sources.collect({"SECRETS_MANAGER_SECRET_ID": secret_arn})
    assert problems == []
    assert {name: values[name].value for name in filled} == filled
    assert {values[name].source for name in filled} == {"Secrets Manager"}
    assert "SES_SMTP_SECRET_ACCESS_KEY" not in values


def test_managed_policies_name_the_deployed_queue_and_secret(stack_on_localstack: DeployedStack) -> None:
    outputs, iam = stack_on_localstack.outputs, stack_on_localstack.client("iam")

    def document(policy_arn: str) -> dict[str, Any]:
        version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
        text = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]
        return text if isinstance(text, dict) else json.loads(text)

    (consume,) = document(outputs["EventsConsumerPolicyArn"])["Statement"]
    assert consume["Action"] == ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    assert consume["Resource"] == outputs["EventsQueueArn"]
    (read,) = document(outputs["SecretReaderPolicyArn"])["Statement"]
    assert read["Action"] == "secretsmanager:GetSecretValue"
    assert read["Resource"] == outputs["SmtpCredentialsSecretArn"]

    rate, identities = document(outputs["SendRateReaderPolicyArn"])["Statement"]
    assert (rate["Action"], rate["Resource"]) == ("ses:GetAccount", "*")
    assert (identities["Action"], identities["Resource"]) == ("ses:GetIdentityVerificationAttributes", "*")

    profile = iam.get_instance_profile(InstanceProfileName=outputs["InstanceProfileName"])["InstanceProfile"]
    (role,) = profile["Roles"]
    attached = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    managed = {outputs[f"{name}PolicyArn"] for name in ("EventsConsumer", "SecretReader", "SendRateReader")}
    assert {p["PolicyArn"] for p in attached} == managed
    assert iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"] == []


def test_ses_events_reach_the_queue_in_a_form_the_logger_reads(stack_on_localstack: DeployedStack) -> None:
    """The configuration set as the template defines it, made with the SES API (LocalStack's
    CloudFormation cannot), then a message sent through it: SES's events arrive in the queue."""
    outputs, ses = stack_on_localstack.outputs, stack_on_localstack.client("ses")
    stack = cfn.Stack(cfn.load(), **{**LOCALSTACK_PARAMETERS, "DeploySes": "true"})
    destination = stack.resolve(stack.resources()["ConfigurationSetEventDestination"]["Properties"])
    destination = destination["EventDestination"]

    # Named after the stack: LocalStack is shared by the whole session.
    name = f"{stack_on_localstack.name}-events"
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    try:
        ses.create_configuration_set_event_destination(
            ConfigurationSetName=name,
            EventDestination={
                # LocalStack keeps destination names globally and beyond their set's deletion
                # (AWS scopes them to their set, hence the template's constant name): one named
                # after this stack cannot collide with bootstrap's in later tests.
                "Name": f"{stack_on_localstack.name}-sns",
                "Enabled": destination["Enabled"],
                "MatchingEventTypes": destination["MatchingEventTypes"],
                "SNSDestination": {"TopicARN": outputs["EventsTopicArn"]},
            },
        )
        ses.verify_email_identity(EmailAddress="app@example.com")
        raw = b"From: app@example.com\r\nTo: bob@example.net\r\nSubject: deploy test\r\n\r\nHello\r\n"
        # Recipients from the To header: LocalStack 2026.3 lists them twice if Destinations repeats them.
        sent = ses.send_raw_email(
            RawMessage={"Data": raw}, Source="app@example.com", ConfigurationSetName=name
        )
    finally:
        ses.delete_configuration_set(ConfigurationSetName=name)

    def from_ses(message: Message) -> bool:
        return sent["MessageId"] in message["Body"] or SES_VALIDATION_TEXT in message["Body"]

    messages = receive_until(stack_on_localstack, outputs["EventsQueueUrl"], from_ses, count=3)
    delete(stack_on_localstack, outputs["EventsQueueUrl"], messages)
    formatted = [format_sqs_body(m["Body"]) for m in messages if from_ses(m)]
    # SES's topic-validation sentence, which the logger acknowledges without writing a line...
    (validation,) = [f for f in formatted if f.kind is MessageKind.SES_TOPIC_VALIDATION]
    assert validation.lines == ()
    # ...and one event of each type SES (here LocalStack) publishes for a sent message.
    events = {f.event_type: f for f in formatted if f.kind is MessageKind.SES_EVENT}
    assert events.keys() == {"Send", "Delivery"}
    for event_type, status in (("Send", "status=accepted"), ("Delivery", "status=delivered")):
        event = events[event_type]
        assert event.kind is MessageKind.SES_EVENT
        assert event.ses_message_id == sent["MessageId"]
        (line,) = event.lines
        assert "to=<bob@example.net>" in line and status in line
