"""The appliance's settings: one schema, three sources, every problem reported at once.

- ``schema``: each setting's name, type, default and description (the README's table comes from it);
- ``parsers``: one typed parser per kind of value;
- ``sources``: the environment, ``*_FILE`` files and the Secrets Manager secret, in that order;
- ``validate``: typed values, defaults, and the rules between settings;
- ``smtp_password``: the password Postfix presents to SES.
"""

from __future__ import annotations

from collections.abc import Mapping

from entrypoint import log
from entrypoint.settings.sources import SecretFetcher, collect, describe_sources, fetch_secret_string
from entrypoint.settings.validate import Settings, validate

__all__ = ["Settings", "load_settings"]


def load_settings(
    environ: Mapping[str, str], *, ipv6: bool = True, fetch_secret: SecretFetcher = fetch_secret_string
) -> Settings:
    """Typed settings with defaults; raises ConfigurationError naming every problem found."""
    raw, problems = collect(environ, fetch_secret)
    settings, validation_problems = validate(raw, ipv6=ipv6)
    problems += validation_problems
    if problems:
        raise log.ConfigurationError(problems)
    for line in describe_sources(raw):
        log.info(f"setting {line}")
    return settings
