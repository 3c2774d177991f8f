"""What should exist on AWS: names, ARNs, attributes, policies and event types, as plain data.

Pure: no boto3, no I/O. ``reconcile`` makes AWS match this; the static parity test compares it
with deploy/cloudformation/ses-relay.yaml, which describes the same resources.

The event pipeline is SES's configuration set -> SNS topic -> SQS event queue (+ dead-letter
queue). AWS names the topic, the event queue and the configuration set all ``NAME-events``; the
code calls them ``event_topic``, ``event_queue`` and ``configuration_set``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_RECEIVE_COUNT = 5
DEFAULT_VISIBILITY_TIMEOUT = 60
EVENT_QUEUE_RETENTION_SECONDS = 4 * 24 * 3600
# Longer than the event queue's: a message's expiry counts from when it first entered that queue.
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
LONG_POLL_SECONDS = 20

# SES v2's event types, every one published but open and click.
SES_V2_EVENT_TYPES = (
    "SEND",
    "REJECT",
    "BOUNCE",
    "COMPLAINT",
    "DELIVERY",
    "RENDERING_FAILURE",
    "DELIVERY_DELAY",
    "SUBSCRIPTION",
)
# Published only with --track-opens-and-clicks: for them SES adds a tracking pixel and rewrites
# the links of HTML mail, so by default mail reaches recipients as sent.
SES_V2_TRACKING_EVENT_TYPES = ("OPEN", "CLICK")

# The keys of the SMTP credentials secret, as the appliance reads them (SECRETS_MANAGER_SECRET_ID).
SMTP_USERNAME_KEY = "SES_SMTP_USERNAME"
SMTP_PASSWORD_KEY = "SES_SMTP_PASSWORD"  # noqa: S105 (a key's name, not a password)
SMTP_SECRET_ACCESS_KEY_KEY = "SES_SMTP_SECRET_ACCESS_KEY"  # noqa: S105 (a key's name)
SMTP_CREDENTIALS_DESCRIPTION = "ses-relay: SES SMTP credentials (SECRETS_MANAGER_SECRET_ID)"

# Raw delivery off: the event logger reads SNS's envelope.
SUBSCRIPTION_ATTRIBUTES = {"RawMessageDelivery": "false"}

# What SNS's default topic policy lets the account owner do; SetTopicAttributes replaces the
# whole policy, so these are written back beside SES's statement.
_TOPIC_OWNER_ACTIONS = [
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
]


def event_types(track_opens_and_clicks: bool) -> tuple[str, ...]:
    """The event types the configuration set publishes, as SES v2 spells them."""
    return SES_V2_EVENT_TYPES + (SES_V2_TRACKING_EVENT_TYPES if track_opens_and_clicks else ())


@dataclass(frozen=True)
class ResourceNames:
    """Every resource's name, derived from one prefix so the settings can be written down ahead."""

    name: str

    @property
    def event_topic(self) -> str:
        return f"{self.name}-events"

    @property
    def event_queue(self) -> str:
        return f"{self.name}-events"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.name}-events-dlq"

    @property
    def secret(self) -> str:
        return f"{self.name}/smtp"

    @property
    def configuration_set(self) -> str:
        return f"{self.name}-events"

    @property
    def event_destination(self) -> str:
        return f"{self.name}-sns"

    # The names other code has always used (deploy.bootstrap.Names).
    @property
    def topic(self) -> str:
        return self.event_topic

    @property
    def queue(self) -> str:
        return self.event_queue


def partition_of(arn: str) -> str:
    """The partition an ARN names (``aws``, ``aws-cn``, ``aws-us-gov``, ...), e.g. the caller's
    from ``sts get-caller-identity``: every ARN built here must use the account's own."""
    fields = arn.split(":", 2)
    if len(fields) < 3 or fields[0] != "arn" or not fields[1]:
        raise ValueError(f"not an ARN: {arn!r}")
    return fields[1]


@dataclass(frozen=True)
class EventPipelineArns:
    """The ARNs of the event pipeline's resources, in one partition, region and account."""

    event_topic: str
    event_queue: str
    dead_letter_queue: str
    configuration_set: str

    @classmethod
    def build(cls, names: ResourceNames, partition: str, region: str, account: str) -> EventPipelineArns:
        def arn(service: str, resource: str) -> str:
            return f"arn:{partition}:{service}:{region}:{account}:{resource}"

        return cls(
            event_topic=arn("sns", names.event_topic),
            event_queue=arn("sqs", names.event_queue),
            dead_letter_queue=arn("sqs", names.dead_letter_queue),
            configuration_set=arn("ses", f"configuration-set/{names.configuration_set}"),
        )


def topic_policy(topic_name: str, topic_arn: str, account: str, configuration_set_arn: str) -> dict:
    """The account keeps managing its topic; SES may publish, only for this account's configuration
    set (confused-deputy protection)."""
    return {
        "Version": "2012-10-17",
        "Id": f"{topic_name}-policy",
        "Statement": [
            {
                "Sid": "AccountOwnerManages",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": _TOPIC_OWNER_ACTIONS,
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
            },
            {
                "Sid": "SesPublishesConfigurationSetEvents",
                "Effect": "Allow",
                "Principal": {"Service": "ses.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"AWS:SourceAccount": account, "AWS:SourceArn": configuration_set_arn}
                },
            },
        ],
    }


def event_queue_policy(queue_arn: str, topic_arn: str) -> dict:
    """Only SNS may send to the event queue, and only from the event topic."""
    return {
        "Version": "2012-10-17",
        "Id": f"{queue_arn}/policy",
        "Statement": [
            {
                "Sid": "OnlyTheEventsTopicSends",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }


def dead_letter_queue_attributes(arns: EventPipelineArns) -> dict[str, str]:
    """SQS attributes of the dead-letter queue: only the event queue may redrive into it."""
    return {
        "MessageRetentionPeriod": str(DEAD_LETTER_RETENTION_SECONDS),
        "SqsManagedSseEnabled": "true",
        "RedriveAllowPolicy": json.dumps(
            {"redrivePermission": "byQueue", "sourceQueueArns": [arns.event_queue]}
        ),
    }


def event_queue_attributes(
    arns: EventPipelineArns,
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT,
    visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT,
) -> dict[str, str]:
    """SQS attributes of the event queue: long polling, redrive to the DLQ, open only to the topic."""
    return {
        "MessageRetentionPeriod": str(EVENT_QUEUE_RETENTION_SECONDS),
        "VisibilityTimeout": str(visibility_timeout),
        "ReceiveMessageWaitTimeSeconds": str(LONG_POLL_SECONDS),
        "SqsManagedSseEnabled": "true",
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": arns.dead_letter_queue, "maxReceiveCount": max_receive_count}
        ),
        "Policy": json.dumps(event_queue_policy(arns.event_queue, arns.event_topic)),
    }


def smtp_secret_document(
    username: str | None, password: str | None = None, secret_access_key: str | None = None
) -> dict[str, str] | None:
    """The secret's JSON: the user name and exactly one credential; None without a user name."""
    if not username:
        return None
    if password and secret_access_key:
        raise ValueError("give the SMTP password or the secret access key, not both")
    if password:
        return {SMTP_USERNAME_KEY: username, SMTP_PASSWORD_KEY: password}
    if secret_access_key:
        return {SMTP_USERNAME_KEY: username, SMTP_SECRET_ACCESS_KEY_KEY: secret_access_key}
    raise ValueError(
        "--smtp-username needs a password: --smtp-password-file, SES_SMTP_PASSWORD or "
        "SES_SMTP_SECRET_ACCESS_KEY"
    )


@dataclass(frozen=True)
class DesiredState:
    """Everything the event pipeline should be, for one prefix, partition, region and account."""

    names: ResourceNames
    arns: EventPipelineArns
    account: str
    topic_policy: Mapping[str, Any]
    dead_letter_queue_attributes: Mapping[str, str]
    event_queue_attributes: Mapping[str, str]
    subscription_attributes: Mapping[str, str]
    event_types: tuple[str, ...]

    @classmethod
    def build(
        cls,
        names: ResourceNames,
        partition: str,
        region: str,
        account: str,
        max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT,
        visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT,
        track_opens_and_clicks: bool = False,
    ) -> DesiredState:
        arns = EventPipelineArns.build(names, partition, region, account)
        return cls(
            names=names,
            arns=arns,
            account=account,
            topic_policy=topic_policy(names.event_topic, arns.event_topic, account, arns.configuration_set),
            dead_letter_queue_attributes=dead_letter_queue_attributes(arns),
            event_queue_attributes=event_queue_attributes(arns, max_receive_count, visibility_timeout),
            subscription_attributes=dict(SUBSCRIPTION_ATTRIBUTES),
            event_types=event_types(track_opens_and_clicks),
        )
