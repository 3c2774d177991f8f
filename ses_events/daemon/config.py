"""The daemon's settings: rendered by the entrypoint to /etc/ses-relay/ses-events.json."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from pathlib import Path

DEFAULT_CONFIG = Path("/etc/ses-relay/ses-events.json")
_SQS_HOST_REGION = re.compile(r"^https://sqs[.-]([a-z0-9-]+)\.amazonaws\.com(\.cn)?/")


@dataclass(frozen=True)
class DaemonConfig:
    queue_url: str
    # Used when neither the queue URL nor AWS_REGION names one.
    region: str | None = None
    concurrency: int = 2
    wait_seconds: int = 20
    visibility_timeout: int = 60
    max_messages: int = 10
    syslog_socket: str = "/dev/log"
    mail_log: str = "/var/log/mail.log"
    state_file: str = "/var/log/ses-relay/ses-events.sqlite3"
    # Postfix's myhostname: an event whose headers show this relay's own Received header gets
    # its queue ID from there when the mail log did not give it (ses_events.core.relay_queue_id).
    relay_hostname: str | None = None
    # SES_EVENTS_VERIFY_SNS_SIGNATURES: only bodies SNS signed are logged (sns_verifier.py).
    verify_sns_signatures: bool = True
    # Where the daemon keeps its error counts for the metrics exporter (ses_relay_ops.metrics).
    status_file: str | None = None

    @classmethod
    def load(cls, path: Path = DEFAULT_CONFIG) -> DaemonConfig:
        document = json.loads(path.read_text(encoding="utf-8"))
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(document) - known)
        if unknown:
            raise ValueError(f"{path}: unknown keys {unknown}")
        return cls(**document)

    def queue_region(self) -> str | None:
        match = _SQS_HOST_REGION.match(self.queue_url)
        return match.group(1) if match else None
