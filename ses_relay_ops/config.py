"""The operator commands' settings, rendered by the entrypoint to /etc/ses-relay/ses-relay.json:
where the mail log is, how it is rotated, and what the metrics exporter reads."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

CONFIG_FILE = Path("/etc/ses-relay/ses-relay.json")


@dataclass(frozen=True)
class OpsConfig:
    mail_log: str = "/var/log/mail.log"
    # Rotation: by size (bytes) and by age (seconds of the oldest line), 0 for never; files kept.
    rotate_size: int = 100 * 1024 * 1024
    rotate_age_seconds: int = 86400
    rotate_keep: int = 14
    rsyslog_pid_file: str = "/run/rsyslogd.pid"
    # Metrics: the port (None: off), and what the exporter reads besides the mail log.
    metrics_port: int | None = None
    mail_log_start_file: str = "/run/ses-relay/mail-log-start.json"
    pacer_status_file: str = "/run/ses-relay/ses-pacer.status.json"
    events_status_file: str = "/run/ses-relay/ses-events.status.json"
    check_status_file: str = "/run/ses-relay/ses-check.status.json"
    events_queue_url: str | None = None
    events_region: str | None = None

    @classmethod
    def load(cls, path: Path = CONFIG_FILE) -> OpsConfig:
        document = json.loads(path.read_text(encoding="utf-8"))
        unknown = sorted(set(document) - {field.name for field in fields(cls)})
        if unknown:
            raise ValueError(f"{path}: unknown keys {unknown}")
        return cls(**document)
