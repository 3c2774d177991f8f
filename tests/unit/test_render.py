"""Rendering: the templates produce the Postfix config we mean, as Postfix's own tools read it."""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path

import jinja2
import pytest

from entrypoint.context import template_context
from entrypoint.render import TEMPLATES, Template, render_all, render_template
from entrypoint.settings.sources import RawValue
from entrypoint.settings.validate import validate
from ses_events.daemon.config import DaemonConfig

ROOTFS = Path(__file__).resolve().parents[2] / "rootfs"


def settings_for(**overrides: str):
    environ = {
        "SES_REGION": "eu-west-1",
        "SES_SMTP_USERNAME": "AKIAEXAMPLE",
        "SES_SMTP_PASSWORD": "smtp-password",
        "RELAY_ALLOWED_SENDERS": "app@example.com @apps.example.org",
        "RELAY_ALLOWED_NETWORKS": "10.0.0.0/16 fd00:1::/64",
        "RELAY_HOSTNAME": "relay.example.com",
        **overrides,
    }
    settings, problems = validate({name: RawValue(value, "environment") for name, value in environ.items()})
    assert problems == []
    return settings


@pytest.fixture
def rendered(tmp_path: Path):
    def render(ipv6: bool = True, **overrides: str) -> Path:
        render_all(template_context(settings_for(**overrides), ipv6=ipv6), ROOTFS, tmp_path)
        return tmp_path / "etc/postfix"

    return render


def postconf(config_dir: Path, *names: str) -> dict[str, str]:
    output = subprocess.run(
        ["postconf", "-c", str(config_dir), *names], capture_output=True, text=True, check=True
    ).stdout
    pairs = (line.partition("=") for line in output.splitlines())
    return {name.strip(): value.strip() for name, _, value in pairs}


def test_every_template_in_rootfs_is_rendered():
    on_disk = {str(path.relative_to(ROOTFS))[: -len(".j2")] for path in ROOTFS.rglob("*.j2")}
    assert on_disk == {template.path for template in TEMPLATES}


def test_main_cf_relays_to_ses_over_verified_tls_with_sasl(rendered):
    config = postconf(
        rendered(),
        "relayhost",
        "smtp_tls_security_level",
        "smtp_tls_mandatory_protocols",
        "smtp_sasl_auth_enable",
        "smtp_sasl_security_options",
        "smtp_tls_CAfile",
        "smtp_host_lookup",
        "smtp_tls_wrappermode",
        "myhostname",
        "mynetworks",
        "smtpd_sasl_auth_enable",
        "smtpd_forbid_bare_newline",
        "smtpd_forbid_bare_newline_exclusions",
        "message_size_limit",
        "inet_protocols",
    )
    assert config == {
        "relayhost": "[email-smtp.eu-west-1.amazonaws.com]:587",
        "smtp_tls_security_level": "secure",
        "smtp_tls_mandatory_protocols": ">=TLSv1.2",
        "smtp_sasl_auth_enable": "yes",
        "smtp_sasl_security_options": "noanonymous",
        "smtp_tls_CAfile": "/etc/ssl/certs/ca-certificates.crt",
        "smtp_host_lookup": "native",
        "smtp_tls_wrappermode": "no",
        "myhostname": "relay.example.com",
        "mynetworks": "10.0.0.0/16 [fd00:1::]/64",
        "smtpd_sasl_auth_enable": "no",
        "smtpd_forbid_bare_newline": "yes",
        "smtpd_forbid_bare_newline_exclusions": "",
        "message_size_limit": "10240000",
        "inet_protocols": "all",
    }


def test_implicit_tls_port_turns_on_wrapper_mode(rendered):
    config = postconf(rendered(SES_SMTP_PORT="465"), "relayhost", "smtp_tls_wrappermode")
    assert config == {"relayhost": "[email-smtp.eu-west-1.amazonaws.com]:465", "smtp_tls_wrappermode": "yes"}


def test_without_ipv6_only_ipv4_networks_are_listed(rendered):
    config = postconf(rendered(ipv6=False), "mynetworks", "inet_protocols")
    assert config == {"mynetworks": "10.0.0.0/16", "inet_protocols": "ipv4"}


def test_postfix_accepts_the_rendered_files(rendered):
    result = subprocess.run(["postconf", "-c", str(rendered()), "-n"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "warning" not in result.stderr, result.stderr


def _lookup(table: Path, key: str) -> str | None:
    result = subprocess.run(["postmap", "-q", key, f"hash:{table}"], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


def test_sender_map_allows_exact_addresses_and_exact_domains(rendered):
    table = rendered() / "allowed_senders"
    subprocess.run(["postmap", f"hash:{table}"], check=True)
    assert _lookup(table, "app@example.com") == "OK"
    # A domain entry goes through main.cf's class that refuses %- and !-routed senders.
    assert _lookup(table, "apps.example.org") == "allowed_sender_domain"
    assert _lookup(table, "example.com") is None
    assert _lookup(table, "other@example.com") is None
    assert "sub.apps.example.org" not in table.read_text()


def test_sasl_passwd_is_private_and_keyed_like_relayhost(rendered):
    sasl = rendered(SES_SMTP_HOST="vpce.example.internal", SES_SMTP_PORT="2587") / "sasl_passwd"
    assert stat.S_IMODE(sasl.stat().st_mode) == 0o600
    assert sasl.read_text() == "[vpce.example.internal]:2587 AKIAEXAMPLE:smtp-password\n"


def test_configuration_set_header_rule_only_when_set(rendered):
    without = rendered()
    assert "header_checks" not in postconf(without, "header_checks")["header_checks"]
    assert "PREPEND" not in postconf(without, "smtpd_data_restrictions")["smtpd_data_restrictions"]
    with_set = rendered(SES_CONFIGURATION_SET="events-1")
    config = postconf(
        with_set, "header_checks", "mime_header_checks", "nested_header_checks", "smtpd_data_restrictions"
    )
    assert config["header_checks"] == "regexp:/etc/postfix/header_checks"
    # Attached messages and MIME parts keep their headers.
    assert config["mime_header_checks"] == config["nested_header_checks"] == ""
    marker = re.search(
        r"PREPEND (X-SES-Relay-Configuration-Set-[0-9a-f]{32}): events-1", config["smtpd_data_restrictions"]
    )
    assert marker, config["smtpd_data_restrictions"]
    rules = (with_set / "header_checks").read_text()
    assert f"/^{marker.group(1)}:/ REPLACE X-SES-CONFIGURATION-SET: events-1" in rules
    assert "/^X-SES-CONFIGURATION-SET:/ IGNORE" in rules
    # The marker is new at every start, so no client can learn it from an earlier one.
    assert marker.group(1) not in (rendered(SES_CONFIGURATION_SET="events-1") / "header_checks").read_text()


def test_a_misspelt_template_variable_fails_the_render(tmp_path):
    (tmp_path / "broken.j2").write_text("{{ relay_hostnme }}\n")
    with pytest.raises(jinja2.UndefinedError):
        render_template(Template("broken"), {"relay_hostname": "x"}, tmp_path)


def test_logger_settings_load_as_the_daemon_reads_them(rendered, tmp_path):
    rendered(SES_EVENTS_QUEUE_URL="https://sqs.eu-west-1.amazonaws.com/123456789012/events")
    config = DaemonConfig.load(tmp_path / "etc/ses-relay/ses-events.json")
    assert config.queue_url == "https://sqs.eu-west-1.amazonaws.com/123456789012/events"
    # The logger matches this relay's own Received header in the headers SES publishes.
    assert config.relay_hostname == "relay.example.com"


def test_the_start_up_check_dials_what_postfix_dials_and_holds_no_secret(rendered, tmp_path):
    from ses_check.config import CheckConfig
    from ses_check.smtp_login import read_credentials

    rendered(SES_SMTP_PORT="465")
    path = tmp_path / "etc/ses-relay/ses-check.json"
    config = CheckConfig.load(path)
    main_cf = postconf(tmp_path / "etc/postfix", "relayhost", "smtp_tls_wrappermode", "smtp_tls_CAfile")
    assert main_cf["relayhost"] == f"[{config.smtp_host}]:{config.smtp_port}"
    assert (main_cf["smtp_tls_wrappermode"] == "yes") is config.implicit_tls is True
    assert main_cf["smtp_tls_CAfile"] == config.ca_file
    assert config.allowed_senders == ("app@example.com", "@apps.example.org")
    assert (config.region, config.helo_name, config.password_setting) == (
        "eu-west-1",
        "relay.example.com",
        "SES_SMTP_PASSWORD",
    )
    assert "smtp-password" not in path.read_text()
    credentials = tmp_path / config.credentials_file.lstrip("/")
    assert read_credentials(credentials) == ("AKIAEXAMPLE", "smtp-password")
