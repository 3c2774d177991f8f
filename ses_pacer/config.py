"""The pacer's settings, rendered by the entrypoint from SES_MAX_SEND_RATE and SES_REGION."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE = Path("/etc/ses-relay/ses-pacer.json")


@dataclass(frozen=True)
class PacerConfig:
    max_send_rate: float | None  # recipients per second; None: auto, from SES's API
    region: str
    quota_refresh_seconds: float = 300.0
    # Where the pacer keeps its rate in force for the metrics exporter (ses_relay_ops.metrics).
    status_file: str | None = None

    @classmethod
    def load(cls, path: Path = CONFIG_FILE) -> PacerConfig:
        document = json.loads(path.read_text(encoding="utf-8"))
        rate = document.get("max_send_rate")
        return cls(
            max_send_rate=None if rate is None else float(rate),
            region=str(document["region"]),
            quota_refresh_seconds=float(document.get("quota_refresh_seconds", 300.0)),
            status_file=document.get("status_file"),
        )
