"""What the check says in the mail log: one function per finding, each a severity and a line.

Every line names the setting to look at, and none carries a secret: the password's setting is
named, never its value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ses_check.identities import Verdict, candidate_identities
from ses_check.ses_api import AccountState
from ses_check.smtp_login import Endpoint, LoginResult, Outcome

INFO, WARNING, ERR = "info", "warning", "err"

PASSWORD_HINTS = {
    "SES_SMTP_PASSWORD": "the SMTP password SES made for SES_SMTP_USERNAME={username} "
    "(an IAM secret access key goes in SES_SMTP_SECRET_ACCESS_KEY instead)",
    "SES_SMTP_SECRET_ACCESS_KEY": "the secret access key of SES_SMTP_USERNAME={username}, "
    "an IAM user allowed ses:SendRawEmail",
}


@dataclass(frozen=True)
class Line:
    severity: str
    text: str


def login(
    result: LoginResult,
    endpoint: Endpoint,
    username: str,
    password_setting: str,
    retry_seconds: float,
) -> Line:
    if result.outcome is Outcome.ACCEPTED:
        return Line(INFO, f"SES accepts this relay's SMTP login at {endpoint}: TLS verified, {result.detail}")
    if result.outcome is Outcome.REFUSED:
        hint = PASSWORD_HINTS.get(password_setting, "{username}").format(username=username)
        return Line(
            ERR,
            f"SES refused the SMTP login at {endpoint} with {result.detail}: check {password_setting}, "
            f"{hint}; until it is fixed and the relay restarted, every message is deferred and stays queued",
        )
    if result.outcome is Outcome.UNTRUSTED:
        return Line(
            ERR,
            f"SES's TLS certificate at {endpoint} does not verify ({result.detail}) with "
            f"SES_TLS_CA_FILE={endpoint.ca_file} for SES_SMTP_HOST={endpoint.host}: Postfix will not "
            "send to it either, so every message is deferred and stays queued",
        )
    return Line(
        WARNING,
        f"cannot reach SES at {endpoint} ({result.detail}): mail waits in the queue; "
        f"checking again in {retry_seconds:g} s",
    )


def api_unreadable(region: str, what: str, permission: str, reason: str) -> Line:
    return Line(
        INFO,
        f"cannot read SES's API in {region} ({reason}): {what} not checked; the check needs {permission} "
        "and a route to SES's API (HTTPS 443)",
    )


def account(state: AccountState, region: str) -> list[Line]:
    lines = []
    if not state.sending_enabled:
        lines.append(
            Line(
                ERR,
                f"SES has paused sending for this account in {region} (EnforcementStatus="
                f"{state.enforcement_status or 'unknown'}): SES refuses all mail until the pause is lifted",
            )
        )
    if state.production_access:
        lines.append(Line(INFO, f"the SES account in {region} has production access (out of the sandbox)"))
    else:
        lines.append(
            Line(
                WARNING,
                f"the SES account in {region} is in the SES sandbox: SES takes mail only to verified "
                "addresses and the mailbox simulator, at most 200 messages a day; request production "
                "access (deploy/README.md, 1.4)",
            )
        )
    return lines


def _covered(verdict: Verdict) -> str:
    if verdict.verified_by in (verdict.entry, verdict.entry.lstrip("@")):
        return verdict.entry
    return f"{verdict.entry} (by {verdict.verified_by})"


def _what_ses_knows(verdict: Verdict) -> str:
    if verdict.statuses:
        return ", ".join(f"{identity}: {status}" for identity, status in verdict.statuses)
    return "SES has no identity " + " or ".join(candidate_identities(verdict.entry))


def identities(found: Sequence[Verdict], region: str) -> list[Line]:
    verified = [verdict for verdict in found if verdict.verified]
    lines = []
    if verified:
        every = (
            "every RELAY_ALLOWED_SENDERS entry" if len(verified) == len(found) else "RELAY_ALLOWED_SENDERS"
        )
        listed = ", ".join(_covered(verdict) for verdict in verified)
        lines.append(Line(INFO, f"SES has verified {every} in {region}: {listed}"))
    for verdict in found:
        if not verdict.verified:
            lines.append(
                Line(
                    WARNING,
                    f"RELAY_ALLOWED_SENDERS entry {verdict.entry} is not an identity SES has verified in "
                    f"{region} ({_what_ses_knows(verdict)}): SES will refuse its mail with 554 Message "
                    "rejected: Email address is not verified",
                )
            )
    return lines
