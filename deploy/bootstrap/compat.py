"""Where LocalStack, or SES's v1 API that LocalStack offers instead of v2, differs from AWS.

Each function answers one difference, named in its docstring or comment. Take LocalStack away
and only ``not_emulated`` (never true on AWS) and the SES v1 path it leads to remain, unused.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from deploy.bootstrap._aws import error_code, error_message
from deploy.bootstrap.desired_state import SES_V2_EVENT_TYPES, SES_V2_TRACKING_EVENT_TYPES

# SES v1 has no such event types: they exist in SES v2 only.
SES_V2_ONLY_EVENT_TYPES = ("DELIVERY_DELAY", "SUBSCRIPTION")


def not_emulated(error: ClientError) -> bool:
    """LocalStack's answer for an API it does not implement (SES v2, some SES v1 calls); AWS never
    gives it, so on AWS nothing falls back."""
    message = error_message(error)
    return error_code(error) in ("InternalFailure", "NotImplemented", "UnknownOperationException") and (
        "not yet been emulated" in message or "not been implemented" in message or "license plan" in message
    )


def local_queue_url(endpoint_url: str, account_id: str, queue_name: str) -> str:
    """The queue URL printed when talking to an endpoint such as LocalStack's.

    LocalStack's GetQueueUrl answers ``http://sqs.<region>.<endpoint host>/...``, a host that
    does not resolve; ``<endpoint>/<account>/<queue>`` is one it serves.
    """
    return f"{endpoint_url.rstrip('/')}/{account_id}/{queue_name}"


def ses_v1_event_type(v2_name: str) -> str:
    """SES v1 spells v2's ``RENDERING_FAILURE`` as ``renderingFailure``."""
    first, *rest = v2_name.lower().split("_")
    return first + "".join(word.title() for word in rest)


def ses_v1_event_types(v2_types: tuple[str, ...]) -> tuple[str, ...]:
    """The v2 event types SES v1 has, as SES v1 spells them."""
    return tuple(ses_v1_event_type(name) for name in v2_types if name not in SES_V2_ONLY_EVENT_TYPES)


SES_V1_EVENT_TYPES = ses_v1_event_types(SES_V2_EVENT_TYPES)
SES_V1_TRACKING_EVENT_TYPES = ses_v1_event_types(SES_V2_TRACKING_EVENT_TYPES)


def ensure_identity_v1(ses: Any, identity: str) -> str:
    """Create an SES identity with SES v1 (LocalStack has no SES v2); "created" or "unchanged"."""
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


def ensure_configuration_set_v1(
    ses: Any, name: str, destination: str, topic_arn: str, v2_types: tuple[str, ...]
) -> tuple[str, str]:
    """The configuration set and its SNS event destination with SES v1 (LocalStack has no SES v2):
    the actions taken on each, "created", "updated" or "unchanged"."""
    wanted_types = ses_v1_event_types(v2_types)
    try:
        described = ses.describe_configuration_set(
            ConfigurationSetName=name, ConfigurationSetAttributeNames=["eventDestinations"]
        )
        set_action = "unchanged"
    except ClientError as error:
        if error_code(error) != "ConfigurationSetDoesNotExist":
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
            ses.create_configuration_set_event_destination(ConfigurationSetName=name, EventDestination=wanted)
            return set_action, "created"
        except ClientError as error:
            # LocalStack keeps a set's destinations after DeleteConfigurationSet, so a set
            # made anew can already "have" one that Describe does not show: replace it.
            if error_code(error) != "EventDestinationAlreadyExists":
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
        # LocalStack has no v1 UpdateConfigurationSetEventDestination: delete it and create it again.
        if not not_emulated(error):
            raise
        ses.delete_configuration_set_event_destination(
            ConfigurationSetName=name, EventDestinationName=destination
        )
        ses.create_configuration_set_event_destination(ConfigurationSetName=name, EventDestination=wanted)
    return set_action, "updated"
