"""cfn-lint finds nothing in the template, not even informational notes, in the regions we document."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.deploy import cfn

CFN_LINT = Path(sys.executable).with_name("cfn-lint")
# The region the tests use and a few where SES, Fargate and NLB security groups all exist.
REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
# `aws cloudformation deploy --template-file` without an S3 bucket accepts at most this.
TEMPLATE_BODY_LIMIT = 51_200


def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    assert CFN_LINT.exists(), f"{CFN_LINT} is missing: pip install cfn-lint (the dev extra pins it)"
    return subprocess.run(
        [str(CFN_LINT), "--info", "--format", "parseable", "--regions", *REGIONS, "--", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cfn_lint_finds_nothing() -> None:
    result = cfn_lint(cfn.TEMPLATE)
    findings = result.stdout.strip()
    assert result.returncode == 0 and not findings, f"cfn-lint exit {result.returncode}:\n{findings}"


def test_cfn_lint_would_report_a_mistake(tmp_path: Path) -> None:
    """The check above can fail: a misspelt ECS property is reported as an error."""
    broken = tmp_path / "broken.yaml"
    text = cfn.TEMPLATE.read_text(encoding="utf-8")
    assert "StopTimeout: 120" in text
    broken.write_text(text.replace("StopTimeout: 120", "StopTimout: 120"), encoding="utf-8")
    result = cfn_lint(broken)
    assert result.returncode != 0
    assert "StopTimout" in result.stdout


def test_template_deploys_without_an_s3_bucket() -> None:
    size = len(cfn.TEMPLATE.read_bytes())
    assert size <= TEMPLATE_BODY_LIMIT, f"{size} bytes: `cloudformation deploy` would need --s3-bucket"
