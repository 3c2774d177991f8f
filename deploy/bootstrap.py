"""Create (or check) everything on AWS that ses-relay's event logging needs; safe to run again.

    python -m deploy.bootstrap --name ses-relay --region eu-west-1 --identity example.com \\
        --smtp-username AKIA... --smtp-password-file ./ses-password  > relay.env

Resources, all named after ``--name`` (``NAME`` below), each created when missing, corrected when
it differs, and otherwise left alone (a second run changes nothing):

- SNS topic ``NAME-events``: receives SES's event publishing; its policy lets SES publish for the
  configuration set.
- SQS queue ``NAME-events-dlq``: the dead-letter queue, 14 days' retention; only ``NAME-events``
  may redrive into it.
- SQS queue ``NAME-events``: the logger's queue. Long polling, redrive to the DLQ after
  ``--max-receive-count`` (5) receives, a policy that lets only the topic send (``aws:SourceArn``).
- SNS subscription topic -> queue, raw message delivery off (the logger reads the SNS envelope).
- Secrets Manager secret ``NAME/smtp``: ``SES_SMTP_USERNAME`` and ``SES_SMTP_PASSWORD`` (or
  ``SES_SMTP_SECRET_ACCESS_KEY``), when credentials are given.
- SES identities (``--identity``): domains or addresses to send from; a new domain's DKIM records
  are printed.
- SES configuration set ``NAME-events`` with an SNS event destination ``NAME-sns`` for every event
  type but open and click (those too with ``--track-opens-and-clicks``: SES then adds a tracking
  pixel and rewrites the links of HTML mail).

Standard output is what the appliance needs, as ``KEY=value`` lines for an env file
(``SES_REGION``, ``SES_EVENTS_QUEUE_URL``, ``SES_CONFIGURATION_SET``, ``SECRETS_MANAGER_SECRET_ID``);
what was done goes to standard error. The SMTP password is read from a file or the environment
(``SES_SMTP_PASSWORD``, ``SES_SMTP_SECRET_ACCESS_KEY``), never from the command line, and never
printed.

``AWS_ENDPOINT_URL`` (or ``--endpoint-url``) points it at LocalStack. LocalStack differences it
handles: no SES v2 API (it falls back to SES v1: identities, configuration set, event destination,
without the v2-only DeliveryDelay and Subscription event types), no v1
UpdateConfigurationSetEventDestination (a changed destination is deleted and created again), and
queue URLs on an odd host (``http://sqs.<region>.<endpoint host>/...``), so with an endpoint the
queue URL printed is ``<endpoint>/<account>/<queue>``, which LocalStack serves.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

DEFAULT_MAX_RECEIVE_COUNT = 5
QUEUE_RETENTION_SECONDS = 4 * 24 * 3600
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
# SES v2's event types, every one published but open and click. SES v1 (LocalStack) lacks the
# v2-only DELIVERY_DELAY and SUBSCRIPTION.
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
SES_V1_EVENT_TYPES = (
    "send",
    "reject",
    "bounce",
    "complaint",
    "delivery",
    "renderingFailure",
)
# Published only with --track-opens-and-clicks: for them SES adds a tracking pixel and rewrites
# the links of HTML mail, so by default mail reaches recipients as sent.
SES_V2_TRACKING_EVENT_TYPES = ("OPEN", "CLICK")
SES_V1_TRACKING_EVENT_TYPES = ("open", "click")


def event_types(track_opens_and_clicks: bool, v2: bool = True) -> tuple[str, ...]:
    """The event types the configuration set publishes, as SES v2 (or v1) spells them."""
    if v2:
        return SES_V2_EVENT_TYPES + (SES_V2_TRACKING_EVENT_TYPES if track_opens_and_clicks else ())
    return SES_V1_EVENT_TYPES + (SES_V1_TRACKING_EVENT_TYPES if track_opens_and_clicks else ())


_DEFAULT_TOPIC_ACTIONS = [
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
]


@dataclass(frozen=True)
class Names:
    """Every resource's name, derived from one prefix so the settings can be written down ahead."""

    name: str

    @property
    def topic(self) -> str:
        return f"{self.name}-events"

    @property
    def queue(self) -> str:
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


def partition_of(arn: str) -> str:
    """The partition an ARN names (``aws``, ``aws-cn``, ``aws-us-gov``, ...), e.g. the caller's
    from ``sts get-caller-identity``: every ARN built here must use the account's own."""
    fields = arn.split(":", 2)
    if len(fields) < 3 or fields[0] != "arn" or not fields[1]:
        raise ValueError(f"not an ARN: {arn!r}")
    return fields[1]


@dataclass(frozen=True)
class PipelineArns:
    """The ARNs of the resources named by ``Names``, in one partition, region and account."""

    topic: str
    queue: str
    dead_letter_queue: str
    configuration_set: str

    @classmethod
    def build(cls, names: Names, partition: str, region: str, account: str) -> PipelineArns:
        def arn(service: str, resource: str) -> str:
            return f"arn:{partition}:{service}:{region}:{account}:{resource}"

        return cls(
            topic=arn("sns", names.topic),
            queue=arn("sqs", names.queue),
            dead_letter_queue=arn("sqs", names.dead_letter_queue),
            configuration_set=arn("ses", f"configuration-set/{names.configuration_set}"),
        )


def local_queue_url(endpoint_url: str, account_id: str, queue_name: str) -> str:
    """The queue URL printed when talking to an endpoint such as LocalStack's."""
    return f"{endpoint_url.rstrip('/')}/{account_id}/{queue_name}"


@dataclass
class Options:
    name: str
    region: str
    identities: Sequence[str] = ()
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT
    visibility_timeout: int = 60
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


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _not_emulated(error: ClientError) -> bool:
    """LocalStack's answer for an API it does not implement (SES v2, some SES v1 calls)."""
    message = error.response.get("Error", {}).get("Message", "")
    return _error_code(error) in ("InternalFailure", "NotImplemented", "UnknownOperationException") and (
        "not yet been emulated" in message or "not been implemented" in message or "license plan" in message
    )


def _same_json(current: str | None, desired: Mapping[str, Any]) -> bool:
    if not current:
        return False
    try:
        return _normalise(json.loads(current)) == _normalise(desired)
    except ValueError:
        return False


def _normalise(value: Any) -> Any:
    """JSON compared as AWS stores it: numbers and their strings alike, list order ignored."""
    if isinstance(value, Mapping):
        return {key: _normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return sorted((_normalise(item) for item in value), key=json.dumps)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    return value


class Bootstrap:
    def __init__(self, options: Options, session: boto3.session.Session | None = None, log=None):
        self.options = options
        self.names = Names(options.name)
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

    def run(self) -> Result:
        region = self.options.region
        caller = self.client("sts").get_caller_identity()
        account = caller["Account"]
        # Not always "aws": China (aws-cn) and GovCloud (aws-us-gov) have partitions of their own.
        arns = PipelineArns.build(self.names, partition_of(caller["Arn"]), region, account)
        topic_arn, queue_arn, dlq_arn = arns.topic, arns.queue, arns.dead_letter_queue
        configuration_set_arn = arns.configuration_set

        self.ensure_topic(topic_arn, account, configuration_set_arn)
        self.ensure_queue(
            self.names.dead_letter_queue,
            {
                "MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS),
                "SqsManagedSseEnabled": "true",
                "RedriveAllowPolicy": json.dumps(
                    {"redrivePermission": "byQueue", "sourceQueueArns": [queue_arn]}
                ),
            },
        )
        queue_url = self.ensure_queue(
            self.names.queue,
            {
                "MessageRetentionPeriod": str(QUEUE_RETENTION_SECONDS),
                "VisibilityTimeout": str(self.options.visibility_timeout),
                "ReceiveMessageWaitTimeSeconds": "20",
                "SqsManagedSseEnabled": "true",
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": self.options.max_receive_count}
                ),
                "Policy": json.dumps(self.queue_policy(queue_arn, topic_arn)),
            },
        )
        self.ensure_subscription(topic_arn, queue_arn)
        secret_id = self.ensure_secret()
        for identity in self.options.identities:
            self.ensure_identity(identity)
        self.ensure_configuration_set(topic_arn)

        if self.options.endpoint_url:
            queue_url = local_queue_url(self.options.endpoint_url, account, self.names.queue)
        settings = {
            "SES_REGION": region,
            "SES_EVENTS_QUEUE_URL": queue_url,
            "SES_CONFIGURATION_SET": self.names.configuration_set,
        }
        if secret_id:
            settings["SECRETS_MANAGER_SECRET_ID"] = secret_id
        return Result(settings, self.changes, self.notes)

    # --- SNS ---------------------------------------------------------------------------------

    def topic_policy(self, topic_arn: str, account: str, configuration_set_arn: str) -> dict:
        return {
            "Version": "2012-10-17",
            "Id": f"{self.names.topic}-policy",
            "Statement": [
                {
                    "Sid": "AccountOwnerManages",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": _DEFAULT_TOPIC_ACTIONS,
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

    def ensure_topic(self, topic_arn: str, account: str, configuration_set_arn: str) -> None:
        sns = self.client("sns")
        try:
            attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
            action = "unchanged"
        except ClientError as error:
            if _error_code(error) not in ("NotFound", "NotFoundException"):
                raise
            sns.create_topic(Name=self.names.topic)
            attributes = {}
            action = "created"
        policy = self.topic_policy(topic_arn, account, configuration_set_arn)
        if not _same_json(attributes.get("Policy"), policy):
            sns.set_topic_attributes(
                TopicArn=topic_arn, AttributeName="Policy", AttributeValue=json.dumps(policy)
            )
            action = "updated" if action == "unchanged" else action
        self._record(action, "sns topic", self.names.topic)

    def ensure_subscription(self, topic_arn: str, queue_arn: str) -> None:
        sns = self.client("sns")
        found = None
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
            for subscription in page["Subscriptions"]:
                if subscription["Protocol"] == "sqs" and subscription["Endpoint"] == queue_arn:
                    found = subscription["SubscriptionArn"]
        name = f"{self.names.topic} -> {self.names.queue}"
        if found is None:
            sns.subscribe(
                TopicArn=topic_arn,
                Protocol="sqs",
                Endpoint=queue_arn,
                Attributes={"RawMessageDelivery": "false"},
                ReturnSubscriptionArn=True,
            )
            self._record("created", "sns subscription", name)
            return
        attributes = sns.get_subscription_attributes(SubscriptionArn=found)["Attributes"]
        if attributes.get("RawMessageDelivery", "false") != "false":
            sns.set_subscription_attributes(
                SubscriptionArn=found, AttributeName="RawMessageDelivery", AttributeValue="false"
            )
            self._record("updated", "sns subscription", name)
        else:
            self._record("unchanged", "sns subscription", name)

    # --- SQS ---------------------------------------------------------------------------------

    @staticmethod
    def queue_policy(queue_arn: str, topic_arn: str) -> dict:
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

    def ensure_queue(self, name: str, desired: Mapping[str, str]) -> str:
        sqs = self.client("sqs")
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError as error:
            if _error_code(error) not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
                raise
            url = sqs.create_queue(QueueName=name, Attributes=dict(desired))["QueueUrl"]
            self._record("created", "sqs queue", name)
            return url
        current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        different = {}
        for key, value in desired.items():
            if value.startswith("{"):
                same = _same_json(current.get(key), json.loads(value))
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

    def _secret_document(self) -> dict[str, str] | None:
        options = self.options
        if not options.smtp_username:
            return None
        if options.smtp_password and options.smtp_secret_access_key:
            raise ValueError("give the SMTP password or the secret access key, not both")
        if options.smtp_password:
            return {"SES_SMTP_USERNAME": options.smtp_username, "SES_SMTP_PASSWORD": options.smtp_password}
        if options.smtp_secret_access_key:
            return {
                "SES_SMTP_USERNAME": options.smtp_username,
                "SES_SMTP_SECRET_ACCESS_KEY": options.smtp_secret_access_key,
            }
        raise ValueError(
            "--smtp-username needs a password: --smtp-password-file, SES_SMTP_PASSWORD or "
            "SES_SMTP_SECRET_ACCESS_KEY"
        )

    def ensure_secret(self) -> str | None:
        secrets = self.client("secretsmanager")
        name = self.names.secret
        document = self._secret_document()
        try:
            described = secrets.describe_secret(SecretId=name)
        except ClientError as error:
            if _error_code(error) != "ResourceNotFoundException":
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
                Name=name,
                Description="ses-relay: SES SMTP credentials (SECRETS_MANAGER_SECRET_ID)",
                SecretString=json.dumps(document),
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
        if _same_json(current, document):
            self._record("unchanged", "secretsmanager secret", name)
        else:
            secrets.put_secret_value(SecretId=name, SecretString=json.dumps(document))
            self._record("updated", "secretsmanager secret", name)
        return name

    # --- SES ---------------------------------------------------------------------------------

    def _v2(self, call: Callable[[], Any]) -> Any:
        """Run an SES v2 call; None (and v1 from now on) where the endpoint has no SES v2."""
        if not self._ses_v2:
            return None
        try:
            return call()
        except ClientError as error:
            if not _not_emulated(error):
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
                if _error_code(error) != "NotFoundException":
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
            action = self._ensure_identity_v1(identity)
        self._record(action, "ses identity", identity)

    def _ensure_identity_v1(self, identity: str) -> str:
        ses = self.client("ses")
        # Not GetIdentityVerificationAttributes: LocalStack answers it for identities it never saw.
        known = {
            name.lower()
            for page in ses.get_paginator("list_identities").paginate()
            for name in page["Identities"]
        }
        if identity.lower() in known:
            return "unchanged"
        if "@" in identity:
            ses.verify_email_identity(EmailAddress=identity)
        else:
            ses.verify_domain_identity(Domain=identity)
        return "created"

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
                if _error_code(error) != "NotFoundException":
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
            actions = self._ensure_configuration_set_v1(name, destination, topic_arn)
        self._record(actions[0], "ses configuration set", name)
        self._record(actions[1], "ses event destination", f"{name}/{destination} -> {self.names.topic}")

    def _ensure_configuration_set_v1(self, name: str, destination: str, topic_arn: str) -> tuple[str, str]:
        ses = self.client("ses")
        wanted_types = event_types(self.options.track_opens_and_clicks, v2=False)
        try:
            described = ses.describe_configuration_set(
                ConfigurationSetName=name, ConfigurationSetAttributeNames=["eventDestinations"]
            )
            set_action = "unchanged"
        except ClientError as error:
            if _error_code(error) != "ConfigurationSetDoesNotExist":
                raise
            ses.create_configuration_set(ConfigurationSet={"Name": name})
            described = {"EventDestinations": []}
            set_action = "created"
        wanted = {
            "Name": destination,
            "Enabled": True,
            "MatchingEventTypes": list(wanted_types),
            "SNSDestination": {"TopicARN": topic_arn},
        }
        current = next((d for d in described.get("EventDestinations", []) if d["Name"] == destination), None)
        if current is None:
            try:
                ses.create_configuration_set_event_destination(
                    ConfigurationSetName=name, EventDestination=wanted
                )
                return set_action, "created"
            except ClientError as error:
                # LocalStack keeps a set's destinations after DeleteConfigurationSet, so a set
                # made anew can already "have" one that Describe does not show: replace it.
                if _error_code(error) != "EventDestinationAlreadyExists":
                    raise
                current = {}
        if (
            current.get("Enabled")
            and set(current.get("MatchingEventTypes", [])) == set(wanted_types)
            and current.get("SNSDestination", {}).get("TopicARN") == topic_arn
        ):
            return set_action, "unchanged"
        try:
            ses.update_configuration_set_event_destination(ConfigurationSetName=name, EventDestination=wanted)
        except ClientError as error:
            if not _not_emulated(error):
                raise
            ses.delete_configuration_set_event_destination(
                ConfigurationSetName=name, EventDestinationName=destination
            )
            ses.create_configuration_set_event_destination(ConfigurationSetName=name, EventDestination=wanted)
        return set_action, "updated"


# --- command line --------------------------------------------------------------------------------


def env_lines(settings: Mapping[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def _read_secret_file(path: Path | None) -> str | None:
    if path is None:
        return None
    return path.read_text(encoding="utf-8").rstrip("\r\n")


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m deploy.bootstrap",
        description="Create the SNS topic, SQS queues, secret, SES identities and configuration set that "
        "ses-relay needs; print the appliance's settings. Idempotent.",
    )
    parser.add_argument(
        "--name", default="ses-relay", help="prefix of every resource name (default ses-relay)"
    )
    parser.add_argument(
        "--region",
        default=env("AWS_REGION") or env("AWS_DEFAULT_REGION"),
        help="AWS region of SES and the queue (default $AWS_REGION)",
    )
    parser.add_argument(
        "--identity",
        action="append",
        default=[],
        dest="identities",
        metavar="DOMAIN|ADDRESS",
        help="SES identity to create (repeatable)",
    )
    parser.add_argument(
        "--max-receive-count",
        type=int,
        default=DEFAULT_MAX_RECEIVE_COUNT,
        help=f"receives before an event moves to the dead-letter queue (default {DEFAULT_MAX_RECEIVE_COUNT})",
    )
    parser.add_argument(
        "--visibility-timeout", type=int, default=60, help="queue visibility timeout, seconds"
    )
    parser.add_argument("--smtp-username", default=env("SES_SMTP_USERNAME"), help="SES SMTP user name")
    parser.add_argument(
        "--smtp-password-file", type=Path, help="file holding the SES SMTP password (or $SES_SMTP_PASSWORD)"
    )
    parser.add_argument(
        "--smtp-secret-access-key-file",
        type=Path,
        help="file holding the IAM secret access key to derive it from (or $SES_SMTP_SECRET_ACCESS_KEY)",
    )
    parser.add_argument(
        "--endpoint-url",
        default=env("AWS_ENDPOINT_URL"),
        help="AWS endpoint, e.g. LocalStack (default $AWS_ENDPOINT_URL)",
    )
    parser.add_argument(
        "--track-opens-and-clicks",
        action="store_true",
        help="also publish open and click events (SES then adds a tracking pixel and rewrites links)",
    )
    parser.add_argument("--env-file", type=Path, help="also write the settings to this file")
    return parser


def main(argv: Iterable[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not args.region:
        parser.error("--region (or AWS_REGION) is required")
    if args.max_receive_count < 1 or args.max_receive_count > 1000:
        parser.error("--max-receive-count must be 1..1000")
    options = Options(
        name=args.name,
        region=args.region,
        identities=args.identities,
        max_receive_count=args.max_receive_count,
        visibility_timeout=args.visibility_timeout,
        smtp_username=args.smtp_username,
        smtp_password=_read_secret_file(args.smtp_password_file)
        or os.environ.get("SES_SMTP_PASSWORD")
        or None,
        smtp_secret_access_key=_read_secret_file(args.smtp_secret_access_key_file)
        or os.environ.get("SES_SMTP_SECRET_ACCESS_KEY")
        or None,
        endpoint_url=args.endpoint_url or None,
        track_opens_and_clicks=args.track_opens_and_clicks,
    )
    try:
        result = Bootstrap(options).run()
    except (ClientError, BotoCoreError, ValueError) as error:
        print(f"bootstrap failed: {error}", file=sys.stderr)
        return 1
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print("changed" if result.changed else "nothing to change: everything already in place", file=sys.stderr)
    sys.stdout.write(env_lines(result.settings))
    if args.env_file:
        args.env_file.write_text(env_lines(result.settings), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
