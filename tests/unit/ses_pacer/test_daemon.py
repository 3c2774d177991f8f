"""The pacer's status file: the rate in force, for the metrics exporter."""

from __future__ import annotations

import json

import pytest

from ses_pacer.config import PacerConfig
from ses_pacer.daemon import Daemon


def test_the_status_file_holds_the_rate_in_force(tmp_path):
    status_file = tmp_path / "run" / "ses-pacer.status.json"
    daemon = Daemon(PacerConfig(max_send_rate=20.0, region="eu-west-1", status_file=str(status_file)))
    daemon._write_status(now=1.0)
    status = json.loads(status_file.read_text())
    assert status["send_rate"] == pytest.approx(18.6)  # 93 % of the known rate
    assert status["account_max_send_rate"] == 20.0
    assert status["daily_quota_exhausted"] is False
    assert list(tmp_path.joinpath("run").iterdir()) == [status_file]  # no temporary file left


def test_the_config_names_the_status_file_or_none(tmp_path):
    path = tmp_path / "ses-pacer.json"
    path.write_text(json.dumps({"max_send_rate": None, "region": "us-east-1"}))
    assert PacerConfig.load(path).status_file is None
    path.write_text(json.dumps({"max_send_rate": 5, "region": "us-east-1", "status_file": "/run/x.json"}))
    assert PacerConfig.load(path).status_file == "/run/x.json"
