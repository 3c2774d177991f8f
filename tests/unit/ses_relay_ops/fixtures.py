"""A mail log for the operator commands' tests: `make demo`'s real output (Dec 3, host vm: a
delivery, a hard bounce, a complaint, a sender SES refused, a sender the relay refused), then a
crafted message (5E0F11A0001, two recipients) that SES throttles once and sends again, whose
events the logger first logs under the SES message ID, then a soft bounce and a late delivery."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ses_relay_ops.line import LogLine, parse_line

MAIL_LOG = Path(__file__).resolve().parents[1] / "fixtures/ses_relay_ops/mail.log"
# Read as if on the day after: the fixture's lines are from 3 December of this year.
NOW = datetime(2026, 12, 4, 9, 0, 0)

SUCCESS = "47B72186935"
BOUNCE = "497031861E8"
COMPLAINT = "4A9421861E9"
UNVERIFIED = "4BA881861EA"
NOTICE = "7AC76186738"
THROTTLED = "5E0F11A0001"
THROTTLED_SES_ID = "010001a23bdde5f0-0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5-000000"
BOUNCE_SES_ID = "010001a23bdddcac-74daec09-9831-4a16-89ca-53ad69fad048-000000"
# What `report` counts of Postfix's lines in the fixture.
POSTFIX_FIGURES = {
    "accepted": 5,
    "refused": 1,
    "sent": 5,
    "deferred": 2,
    "throttled": {"rate": 2},
    "bounced": 1,
}


def fixture_lines() -> list[LogLine]:
    lines = [parse_line(text, NOW) for text in MAIL_LOG.read_text(encoding="utf-8").splitlines()]
    assert all(lines)
    return lines  # type: ignore[return-value]


def line_with(text: str) -> LogLine:
    return next(line for line in fixture_lines() if text in line.text)
