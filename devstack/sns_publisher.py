"""Publish SES events to an SNS topic the way SES does: Subject and a compact JSON Message.

SES's event publishing sends each event as an SNS notification with the Subject
``Amazon SES Email Event Notification`` and the event JSON followed by a newline as the Message
(reference §2.1). Every publish is recorded, successful or not, so tests can see what left.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from devstack.event_json import SNS_SUBJECT, sns_message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Published:
    event: Mapping[str, Any]
    topic_arn: str | None
    sns_message_id: str | None
    error: str | None = None


class SnsEventPublisher:
    """``publish(event)`` sends one event; with no topic it only records (SES with no destination)."""

    def __init__(
        self,
        topic_arn: str | None,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        client: Any = None,
    ):
        self.topic_arn = topic_arn
        self._client = client
        self._endpoint_url = endpoint_url
        self._region = region
        self._lock = threading.Lock()
        self.published: list[Published] = []

    def _sns(self):
        if self._client is None:
            self._client = boto3.client("sns", endpoint_url=self._endpoint_url, region_name=self._region)
        return self._client

    def publish(self, event: Mapping[str, Any]) -> Published:
        if not self.topic_arn:
            record = Published(event, None, None)
        else:
            try:
                response = self._sns().publish(
                    TopicArn=self.topic_arn, Subject=SNS_SUBJECT, Message=sns_message(event)
                )
                record = Published(event, self.topic_arn, response["MessageId"])
            except Exception as error:  # the SMTP side must never fail because SNS did
                log.warning("publishing %s to %s failed: %s", event.get("eventType"), self.topic_arn, error)
                record = Published(event, self.topic_arn, None, error=str(error))
        with self._lock:
            self.published.append(record)
        return record

    def events(self) -> list[Mapping[str, Any]]:
        with self._lock:
            return [record.event for record in self.published]
