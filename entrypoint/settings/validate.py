"""Turn raw values into typed settings and check how they relate, reporting every problem at once."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from entrypoint.settings.schema import SETTINGS
from entrypoint.settings.sources import Problem, RawValue

Settings = dict[str, Any]


def _control_character(value: str) -> str | None:
    """Name the first control character in value: each would let a value inject config lines."""
    for position, character in enumerate(value):
        if unicodedata.category(character) in ("Cc", "Zl", "Zp"):
            name = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab"}.get(
                character, f"control character U+{ord(character):04X}"
            )
            return f"contains {name} at position {position + 1}"
    return None


def _check_relations(raw: Mapping[str, RawValue], problems: list[Problem]) -> None:
    # Judged on what was given, valid or not: an invalid password is already reported.
    has_password = "SES_SMTP_PASSWORD" in raw
    has_key = "SES_SMTP_SECRET_ACCESS_KEY" in raw
    if has_password and has_key:
        problems.append(
            Problem("SES_SMTP_PASSWORD", "set only one of SES_SMTP_PASSWORD and SES_SMTP_SECRET_ACCESS_KEY")
        )
    elif not has_password and not has_key:
        problems.append(
            Problem("SES_SMTP_PASSWORD", "required: set SES_SMTP_PASSWORD or SES_SMTP_SECRET_ACCESS_KEY")
        )


def _check_connection_limits(settings: Settings, problems: list[Problem]) -> None:
    per_client = settings.get("RELAY_MAX_CONNECTIONS_PER_CLIENT")
    total = settings.get("RELAY_MAX_CONNECTIONS")
    if per_client is not None and total is not None and per_client >= total:
        problems.append(
            Problem(
                "RELAY_MAX_CONNECTIONS_PER_CLIENT",
                f"{per_client} is not lower than RELAY_MAX_CONNECTIONS ({total}): "
                "one client could take every connection",
            )
        )


def _check_networks_usable(settings: Settings, ipv6: bool, problems: list[Problem]) -> None:
    networks = settings.get("RELAY_ALLOWED_NETWORKS")
    if networks and not ipv6 and all(network.version == 6 for network in networks):
        problems.append(
            Problem("RELAY_ALLOWED_NETWORKS", "lists only IPv6 networks, and this container has no IPv6")
        )


def _check_metrics_port(settings: Settings, problems: list[Problem]) -> None:
    port = settings.get("METRICS_PORT")
    if port is not None and port == settings.get("RELAY_LISTEN_PORT"):
        problems.append(Problem("METRICS_PORT", f"{port} is RELAY_LISTEN_PORT, where Postfix listens"))


def validate(raw: Mapping[str, RawValue], *, ipv6: bool = True) -> tuple[Settings, list[Problem]]:
    """Typed settings (defaults filled in) and the list of problems; usable only if there are none."""
    settings: Settings = {}
    problems: list[Problem] = []
    for setting in SETTINGS:
        raw_value = raw.get(setting.name)
        if raw_value is None:
            continue
        where = "" if raw_value.source == "environment" else f" (from {raw_value.source})"
        injection = _control_character(raw_value.value)
        if injection:
            problems.append(Problem(setting.name, injection + where))
            continue
        try:
            settings[setting.name] = setting.parse(raw_value.value)
        except ValueError as error:
            problems.append(Problem(setting.name, f"{error}{where}"))

    # Defaults may depend on other settings (the SMTP host on the region), so fill them in after.
    for setting in SETTINGS:
        if setting.name in settings or setting.name in raw:
            continue
        if setting.required:
            problems.append(Problem(setting.name, "required but not set"))
            continue
        settings[setting.name] = setting.default_for(settings)

    _check_relations(raw, problems)
    _check_connection_limits(settings, problems)
    _check_networks_usable(settings, ipv6, problems)
    _check_metrics_port(settings, problems)
    return settings, problems
