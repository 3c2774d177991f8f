"""The release: the workflow builds both architectures after the tests, pushes versioned tags with
an SBOM and provenance, pins every action by commit; and everything that names the published
image names this version of it. (`make lint` runs actionlint on the workflow itself.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github/workflows/release.yml"
PUBLISHED = "ghcr.io/ses-relay/ses-relay"


def _workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _steps(job: str) -> list[dict[str, Any]]:
    return _workflow()["jobs"][job]["steps"]


def _uses(job: str, action: str) -> dict[str, Any]:
    [step] = [step for step in _steps(job) if step.get("uses", "").startswith(f"{action}@")]
    return step.get("with", {})


def test_every_action_is_pinned_by_commit_with_its_version_beside_it():
    lines = [line for line in WORKFLOW.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert lines
    for line in lines:
        assert re.search(r"uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_only_a_version_tag_releases_and_only_after_the_tests():
    workflow = _workflow()
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"push"} and set(triggers["push"]) == {"tags"}
    assert workflow["permissions"] == {"contents": "read"}
    publish = workflow["jobs"]["publish"]
    assert set(publish["needs"]) == {"test", "arm64"}
    assert publish["permissions"] == {"contents": "read", "packages": "write"}
    assert any("make test" in step.get("run", "") for step in _steps("test"))
    assert any("make arm64-test" in step.get("run", "") for step in _steps("arm64"))


def test_both_architectures_are_pushed_with_sbom_and_provenance_under_semver_tags():
    build = _uses("publish", "docker/build-push-action")
    assert build["platforms"].split(",") == ["linux/amd64", "linux/arm64"]
    assert (build["push"], build["sbom"], build["provenance"]) == (True, True, "mode=max")
    assert build["tags"] == "${{ steps.meta.outputs.tags }}"
    meta = _uses("publish", "docker/metadata-action")
    assert meta["images"] == "ghcr.io/${{ github.repository_owner }}/ses-relay"
    assert "type=semver,pattern={{version}}" in meta["tags"]
    assert _uses("publish", "docker/login-action")["registry"] == "ghcr.io"
    assert _uses("arm64", "docker/build-push-action")["platforms"] == "linux/arm64"


def test_compose_the_stack_and_the_readme_run_this_version_of_the_published_image():
    version = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    image = f"{PUBLISHED}:{version}"
    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    assert compose["services"]["relay"]["image"] == f"${{SES_RELAY_IMAGE:-{image}}}"
    template = (REPO / "deploy/cloudformation/ses-relay.yaml").read_text(encoding="utf-8")
    assert f"    Default: {image}\n" in template
    readme_start = (REPO / "README.md").read_text(encoding="utf-8")[:1000]
    assert f"docker pull {image}" in readme_start
    # A release tag other than the version fails the workflow before anything is built.
    assert any("pyproject.toml" in step.get("run", "") for step in _steps("test"))
