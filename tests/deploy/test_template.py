"""What the template builds, resource by resource: the event pipeline, the secret, the network."""

from __future__ import annotations

import json
import re
from typing import Any

import botocore.session
import pytest

from tests.deploy import cfn

SESV2 = botocore.session.get_session().get_service_model("sesv2")


def camel(upper_snake: str) -> str:
    first, *rest = upper_snake.lower().split("_")
    return first + "".join(word.title() for word in rest)


TRACKING_EVENT_TYPES = {"open", "click"}


@pytest.mark.parametrize("tracking", ["false", "true"])
def test_configuration_set_publishes_every_ses_event_type(template: dict[str, Any], tracking: str) -> None:
    stack = cfn.Stack(template, TrackOpensAndClicks=tracking)
    destination = stack.resources()["ConfigurationSetEventDestination"]
    properties = destination["Properties"]["EventDestination"]
    # SES v2's list (the v1 model lacks the newer types); CloudFormation spells them in camelCase.
    every_type = [camel(name) for name in SESV2.shape_for("EventType").enum]
    assert "deliveryDelay" in every_type and set(every_type) >= TRACKING_EVENT_TYPES
    published = properties["MatchingEventTypes"]
    assert len(published) == len(set(published))
    if tracking == "true":
        assert sorted(published) == sorted(every_type)
    else:
        assert sorted(published) == sorted(set(every_type) - TRACKING_EVENT_TYPES)
    assert properties["Enabled"] is True
    assert properties["SnsDestination"] == {"TopicARN": {"Ref": "EventsTopic"}}
    # SES publishes a validation message at once: the topic must already accept it and deliver it.
    assert set(destination["DependsOn"]) == {"EventsTopicPolicy", "EventsSubscription"}


def test_open_and_click_tracking_is_off_unless_asked_for(template: dict[str, Any]) -> None:
    """With open or click events SES adds a tracking pixel and rewrites links in HTML mail."""
    assert template["Parameters"]["TrackOpensAndClicks"]["Default"] == "false"
    destination = cfn.Stack(template).resources()["ConfigurationSetEventDestination"]
    assert not TRACKING_EVENT_TYPES & set(destination["Properties"]["EventDestination"]["MatchingEventTypes"])


def test_only_ses_publishes_and_only_for_this_accounts_configuration_set(template: dict[str, Any]) -> None:
    stack = cfn.Stack(template, ConfigurationSetName="relay-events")
    policy = stack.resources()["EventsTopicPolicy"]["Properties"]
    assert policy["Topics"] == [{"Ref": "EventsTopic"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == {"Ref": "EventsTopic"}
    assert stack.resolve(statement["Condition"]) == {
        "StringEquals": {
            "AWS:SourceAccount": "123456789012",
            "AWS:SourceArn": "arn:aws:ses:us-east-1:123456789012:configuration-set/relay-events",
        }
    }
    # ...which is the configuration set the stack creates and the relay stamps on every message.
    assert stack.resolve(stack.resources()["ConfigurationSet"]["Properties"]["Name"]) == "relay-events"


def test_only_the_topic_sends_to_the_queue(template: dict[str, Any]) -> None:
    policy = cfn.Stack(template).resources()["EventsQueuePolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "EventsQueue"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement == {
        "Sid": "OnlyTheEventsTopicSends",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": {"Fn::GetAtt": ["EventsQueue", "Arn"]},
        "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": "EventsTopic"}}},
    }


@pytest.mark.parametrize("cmk", ["true", "false"])
def test_queues_are_encrypted_and_failures_go_to_the_dead_letter_queue(
    template: dict[str, Any], cmk: str
) -> None:
    resources = cfn.Stack(template, UseCustomerManagedKey=cmk).resources()
    queue = resources["EventsQueue"]["Properties"]
    dead_letters = resources["EventsDeadLetterQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}
    assert 1 < queue["RedrivePolicy"]["maxReceiveCount"] <= 10
    # Expiry counts from the first enqueue: dead letters must outlive the source queue's retention.
    assert dead_letters["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
    for properties in (queue, dead_letters):
        if cmk == "true":
            assert properties["KmsMasterKeyId"] == {"Ref": "EncryptionKey"}
            assert "SqsManagedSseEnabled" not in properties
        else:
            assert properties["SqsManagedSseEnabled"] is True
            assert "KmsMasterKeyId" not in properties
    topic = resources["EventsTopic"]["Properties"]
    assert ("KmsMasterKeyId" in topic) == (cmk == "true")
    assert ("KmsKeyId" in resources["SmtpCredentials"]["Properties"]) == (cmk == "true")


def test_only_the_events_queue_may_use_the_dead_letter_queue(template: dict[str, Any]) -> None:
    """The DLQ names its source queue by an ARN built from the queue's name: they must agree."""
    stack = cfn.Stack(template)
    resources = stack.resources()
    allow = stack.resolve(resources["EventsDeadLetterQueue"]["Properties"]["RedriveAllowPolicy"])
    queue_name = stack.resolve(resources["EventsQueue"]["Properties"]["QueueName"])
    assert allow == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [f"arn:aws:sqs:us-east-1:123456789012:{queue_name}"],
    }


def test_key_policy_names_the_topic_that_uses_the_key(template: dict[str, Any]) -> None:
    """The key policy builds the topic's ARN from its name (a Ref would be a cycle): they must agree."""
    stack = cfn.Stack(template, UseCustomerManagedKey="true")
    resources = stack.resources()
    key_statements = {s["Sid"]: s for s in resources["EncryptionKey"]["Properties"]["KeyPolicy"]["Statement"]}
    sns_arn = stack.resolve(key_statements["SnsDeliversToTheEncryptedQueue"]["Condition"])["ArnEquals"]
    topic_name = stack.resolve(resources["EventsTopic"]["Properties"]["TopicName"])
    assert sns_arn == {"aws:SourceArn": f"arn:aws:sns:us-east-1:123456789012:{topic_name}"}
    ses_condition = stack.resolve(key_statements["SesPublishesToTheEncryptedTopic"]["Condition"])
    topic_condition = stack.resolve(resources["EventsTopicPolicy"]["Properties"]["PolicyDocument"])
    topic_source = topic_condition["Statement"][0]["Condition"]["StringEquals"]["AWS:SourceArn"]
    assert ses_condition["StringEquals"]["aws:SourceArn"] == topic_source


def test_subscription_delivers_the_sns_envelope_to_the_queue(template: dict[str, Any]) -> None:
    subscription = cfn.Stack(template).resources()["EventsSubscription"]
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "EventsTopic"},
        "Protocol": "sqs",
        "Endpoint": {"Fn::GetAtt": ["EventsQueue", "Arn"]},
        "RawMessageDelivery": False,
    }
    assert subscription["DependsOn"] == "EventsQueuePolicy"


SECRET_PLACEHOLDERS = {
    "SES_SMTP_USERNAME": "REPLACE-WITH-SMTP-USER-NAME",
    "SES_SMTP_PASSWORD": "REPLACE-WITH-SMTP-PASSWORD",
    "SES_SMTP_SECRET_ACCESS_KEY": "REPLACE-WITH-SECRET-ACCESS-KEY",
}


def intrinsics_in(node: Any) -> set[str]:
    """Every intrinsic function (and Ref) used anywhere inside node."""
    found = set()
    call = cfn.intrinsic(node)
    if call:
        found.add(call[0])
    if isinstance(node, dict):
        for value in node.values():
            found |= intrinsics_in(value)
    elif isinstance(node, list):
        for item in node:
            found |= intrinsics_in(item)
    return found


@pytest.mark.parametrize("password_key", ["SES_SMTP_PASSWORD", "SES_SMTP_SECRET_ACCESS_KEY"])
def test_secret_is_created_with_placeholders_only(template: dict[str, Any], password_key: str) -> None:
    stack = cfn.Stack(template, SmtpPasswordKey=password_key)
    secret = stack.resolve(stack.resources()["SmtpCredentials"]["Properties"])
    # One constant with both credential keys: the one ECS injects (SmtpPasswordKey) always exists.
    assert json.loads(secret["SecretString"]) == SECRET_PLACEHOLDERS
    assert password_key in SECRET_PLACEHOLDERS
    # The appliance refuses exactly these (exit 78): a task never sends with a placeholder.
    assert all(value.startswith("REPLACE-WITH-") for value in SECRET_PLACEHOLDERS.values())
    # No parameter carries a credential either (it would sit in the stack's parameters): the one
    # that mentions the password only chooses the secret's key name.
    parameters = template["Parameters"]
    assert not [name for name, spec in parameters.items() if spec.get("NoEcho")]
    credential_like = [name for name in parameters if "password" in name.lower() or "secret" in name.lower()]
    assert credential_like == ["SmtpPasswordKey"]
    assert parameters["SmtpPasswordKey"]["AllowedValues"] == [
        "SES_SMTP_PASSWORD",
        "SES_SMTP_SECRET_ACCESS_KEY",
    ]


def test_no_stack_update_rewrites_the_secret_value(template: dict[str, Any]) -> None:
    """CloudFormation writes the secret's value again whenever that property changes, and a
    generated value is generated anew: either would replace the operator's real credentials with
    placeholders. So the value is a constant, the same for every parameter value."""
    properties = template["Resources"]["SmtpCredentials"]["Properties"]
    assert "GenerateSecretString" not in properties
    assert isinstance(properties["SecretString"], str)
    assert intrinsics_in(properties["SecretString"]) == set()
    values = {
        cfn.Stack(template, **switches).resolve(properties["SecretString"])
        for switches in (
            {},
            {"SmtpPasswordKey": "SES_SMTP_SECRET_ACCESS_KEY"},
            {"UseCustomerManagedKey": "true", "DeployCompute": "false"},
        )
    }
    assert len(values) == 1


def test_relay_is_reachable_only_from_the_client_network(template: dict[str, Any]) -> None:
    stack = cfn.Stack(template, AllowedClientCidr="10.42.0.0/20")
    resources = stack.resources()
    load_balancer = resources["LoadBalancer"]["Properties"]
    assert (load_balancer["Type"], load_balancer["Scheme"]) == ("network", "internal")
    assert load_balancer["SecurityGroups"] == [{"Ref": "LoadBalancerSecurityGroup"}]
    listener = resources["Listener"]["Properties"]
    assert (listener["Protocol"], listener["Port"]) == ("TCP", 25)

    ingress = [
        (group, rule)
        for group in ("LoadBalancerSecurityGroup", "TaskSecurityGroup")
        for rule in resources[group]["Properties"].get("SecurityGroupIngress", [])
    ]
    ingress += [
        (stack.resolve(r["Properties"]["GroupId"]).removeprefix("ref:"), r["Properties"])
        for r in stack.of_type("AWS::EC2::SecurityGroupIngress").values()
    ]
    sources = set()
    for group, rule in ingress:
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 25, 25)
        source = stack.resolve(rule.get("CidrIp") or rule["SourceSecurityGroupId"])
        sources.add((group, source))
    assert sources == {
        ("LoadBalancerSecurityGroup", "10.42.0.0/20"),
        # The tasks admit the NLB's security group only, which with client IP preservation lets
        # the clients' connections (and the health checks) through the NLB and nowhere else.
        ("TaskSecurityGroup", "ref:LoadBalancerSecurityGroup"),
    }


def test_clients_cannot_bypass_the_load_balancer(template: dict[str, Any]) -> None:
    """No address range may reach the tasks' port 25 directly: only the NLB's security group."""
    stack = cfn.Stack(template)
    resources = stack.resources()
    rules = list(resources["TaskSecurityGroup"]["Properties"].get("SecurityGroupIngress", []))
    rules += [
        r["Properties"]
        for r in stack.of_type("AWS::EC2::SecurityGroupIngress").values()
        if stack.resolve(r["Properties"]["GroupId"]) == "ref:TaskSecurityGroup"
    ]
    assert rules
    for rule in rules:
        assert not {"CidrIp", "CidrIpv6", "SourcePrefixListId"} & rule.keys(), rule
        assert rule["SourceSecurityGroupId"] == {"Ref": "LoadBalancerSecurityGroup"}


def test_target_group_preserves_client_addresses(template: dict[str, Any]) -> None:
    target_group = cfn.Stack(template).resources()["TargetGroup"]["Properties"]
    assert (target_group["TargetType"], target_group["Protocol"], target_group["Port"]) == ("ip", "TCP", 25)
    attributes = {a["Key"]: a["Value"] for a in target_group["TargetGroupAttributes"]}
    # Off by default for IP targets over TCP; RELAY_ALLOWED_NETWORKS depends on it.
    assert attributes["preserve_client_ip.enabled"] == "true"
    # Draining ends well before ECS's stop timeout would.
    assert int(attributes["deregistration_delay.timeout_seconds"]) <= 120


def test_outputs_give_the_endpoint_and_the_queue(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["RelayEndpoint"]["Value"] == {"Fn::GetAtt": ["LoadBalancer", "DNSName"]}
    assert outputs["RelayEndpoint"]["Condition"] == "DeployCompute"
    assert outputs["EventsQueueUrl"]["Value"] == {"Ref": "EventsQueue"}


def test_outputs_name_the_cluster_and_service_for_update_service(template: dict[str, Any]) -> None:
    """`aws ecs update-service` needs both names; the service's Ref is its ARN, GetAtt Name its name."""
    outputs = template["Outputs"]
    assert outputs["ClusterName"]["Value"] == {"Ref": "Cluster"}
    assert outputs["ServiceName"]["Value"] == {"Fn::GetAtt": ["Service", "Name"]}
    for name in ("ClusterName", "ServiceName"):
        assert outputs[name]["Condition"] == "DeployCompute"


def test_alarms_fire_before_ses_reviews_the_account(template: dict[str, Any]) -> None:
    stack = cfn.Stack(template)
    resources = stack.resources()
    bounce = resources["BounceRateAlarm"]["Properties"]
    complaint = resources["ComplaintRateAlarm"]["Properties"]
    assert (bounce["Namespace"], bounce["MetricName"]) == ("AWS/SES", "Reputation.BounceRate")
    assert (complaint["Namespace"], complaint["MetricName"]) == ("AWS/SES", "Reputation.ComplaintRate")
    # SES: review at a 5 % bounce / 0.1 % complaint rate (fractions in CloudWatch).
    assert 0 < stack.resolve(bounce["Threshold"]) < 0.05
    assert 0 < stack.resolve(complaint["Threshold"]) < 0.001


@pytest.mark.parametrize(
    ("switches", "absent"),
    [
        ({"DeployCompute": "false"}, {"AWS::ECS::Service", "AWS::ElasticLoadBalancingV2::LoadBalancer"}),
        (
            {"DeploySes": "false"},
            {"AWS::SES::ConfigurationSet", "AWS::SES::ConfigurationSetEventDestination"},
        ),
        ({"DeployAlarms": "false"}, {"AWS::CloudWatch::Alarm"}),
    ],
)
def test_switches_turn_parts_off(
    template: dict[str, Any], switches: dict[str, str], absent: set[str]
) -> None:
    everything = {r["Type"] for r in cfn.Stack(template).resources().values()}
    assert absent <= everything
    assert not absent & {r["Type"] for r in cfn.Stack(template, **switches).resources().values()}


def test_a_new_stack_starts_no_task_before_the_secret_is_filled(template: dict[str, Any]) -> None:
    """Tasks read the secret only when they start: created with the placeholders, they would fail."""
    stack = cfn.Stack(template)
    (service,) = stack.of_type("AWS::ECS::Service").values()
    assert stack.resolve(service["Properties"]["DesiredCount"]) == 0
    assert cfn.Stack(template, DesiredCount="2").resolve(service["Properties"]["DesiredCount"]) == 2


def configuration_set_names(stack: cfn.Stack) -> dict[str, str]:
    """Every place the configuration set's name appears, as CloudFormation would resolve it."""
    resources = stack.resources()
    topic_statement = resources["EventsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    source_arn = stack.resolve(topic_statement["Condition"])["StringEquals"]["AWS:SourceArn"]
    found = {
        "topic policy": source_arn.rpartition(":configuration-set/")[2],
        "output": stack.resolve(stack.template["Outputs"]["ConfigurationSetName"]["Value"]),
    }
    if "ConfigurationSet" in resources:
        found["configuration set"] = stack.resolve(resources["ConfigurationSet"]["Properties"]["Name"])
    if "EncryptionKey" in resources:
        key_statements = resources["EncryptionKey"]["Properties"]["KeyPolicy"]["Statement"]
        (ses,) = [s for s in key_statements if s["Sid"] == "SesPublishesToTheEncryptedTopic"]
        key_source = stack.resolve(ses["Condition"])["StringEquals"]["aws:SourceArn"]
        found["key policy"] = key_source.rpartition(":configuration-set/")[2]
    return found


@pytest.mark.parametrize("switches", [{}, {"UseCustomerManagedKey": "true"}, {"DeploySes": "false"}])
def test_configuration_set_is_named_after_the_stack_by_default(
    template: dict[str, Any], switches: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fixed default would collide with a second stack in the region, or with deploy.bootstrap's."""
    monkeypatch.setitem(cfn.PSEUDO_PARAMETERS, "AWS::StackName", "relay-prod")
    names = configuration_set_names(cfn.Stack(template, **switches))
    assert set(names.values()) == {"relay-prod-events"}
    named = configuration_set_names(cfn.Stack(template, ConfigurationSetName="relay-events", **switches))
    assert set(named.values()) == {"relay-events"}


def test_relay_stamps_the_configuration_set_the_stack_names(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(cfn.PSEUDO_PARAMETERS, "AWS::StackName", "relay-prod")
    stack = cfn.Stack(template, DeploySes="false")
    (task,) = stack.of_type("AWS::ECS::TaskDefinition").values()
    environment = {
        e["Name"]: e["Value"]
        for e in stack.resolve(task["Properties"])["ContainerDefinitions"][0]["Environment"]
    }
    assert environment["SES_CONFIGURATION_SET"] == "relay-prod-events"


# SES: configuration set and event destination names of at most 64 letters, digits, _ and -.
SES_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
# The longest stack name deploy/README.md allows.
LONGEST_STACK_NAME = "s" * 57


def test_names_fit_aws_limits_for_the_longest_stack_name(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(cfn.PSEUDO_PARAMETERS, "AWS::StackName", LONGEST_STACK_NAME)
    stack = cfn.Stack(template)
    resources = stack.resources()
    destination = resources["ConfigurationSetEventDestination"]["Properties"]["EventDestination"]
    assert SES_NAME.fullmatch(stack.resolve(destination["Name"]))
    assert SES_NAME.fullmatch(stack.resolve(resources["ConfigurationSet"]["Properties"]["Name"]))
    for queue in ("EventsQueue", "EventsDeadLetterQueue"):
        assert len(stack.resolve(resources[queue]["Properties"]["QueueName"])) <= 80
    assert len(stack.resolve(resources["EventsTopic"]["Properties"]["TopicName"])) <= 256
    # One character more and the default configuration set name no longer fits.
    monkeypatch.setitem(cfn.PSEUDO_PARAMETERS, "AWS::StackName", LONGEST_STACK_NAME + "s")
    too_long = cfn.Stack(template)
    assert not SES_NAME.fullmatch(
        too_long.resolve(too_long.resources()["ConfigurationSet"]["Properties"]["Name"])
    )


def test_event_destination_name_does_not_grow_with_the_stack_name(template: dict[str, Any]) -> None:
    """Destination names are scoped to their configuration set: a constant fits and never collides."""
    destination = template["Resources"]["ConfigurationSetEventDestination"]["Properties"]["EventDestination"]
    assert isinstance(destination["Name"], str)
    assert SES_NAME.fullmatch(destination["Name"])


@pytest.mark.parametrize("cmk", ["true", "false"])
def test_log_group_is_encrypted_with_the_stacks_key(template: dict[str, Any], cmk: str) -> None:
    """The mail log names every sender and recipient: it gets the key the queues and secret get."""
    stack = cfn.Stack(template, UseCustomerManagedKey=cmk)
    resources = stack.resources()
    log_group = resources["LogGroup"]["Properties"]
    if cmk == "false":
        assert "KmsKeyId" not in log_group
        return
    assert log_group["KmsKeyId"] == {"Fn::GetAtt": ["EncryptionKey", "Arn"]}
    statements = {s["Sid"]: s for s in resources["EncryptionKey"]["Properties"]["KeyPolicy"]["Statement"]}
    logs = stack.resolve(statements["CloudWatchLogsEncryptsTheLogGroup"])
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert sorted(logs["Action"]) == sorted(
        ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    )
    # Only for this log group: its ARN, built from its name, must be the log group's own.
    log_group_arn = (
        f"arn:aws:logs:us-east-1:123456789012:log-group:{stack.resolve(log_group['LogGroupName'])}"
    )
    assert logs["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}}
    # Without ECS there is no log group, and no statement for it.
    without_compute = cfn.Stack(template, UseCustomerManagedKey="true", DeployCompute="false").resources()
    sids = {s["Sid"] for s in without_compute["EncryptionKey"]["Properties"]["KeyPolicy"]["Statement"]}
    assert "CloudWatchLogsEncryptsTheLogGroup" not in sids


def test_services_get_the_key_actions_sns_documents(template: dict[str, Any]) -> None:
    """SNS documents kms:GenerateDataKey* and kms:Decrypt for a service publishing to an encrypted
    topic (SES) and for the topic delivering to an encrypted queue (SNS)."""
    key = cfn.Stack(template, UseCustomerManagedKey="true").resources()["EncryptionKey"]
    statements = {s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    for sid in ("SesPublishesToTheEncryptedTopic", "SnsDeliversToTheEncryptedQueue"):
        assert sorted(statements[sid]["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_outputs_name_the_tasks_security_group_for_endpoint_rules(template: dict[str, Any]) -> None:
    """VPC interface endpoints admit the tasks only if their security groups name this group."""
    output = template["Outputs"]["TaskSecurityGroupId"]
    assert output["Value"] == {"Ref": "TaskSecurityGroup"}
    assert output["Condition"] == template["Resources"]["TaskSecurityGroup"]["Condition"]


def test_the_service_scales_on_cpu_once_it_runs_tasks(template: dict[str, Any]) -> None:
    """Application Auto Scaling between DesiredCount and MaxCount on average CPU; none while the
    stack waits for its credentials (DesiredCount 0), none without ECS."""
    running = cfn.Stack(template, DeployCompute="true", DesiredCount="2", MaxCount="5").resources()
    target = running["ScalableTarget"]["Properties"]
    assert (target["ScalableDimension"], target["MinCapacity"], target["MaxCapacity"]) == (
        "ecs:service:DesiredCount",
        {"Ref": "DesiredCount"},
        {"Ref": "MaxCount"},
    )
    tracking = running["CpuScalingPolicy"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
    }
    assert tracking["ScaleInCooldown"] >= tracking["ScaleOutCooldown"]
    for switches in (
        {"DeployCompute": "true", "DesiredCount": "0"},
        {"DeployCompute": "false", "DesiredCount": "2"},
    ):
        resources = cfn.Stack(template, **switches).resources()
        assert "ScalableTarget" not in resources and "CpuScalingPolicy" not in resources
