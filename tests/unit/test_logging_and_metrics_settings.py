"""LOG_FORMAT, METRICS_PORT and MAIL_LOG_ROTATE_*: how they are read, refused, and rendered."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from entrypoint.context import template_context
from entrypoint.render import render_all
from ses_events.daemon.config import DaemonConfig
from ses_pacer.config import PacerConfig
from ses_relay_ops.config import OpsConfig
from ses_relay_ops.fields import FIELD_RULES
from tests.unit.test_settings import MINIMAL
from tests.unit.test_settings import settings_from as settings_with_sources

ROOTFS = Path(__file__).resolve().parents[2] / "rootfs"


def settings_from(environ):
    settings, problems, _raw = settings_with_sources(
        {**MINIMAL, "RELAY_HOSTNAME": "relay.example.com", **environ}
    )
    return settings, problems


def test_defaults_classic_logs_no_metrics_and_rotation_by_day_or_100m():
    settings, problems = settings_from({})
    assert problems == []
    assert settings["LOG_FORMAT"] == "classic"
    assert settings["METRICS_PORT"] is None
    assert settings["MAIL_LOG_ROTATE_SIZE"] == 100 * 1024 * 1024
    assert settings["MAIL_LOG_ROTATE_AGE"] == 86400
    assert settings["MAIL_LOG_ROTATE_KEEP"] == 14


@pytest.mark.parametrize(
    ("size", "bytes_"), [("0", 0), ("1048576", 1048576), ("64k", 65536), ("100M", 104857600), ("1g", 1 << 30)]
)
def test_sizes(size, bytes_):
    settings, problems = settings_from({"MAIL_LOG_ROTATE_SIZE": size})
    assert (problems, settings["MAIL_LOG_ROTATE_SIZE"]) == ([], bytes_)


@pytest.mark.parametrize(
    ("age", "seconds"), [("0", 0), ("90m", 5400), ("12h", 43200), ("1d", 86400), ("2w", 1209600)]
)
def test_ages(age, seconds):
    settings, problems = settings_from({"MAIL_LOG_ROTATE_AGE": age})
    assert (problems, settings["MAIL_LOG_ROTATE_AGE"]) == ([], seconds)


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("LOG_FORMAT", "logfmt", "LOG_FORMAT: 'logfmt' is not one of classic, json"),
        ("METRICS_PORT", "99999", "METRICS_PORT: "),
        ("METRICS_PORT", "2525", "METRICS_PORT: 2525 is RELAY_LISTEN_PORT, where Postfix listens"),
        (
            "MAIL_LOG_ROTATE_SIZE",
            "lots",
            "MAIL_LOG_ROTATE_SIZE: 'lots' is not a size such as 100M, 512k or 1G",
        ),
        (
            "MAIL_LOG_ROTATE_SIZE",
            "10",
            "MAIL_LOG_ROTATE_SIZE: 10 bytes is too small: 0 (never) or at least 1k",
        ),
        (
            "MAIL_LOG_ROTATE_AGE",
            "1y",
            "MAIL_LOG_ROTATE_AGE: '1y' is not a duration such as 30m, 12h, 1d or 1w",
        ),
        ("MAIL_LOG_ROTATE_AGE", "30s", "MAIL_LOG_ROTATE_AGE: 30 s is too short: 0 (never) or at least 1m"),
        ("MAIL_LOG_ROTATE_KEEP", "0", "MAIL_LOG_ROTATE_KEEP: "),
    ],
)
def test_bad_values_are_refused(variable, value, problem):
    _, problems = settings_from({"RELAY_LISTEN_PORT": "2525", variable: value})
    assert len(problems) == 1 and problems[0].startswith(problem), problems


@pytest.mark.parametrize(
    ("variable", "suggestion"),
    [
        ("METRICS_PROT", "METRICS_PORT"),
        ("MAIL_LOG_ROTATE_SIZ", "MAIL_LOG_ROTATE_SIZE"),
        ("MAIL_LOG_KEEP", "MAIL_LOG_ROTATE_KEEP"),
        ("MAIL_LOG_FILES", None),  # ours by prefix: refused, though too far from any name to guess
        ("LOG_FROMAT", "LOG_FORMAT"),
        ("LOGFORMAT", "LOG_FORMAT"),
        ("LOG_FORMAT_FIEL", "LOG_FORMAT_FILE"),
    ],
)
def test_typos_are_refused_with_a_did_you_mean(variable, suggestion):
    _, problems = settings_from({variable: "json"})
    expected = f"; did you mean {suggestion}?" if suggestion else ""
    assert problems == [f"{variable}: unknown setting{expected}"]


def test_a_platform_s_own_log_variables_are_not_ours_to_judge():
    _, problems = settings_from({"LOG_LEVEL": "debug", "LOG_FORMATTER": "x", "METRICS": "on"})
    assert problems == []


def test_log_format_may_come_from_a_file(tmp_path):
    (tmp_path / "format").write_text("json\n")
    settings, problems = settings_from({"LOG_FORMAT_FILE": str(tmp_path / "format")})
    assert (problems, settings["LOG_FORMAT"]) == ([], "json")


def _render(tmp_path, **environ):
    settings, problems = settings_from(environ)
    assert problems == []
    render_all(template_context(settings, ipv6=False), ROOTFS, tmp_path)
    return tmp_path


def test_classic_stdout_is_the_mail_log_s_own_line(tmp_path):
    rsyslog = (_render(tmp_path) / "etc/rsyslog.conf").read_text()
    assert 'action(type="omfile" file="/dev/stdout")' in rsyslog
    assert "MailLogJson" not in rsyslog


def test_json_stdout_applies_every_field_rule(tmp_path):
    rsyslog = (_render(tmp_path, LOG_FORMAT="json") / "etc/rsyslog.conf").read_text()
    assert 'action(type="omfile" file="/dev/stdout" template="MailLogJson")' in rsyslog
    assert 'action(type="omfile" file="/var/log/mail.log")' in rsyslog  # classic either way
    extractions = re.findall(r"set \$!(\w+) = re_extract\(\$\.text, '([^']*)', 0, 1, \"\"\)", rsyslog)
    assert extractions == [(rule.name, rule.pattern) for rule in FIELD_RULES]
    # A second rule for a field applies only while the first left it empty; program conditions hold.
    assert "and $programname == 'postfix/ses-events' and re_match($.text, ', ses_id=" in rsyslog
    assert """and $programname != 'postfix/ses-events' and $!ses_id == "" and re_match""" in rsyslog


def test_supervisord_runs_rotation_and_metrics_only_when_set(tmp_path):
    conf = (_render(tmp_path / "a") / "etc/supervisor/supervisord.conf").read_text()
    assert "[program:mail-log-rotation]" in conf
    assert "[program:metrics]" not in conf
    assert "rsyslogd -n -i /run/rsyslogd.pid" in conf
    conf = (
        _render(tmp_path / "b", METRICS_PORT="9187", MAIL_LOG_ROTATE_SIZE="0", MAIL_LOG_ROTATE_AGE="0")
        / "etc/supervisor/supervisord.conf"
    ).read_text()
    assert "[program:mail-log-rotation]" not in conf
    assert "[program:metrics]" in conf
    assert "ses-relay metrics --config /etc/ses-relay/ses-relay.json" in conf


def test_the_programs_read_what_was_rendered(tmp_path):
    root = _render(tmp_path, METRICS_PORT="9187", MAIL_LOG_ROTATE_SIZE="64k", MAIL_LOG_ROTATE_KEEP="3")
    ops = OpsConfig.load(root / "etc/ses-relay/ses-relay.json")
    assert (ops.metrics_port, ops.rotate_size, ops.rotate_keep, ops.rotate_age_seconds) == (
        9187,
        65536,
        3,
        86400,
    )
    assert ops.events_queue_url is None
    assert PacerConfig.load(root / "etc/ses-relay/ses-pacer.json").status_file == ops.pacer_status_file
    events = json.loads((root / "etc/ses-relay/ses-events.json").read_text())
    assert events["status_file"] == ops.events_status_file
    assert DaemonConfig(**{**events, "queue_url": "https://sqs.eu-west-1.amazonaws.com/1/q"}).status_file
