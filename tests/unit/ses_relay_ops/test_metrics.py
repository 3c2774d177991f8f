"""The exporter's counters from the mail log, its gauges from their sources, and its wire format."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.parser import text_string_to_metric_families

from devstack.net import free_port
from ses_pacer.queue import QueuedMessage
from ses_relay_ops.metrics import (
    Cached,
    MailLogMetrics,
    events_metrics,
    pacer_metrics,
    queue_metrics,
    read_status,
    start_position,
)
from tests.unit.ses_relay_ops.fixtures import fixture_lines


def _samples(metrics) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in metrics
        for sample in family.samples
    }


def test_counters_count_the_fixture_as_report_does():
    registry = CollectorRegistry()
    counters = MailLogMetrics(registry)
    for line in fixture_lines():
        counters.observe(line)
    counters.observe(None)  # a line that is no syslog line still counts as read

    def value(name, **labels):
        return registry.get_sample_value(f"ses_relay_{name}", labels)

    assert value("mail_log_lines_total") == 92
    assert value("messages_accepted_total") == 5
    assert value("recipients_refused_total") == 1
    assert value("recipients_sent_total") == 5
    assert value("recipients_deferred_total") == 2
    assert value("recipients_bounced_total") == 1
    assert value("ses_throttled_total", throttle="rate") == 2
    assert value("ses_throttled_total", throttle="daily_quota") == 0
    assert value("ses_events_total", status="delivered", type="", subtype="") == 3
    assert value("ses_events_total", status="bounced", type="Permanent", subtype="General") == 1
    assert value("ses_events_total", status="bounced", type="Transient", subtype="General") == 1
    assert value("ses_events_total", status="complained", type="abuse", subtype="") == 1
    assert value("ses_events_total", status="deferred", type="MailboxFull", subtype="") == 1
    assert value("ses_events_total", status="rejected", type="", subtype="") == 0
    assert counters.newest_event == datetime(2026, 12, 3, 12, 31, 40)


def test_the_queue_by_name_and_its_oldest_deferred_message():
    now = 1_800_000_000.0
    messages = [
        QueuedMessage("A1", "hold", int(now) - 5, 1, None),
        QueuedMessage("A2", "hold", int(now) - 4, 1, None),
        QueuedMessage("A3", "deferred", int(now) - 600, 1, None),
        QueuedMessage("A4", "deferred", int(now) - 60, 1, None),
        QueuedMessage("A5", "active", int(now), 1, None),
    ]
    samples = _samples(queue_metrics(messages, now))
    assert samples[("ses_relay_postfix_queue_messages", (("queue", "hold"),))] == 2
    assert samples[("ses_relay_postfix_queue_messages", (("queue", "deferred"),))] == 2
    assert samples[("ses_relay_postfix_queue_messages", (("queue", "incoming"),))] == 0
    assert samples[("ses_relay_postfix_oldest_deferred_age_seconds", ())] == 600
    assert _samples(queue_metrics([], now))[("ses_relay_postfix_oldest_deferred_age_seconds", ())] == 0
    assert list(queue_metrics(None, now)) == []  # Postfix did not answer: no guess


def test_the_pacer_and_the_event_logger_from_their_status_files(tmp_path):
    now = time.time()
    pacer = tmp_path / "ses-pacer.status.json"
    pacer.write_text(json.dumps({"written_at": now, "send_rate": 12.6, "account_max_send_rate": 14.0}))
    samples = _samples(pacer_metrics(read_status(str(pacer), now)))
    assert samples[("ses_relay_send_rate_limit", ())] == 12.6
    assert samples[("ses_relay_send_rate_account_max", ())] == 14.0
    assert samples[("ses_relay_daily_quota_exhausted", ())] == 0
    assert read_status(str(pacer), now + 60) is None  # stale: its writer is not running
    assert read_status(str(tmp_path / "missing.json"), now) is None

    status = {"sqs_errors": 3, "syslog_errors": 1}
    newest = datetime.now() - timedelta(seconds=30)
    samples = _samples(
        events_metrics(status, {"visible": 7, "in_flight": 2}, newest, newest + timedelta(seconds=30))
    )
    assert samples[("ses_relay_events_sqs_errors_total", ())] == 3
    assert samples[("ses_relay_events_syslog_errors_total", ())] == 1
    assert samples[("ses_relay_events_queue_messages", (("state", "visible"),))] == 7
    assert samples[("ses_relay_events_newest_logged_age_seconds", ())] == 30
    assert list(events_metrics(None, None, None, newest)) == []


def test_a_source_is_read_at_most_once_per_period_and_its_failure_is_no_value(capsys):
    clock = [0.0]
    reads = []

    def flaky():
        reads.append(clock[0])
        if len(reads) == 2:
            raise OSError("postqueue: not running")
        return len(reads)

    cached = Cached(flaky, 5.0, clock=lambda: clock[0])
    assert cached.get() == 1
    clock[0] = 4.9
    assert cached.get() == 1
    clock[0] = 5.0
    assert cached.get() is None
    assert "postqueue: not running" in capsys.readouterr().err
    clock[0] = 10.0
    assert cached.get() == 3


def test_where_the_container_started(tmp_path):
    noted = tmp_path / "mail-log-start.json"
    assert start_position(str(noted)) is None
    noted.write_text(json.dumps({"inode": 42, "offset": 1000}))
    start = start_position(str(noted))
    assert (start.inode, start.offset) == (42, 1000)


def test_prometheus_reads_what_is_served():
    registry = CollectorRegistry()
    counters = MailLogMetrics(registry)
    for line in fixture_lines():
        counters.observe(line)
    port = free_port()
    server, _thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            text = response.read().decode()
    finally:
        server.shutdown()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert families["ses_relay_recipients_sent"].type == "counter"
    [sent] = families["ses_relay_recipients_sent"].samples
    assert (sent.name, sent.value) == ("ses_relay_recipients_sent_total", 5)
