"""The ECS task definition and service, checked against botocore's ECS model and the appliance.

CloudFormation's ECS properties are the API's members in PascalCase. Each property is mapped to
its member of `RegisterTaskDefinition` / `CreateService` by name (case-insensitively; an unknown
property fails), map keys such as the awslogs options are kept, enums are checked (botocore's
validator does not), and `botocore.validate.ParamValidator` then checks types, required members
and ranges, as the SDK would before sending the request.
"""

from __future__ import annotations

import re
from typing import Any

import botocore.session
import pytest
from botocore.model import Shape
from botocore.validate import ParamValidator

from entrypoint.settings.schema import SETTINGS_BY_NAME
from tests.deploy import cfn

ECS = botocore.session.get_session().get_service_model("ecs")


def to_api(value: Any, shape: Shape, path: str = "") -> Any:
    if shape.type_name == "structure":
        assert isinstance(value, dict), f"{path}: expected an object for {shape.name}"
        members = {name.lower(): name for name in shape.members}
        converted = {}
        for key, item in value.items():
            member = members.get(key.lower())
            assert member, f"{path}.{key}: {shape.name} has no such member"
            converted[member] = to_api(item, shape.members[member], f"{path}.{key}")
        return converted
    if shape.type_name == "list":
        assert isinstance(value, list), f"{path}: expected a list"
        return [to_api(item, shape.member, f"{path}[{i}]") for i, item in enumerate(value)]
    if shape.type_name == "map":
        return {key: to_api(item, shape.value, f"{path}.{key}") for key, item in value.items()}
    enum = getattr(shape, "enum", None)  # only string shapes have one
    if enum:
        assert value in enum, f"{path}: {value!r} is not one of {enum}"
    return value


def validate(operation: str, params: dict[str, Any]) -> None:
    input_shape = ECS.operation_model(operation).input_shape
    report = ParamValidator().validate(params, input_shape)
    assert not report.has_errors(), report.generate_report()


@pytest.fixture(params=["X86_64", "ARM64"])
def stack(template: dict[str, Any], request: pytest.FixtureRequest) -> cfn.Stack:
    return cfn.Stack(template, CpuArchitecture=request.param, ImageRepositoryArn="")


def register_task_definition_input(stack: cfn.Stack) -> dict[str, Any]:
    (task_definition,) = stack.of_type("AWS::ECS::TaskDefinition").values()
    properties = stack.resolve(task_definition["Properties"])
    return to_api(properties, ECS.operation_model("RegisterTaskDefinition").input_shape)


def test_task_definition_is_a_valid_register_task_definition_request(stack: cfn.Stack) -> None:
    validate("RegisterTaskDefinition", register_task_definition_input(stack))


def test_service_is_a_valid_create_service_request(stack: cfn.Stack) -> None:
    (service,) = stack.of_type("AWS::ECS::Service").values()
    params = to_api(stack.resolve(service["Properties"]), ECS.operation_model("CreateService").input_shape)
    # CloudFormation generates the name the API requires.
    validate("CreateService", {"serviceName": "generated-by-cloudformation", **params})


def test_the_validation_can_fail(stack: cfn.Stack) -> None:
    params = register_task_definition_input(stack)
    params["containerDefinitions"][0]["stopTimeout"] = "120"
    with pytest.raises(AssertionError, match="stopTimeout"):
        validate("RegisterTaskDefinition", params)
    with pytest.raises(AssertionError, match="no such member"):
        to_api({"StopTimout": 120}, ECS.shape_for("ContainerDefinition"))
    with pytest.raises(AssertionError, match="is not one of"):
        to_api({"NetworkMode": "vpc"}, ECS.operation_model("RegisterTaskDefinition").input_shape)


def test_fargate_in_private_subnets_without_public_ip(stack: cfn.Stack) -> None:
    task = register_task_definition_input(stack)
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert task["networkMode"] == "awsvpc"
    (service,) = stack.of_type("AWS::ECS::Service").values()
    network = stack.resolve(service["Properties"])["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    assert network["Subnets"] == stack.parameters["PrivateSubnetIds"]
    assert network["SecurityGroups"] == ["ref:TaskSecurityGroup"]


def test_container_runs_like_the_image(stack: cfn.Stack) -> None:
    (container,) = register_task_definition_input(stack)["containerDefinitions"]
    assert container["image"] == cfn.REQUIRED_PARAMETERS["ImageUri"]
    assert container["portMappings"] == [{"containerPort": 25, "protocol": "tcp"}]
    assert container["healthCheck"]["command"] == ["CMD", "ses-relay-healthcheck"]
    # Fargate's maximum: supervisord stops the logger, Postfix and rsyslog in turn.
    assert container["stopTimeout"] == 120
    mounts = {mount["containerPath"] for mount in container["mountPoints"]}
    assert mounts == {"/var/spool/postfix", "/var/log"}
    log = container["logConfiguration"]
    assert log["logDriver"] == "awslogs"
    assert log["options"]["awslogs-group"] == "ref:LogGroup"
    assert log["options"]["awslogs-region"] == cfn.PSEUDO_PARAMETERS["AWS::Region"]


@pytest.mark.parametrize("password_key", ["SES_SMTP_PASSWORD", "SES_SMTP_SECRET_ACCESS_KEY"])
def test_credentials_come_from_the_secret_by_json_key(template: dict[str, Any], password_key: str) -> None:
    stack = cfn.Stack(template, SmtpPasswordKey=password_key)
    (container,) = register_task_definition_input(stack)["containerDefinitions"]
    secrets = {secret["name"]: secret["valueFrom"] for secret in container["secrets"]}
    # <secret ARN>:<json-key>:<version-stage>:<version-id>, the latest version.
    assert secrets == {
        "SES_SMTP_USERNAME": "ref:SmtpCredentials:SES_SMTP_USERNAME::",
        password_key: f"ref:SmtpCredentials:{password_key}::",
    }
    environment = {item["name"] for item in container["environment"]}
    assert not environment & {"SES_SMTP_USERNAME", "SES_SMTP_PASSWORD", "SES_SMTP_SECRET_ACCESS_KEY"}


def test_environment_configures_the_relay_for_its_clients(template: dict[str, Any]) -> None:
    stack = cfn.Stack(template, AllowedClientCidr="10.42.0.0/20", SendingDomain="mail.example.org")
    (container,) = register_task_definition_input(stack)["containerDefinitions"]
    environment = {item["name"]: item["value"] for item in container["environment"]}
    assert environment == {
        "SES_REGION": cfn.PSEUDO_PARAMETERS["AWS::Region"],
        "SES_CONFIGURATION_SET": "ref:ConfigurationSet",
        "SES_EVENTS_QUEUE_URL": "ref:EventsQueue",
        "RELAY_ALLOWED_SENDERS": "@mail.example.org",
        # The NLB preserves client addresses: Postfix must allow the clients themselves.
        "RELAY_ALLOWED_NETWORKS": "10.42.0.0/20",
        "RELAY_HOSTNAME": "ses-relay.mail.example.org",
        "RELAY_DRAIN_SECONDS": "90",
    }
    stack = cfn.Stack(template, AllowedSenders="app@example.org", RelayHostname="relay.example.org")
    (container,) = register_task_definition_input(stack)["containerDefinitions"]
    environment = {item["name"]: item["value"] for item in container["environment"]}
    assert environment["RELAY_ALLOWED_SENDERS"] == "app@example.org"
    assert environment["RELAY_HOSTNAME"] == "relay.example.org"


def test_every_variable_is_an_appliance_setting(stack: cfn.Stack) -> None:
    """The entrypoint refuses unknown SES_/RELAY_ variables, so a typo here would stop every task."""
    (container,) = register_task_definition_input(stack)["containerDefinitions"]
    names = [item["name"] for item in container["environment"] + container["secrets"]]
    unknown = [n for n in names if n not in SETTINGS_BY_NAME]
    assert not unknown


def test_service_sits_behind_the_nlb_and_replaces_tasks_safely(stack: cfn.Stack) -> None:
    (service,) = stack.of_type("AWS::ECS::Service").values()
    properties = stack.resolve(service["Properties"])
    assert properties["LaunchType"] == "FARGATE"
    assert properties["LoadBalancers"] == [
        {"ContainerName": "relay", "ContainerPort": 25, "TargetGroupArn": "ref:TargetGroup"}
    ]
    deployment = properties["DeploymentConfiguration"]
    assert deployment["MinimumHealthyPercent"] == 100
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert service["DependsOn"] == "Listener"


def test_execution_role_pulls_only_from_the_named_repository(template: dict[str, Any]) -> None:
    repository = "arn:aws:ecr:us-east-1:123456789012:repository/ses-relay"
    with_ecr = cfn.Stack(template, ImageRepositoryArn=repository)
    policies = with_ecr.resources()["ExecutionRole"]["Properties"]["Policies"]
    assert [p["PolicyName"] for p in policies] == ["write-logs", "pull-image"]
    public = cfn.Stack(template, ImageRepositoryArn="")
    policies = public.resources()["ExecutionRole"]["Properties"]["Policies"]
    assert [p["PolicyName"] for p in policies] == ["write-logs"]
    assert re.fullmatch(template["Parameters"]["ImageRepositoryArn"]["AllowedPattern"], repository)


def test_the_drain_fits_inside_the_stop_timeout(stack: cfn.Stack) -> None:
    """ECS sends SIGTERM once the NLB has drained the target, then kills the task after
    stopTimeout: the relay's drain and its programs' stop must fit in between."""
    (container,) = register_task_definition_input(stack)["containerDefinitions"]
    environment = {item["name"]: item["value"] for item in container["environment"]}
    drain = int(environment["RELAY_DRAIN_SECONDS"])
    assert drain + 20 <= container["stopTimeout"] <= 120  # Fargate's maximum
