"""The CloudFormation template, parsed, and deployed to LocalStack.

`stack_on_localstack` is the template deployed to LocalStack's CloudFormation with what LocalStack can
really create: the SNS topic and its policy, the queue with its DLQ and policy, the subscription,
the secret and the IAM policies and instance role. ECS, the NLB, security groups and the log group
(DeployCompute), the SES configuration set (DeploySes), the alarms (DeployAlarms) and the
customer managed key are turned off: LocalStack's CloudFormation has no provider for the SES
configuration set and would silently pretend to create it, and the harness does not run ECS, ELB,
EC2, Logs, CloudWatch or KMS.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from tests.deploy import cfn
from tests.harness.waiting import wait_until

LOCALSTACK_PARAMETERS = {
    **cfn.REQUIRED_PARAMETERS,
    "DeployCompute": "false",
    "DeploySes": "false",
    "DeployAlarms": "false",
    "UseCustomerManagedKey": "false",
}


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return cfn.load()


@dataclass(frozen=True)
class DeployedStack:
    name: str
    endpoint_url: str
    outputs: dict[str, str]
    # Logical ID -> (resource type, physical ID), as LocalStack's CloudFormation reports them.
    resources: dict[str, tuple[str, str]]

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url)


def wait_for_stack(client: Any, name: str, timeout: float = 180) -> dict[str, Any]:
    """The stack once CloudFormation has finished with it (whether it succeeded or not)."""

    def finished() -> dict[str, Any] | None:
        stack = client.describe_stacks(StackName=name)["Stacks"][0]
        return None if stack["StackStatus"].endswith("_IN_PROGRESS") else stack

    return wait_until(finished, timeout=timeout, what=f"stack {name} to finish", interval=0.5)


@pytest.fixture(scope="module")
def stack_on_localstack(localstack_url: str) -> Iterator[DeployedStack]:
    client = boto3.client("cloudformation", endpoint_url=localstack_url)
    name = f"ses-relay-{uuid.uuid4().hex[:8]}"
    client.create_stack(
        StackName=name,
        TemplateBody=cfn.TEMPLATE.read_text(encoding="utf-8"),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in LOCALSTACK_PARAMETERS.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    stack = wait_for_stack(client, name)
    if stack["StackStatus"] != "CREATE_COMPLETE":
        failures = [
            f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason')}"
            for event in client.describe_stack_events(StackName=name)["StackEvents"]
            if event["ResourceStatus"].endswith("_FAILED")
        ]
        pytest.fail(f"stack {name} ended {stack['StackStatus']}:\n" + "\n".join(failures))
    summaries = client.list_stack_resources(StackName=name)["StackResourceSummaries"]
    try:
        yield DeployedStack(
            name=name,
            endpoint_url=localstack_url,
            outputs={output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]},
            resources={
                s["LogicalResourceId"]: (s["ResourceType"], s["PhysicalResourceId"]) for s in summaries
            },
        )
    finally:
        client.delete_stack(StackName=name)
