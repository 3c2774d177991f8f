"""The account's limits from SES's API (v2 GetAccount), with boto3's default credential chain.

Reachable or not, the relay paces: a task in a private subnet with only the SMTP VPC endpoint
cannot reach the API (reference 3.6a), and then the pacer adapts to SES's throttling instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SendQuota:
    max_send_rate: float  # recipients per second
    max_24_hour_send: float  # -1: unlimited
    sent_last_24_hours: float


def call_ses(function: Callable[..., dict[str, Any]], **arguments: Any) -> dict[str, Any]:
    """One SES API call; raises LookupError, with a reason that names no secret, when SES's API does
    not answer it (no credentials, no permission, no route). The start-up check calls through it too."""
    import botocore.exceptions

    try:
        return function(**arguments)
    except botocore.exceptions.NoCredentialsError:
        raise LookupError("no AWS credentials") from None
    except botocore.exceptions.ClientError as error:
        raise LookupError(error.response.get("Error", {}).get("Code", "refused")) from None
    except botocore.exceptions.BotoCoreError as error:
        raise LookupError(type(error).__name__) from None


def read_send_quota(region: str) -> SendQuota:
    """Raises LookupError, with a reason that names no secret, when SES's API does not answer."""
    import boto3  # Imported here: the pacer starts without it when the rate is a number.

    account = call_ses(boto3.client("sesv2", region_name=region).get_account)
    quota = account.get("SendQuota") or {}
    try:
        return SendQuota(
            float(quota["MaxSendRate"]),
            float(quota.get("Max24HourSend", -1)),
            float(quota.get("SentLast24Hours", 0)),
        )
    except (KeyError, TypeError, ValueError):
        raise LookupError("GetAccount returned no SendQuota") from None
