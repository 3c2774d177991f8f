"""deploy/README.md agrees with the template, the repository and the appliance's settings."""

from __future__ import annotations

import re
from typing import Any

from entrypoint.settings.schema import COMPOSE_VARIABLES, SETTINGS_BY_NAME
from tests.deploy import cfn

README = cfn.REPO / "deploy/README.md"
TEXT = README.read_text(encoding="utf-8")


def test_every_parameter_is_documented(template: dict[str, Any]) -> None:
    assert [name for name in template["Parameters"] if f"`{name}`" not in TEXT] == []


def test_every_output_and_alarm_it_names_exists(template: dict[str, Any]) -> None:
    named = set(re.findall(r"`([A-Z][A-Za-z]+(?:Arn|Name|Endpoint|Url|Alarm))`", TEXT))
    assert named, "the README names no outputs?"
    known = set(template["Outputs"]) | set(template["Resources"]) | set(template["Parameters"])
    assert sorted(named - known) == []


def test_links_point_at_files_that_exist() -> None:
    targets = re.findall(r"\]\((?!https?:)([^)#]+)\)", TEXT)
    assert targets
    assert [t for t in targets if not (README.parent / t).exists()] == []


def test_ec2_settings_are_appliance_settings_or_compose_variables() -> None:
    (block,) = re.findall(r"Fill in, from the stack's outputs.*?\n\n```sh\n(.*?)```", TEXT, re.DOTALL)
    names = re.findall(r"^([A-Z_]+)=", block, re.MULTILINE)
    assert "SECRETS_MANAGER_SECRET_ID" in names
    allowed = set(SETTINGS_BY_NAME) | set(COMPOSE_VARIABLES)
    assert [name for name in names if name not in allowed] == []
    compose = (cfn.REPO / "compose.yaml").read_text(encoding="utf-8")
    assert all(f"${{{name}" in compose for name in COMPOSE_VARIABLES)


def test_every_ecs_command_names_its_cluster_and_service() -> None:
    commands = re.findall(r"aws ecs update-service(?:[^\n]*\\\n)*[^\n]*", TEXT)
    assert commands
    for command in commands:
        assert "--cluster" in command and "--service" in command, command


def test_each_dmarc_example_is_one_record() -> None:
    """Two DMARC records at one name void DMARC: the stages replace each other, one block each."""
    blocks = re.findall(r"```text\n(.*?)```", TEXT, re.DOTALL)
    dmarc = [block for block in blocks if "_dmarc." in block]
    assert len(dmarc) >= 2
    assert all(block.count("v=DMARC1") == 1 for block in dmarc)
    assert "replac" in TEXT[TEXT.index("### 1.3 DMARC") : TEXT.index("### 1.4")]
