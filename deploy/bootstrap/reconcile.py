"""Make AWS match the desired state: each resource created when missing, corrected when it
differs, otherwise left alone, so a second run changes nothing.

Every change goes to ``log`` (standard error by default) as ``<action> <kind> <name>``; the run
returns the appliance's settings, which never include the SMTP password.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from deploy.bootstrap import compat
from deploy.bootstrap._aws import error_code, same_json
from deploy.bootstrap.desired_state import (
    DEFAULT_MAX_RECEIVE_COUNT,
    DEFAULT_VISIBILITY_TIMEOUT,
    SMTP_CREDENTIALS_DESCRIPTION,
    DesiredState,
    ResourceNames,
    event_types,
    partition_of,
    smtp_secret_document,
)


@dataclass
class Options:
    name: str
    region: str
    identities: Sequence[str] = ()
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT
    visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_secret_access_key: str | None = field(default=None, repr=False)
    endpoint_url: str | None = None
    track_opens_and_clicks: bool = False


@dataclass
class Result:
    settings: dict[str, str]
    changes: list[tuple[str, str, str]]  # (action, kind, name)
    notes: list[str]

    @property
    def changed(self) -> bool:
        return any(action != "unchanged" for action, _, _ in self.changes)


class Bootstrap:
    def __init__(self, options: Options, session: boto3.session.Session | None = None, log=None):
        self.options = options
        self.names = ResourceNames(options.name)
        self.session = session or boto3.session.Session(region_name=options.region)
        self.log: Callable[[str], None] = log or (lambda line: print(line, file=sys.stderr))
        self.changes: list[tuple[str, str, str]] = []
        self.notes: list[str] = []
        self._clients: dict[str, Any] = {}
        self._ses_v2 = True

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service, region_name=self.options.region, endpoint_url=self.options.endpoint_url
            )
        return self._clients[service]

    def _record(self, action: str, kind: str, name: str) -> None:
        self.changes.append((action, kind, name))
        self.log(f"{action:<10} {kind} {name}")

    # --- the run -----------------------------------------------------------------------------

    def desired_state(self, partition: str, account: str) -> DesiredState:
        options = self.options
        return DesiredState.build(
            self.names,
            partition,
            options.region,
            account,
            max_receive_count=options.max_receive_count,
            visibility_timeout=options.visibility_timeout,
            track_opens_and_clicks=options.track_opens_and_clicks,
        )

    def run(self) -> Result:
        caller = self.client("sts").get_caller_identity()
        account = caller["Account"]
        # Not always "aws": China (aws-cn) and GovCloud (aws-us-gov) have partitions of their own.
        desired = self.desired_state(partition_of(caller["Arn"]), account)

        self.ensure_topic(desired)
        self.ensure_queue(self.names.dead_letter_queue, desired.dead_letter_queue_attributes)
        queue_url = self.ensure_queue(self.names.event_queue, desired.event_queue_attributes)
        self.ensure_subscription(desired)
        secret_id = self.ensure_secret()
        for identity in self.options.identities:
            self.ensure_identity(identity)
        self.ensure_configuration_set(desired.arns.event_topic)

        if self.options.endpoint_url:
            queue_url = compat.local_queue_url(self.options.endpoint_url, account, self.names.event_queue)
        settings = {
            "SES_REGION": self.options.region,
            "SES_EVENTS_QUEUE_URL": queue_url,
            "SES_CONFIGURATION_SET": self.names.configuration_set,
        }
        if secret_id:
            settings["SECRETS_MANAGER_SECRET_ID"] = secret_id
        return Result(settings, self.changes, self.notes)

    # --- SNS ---------------------------------------------------------------------------------

    def ensure_topic(self, desired: DesiredState) -> None:
        sns = self.client("sns")
        topic_arn = desired.arns.event_topic
        try:
            attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
            action = "unchanged"
        except ClientError as error:
            if error_code(error) not in ("NotFound", "NotFoundException"):
                raise
            sns.create_topic(Name=self.names.event_topic)
            attributes = {}
            action = "created"
        if not same_json(attributes.get("Policy"), desired.topic_policy):
            sns.set_topic_attributes(
                TopicArn=topic_arn, AttributeName="Policy", AttributeValue=json.dumps(desired.topic_policy)
            )
            action = "updated" if action == "unchanged" else action
        self._record(action, "sns topic", self.names.event_topic)

    def ensure_subscription(self, desired: DesiredState) -> None:
        sns = self.client("sns")
        topic_arn, queue_arn = desired.arns.event_topic, desired.arns.event_queue
        wanted = desired.subscription_attributes
        found = None
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
            for subscription in page["Subscriptions"]:
                if subscription["Protocol"] == "sqs" and subscription["Endpoint"] == queue_arn:
                    found = subscription["SubscriptionArn"]
        name = f"{self.names.event_topic} -> {self.names.event_queue}"
        if found is None:
            sns.subscribe(
                TopicArn=topic_arn,
                Protocol="sqs",
                Endpoint=queue_arn,
                Attributes=dict(wanted),
                ReturnSubscriptionArn=True,
            )
            self._record("created", "sns subscription", name)
            return
        attributes = sns.get_subscription_attributes(SubscriptionArn=found)["Attributes"]
        # An attribute SNS leaves out is "false".
        different = {key: value for key, value in wanted.items() if attributes.get(key, "false") != value}
        for key, value in different.items():
            sns.set_subscription_attributes(SubscriptionArn=found, AttributeName=key, AttributeValue=value)
        self._record("updated" if different else "unchanged", "sns subscription", name)

    # --- SQS ---------------------------------------------------------------------------------

    def ensure_queue(self, name: str, desired: Mapping[str, str]) -> str:
        sqs = self.client("sqs")
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError as error:
            if error_code(error) not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
                raise
            url = sqs.create_queue(QueueName=name, Attributes=dict(desired))["QueueUrl"]
            self._record("created", "sqs queue", name)
            return url
        current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        different = {}
        for key, value in desired.items():
            if value.startswith("{"):
                same = same_json(current.get(key), json.loads(value))
            else:
                same = current.get(key) == value
            if not same:
                different[key] = value
        if different:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=different)
            self._record("updated", "sqs queue", f"{name} ({', '.join(sorted(different))})")
        else:
            self._record("unchanged", "sqs queue", name)
        return url

    # --- Secrets Manager ---------------------------------------------------------------------

    def ensure_secret(self) -> str | None:
        secrets = self.client("secretsmanager")
        name = self.names.secret
        options = self.options
        document = smtp_secret_document(
            options.smtp_username, options.smtp_password, options.smtp_secret_access_key
        )
        try:
            described = secrets.describe_secret(SecretId=name)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
            described = None
        if described is None:
            if document is None:
                self.notes.append(
                    f"no SMTP credentials given: secret {name} not created (set SES_SMTP_USERNAME and "
                    "SES_SMTP_PASSWORD in the appliance's settings instead)"
                )
                self.log(f"{'skipped':<10} secretsmanager secret {name} (no SMTP credentials given)")
                return None
            secrets.create_secret(
                Name=name, Description=SMTP_CREDENTIALS_DESCRIPTION, SecretString=json.dumps(document)
            )
            self._record("created", "secretsmanager secret", name)
            return name
        if described.get("DeletedDate"):
            secrets.restore_secret(SecretId=name)
            self._record("restored", "secretsmanager secret", name)
        if document is None:
            self._record("unchanged", "secretsmanager secret", name)
            return name
        current = secrets.get_secret_value(SecretId=name).get("SecretString")
        if same_json(current, document):
            self._record("unchanged", "secretsmanager secret", name)
        else:
            secrets.put_secret_value(SecretId=name, SecretString=json.dumps(document))
            self._record("updated", "secretsmanager secret", name)
        return name

    # --- SES ---------------------------------------------------------------------------------

    def _v2(self, call: Callable[[], Any]) -> Any:
        """Run an SES v2 call; None (and SES v1 from now on, see compat) where the endpoint has no
        SES v2."""
        if not self._ses_v2:
            return None
        try:
            return call()
        except ClientError as error:
            if not compat.not_emulated(error):
                raise
        self._ses_v2 = False
        self.notes.append("this endpoint has no SES v2 API (LocalStack): used SES v1")
        self.log("note       no SES v2 API here (LocalStack): using SES v1")
        return None

    def ensure_identity(self, identity: str) -> None:
        sesv2 = self.client("sesv2")

        def v2() -> str:
            try:
                sesv2.get_email_identity(EmailIdentity=identity)
                return "unchanged"
            except ClientError as error:
                if error_code(error) != "NotFoundException":
                    raise
            created = sesv2.create_email_identity(EmailIdentity=identity)
            tokens = created.get("DkimAttributes", {}).get("Tokens", [])
            for token in tokens:
                self.notes.append(
                    f"DNS for {identity}: CNAME {token}._domainkey.{identity} -> {token}.dkim.amazonses.com"
                )
            return "created"

        action = self._v2(v2)
        if action is None:
            action = compat.ensure_identity_v1(self.client("ses"), identity)
        self._record(action, "ses identity", identity)

    def ensure_configuration_set(self, topic_arn: str) -> None:
        sesv2 = self.client("sesv2")
        name = self.names.configuration_set
        destination = self.names.event_destination
        wanted_types = event_types(self.options.track_opens_and_clicks)

        def v2() -> tuple[str, str]:
            try:
                sesv2.get_configuration_set(ConfigurationSetName=name)
                set_action = "unchanged"
            except ClientError as error:
                if error_code(error) != "NotFoundException":
                    raise
                sesv2.create_configuration_set(ConfigurationSetName=name)
                set_action = "created"
            wanted = {
                "Enabled": True,
                "MatchingEventTypes": list(wanted_types),
                "SnsDestination": {"TopicArn": topic_arn},
            }
            existing = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=name)
            current = next((d for d in existing["EventDestinations"] if d["Name"] == destination), None)
            if current is None:
                sesv2.create_configuration_set_event_destination(
                    ConfigurationSetName=name, EventDestinationName=destination, EventDestination=wanted
                )
                return set_action, "created"
            if (
                current.get("Enabled")
                and set(current.get("MatchingEventTypes", [])) == set(wanted_types)
                and current.get("SnsDestination", {}).get("TopicArn") == topic_arn
            ):
                return set_action, "unchanged"
            sesv2.update_configuration_set_event_destination(
                ConfigurationSetName=name, EventDestinationName=destination, EventDestination=wanted
            )
            return set_action, "updated"

        actions = self._v2(v2)
        if actions is None:
            actions = compat.ensure_configuration_set_v1(
                self.client("ses"), name, destination, topic_arn, wanted_types
            )
        self._record(actions[0], "ses configuration set", name)
        self._record(actions[1], "ses event destination", f"{name}/{destination} -> {self.names.event_topic}")
