"""deploy/bootstrap and the CloudFormation template must describe the same event pipeline.

Statically, without AWS: bootstrap's desired state (deploy/bootstrap/desired_state.py) for a
prefix equal to the stack's name is compared with the template's resources, with CloudFormation's
Ref and GetAtt replaced by the ARNs they resolve to: the queue's and the DLQ's attributes, the
queue policy, the topic policy's SES statement, the subscription, the event types (with and
without open and click tracking), the secret's keys and every name.

Live, on LocalStack: both are deployed under different names; with the names replaced by a
placeholder, the queues, the dead-letter queue, the redrive and the subscription must be the same.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import boto3
import pytest

from deploy.bootstrap import Bootstrap, Options
from deploy.bootstrap.compat import SES_V2_ONLY_EVENT_TYPES, ses_v1_event_type
from deploy.bootstrap.desired_state import (
    SMTP_PASSWORD_KEY,
    SMTP_SECRET_ACCESS_KEY_KEY,
    DesiredState,
    smtp_secret_document,
)
from tests.deploy import cfn
from tests.deploy.conftest import DeployedStack

# --- static: desired state against the template ---------------------------------------------

# Bootstrap's prefix and the stack's name are the same, so every name and ARN must be too.
STACK_NAME = cfn.PSEUDO_PARAMETERS["AWS::StackName"]
ACCOUNT = cfn.PSEUDO_PARAMETERS["AWS::AccountId"]
REGION = cfn.PSEUDO_PARAMETERS["AWS::Region"]
PARTITION = cfn.PSEUDO_PARAMETERS["AWS::Partition"]
# Queue properties that are not SQS attributes; KmsMasterKeyId is absent without UseCustomerManagedKey.
NOT_QUEUE_ATTRIBUTES = {"QueueName"}
# The switches bootstrap matches: SQS-managed SSE rather than a customer managed key.
BOOTSTRAP_SWITCHES = {"UseCustomerManagedKey": "false"}


def _desired(track_opens_and_clicks: bool = False) -> DesiredState:
    """Bootstrap's desired state with Options' defaults (the command line's); no AWS is called."""
    options = Options(name=STACK_NAME, region=REGION, track_opens_and_clicks=track_opens_and_clicks)
    return Bootstrap(options, log=lambda _line: None).desired_state(PARTITION, ACCOUNT)


def _template_resources(template: Mapping[str, Any], desired: DesiredState, **switches: str) -> dict:
    """The template's resources resolved, each Ref or GetAtt of a resource bootstrap also creates
    replaced by what CloudFormation resolves it to: its ARN (the configuration set: its name)."""
    stack = cfn.Stack(template, **{**BOOTSTRAP_SWITCHES, **switches})
    physical = {
        "ref:EventsTopic": desired.arns.event_topic,
        "getatt:EventsQueue.Arn": desired.arns.event_queue,
        "getatt:EventsDeadLetterQueue.Arn": desired.arns.dead_letter_queue,
        "ref:ConfigurationSet": desired.names.configuration_set,
    }

    def replace(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: replace(value) for key, value in node.items()}
        if isinstance(node, list):
            return [replace(item) for item in node]
        return physical.get(node, node) if isinstance(node, str) else node

    return {name: replace(stack.resolve(resource)) for name, resource in stack.resources().items()}


def _as_attribute_values(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """SQS attributes as comparable values: JSON documents parsed, numbers and booleans as SQS
    returns them (strings), a policy's Id left out (only a label)."""
    values: dict[str, Any] = {}
    for key, value in attributes.items():
        if isinstance(value, str) and value.startswith("{"):
            value = json.loads(value)
        if isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, int | float):
            value = str(value)
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "Id"}
        values[key] = value
    return values


def _queue_attributes(resource: Mapping[str, Any], policy: Mapping[str, Any] | None = None) -> dict:
    properties = {k: v for k, v in resource["Properties"].items() if k not in NOT_QUEUE_ATTRIBUTES}
    if policy is not None:
        properties["Policy"] = policy["Properties"]["PolicyDocument"]
    return _as_attribute_values(properties)


@pytest.fixture
def desired() -> DesiredState:
    return _desired()


@pytest.fixture
def resources(template: dict[str, Any], desired: DesiredState) -> dict[str, Any]:
    return _template_resources(template, desired)


def test_names_are_the_stacks(resources: dict[str, Any], desired: DesiredState) -> None:
    names = desired.names
    assert resources["EventsTopic"]["Properties"]["TopicName"] == names.event_topic
    assert resources["EventsQueue"]["Properties"]["QueueName"] == names.event_queue
    assert resources["EventsDeadLetterQueue"]["Properties"]["QueueName"] == names.dead_letter_queue
    assert resources["ConfigurationSet"]["Properties"]["Name"] == names.configuration_set
    assert resources["SmtpCredentials"]["Properties"]["Name"] == names.secret


def test_dead_letter_queue_has_the_same_attributes(resources: dict[str, Any], desired: DesiredState) -> None:
    """Retention, SQS-managed encryption, and only the event queue may redrive into it."""
    from_template = _queue_attributes(resources["EventsDeadLetterQueue"])
    assert from_template["RedriveAllowPolicy"]["sourceQueueArns"] == [desired.arns.event_queue]
    assert _as_attribute_values(desired.dead_letter_queue_attributes) == from_template


def test_event_queue_has_the_same_attributes_and_policy(
    resources: dict[str, Any], desired: DesiredState
) -> None:
    """Retention, visibility, long polling, encryption, redrive (target and maxReceiveCount) and the
    policy that lets only the topic's SNS send (its conditions included)."""
    from_template = _queue_attributes(resources["EventsQueue"], resources["EventsQueuePolicy"])
    (statement,) = from_template["Policy"]["Statement"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": desired.arns.event_topic}}
    assert _as_attribute_values(desired.event_queue_attributes) == from_template


def test_topic_lets_ses_publish_on_the_same_conditions(
    resources: dict[str, Any], desired: DesiredState
) -> None:
    assert resources["EventsTopic"]["Properties"] == {"TopicName": desired.names.event_topic}  # no key
    (from_template,) = resources["EventsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    statements = desired.topic_policy["Statement"]
    (from_bootstrap,) = [s for s in statements if s["Principal"] == {"Service": "ses.amazonaws.com"}]
    without_sid = {key: value for key, value in from_bootstrap.items() if key != "Sid"}
    assert without_sid == {key: value for key, value in from_template.items() if key != "Sid"}
    assert from_template["Condition"]["StringEquals"]["AWS:SourceArn"] == desired.arns.configuration_set
    # Bootstrap sets the policy with SetTopicAttributes, which replaces SNS's default policy: it
    # writes the owner's default statement back. The template's TopicPolicy leaves that to IAM.
    (owner,) = [s for s in statements if s is not from_bootstrap]
    assert owner["Principal"] == {"AWS": "*"}
    assert owner["Condition"] == {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}


def test_subscription_delivers_the_sns_envelope_to_the_event_queue(
    resources: dict[str, Any], desired: DesiredState
) -> None:
    properties = dict(resources["EventsSubscription"]["Properties"])
    assert properties.pop("TopicArn") == desired.arns.event_topic
    assert properties.pop("Endpoint") == desired.arns.event_queue
    assert properties.pop("Protocol") == "sqs"
    assert _as_attribute_values(properties) == _as_attribute_values(desired.subscription_attributes)


@pytest.mark.parametrize("tracking", [False, True])
def test_configuration_set_publishes_the_same_event_types(template: dict[str, Any], tracking: bool) -> None:
    desired = _desired(track_opens_and_clicks=tracking)
    resources = _template_resources(template, desired, TrackOpensAndClicks=str(tracking).lower())
    destination = resources["ConfigurationSetEventDestination"]["Properties"]
    assert destination["ConfigurationSetName"] == desired.names.configuration_set
    event_destination = destination["EventDestination"]
    assert event_destination["Enabled"] is True
    assert event_destination["SnsDestination"] == {"TopicARN": desired.arns.event_topic}
    # CloudFormation spells event types as SES v1 does, v2's own types included.
    from_template = sorted(event_destination["MatchingEventTypes"])
    assert sorted(ses_v1_event_type(name) for name in desired.event_types) == from_template
    assert ("open" in from_template, "click" in from_template) == (tracking, tracking)
    # SES v1 (LocalStack) lacks only the v2-only types.
    v2_only = {ses_v1_event_type(name) for name in SES_V2_ONLY_EVENT_TYPES}
    assert v2_only == {"deliveryDelay", "subscription"} <= set(from_template)


def test_secret_has_the_keys_bootstrap_writes(template: dict[str, Any], resources: dict[str, Any]) -> None:
    """The stack's placeholders name every key bootstrap may write; ECS injects either credential."""
    placeholders = json.loads(resources["SmtpCredentials"]["Properties"]["SecretString"])
    with_password = smtp_secret_document("user", password="x")
    with_key = smtp_secret_document("user", secret_access_key="x")
    assert with_password is not None and with_key is not None
    assert placeholders.keys() == with_password.keys() | with_key.keys()
    credential_keys = template["Parameters"]["SmtpPasswordKey"]["AllowedValues"]
    assert set(credential_keys) == {SMTP_PASSWORD_KEY, SMTP_SECRET_ACCESS_KEY_KEY}


# --- live: both deployed to LocalStack ----------------------------------------------------------

COMPARED_QUEUE_ATTRIBUTES = (
    "MessageRetentionPeriod",
    "VisibilityTimeout",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "Policy",
    "DelaySeconds",
    "MaximumMessageSize",
)


def _deployed(sqs, sns, name: str, account: str, region: str) -> dict:
    """Everything compared, with the resource-name prefix replaced by NAME."""
    queues = {}
    for suffix in ("events", "events-dlq"):
        url = sqs.get_queue_url(QueueName=f"{name}-{suffix}")["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        queues[suffix] = {key: attributes.get(key) for key in COMPARED_QUEUE_ATTRIBUTES}
    topic_arn = f"arn:aws:sns:{region}:{account}:{name}-events"
    subscriptions = []
    for subscription in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]:
        attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
        subscriptions.append(
            {
                "Protocol": subscription["Protocol"],
                "Endpoint": subscription["Endpoint"],
                "RawMessageDelivery": attributes["Attributes"].get("RawMessageDelivery", "false"),
                "FilterPolicy": attributes["Attributes"].get("FilterPolicy"),
            }
        )
    text = json.dumps({"queues": queues, "subscriptions": subscriptions}, sort_keys=True)
    document = json.loads(text.replace(name, "NAME"))
    for queue in document["queues"].values():
        for key in ("RedrivePolicy", "RedriveAllowPolicy", "Policy"):
            if queue[key]:
                queue[key] = _normalised_policy(json.loads(queue[key]))
    return document


def _normalised_policy(policy: dict) -> dict:
    """As AWS compares them: numbers and their strings alike, Ids and Sids ignored."""
    policy = {key: value for key, value in policy.items() if key != "Id"}
    for statement in policy.get("Statement", []):
        statement.pop("Sid", None)
    return json.loads(json.dumps(policy).replace('"maxReceiveCount": 5', '"maxReceiveCount": "5"'))


@pytest.mark.localstack
def test_bootstrap_and_template_create_the_same_pipeline(
    stack_on_localstack: DeployedStack, localstack_url: str
):
    region = "us-east-1"
    sts = boto3.client("sts", endpoint_url=localstack_url, region_name=region)
    account = sts.get_caller_identity()["Account"]
    bootstrap_name = f"boot-{uuid.uuid4().hex[:8]}"
    Bootstrap(
        Options(name=bootstrap_name, region=region, endpoint_url=localstack_url), log=lambda _line: None
    ).run()

    sqs = boto3.client("sqs", endpoint_url=localstack_url, region_name=region)
    sns = boto3.client("sns", endpoint_url=localstack_url, region_name=region)
    from_template = _deployed(sqs, sns, stack_on_localstack.name, account, region)
    from_bootstrap = _deployed(sqs, sns, bootstrap_name, account, region)
    assert from_template["queues"]["events"]["RedrivePolicy"]  # something real is compared
    assert from_bootstrap == from_template
