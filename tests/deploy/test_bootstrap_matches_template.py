"""deploy/bootstrap and the CloudFormation template must describe the same event pipeline.

Both are deployed to LocalStack under different names; with the names replaced by a placeholder,
the queues, the dead-letter queue, the redrive and the subscription must be the same. The event
types the configuration set publishes are compared without AWS (LocalStack's CloudFormation
cannot create the configuration set).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from deploy.bootstrap import Bootstrap, Options, compat, event_types
from tests.deploy import cfn
from tests.deploy.conftest import DeployedStack

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


def _pipeline(sqs, sns, name: str, account: str, region: str) -> dict:
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
def test_bootstrap_and_template_create_the_same_pipeline(events_stack: DeployedStack, localstack_url: str):
    region = "us-east-1"
    sts = boto3.client("sts", endpoint_url=localstack_url, region_name=region)
    account = sts.get_caller_identity()["Account"]
    bootstrap_name = f"boot-{uuid.uuid4().hex[:8]}"
    Bootstrap(
        Options(name=bootstrap_name, region=region, endpoint_url=localstack_url), log=lambda _line: None
    ).run()

    sqs = boto3.client("sqs", endpoint_url=localstack_url, region_name=region)
    sns = boto3.client("sns", endpoint_url=localstack_url, region_name=region)
    from_template = _pipeline(sqs, sns, events_stack.name, account, region)
    from_bootstrap = _pipeline(sqs, sns, bootstrap_name, account, region)
    assert from_template["queues"]["events"]["RedrivePolicy"]  # something real is compared
    assert from_bootstrap == from_template


def _camel(upper_snake: str) -> str:
    first, *rest = upper_snake.lower().split("_")
    return first + "".join(word.title() for word in rest)


@pytest.mark.parametrize("tracking", [False, True])
def test_bootstrap_and_template_publish_the_same_event_types(
    template: dict[str, Any], tracking: bool
) -> None:
    stack = cfn.Stack(template, TrackOpensAndClicks=str(tracking).lower())
    destination = stack.resources()["ConfigurationSetEventDestination"]["Properties"]["EventDestination"]
    from_template = sorted(destination["MatchingEventTypes"])
    assert sorted(_camel(name) for name in event_types(tracking)) == from_template
    # SES v1 (LocalStack) lacks only the v2-only types.
    v1 = set(compat.ses_v1_event_types(event_types(tracking)))
    assert set(from_template) - v1 == {"deliveryDelay", "subscription"}
