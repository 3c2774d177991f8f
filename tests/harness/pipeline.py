"""An SES event pipeline in LocalStack: SNS topic -> SQS queue with a DLQ, and SES-shaped events."""

from __future__ import annotations

import copy
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3

FIXTURES = Path(__file__).resolve().parents[1] / "unit/fixtures/ses_events/raw"
MAX_RECEIVE_COUNT = 2


@dataclass
class Pipeline:
    topic_arn: str
    queue_url: str
    dlq_url: str
    sns: object
    sqs: object

    def publish(self, event: dict) -> None:
        self.sns.publish(
            TopicArn=self.topic_arn, Subject="Amazon SES Email Event Notification", Message=json.dumps(event)
        )

    def publish_many(self, events: list[dict]) -> None:
        """Publish in batches of 10, as fast as SNS takes them."""
        for start in range(0, len(events), 10):
            entries = [
                {"Id": str(i), "Message": json.dumps(event), "Subject": "Amazon SES Email Event Notification"}
                for i, event in enumerate(events[start : start + 10])
            ]
            self.sns.publish_batch(TopicArn=self.topic_arn, PublishBatchRequestEntries=entries)

    def messages_left(self, queue_url: str | None = None) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def delete(self) -> None:
        """Remove topic and queues: LocalStack's housekeeping visits every queue it holds, so
        leftovers would slow every later test and benchmark round."""
        self.sns.delete_topic(TopicArn=self.topic_arn)
        self.sqs.delete_queue(QueueUrl=self.queue_url)
        self.sqs.delete_queue(QueueUrl=self.dlq_url)


def create_pipeline(localstack_url: str, max_receive_count: int = MAX_RECEIVE_COUNT) -> Pipeline:
    name = f"ses-events-{uuid.uuid4().hex[:8]}"
    sns = boto3.client("sns", endpoint_url=localstack_url)
    sqs = boto3.client("sqs", endpoint_url=localstack_url)
    topic_arn = sns.create_topic(Name=name)["TopicArn"]
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}
            )
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return Pipeline(topic_arn, queue_url, dlq_url, sns, sqs)


def delivery_event(recipients: list[str], message_id: str | None = None) -> dict:
    """A configuration-set Delivery event (reference §1.12.5) for a new message."""
    event = json.loads((FIXTURES / "event_delivery.json").read_text())
    event = copy.deepcopy(event)
    event["mail"]["messageId"] = message_id or f"0100{int(time.time() * 1000):012x}-{uuid.uuid4()}-000000"
    event["mail"]["destination"] = recipients
    event["delivery"]["recipients"] = recipients
    return event
