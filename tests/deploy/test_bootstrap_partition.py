"""deploy/bootstrap.py builds every ARN in the caller's own partition, not always `aws`.

Pure functions, no AWS: the partition comes from `sts get-caller-identity`'s Arn.
"""

from __future__ import annotations

import pytest

from deploy.bootstrap import Bootstrap, Names, Options, PipelineArns, partition_of


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
    arns = PipelineArns.build(Names("relay"), "aws-cn", "cn-north-1", "123456789012")
    assert arns == PipelineArns(
        topic="arn:aws-cn:sns:cn-north-1:123456789012:relay-events",
        queue="arn:aws-cn:sqs:cn-north-1:123456789012:relay-events",
        dead_letter_queue="arn:aws-cn:sqs:cn-north-1:123456789012:relay-events-dlq",
        configuration_set="arn:aws-cn:ses:cn-north-1:123456789012:configuration-set/relay-events",
    )


def test_policies_carry_the_partitioned_arns() -> None:
    """What bootstrap writes into the topic and queue policies comes from those ARNs unchanged."""
    arns = PipelineArns.build(Names("relay"), "aws-us-gov", "us-gov-west-1", "123456789012")
    bootstrap = Bootstrap(Options(name="relay", region="us-gov-west-1"), log=lambda _line: None)
    topic_policy = bootstrap.topic_policy(arns.topic, "123456789012", arns.configuration_set)
    queue_policy = bootstrap.queue_policy(arns.queue, arns.topic)
    for statement in topic_policy["Statement"] + queue_policy["Statement"]:
        assert statement["Resource"].startswith("arn:aws-us-gov:")
    for condition in [s["Condition"] for s in topic_policy["Statement"] + queue_policy["Statement"]]:
        for operator in condition.values():
            for value in operator.values():
                assert not value.startswith("arn:aws:")
