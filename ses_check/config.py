"""The check's settings, rendered by the entrypoint to /etc/ses-relay/ses-check.json.

It holds no secret: the credentials are read from Postfix's own ``sasl_passwd`` (mode 0600), so
the check logs in with exactly what Postfix will send.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

from ses_check.smtp_login import Endpoint

CONFIG_FILE = Path("/etc/ses-relay/ses-check.json")


@dataclass(frozen=True)
class CheckConfig:
    smtp_host: str
    smtp_port: int
    implicit_tls: bool
    ca_file: str
    helo_name: str
    region: str
    # RELAY_ALLOWED_SENDERS as written: "app@example.com" or "@example.com".
    allowed_senders: tuple[str, ...]
    # Which setting the password came from, to name it (never its value) when SES refuses it.
    password_setting: str = "SES_SMTP_PASSWORD"  # noqa: S105 - a setting's name, not a password
    credentials_file: str = "/etc/postfix/sasl_passwd"
    syslog_socket: str = "/dev/log"
    # What the check found, for the metrics exporter (ses_relay_ops.metrics).
    status_file: str | None = None

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.smtp_host, self.smtp_port, self.implicit_tls, self.ca_file, self.helo_name)

    @classmethod
    def load(cls, path: Path = CONFIG_FILE) -> CheckConfig:
        document = json.loads(path.read_text(encoding="utf-8"))
        unknown = sorted(set(document) - {field.name for field in fields(cls)})
        if unknown:
            raise ValueError(f"{path}: unknown keys {unknown}")
        document["allowed_senders"] = tuple(document.get("allowed_senders", ()))
        return cls(**document)
