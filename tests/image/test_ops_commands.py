"""`ses-relay report` and `trace` in the image, on a copied log: `docker run IMAGE ses-relay ...`
with the log mounted, rotated files (plain and gzip) included."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.harness.appliance import run_once
from tests.unit.ses_relay_ops.fixtures import MAIL_LOG, POSTFIX_FIGURES, THROTTLED

pytestmark = pytest.mark.image


@pytest.fixture
def copied_log(tmp_path):
    """The unit tests' crafted log, as three files of a rotated mail log."""
    directory = tmp_path / "copied"
    directory.mkdir()
    directory.chmod(0o755)
    lines = MAIL_LOG.read_text(encoding="utf-8").splitlines(keepends=True)
    with gzip.open(directory / "mail.log.2.gz", "wt", encoding="utf-8") as handle:
        handle.writelines(lines[:30])
    (directory / "mail.log.1").write_text("".join(lines[30:70]), encoding="utf-8")
    (directory / "mail.log").write_text("".join(lines[70:]), encoding="utf-8")
    for path in directory.iterdir():
        path.chmod(0o644)
    return directory


def test_report_on_a_copied_log(copied_log):
    result = run_once(
        {}, ["ses-relay", "report", "--since", "all", "--json", "--log", "/copied"], [(copied_log, "/copied")]
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["files"] == 3
    assert figures["postfix"] == POSTFIX_FIGURES
    assert figures["rates"]["bounce"] == {
        "count": 1,
        "rate": 0.2,
        "review_threshold": 0.05,
        "pause_threshold": 0.1,
        "verdict": "at or above the pause threshold",
    }
    assert figures["bouncing_domains"] == [
        {"domain": "example.net", "count": 1, "by_type": {"Transient": 1}},
        {"domain": "simulator.amazonses.com", "count": 1, "by_type": {"Permanent": 1}},
    ]


def test_trace_on_a_copied_log_reads_every_file(copied_log):
    result = run_once(
        {}, ["ses-relay", "trace", "dave@example.net", "--log", "/copied"], [(copied_log, "/copied")]
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        f"== {THROTTLED}  <app@example.com> -> <carol@example.net>, <dave@example.net>"
    )
    steps = [line[32:].split("  ")[0].strip() for line in lines[2:]]  # after the time and the delay
    assert steps[0] == "accepted" and steps[-1] == "delivered"
    assert "held again" in steps and "bounced (Transient/General)" in steps
