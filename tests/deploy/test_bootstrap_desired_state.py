"""deploy/bootstrap/desired_state.py: what bootstrap wants to exist, as pure data, without AWS.

Every ARN is in the caller's own partition (from `sts get-caller-identity`'s Arn), not always
`aws`; the secret holds the user name and exactly one credential; the module imports no AWS SDK.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from deploy.bootstrap import compat
from deploy.bootstrap.desired_state import (
    DesiredState,
    EventPipelineArns,
    ResourceNames,
    event_types,
    partition_of,
    smtp_secret_document,
)

DESIRED_STATE = Path(__file__).resolve().parents[2] / "deploy/bootstrap/desired_state.py"


@pytest.mark.parametrize(
    ("caller_arn", "partition"),
    [
        ("arn:aws:iam::123456789012:user/deployer", "aws"),
        ("arn:aws-cn:sts::123456789012:assumed-role/deploy/session", "aws-cn"),
        ("arn:aws-us-gov:iam::123456789012:root", "aws-us-gov"),
        # LocalStack's answer.
        ("arn:aws:iam::000000000000:root", "aws"),
    ],
)
def test_partition_is_read_from_the_callers_arn(caller_arn: str, partition: str) -> None:
    assert partition_of(caller_arn) == partition


@pytest.mark.parametrize("not_an_arn", ["", "123456789012", "arn::iam::123456789012:root", "urn:aws:iam"])
def test_anything_but_an_arn_is_refused(not_an_arn: str) -> None:
    with pytest.raises(ValueError, match="not an ARN"):
        partition_of(not_an_arn)


def test_every_arn_is_in_the_callers_partition() -> None:
    arns = EventPipelineArns.build(ResourceNames("relay"), "aws-cn", "cn-north-1", "123456789012")
    assert arns == EventPipelineArns(
        event_topic="arn:aws-cn:sns:cn-north-1:123456789012:relay-events",
        event_queue="arn:aws-cn:sqs:cn-north-1:123456789012:relay-events",
        dead_letter_queue="arn:aws-cn:sqs:cn-north-1:123456789012:relay-events-dlq",
        configuration_set="arn:aws-cn:ses:cn-north-1:123456789012:configuration-set/relay-events",
    )


def test_policies_carry_the_partitioned_arns() -> None:
    """What bootstrap writes into the topic and queue policies comes from those ARNs unchanged."""
    desired = DesiredState.build(ResourceNames("relay"), "aws-us-gov", "us-gov-west-1", "123456789012")
    queue_policy = json.loads(desired.event_queue_attributes["Policy"])
    statements = desired.topic_policy["Statement"] + queue_policy["Statement"]
    for statement in statements:
        assert statement["Resource"].startswith("arn:aws-us-gov:")
    for condition in [statement["Condition"] for statement in statements]:
        for operator in condition.values():
            for value in operator.values():
                assert not value.startswith("arn:aws:")


def test_the_names_other_code_uses_are_the_precise_ones() -> None:
    names = ResourceNames("relay")
    assert (names.topic, names.queue) == (names.event_topic, names.event_queue) == ("relay-events",) * 2


def test_the_secret_holds_the_user_name_and_exactly_one_credential() -> None:
    assert smtp_secret_document(None, "ignored") is None
    assert smtp_secret_document("AKIA", password="pw") == {
        "SES_SMTP_USERNAME": "AKIA",
        "SES_SMTP_PASSWORD": "pw",
    }
    assert smtp_secret_document("AKIA", secret_access_key="key") == {
        "SES_SMTP_USERNAME": "AKIA",
        "SES_SMTP_SECRET_ACCESS_KEY": "key",
    }
    with pytest.raises(ValueError, match="not both"):
        smtp_secret_document("AKIA", "pw", "key")
    with pytest.raises(ValueError, match="needs a password") as refused:
        smtp_secret_document("AKIA")
    assert "AKIA" not in str(refused.value)


@pytest.mark.parametrize("tracking", [False, True])
def test_ses_v1_has_every_v2_event_type_but_the_v2_only_ones(tracking: bool) -> None:
    """LocalStack's SES v1 gets the same types, in v1's spelling, less the two v1 never had."""
    v1 = compat.ses_v1_event_types(event_types(tracking))
    assert ("open" in v1, "click" in v1) == (tracking, tracking)
    assert len(v1) == len(event_types(tracking)) - len(compat.SES_V2_ONLY_EVENT_TYPES)
    assert "renderingFailure" in v1 and "deliveryDelay" not in v1


def test_desired_state_imports_only_the_standard_library() -> None:
    """Pure data and pure functions: no AWS SDK, no I/O library, nothing of the reconciler's."""
    tree = ast.parse(DESIRED_STATE.read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    top_level = {name.partition(".")[0] for name in imported}
    assert top_level <= set(sys.stdlib_module_names) | {"__future__"}, top_level
