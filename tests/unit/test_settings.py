"""Settings: where values come from, in which order, and how bad ones are reported."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

import pytest

from entrypoint.log import ConfigurationError
from entrypoint.settings import load_settings
from entrypoint.settings.parsers import AllowedSender
from entrypoint.settings.schema import COMPOSE_VARIABLES, is_owned_name
from entrypoint.settings.smtp_password import smtp_password
from entrypoint.settings.sources import collect
from entrypoint.settings.validate import validate
from entrypoint.supervise import environment_without_secrets

MINIMAL = {
    "SES_REGION": "eu-west-1",
    "SES_SMTP_USERNAME": "AKIAEXAMPLE",
    "SES_SMTP_PASSWORD": "smtp-password",
    "RELAY_ALLOWED_SENDERS": "app@example.com",
}


def _no_secret(_secret_id, _region):
    raise AssertionError("no secret should be fetched")


def settings_from(environ, fetch_secret=_no_secret):
    raw, problems = collect(environ, fetch_secret)
    settings, more = validate(raw)
    return settings, [str(problem) for problem in problems + more], raw


def test_defaults_fill_in_around_the_required_settings():
    settings, problems, _ = settings_from(MINIMAL)
    assert problems == []
    assert settings["SES_SMTP_HOST"] == "email-smtp.eu-west-1.amazonaws.com"
    assert settings["SES_SMTP_PORT"] == 587
    assert settings["SES_TLS_CA_FILE"] == "/etc/ssl/certs/ca-certificates.crt"
    assert settings["RELAY_MESSAGE_SIZE_LIMIT"] == 10240000
    assert settings["RELAY_LISTEN_PORT"] == 25
    assert settings["SES_CONFIGURATION_SET"] is None
    assert ipaddress.ip_network("0.0.0.0/0") not in settings["RELAY_ALLOWED_NETWORKS"]
    assert all(network.is_private for network in settings["RELAY_ALLOWED_NETWORKS"])


def test_every_required_setting_is_reported_at_once():
    _, problems, _ = settings_from({})
    assert problems == [
        "SES_REGION: required but not set",
        "SES_SMTP_USERNAME: required but not set",
        "RELAY_ALLOWED_SENDERS: required but not set",
        "SES_SMTP_PASSWORD: required: set SES_SMTP_PASSWORD or SES_SMTP_SECRET_ACCESS_KEY",
    ]


def test_file_source_is_read_and_its_trailing_newline_dropped(tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text("from-a-file\n")
    environ = {**MINIMAL, "SES_SMTP_PASSWORD_FILE": str(password_file)}
    del environ["SES_SMTP_PASSWORD"]
    settings, problems, raw = settings_from(environ)
    assert problems == []
    assert settings["SES_SMTP_PASSWORD"] == "from-a-file"
    assert raw["SES_SMTP_PASSWORD"].source == f"file {password_file}"


def test_variable_and_its_file_together_are_an_error(tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text("x")
    _, problems, _ = settings_from({**MINIMAL, "SES_SMTP_PASSWORD_FILE": str(password_file)})
    assert problems == [
        "SES_SMTP_PASSWORD: both SES_SMTP_PASSWORD and SES_SMTP_PASSWORD_FILE are set; set only one"
    ]


def test_unreadable_file_names_the_file_variable():
    environ = {**MINIMAL, "RELAY_HOSTNAME_FILE": "/nonexistent/hostname"}
    _, problems, _ = settings_from(environ)
    assert problems == ["RELAY_HOSTNAME_FILE: cannot read '/nonexistent/hostname': No such file or directory"]


def test_secrets_manager_fills_what_the_environment_does_not_set():
    calls = []

    def fetch(secret_id, region):
        calls.append((secret_id, region))
        return json.dumps({"SES_SMTP_USERNAME": "from-secret", "SES_SMTP_PASSWORD": "secret-password"})

    environ = {**MINIMAL, "SECRETS_MANAGER_SECRET_ID": "ses-relay/smtp"}
    del environ["SES_SMTP_PASSWORD"]
    settings, problems, raw = settings_from(environ, fetch)
    assert problems == []
    assert calls == [("ses-relay/smtp", "eu-west-1")]  # the region falls back to SES_REGION
    # The environment wins over the secret; the secret fills the gap.
    assert settings["SES_SMTP_USERNAME"] == "AKIAEXAMPLE"
    assert settings["SES_SMTP_PASSWORD"] == "secret-password"
    assert raw["SES_SMTP_PASSWORD"].source == "Secrets Manager"


def test_secret_region_comes_from_aws_region_or_the_arn():
    seen = []

    def fetch(secret_id, region):
        seen.append(region)
        return "{}"

    arn = "arn:aws:secretsmanager:ap-south-1:123456789012:secret:ses-relay-AbCdEf"
    settings_from({**MINIMAL, "SECRETS_MANAGER_SECRET_ID": arn}, fetch)
    settings_from({**MINIMAL, "SECRETS_MANAGER_SECRET_ID": arn, "AWS_REGION": "ca-central-1"}, fetch)
    assert seen == ["ap-south-1", "ca-central-1"]


@pytest.mark.parametrize(
    ("secret_string", "problem"),
    [
        ("not json at all", "the secret is not a JSON object of setting names"),
        ('["a list"]', "the secret is not a JSON object of setting names"),
        ('{"SES_SMTP_PASWORD": "x"}', "unknown key 'SES_SMTP_PASWORD'; did you mean SES_SMTP_PASSWORD?"),
        ('{"SECRETS_MANAGER_SECRET_ID": "x"}', "unknown key 'SECRETS_MANAGER_SECRET_ID'"),
        ('{"SES_SMTP_PASSWORD": {"nested": 1}}', "the secret's key SES_SMTP_PASSWORD must hold a string"),
    ],
)
def test_bad_secrets_are_reported_on_the_secret_id(secret_string, problem):
    _, problems, _ = settings_from(
        {**MINIMAL, "SECRETS_MANAGER_SECRET_ID": "s"}, lambda _id, _region: secret_string
    )
    assert len(problems) == 1
    assert problems[0].startswith("SECRETS_MANAGER_SECRET_ID: ")
    assert problem in problems[0]


def test_unreachable_secret_is_reported():
    def fetch(_id, _region):
        raise LookupError("Secrets Manager refused: AccessDeniedException")

    _, problems, _ = settings_from({**MINIMAL, "SECRETS_MANAGER_SECRET_ID": "s"}, fetch)
    assert problems == [
        "SECRETS_MANAGER_SECRET_ID: cannot read secret 's': Secrets Manager refused: AccessDeniedException"
    ]


@pytest.mark.parametrize(
    ("variable", "suggestion"),
    [
        ("SES_SMTP_PASWORD", "SES_SMTP_PASSWORD"),
        ("SES_SMTP_USER", "SES_SMTP_USERNAME"),
        ("RELAY_ALLOWED_SENDER", "RELAY_ALLOWED_SENDERS"),
        ("SES_SMTP_PASSWORD_FIEL", "SES_SMTP_PASSWORD_FILE"),
        ("RELAYHOST_PASSWORD", None),  # not one of our prefixes: not ours to judge
    ],
)
def test_unknown_variables_get_a_did_you_mean(variable, suggestion):
    _, problems, _ = settings_from({**MINIMAL, variable: "x"})
    if suggestion is None:
        assert problems == []
    else:
        assert problems == [f"{variable}: unknown setting; did you mean {suggestion}?"]


def test_empty_variables_count_as_unset():
    settings, problems, _ = settings_from({**MINIMAL, "SES_SMTP_PORT": "", "SES_CONFIGURATION_SET": ""})
    assert problems == []
    assert settings["SES_SMTP_PORT"] == 587


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("SES_REGION", "eu-west", "SES_REGION: 'eu-west' is not an AWS region name such as 'eu-west-1'"),
        ("SES_SMTP_PORT", "587x", "SES_SMTP_PORT: '587x' is not a whole number"),
        ("SES_SMTP_PORT", "70000", "SES_SMTP_PORT: 70000 is not a TCP port (1-65535)"),
        ("SES_SMTP_HOST", "bad_host!", "SES_SMTP_HOST: 'bad_host!' is not a valid host name"),
        ("SES_TLS_CA_FILE", "/nonexistent.pem", "SES_TLS_CA_FILE: '/nonexistent.pem' is not a file"),
        (
            "SES_CONFIGURATION_SET",
            "has space",
            "SES_CONFIGURATION_SET: 'has space' is not an SES configuration",
        ),
        ("RELAY_ALLOWED_SENDERS", "app", "RELAY_ALLOWED_SENDERS: 'app' is neither an address"),
        ("RELAY_ALLOWED_SENDERS", "@localhost", "RELAY_ALLOWED_SENDERS: '@localhost' does not have a fully"),
        (
            "RELAY_ALLOWED_SENDERS",
            "a..b@example.com",
            "RELAY_ALLOWED_SENDERS: 'a..b@example.com' is not a valid",
        ),
        ("RELAY_ALLOWED_SENDERS", " , ", "RELAY_ALLOWED_SENDERS: lists no sender"),
        ("RELAY_ALLOWED_NETWORKS", "0.0.0.0/0", "RELAY_ALLOWED_NETWORKS: '0.0.0.0/0' would let a large part"),
        ("RELAY_ALLOWED_NETWORKS", "::/0", "RELAY_ALLOWED_NETWORKS: '::/0' would let a large part"),
        ("RELAY_ALLOWED_NETWORKS", "10.0.0.0/8 0.0.0.0/1", "RELAY_ALLOWED_NETWORKS: '0.0.0.0/1' would"),
        ("RELAY_ALLOWED_NETWORKS", "10.0.0.300/8", "RELAY_ALLOWED_NETWORKS: '10.0.0.300/8' is not a CIDR"),
        ("RELAY_MESSAGE_SIZE_LIMIT", "50000000", "RELAY_MESSAGE_SIZE_LIMIT: 50000000 is outside"),
    ],
)
def test_invalid_values_name_the_variable_and_the_fault(variable, value, problem):
    _, problems, _ = settings_from({**MINIMAL, variable: value})
    assert len(problems) == 1, problems
    assert problems[0].startswith(problem)


@pytest.mark.parametrize("value", ["pass\nword", "pass\rword", "pass\x00word", "pass\u2028word", "pass word"])
def test_secret_values_are_never_echoed(value):
    _, problems, _ = settings_from({**MINIMAL, "SES_SMTP_PASSWORD": value})
    assert len(problems) == 1
    assert problems[0].startswith("SES_SMTP_PASSWORD: ")
    assert "pass" not in problems[0].removeprefix("SES_SMTP_PASSWORD: ")


def test_control_characters_are_refused_in_every_setting():
    _, problems, _ = settings_from({**MINIMAL, "RELAY_HOSTNAME": "relay.example.com\nmydestination = x"})
    assert problems == ["RELAY_HOSTNAME: contains a line break at position 18"]


def test_password_and_secret_key_are_mutually_exclusive():
    _, problems, _ = settings_from({**MINIMAL, "SES_SMTP_SECRET_ACCESS_KEY": "key"})
    assert problems == ["SES_SMTP_PASSWORD: set only one of SES_SMTP_PASSWORD and SES_SMTP_SECRET_ACCESS_KEY"]


def test_smtp_password_is_derived_from_the_secret_key_for_the_region():
    environ = {
        **MINIMAL,
        "SES_REGION": "us-east-1",
        "SES_SMTP_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }
    del environ["SES_SMTP_PASSWORD"]
    settings, problems, _ = settings_from(environ)
    assert problems == []
    assert smtp_password(settings) == "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9"


def test_sender_and_network_lists_are_parsed_and_deduplicated():
    settings, problems, _ = settings_from(
        {
            **MINIMAL,
            "RELAY_ALLOWED_SENDERS": "App@Example.com, @apps.example.org app@example.com",
            "RELAY_ALLOWED_NETWORKS": "10.1.0.0/16,fd00::/8 [2001:db8::]/32 10.1.2.3/16",
        }
    )
    assert problems == []
    assert settings["RELAY_ALLOWED_SENDERS"] == (
        AllowedSender(address="app@example.com"),
        AllowedSender(domain="apps.example.org"),
    )
    assert [str(n) for n in settings["RELAY_ALLOWED_NETWORKS"]] == [
        "10.1.0.0/16",
        "fd00::/8",
        "2001:db8::/32",
    ]


def test_load_settings_logs_sources_but_never_values(capsys):
    load_settings(MINIMAL)
    err = capsys.readouterr().err
    assert "setting SES_SMTP_PASSWORD from environment" in err
    assert "smtp-password" not in err


def test_supervised_programs_do_not_inherit_secrets():
    environ = {**MINIMAL, "SES_SMTP_SECRET_ACCESS_KEY_FILE": "/run/secrets/key", "PATH": "/usr/bin"}
    inherited = environment_without_secrets(environ)
    assert "SES_SMTP_PASSWORD" not in inherited
    assert "SES_SMTP_SECRET_ACCESS_KEY_FILE" not in inherited
    assert inherited["PATH"] == "/usr/bin"
    assert inherited["SES_REGION"] == "eu-west-1"


def test_compose_variables_in_env_are_ignored_not_refused():
    """deploy/README.md's EC2 .env carries compose's own variables, and compose hands the whole
    file to the container."""
    environ = {
        **MINIMAL,
        "RELAY_PUBLISH": "10.0.1.23:25:25",
        "RELAY_LOG_DIR": "/var/log/ses-relay",
        "SES_RELAY_IMAGE": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ses-relay:1.0.0",
    }
    _, problems, raw = settings_from(environ)
    assert problems == []
    assert not {"RELAY_PUBLISH", "RELAY_LOG_DIR", "SES_RELAY_IMAGE"} & set(raw)


def test_a_misspelt_compose_variable_is_still_refused():
    _, problems, _ = settings_from({**MINIMAL, "RELAY_PUBLSH": "10.0.1.23:25:25"})
    assert problems == ["RELAY_PUBLSH: unknown setting; did you mean RELAY_PUBLISH?"]


def test_compose_yaml_reads_exactly_the_compose_variables_the_appliance_ignores():
    compose = (Path(__file__).resolve().parents[2] / "compose.yaml").read_text()
    interpolated = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", compose))
    assert {name for name in interpolated if is_owned_name(name)} == set(COMPOSE_VARIABLES)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SES_SMTP_USERNAME", "REPLACE-WITH-SMTP-USER-NAME"),  # the CloudFormation secret's
        ("SES_SMTP_PASSWORD", "REPLACE-WITH-SMTP-PASSWORD"),
        ("SES_SMTP_SECRET_ACCESS_KEY", "REPLACE-WITH-SECRET-ACCESS-KEY"),
        ("SES_SMTP_USERNAME", "AKIA..."),  # an example file's
        ("SES_SMTP_PASSWORD", "<smtp-password>"),
    ],
)
def test_placeholder_credentials_are_refused(variable, value):
    environ = {**MINIMAL, variable: value}
    if variable == "SES_SMTP_SECRET_ACCESS_KEY":
        del environ["SES_SMTP_PASSWORD"]
    _, problems, _ = settings_from(environ)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{variable}: is still a placeholder")
    assert value not in problems[0]


def test_placeholders_from_the_stacks_secret_are_refused():
    secret = json.dumps(
        {
            "SES_SMTP_USERNAME": "REPLACE-WITH-SMTP-USER-NAME",
            "SES_SMTP_PASSWORD": "REPLACE-WITH-SMTP-PASSWORD",
        }
    )
    environ = {key: value for key, value in MINIMAL.items() if not key.startswith("SES_SMTP_")}
    _, problems, _ = settings_from(
        {**environ, "SECRETS_MANAGER_SECRET_ID": "ses-relay/smtp"}, lambda *_: secret
    )
    assert [problem.split(":")[0] for problem in problems] == ["SES_SMTP_USERNAME", "SES_SMTP_PASSWORD"]
    assert all("(from Secrets Manager)" in problem for problem in problems)


def test_connection_limits_default_and_relate():
    settings, problems, _ = settings_from(MINIMAL)
    assert problems == []
    assert (settings["RELAY_MAX_CONNECTIONS"], settings["RELAY_MAX_CONNECTIONS_PER_CLIENT"]) == (100, 20)
    _, problems, _ = settings_from(
        {**MINIMAL, "RELAY_MAX_CONNECTIONS": "10", "RELAY_MAX_CONNECTIONS_PER_CLIENT": "10"}
    )
    assert problems == [
        "RELAY_MAX_CONNECTIONS_PER_CLIENT: 10 is not lower than RELAY_MAX_CONNECTIONS (10): "
        "one client could take every connection"
    ]


def test_load_settings_raises_every_problem_at_once_including_the_ipv6_rule():
    environ = {**MINIMAL, "SES_REGION": "nowhere", "RELAY_ALLOWED_NETWORKS": "fd00::/8"}
    with pytest.raises(ConfigurationError) as raised:
        load_settings(environ, ipv6=False)
    assert [str(problem).split(":")[0] for problem in raised.value.problems] == [
        "SES_REGION",
        "RELAY_ALLOWED_NETWORKS",
    ]
    assert "has no IPv6" in str(raised.value.problems[1])
