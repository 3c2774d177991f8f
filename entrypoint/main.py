"""The container's entrypoint: read settings, validate them all, render, check, then supervise.

``start`` is the table of contents: one step per line. A step that finds the configuration
unusable raises ConfigurationError, before anything listens on port 25, and ``main`` reports every
problem at once with exit status 78.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence

from entrypoint import log, paths, postfix, supervise
from entrypoint.context import ipv6_available, template_context
from entrypoint.hosts_file import ensure_own_name_resolves
from entrypoint.render import render_all
from entrypoint.settings import Settings, load_settings


def start(environ: Mapping[str, str]) -> int:
    ipv6 = ipv6_available()  # Docker turns IPv6 off unless the network has it
    settings = load_settings(environ, ipv6=ipv6)  # environment, *_FILE, Secrets Manager; all checked
    render_all(template_context(settings, ipv6=ipv6), template_root=paths.ROOT, output_root=paths.ROOT)
    make_own_name_resolve()  # Cyrus SASL looks it up at every login to SES
    postfix.build_and_check(paths.ROOT)  # postmap the tables, then `postfix check`
    note_where_the_mail_log_starts()  # the metrics count its lines from here
    paths.RSYSLOG_PID_FILE.unlink(missing_ok=True)  # left by an rsyslog killed last run, it stops the next
    announce(settings)
    drain = [sys.executable, "-m", "entrypoint.drain", str(settings["RELAY_DRAIN_SECONDS"])]
    environment = supervise.environment_without_secrets(environ)
    return supervise.run(paths.SUPERVISORD, environment, drain if settings["RELAY_DRAIN_SECONDS"] else ())


def make_own_name_resolve() -> None:
    try:
        if ensure_own_name_resolves():
            log.info("added this host's name to /etc/hosts (host networking)")
    except OSError as error:
        log.warning(f"cannot add this host's name to /etc/hosts ({error.strerror}); SASL may wait on DNS")


def note_where_the_mail_log_starts() -> None:
    """Before rsyslog runs: the mail log's inode and size, where the metrics exporter starts."""
    try:
        status = paths.MAIL_LOG.stat()
        start = {"inode": status.st_ino, "offset": status.st_size}
    except FileNotFoundError:
        start = {"inode": 0, "offset": 0}  # a new log: read it from its start
    paths.MAIL_LOG_START_FILE.parent.mkdir(parents=True, exist_ok=True)
    paths.MAIL_LOG_START_FILE.write_text(json.dumps(start), encoding="utf-8")


def announce(settings: Settings) -> None:
    if not settings["SES_EVENTS_QUEUE_URL"]:
        log.info("SES_EVENTS_QUEUE_URL is not set: relay only, SES events will not reach the mail log")
    log.info(
        f"relaying to [{settings['SES_SMTP_HOST']}]:{settings['SES_SMTP_PORT']} "
        f"for {len(settings['RELAY_ALLOWED_SENDERS'])} allowed sender entries; starting supervisord"
    )


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments:
        # `docker run IMAGE CMD` runs CMD in place of the appliance, e.g. `ses-events format`.
        os.execvp(arguments[0], arguments)  # noqa: S606 - exec, by design, with no shell
    try:
        return start(os.environ)
    except log.ConfigurationError as error:
        return log.invalid_configuration(error.problems)


if __name__ == "__main__":
    sys.exit(main())
