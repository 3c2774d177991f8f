"""The container's entrypoint: read settings, validate them all, render, check, then supervise.

Each step is one function; a problem stops the start before anything listens on port 25.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from entrypoint import postfix, report, supervise
from entrypoint.context import template_context
from entrypoint.hostname import ensure_own_name_resolves
from entrypoint.render import render_all
from entrypoint.schema import FILE_SUFFIX, SECRET_NAMES
from entrypoint.sources import Problem, collect
from entrypoint.validate import Settings, describe_sources, validate

ROOT = Path("/")
SUPERVISORD = ["/opt/venv/bin/supervisord", "-c", "/etc/supervisor/supervisord.conf"]


def load_settings(environ: Mapping[str, str]) -> tuple[Settings, list[Problem]]:
    raw, problems = collect(environ)
    settings, validation_problems = validate(raw)
    problems += validation_problems
    if not problems:
        for line in describe_sources(raw):
            report.info(f"setting {line}")
    return settings, problems


def check_renderable(context: Mapping[str, object]) -> list[Problem]:
    if not context["mynetworks"]:
        return [Problem("RELAY_ALLOWED_NETWORKS", "lists only IPv6 networks, and this container has no IPv6")]
    return []


def environment_without_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    """What the supervised programs inherit: the secrets are already in root-only files."""
    hidden = SECRET_NAMES | {name + FILE_SUFFIX for name in SECRET_NAMES}
    return {name: value for name, value in environ.items() if name not in hidden}


def start(environ: Mapping[str, str]) -> int:
    settings, problems = load_settings(environ)
    if problems:
        return report.invalid_configuration(problems)
    context = template_context(settings)
    problems = check_renderable(context)
    if problems:
        return report.invalid_configuration(problems)

    render_all(context, template_root=ROOT, output_root=ROOT)
    try:
        if ensure_own_name_resolves():
            report.info("added this host's name to /etc/hosts (host networking)")
    except OSError as error:
        report.info(f"cannot add this host's name to /etc/hosts ({error.strerror}); SASL may wait on DNS")
    try:
        postfix.build_lookup_tables(ROOT)
        postfix.check()
    except postfix.PostfixCheckFailed as error:
        report.info(str(error))
        return report.EX_CONFIG
    if not settings["SES_EVENTS_QUEUE_URL"]:
        report.info("SES_EVENTS_QUEUE_URL is not set: relay only, SES events will not reach the mail log")
    report.info(
        f"relaying to [{settings['SES_SMTP_HOST']}]:{settings['SES_SMTP_PORT']} "
        f"for {len(settings['RELAY_ALLOWED_SENDERS'])} allowed sender entries; starting supervisord"
    )
    return supervise.run(SUPERVISORD, environment_without_secrets(environ))


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments:
        # `docker run IMAGE CMD` runs CMD in place of the appliance, e.g. `ses-events format`.
        os.execvp(arguments[0], arguments)  # noqa: S606 - exec, by design, with no shell
    return start(os.environ)


if __name__ == "__main__":
    sys.exit(main())
