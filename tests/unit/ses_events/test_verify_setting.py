"""SES_EVENTS_VERIFY_SNS_SIGNATURES: on by default, on or off only, and what the daemon is told."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoint.context import template_context
from entrypoint.render import Template, render_template
from ses_events.daemon.config import DaemonConfig
from tests.unit.test_settings import MINIMAL as SETTINGS_MINIMAL
from tests.unit.test_settings import settings_from

ROOTFS = Path(__file__).resolve().parents[3] / "rootfs"
MINIMAL = {
    **SETTINGS_MINIMAL,
    "RELAY_HOSTNAME": "relay.example.com",
    "SES_EVENTS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/events",
}


def daemon_config(tmp_path: Path, environ: dict[str, str]) -> DaemonConfig:
    settings, problems, _ = settings_from(environ)
    assert problems == []
    path = tmp_path / "ses-events.json"
    path.write_text(
        render_template(
            Template("etc/ses-relay/ses-events.json"), template_context(settings, ipv6=False), ROOTFS
        )
    )
    return DaemonConfig.load(path)


def test_signatures_are_verified_unless_said_otherwise(tmp_path):
    assert daemon_config(tmp_path, MINIMAL).verify_sns_signatures is True


@pytest.mark.parametrize(("value", "verify"), [("on", True), ("off", False), (" OFF ", False), ("On", True)])
def test_on_or_off_reaches_the_daemon(tmp_path, value, verify):
    config = daemon_config(tmp_path, {**MINIMAL, "SES_EVENTS_VERIFY_SNS_SIGNATURES": value})

    assert config.verify_sns_signatures is verify


@pytest.mark.parametrize("value", ["no", "false", "0", "of", "disabled"])
def test_anything_but_on_or_off_is_refused(value):
    _, problems, _ = settings_from({**MINIMAL, "SES_EVENTS_VERIFY_SNS_SIGNATURES": value})

    assert len(problems) == 1
    assert problems[0].startswith("SES_EVENTS_VERIFY_SNS_SIGNATURES")
    assert "neither 'on' nor 'off'" in problems[0]


def test_a_misspelt_name_is_refused_not_ignored():
    """Ignored, a typo in `...=off` would leave verification on; in `...=on`, off. Neither is silent."""
    _, problems, _ = settings_from({**MINIMAL, "SES_EVENTS_VERIFY_SNS_SIGNATURE": "off"})

    assert problems == [
        "SES_EVENTS_VERIFY_SNS_SIGNATURE: unknown setting; did you mean SES_EVENTS_VERIFY_SNS_SIGNATURES?"
    ]
