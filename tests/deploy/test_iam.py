"""Every policy in the template (and the EC2 instance-role policy file) is least privilege.

Rules, for every combination of the switches that changes a policy:

* no `*` action and no `service:*` action, no NotAction/NotResource/NotPrincipal;
* every Resource is a resource this stack creates, named by Ref or Fn::GetAtt, except the
  documented `EXCEPTIONS` below, and each exception must still be needed;
* resource policies (topic, queue, key) name a service principal with a source condition, or the
  account itself, never everyone;
* the roles get exactly the policies they need: the task role only consumes the queue, the
  execution role reads the secret it injects, the EC2 instance role does both.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.deploy import cfn

EC2_POLICY = cfn.REPO / "deploy/ec2/instance-role-policy.json"

ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
# (policy, sorted actions) -> the Resource allowed although it is not a Ref/GetAtt to this stack.
# The ECS agent (execution role) and the EC2 host (instance role) pull the image from ECR:
# * ECR's registry login is account-wide: AWS accepts only Resource "*" for it;
# * the image repository is the operator's, not the stack's: exactly the ARN they pass.
# * SES v2 GetAccount (the pacer's SES_MAX_SEND_RATE=auto, the start-up check's sandbox status) and
#   SES v1 GetIdentityVerificationAttributes (the start-up check's sender identities) have no
#   resource type: only "*".
EXCEPTIONS: dict[tuple[str, tuple[str, ...]], Any] = {
    ("SendRateReaderPolicy", ("ses:GetAccount",)): "*",
    ("SendRateReaderPolicy", ("ses:GetIdentityVerificationAttributes",)): "*",
    ("ExecutionRole/pull-image", ("ecr:GetAuthorizationToken",)): "*",
    ("ExecutionRole/pull-image", ECR_PULL_ACTIONS): {"Ref": "ImageRepositoryArn"},
    ("InstanceRole/pull-image", ("ecr:GetAuthorizationToken",)): "*",
    ("InstanceRole/pull-image", ECR_PULL_ACTIONS): {"Ref": "ImageRepositoryArn"},
}
# A key policy is attached to its key: Resource "*" there means that key and nothing else.
KEY_POLICY_RESOURCE = "*"
# Conditions that scope a service principal to this stack's resources. CloudWatch Logs is scoped
# by the log group in the encryption context, the condition its user guide documents for keys.
SOURCE_CONDITION_KEYS = {"aws:sourcearn", "aws:sourceaccount"}
KEY_SOURCE_CONDITION_KEYS = SOURCE_CONDITION_KEYS | {"kms:encryptioncontext:aws:logs:arn"}

SWITCHES = [
    {"DeployCompute": compute, "UseCustomerManagedKey": cmk, "ImageRepositoryArn": repository}
    for compute, cmk, repository in itertools.product(
        ["true", "false"], ["true", "false"], ["", "arn:aws:ecr:us-east-1:123456789012:repository/ses-relay"]
    )
]
POLICY_KEYS = {"PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument"}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policies(stack: cfn.Stack) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(where, kind, document) for every policy document the stack creates."""
    for name, resource in stack.resources().items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::IAM::ManagedPolicy":
            yield name, "identity", properties["PolicyDocument"]
        elif kind == "AWS::IAM::Role":
            yield f"{name}/trust", "trust", properties["AssumeRolePolicyDocument"]
            for policy in properties.get("Policies", []):
                yield f"{name}/{policy['PolicyName']}", "identity", policy["PolicyDocument"]
        elif kind in ("AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy"):
            yield name, "resource", properties["PolicyDocument"]
        elif kind == "AWS::KMS::Key":
            yield name, "key", properties["KeyPolicy"]


def policy_keys_in(node: Any) -> int:
    if isinstance(node, dict):
        return sum((key in POLICY_KEYS) + policy_keys_in(value) for key, value in node.items())
    if isinstance(node, list):
        return sum(policy_keys_in(item) for item in node)
    return 0


def is_stack_resource(stack: cfn.Stack, resource: Any) -> bool:
    call = cfn.intrinsic(resource)
    if call and call[0] == "Ref":
        return call[1] in stack.resources()
    if call and call[0] == "Fn::GetAtt":
        return call[1][0] in stack.resources() and call[1][1] == "Arn"
    return False


def problems(stack: cfn.Stack, used_exceptions: set[tuple[str, tuple[str, ...]]] | None = None) -> list[str]:
    found = []
    for where, kind, document in policies(stack):
        for index, statement in enumerate(as_list(document["Statement"])):
            at = f"{where}[{index}]"
            for key in ("NotAction", "NotResource", "NotPrincipal"):
                if key in statement:
                    found.append(f"{at}: {key}")
            actions = sorted(as_list(statement.get("Action", [])))
            for action in actions:
                if action == "*" or action.endswith(":*") or ":" not in action:
                    found.append(f"{at}: action {action!r}")
            principal = statement.get("Principal")
            if principal in ("*", {"AWS": "*"}):
                found.append(f"{at}: everyone as principal")
            if kind in ("resource", "key") and isinstance(principal, dict) and "Service" in principal:
                condition_keys = {
                    key.lower() for operator in statement.get("Condition", {}).values() for key in operator
                }
                allowed = KEY_SOURCE_CONDITION_KEYS if kind == "key" else SOURCE_CONDITION_KEYS
                if not condition_keys & allowed:
                    found.append(f"{at}: service principal without aws:SourceArn/aws:SourceAccount")
            if kind == "trust":
                if "Resource" in statement:
                    found.append(f"{at}: a trust policy names a Resource")
                continue
            for resource in as_list(statement.get("Resource")):
                exception = EXCEPTIONS.get((where, tuple(actions)))
                if kind == "key" and resource == KEY_POLICY_RESOURCE:
                    continue
                if exception is not None and resource == exception:
                    if used_exceptions is not None:
                        used_exceptions.add((where, tuple(actions)))
                    continue
                if not is_stack_resource(stack, resource):
                    found.append(f"{at}: Resource {resource!r} is not a resource of this stack")
    return found


@pytest.mark.parametrize("switches", SWITCHES, ids=lambda s: "-".join(f"{k}={v[:5]}" for k, v in s.items()))
def test_every_policy_is_scoped_to_this_stack(template: dict[str, Any], switches: dict[str, str]) -> None:
    stack = cfn.Stack(template, **switches)
    assert problems(stack) == []


def test_every_policy_in_the_template_is_checked(template: dict[str, Any]) -> None:
    stack = cfn.Stack(template, DeployCompute="true", UseCustomerManagedKey="true", ImageRepositoryArn="x")
    for_ec2 = cfn.Stack(template, DeployCompute="false", ImageRepositoryArn="x")
    checked = len(list(policies(stack))) + sum(1 for where, _, _ in policies(for_ec2) if "Instance" in where)
    assert checked == policy_keys_in(template["Resources"])


def test_every_exception_is_still_needed(template: dict[str, Any]) -> None:
    used: set[tuple[str, tuple[str, ...]]] = set()
    for switches in SWITCHES:
        problems(cfn.Stack(template, **switches), used)
    assert used == set(EXCEPTIONS)


def test_the_checks_can_fail(template: dict[str, Any]) -> None:
    broken = copy.deepcopy(template)
    statement = broken["Resources"]["EventsConsumerPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    statement.update(Action="sqs:*", Resource="*")
    assert problems(cfn.Stack(broken)) == [
        "EventsConsumerPolicy[0]: action 'sqs:*'",
        "EventsConsumerPolicy[0]: Resource '*' is not a resource of this stack",
    ]
    statement.update(Action="sqs:ReceiveMessage", Resource={"Ref": "ImageRepositoryArn"})
    assert problems(cfn.Stack(broken)) == [
        "EventsConsumerPolicy[0]: Resource {'Ref': 'ImageRepositoryArn'} is not a resource of this stack"
    ]
    topic_statement = broken["Resources"]["EventsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    del topic_statement["Condition"]
    assert "EventsTopicPolicy[0]: service principal without aws:SourceArn/aws:SourceAccount" in problems(
        cfn.Stack(broken)
    )


def statements(stack: cfn.Stack, policy: str) -> dict[str, dict[str, Any]]:
    document = stack.resources()[policy]["Properties"]["PolicyDocument"]
    return {statement["Sid"]: statement for statement in document["Statement"]}


@pytest.mark.parametrize("cmk", ["true", "false"])
def test_consumer_may_only_read_and_delete_events(template: dict[str, Any], cmk: str) -> None:
    stack = cfn.Stack(template, UseCustomerManagedKey=cmk)
    expected = {
        "ConsumeSesEvents": {
            "Sid": "ConsumeSesEvents",
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": {"Fn::GetAtt": ["EventsQueue", "Arn"]},
        }
    }
    if cmk == "true":
        expected["DecryptSesEvents"] = {
            "Sid": "DecryptSesEvents",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": {"Fn::GetAtt": ["EncryptionKey", "Arn"]},
        }
    assert statements(stack, "EventsConsumerPolicy") == expected


@pytest.mark.parametrize("cmk", ["true", "false"])
def test_secret_reader_may_only_read_the_secret(template: dict[str, Any], cmk: str) -> None:
    stack = cfn.Stack(template, UseCustomerManagedKey=cmk)
    found = statements(stack, "SecretReaderPolicy")
    assert found["ReadSmtpCredentials"]["Action"] == "secretsmanager:GetSecretValue"
    assert found["ReadSmtpCredentials"]["Resource"] == {"Ref": "SmtpCredentials"}
    assert ("DecryptSmtpCredentials" in found) == (cmk == "true")


def test_roles_get_exactly_what_they_need(template: dict[str, Any]) -> None:
    ecs = cfn.Stack(template, DeployCompute="true").resources()
    # Secrets are injected by the ECS agent (execution role): the appliance itself never reads it.
    # It consumes the events and reads the account's send rate (SES_MAX_SEND_RATE=auto).
    assert ecs["TaskRole"]["Properties"] == {
        "AssumeRolePolicyDocument": ecs["TaskRole"]["Properties"]["AssumeRolePolicyDocument"],
        "ManagedPolicyArns": [{"Ref": "EventsConsumerPolicy"}, {"Ref": "SendRateReaderPolicy"}],
    }
    assert ecs["ExecutionRole"]["Properties"]["ManagedPolicyArns"] == [{"Ref": "SecretReaderPolicy"}]
    assert "InstanceRole" not in ecs
    ec2 = cfn.Stack(template, DeployCompute="false").resources()
    assert ec2["InstanceRole"]["Properties"]["ManagedPolicyArns"] == [
        {"Ref": "EventsConsumerPolicy"},
        {"Ref": "SecretReaderPolicy"},
        {"Ref": "SendRateReaderPolicy"},
    ]
    assert "TaskRole" not in ec2 and "ExecutionRole" not in ec2


def test_ec2_host_pulls_only_from_the_named_repository(template: dict[str, Any]) -> None:
    """The Compose host logs in to ECR with its instance role: without this it cannot get the image."""
    repository = "arn:aws:ecr:us-east-1:123456789012:repository/ses-relay"
    role = cfn.Stack(template, DeployCompute="false", ImageRepositoryArn=repository).resources()[
        "InstanceRole"
    ]
    (policy,) = role["Properties"]["Policies"]
    assert policy["PolicyName"] == "pull-image"
    pulls = {
        tuple(sorted(as_list(s["Action"]))): s["Resource"] for s in policy["PolicyDocument"]["Statement"]
    }
    assert pulls == {
        ("ecr:GetAuthorizationToken",): "*",
        ECR_PULL_ACTIONS: {"Ref": "ImageRepositoryArn"},
    }
    # A public image: no ECR permission at all.
    public = cfn.Stack(template, DeployCompute="false", ImageRepositoryArn="").resources()["InstanceRole"]
    assert public["Properties"].get("Policies", []) == []


def test_ecs_roles_trust_only_this_accounts_tasks(template: dict[str, Any]) -> None:
    resources = cfn.Stack(template).resources()
    for role in ("TaskRole", "ExecutionRole"):
        (statement,) = resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_ec2_policy_file_matches_the_stacks_policies(template: dict[str, Any]) -> None:
    """deploy/ec2/instance-role-policy.json grants what the stack's instance role gets, no more."""
    document = json.loads(EC2_POLICY.read_text(encoding="utf-8"))
    stack = cfn.Stack(template, UseCustomerManagedKey="false")
    expected = {
        **statements(stack, "EventsConsumerPolicy"),
        **statements(stack, "SecretReaderPolicy"),
        **statements(stack, "SendRateReaderPolicy"),
    }
    found = {statement["Sid"]: statement for statement in document["Statement"]}
    assert found.keys() == expected.keys()
    for sid, statement in found.items():
        assert statement["Effect"] == "Allow"
        assert as_list(statement["Action"]) == as_list(expected[sid]["Action"])
        if expected[sid]["Resource"] == "*":  # an action with no resource type (EXCEPTIONS)
            assert statement["Resource"] == "*"
            continue
        # A placeholder named after the stack output that holds the ARN.
        placeholder = re.fullmatch(r"\$\{(\w+)\}", statement["Resource"])
        assert placeholder, f"{sid}: Resource must be a ${{Output}} placeholder"
        assert placeholder.group(1) in template["Outputs"]


def test_the_ses_account_reader_may_only_read_the_account_and_identity_verification(
    template: dict[str, Any],
) -> None:
    """Exactly what the pacer (GetAccount) and the start-up check (GetAccount,
    GetIdentityVerificationAttributes) call: nothing that sends, changes or lists."""
    found = statements(cfn.Stack(template), "SendRateReaderPolicy")
    assert found == {
        "ReadSesSendRate": {
            "Sid": "ReadSesSendRate",
            "Effect": "Allow",
            "Action": "ses:GetAccount",
            "Resource": "*",
        },
        "ReadSesIdentityVerification": {
            "Sid": "ReadSesIdentityVerification",
            "Effect": "Allow",
            "Action": "ses:GetIdentityVerificationAttributes",
            "Resource": "*",
        },
    }
