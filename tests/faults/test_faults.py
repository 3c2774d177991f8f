"""The short form of `make faults`, run by `make test`: a few scenarios at small load (3 messages
a second for 20 s) with 10 s faults. Each asserts the counts, never a time: no accepted mail lost
or sent twice, no SES event lost or logged twice. `make faults` runs every scenario at full
scale (hundreds of messages, 60 s faults) into RELIABILITY.md.
"""

from __future__ import annotations

import pytest

from tests.faults.scenarios import SCENARIOS, SHORT, run

pytestmark = [pytest.mark.image, pytest.mark.localstack]

# One of each kind: a program killed and restarted by supervisord (the logger, Postfix), the
# container exiting and started again, SES away, SQS away, the clock jumping (which found the
# pacer stamping released mail in the queue manager's future).
SHORT_FORM = (
    "event-logger-kill",
    "postfix-master-kill",
    "supervisord-kill",
    "ses-refuses",
    "sqs-unreachable",
    "clock-jump",
)


@pytest.mark.parametrize("name", SHORT_FORM)
def test_short_form_nothing_lost_or_doubled(name, localstack_url, pki):
    row = run(SCENARIOS[name], localstack_url, pki, SHORT)
    counts = row.counts
    summary = f"{name}: {counts}; {row.container}; {row.notes}"
    assert row.settled, summary
    assert counts.accepted > 0, summary
    assert (counts.lost, counts.twice) == (0, 0), summary
    assert counts.lines_expected > 0, summary
    assert (counts.lines_lost, counts.lines_twice) == (0, 0), summary
