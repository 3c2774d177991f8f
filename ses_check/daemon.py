"""``ses-check run``: the check under supervisord, beside a relay that already takes mail.

First the SMTP login, then SES's API (which may answer while SMTP does not), then the login
again with backoff for as long as SES cannot be reached. Then it stays idle until SIGTERM, so
supervisord and the health check see it RUNNING, and keeps its findings in a small status file
for the metrics exporter.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ses_check import identities, report, ses_api
from ses_check.config import CheckConfig
from ses_check.smtp_login import Endpoint, LoginResult, Outcome, read_credentials, try_login
from ses_events.daemon.syslog_writer import SyslogUnavailable, SyslogWriter

TAG = "postfix/ses-check"
SEVERITIES = {report.INFO: 6, report.WARNING: 4, report.ERR: 3}
BACKOFF_FIRST_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 300.0
STATUS_SECONDS = 10.0
# rsyslog starts beside the check: wait this long for it before writing to stderr instead.
SYSLOG_WAIT_SECONDS = 30.0


@dataclass
class Findings:
    """True: passed, False: failed, None: not (yet) known."""

    smtp_login: bool | None = None
    sender_identities: bool | None = None
    production_access: bool | None = None
    sending_enabled: bool | None = None


class MailLog:
    """Each line into the mail log through /dev/log, waiting for rsyslog if it is still starting."""

    def __init__(self, socket_path: str, wait_seconds: float = SYSLOG_WAIT_SECONDS):
        self.writer = SyslogWriter(socket_path, tag=TAG)
        self.wait_seconds = wait_seconds

    def __call__(self, line: report.Line) -> None:
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                self.writer.write([line.text], SEVERITIES[line.severity])
                return
            except SyslogUnavailable:
                if time.monotonic() >= deadline:
                    print(f"{TAG}: {line.text}", file=sys.stderr, flush=True)
                    return
                time.sleep(0.5)


class Check:
    def __init__(
        self,
        config: CheckConfig,
        say: Callable[[report.Line], None],
        stopping: threading.Event,
        login: Callable[[Endpoint, str, str], LoginResult] = try_login,
        read_account: Callable[[str], ses_api.AccountState] = ses_api.read_account,
        verification_statuses: Callable[[str, list[str]], dict[str, str]] = ses_api.verification_statuses,
    ):
        self.config = config
        self.say = say
        self.stopping = stopping
        self.login = login
        self.read_account = read_account
        self.verification_statuses = verification_statuses
        self.findings = Findings()
        self._last_unreachable: str | None = None

    def run(self) -> None:
        """Every check once, and the login again until SES answers it (or SIGTERM)."""
        try:
            username, password = read_credentials(Path(self.config.credentials_file))
        except (OSError, ValueError) as error:
            self.say(report.Line(report.ERR, f"cannot read the SMTP credentials Postfix uses: {error}"))
            self.check_api()
            return
        delay = BACKOFF_FIRST_SECONDS
        result = self.try_login(username, password, delay)
        self.check_api()
        while result.outcome is Outcome.UNREACHABLE and not self.stopping.wait(delay):
            delay = min(delay * 2, BACKOFF_MAX_SECONDS)
            result = self.try_login(username, password, delay)

    def try_login(self, username: str, password: str, retry_seconds: float) -> LoginResult:
        result = self.login(self.config.endpoint, username, password)
        unreachable = result.outcome is Outcome.UNREACHABLE
        if not unreachable:
            self.findings.smtp_login = result.outcome is Outcome.ACCEPTED
        if not unreachable or result.detail != self._last_unreachable:
            self.say(
                report.login(
                    result, self.config.endpoint, username, self.config.password_setting, retry_seconds
                )
            )
        self._last_unreachable = result.detail if unreachable else None
        return result

    def check_api(self) -> None:
        region = self.config.region
        try:
            state = self.read_account(region)
        except LookupError as error:
            self.say(report.api_unreadable(region, "the SES sandbox", "ses:GetAccount", str(error)))
        else:
            self.findings.production_access = state.production_access
            self.findings.sending_enabled = state.sending_enabled
            for line in report.account(state, region):
                self.say(line)
        entries = list(self.config.allowed_senders)
        if not entries:
            return
        try:
            statuses = self.verification_statuses(region, identities.identities_to_ask(entries))
        except LookupError as error:
            self.say(
                report.api_unreadable(
                    region, "RELAY_ALLOWED_SENDERS", "ses:GetIdentityVerificationAttributes", str(error)
                )
            )
            return
        verdicts = identities.verdicts(entries, statuses)
        self.findings.sender_identities = all(verdict.verified for verdict in verdicts)
        for line in report.identities(verdicts, region):
            self.say(line)


def write_status(path: str, findings: Findings) -> None:
    """The findings for the metrics exporter: a small JSON file replaced whole."""
    status = {"pid": os.getpid(), "written_at": time.time(), **asdict(findings)}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(f"{path}.tmp", "w", encoding="utf-8") as handle:
        json.dump(status, handle)
    os.replace(f"{path}.tmp", path)


def _keep_status(path: str, findings: Findings, stopping: threading.Event) -> None:
    while True:
        try:
            write_status(path, findings)
        except OSError as error:
            print(f"{TAG}: cannot write {path} ({error.strerror}): no check in the metrics", file=sys.stderr)
            return
        if stopping.wait(STATUS_SECONDS):
            return


def run(config: CheckConfig) -> int:
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    check = Check(config, MailLog(config.syslog_socket), stopping)
    if config.status_file:
        threading.Thread(
            target=_keep_status, args=(config.status_file, check.findings, stopping), daemon=True
        ).start()
    check.run()
    # Done: stay RUNNING (the health check wants every program so) until supervisord stops us.
    stopping.wait()
    return 0
