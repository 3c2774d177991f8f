"""The two reads of SES's API the check makes, with boto3's default credential chain.

* SES v2 ``GetAccount``: whether the account has left the sandbox (``ProductionAccessEnabled``)
  and may send at all (``SendingEnabled``). The pacer reads the same call for its rate.
* SES v1 ``GetIdentityVerificationAttributes``: the verification status of up to 100 identities
  in one call, leaving out those the account does not have. v2 has no call that answers for
  several identities; IAM accepts only ``Resource: "*"`` for both.

A relay whose role lacks these, or in a subnet with only SES's SMTP endpoint, cannot read them:
``LookupError`` with a reason that names no secret, and the check says what it did not check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ses_pacer.send_quota import call_ses

# GetIdentityVerificationAttributes takes at most this many identities a call.
IDENTITIES_PER_CALL = 100


@dataclass(frozen=True)
class AccountState:
    production_access: bool
    sending_enabled: bool
    enforcement_status: str


def _client(service: str, region: str) -> Any:
    import boto3  # Imported here: the SMTP half of the check needs none of it.
    from botocore.config import Config

    config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})
    return boto3.client(service, region_name=region, config=config)


def read_account(region: str) -> AccountState:
    account = call_ses(_client("sesv2", region).get_account)
    try:
        return AccountState(
            production_access=bool(account["ProductionAccessEnabled"]),
            sending_enabled=bool(account.get("SendingEnabled", True)),
            enforcement_status=str(account.get("EnforcementStatus", "")),
        )
    except KeyError:
        raise LookupError("GetAccount returned no ProductionAccessEnabled") from None


def verification_statuses(region: str, identities: Iterable[str]) -> dict[str, str]:
    """identity -> "Success", "Pending", "Failed", "TemporaryFailure" or "NotStarted"."""
    client = _client("ses", region)
    wanted = list(identities)
    statuses: dict[str, str] = {}
    for start in range(0, len(wanted), IDENTITIES_PER_CALL):
        answer = call_ses(
            client.get_identity_verification_attributes,
            Identities=wanted[start : start + IDENTITIES_PER_CALL],
        )
        for identity, attributes in answer.get("VerificationAttributes", {}).items():
            statuses[identity.lower()] = str(attributes.get("VerificationStatus", ""))
    return statuses
