"""See what it does, end to end: the mailbox simulator's journeys through the real image, then
the metrics scraped from METRICS_PORT equal the counts in the mail log, and `ses-relay trace`
tells each journey, whose SES events are in the file after a rotation: the event logger is
stopped while the mail goes out, the log rotated, and the logger started again."""

from __future__ import annotations

import json
import re
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from devstack.net import LOOPBACK, free_port
from ses_relay_ops.log_files import family, read_text_lines
from tests.conftest import ALLOWED_SENDER
from tests.e2e.conftest import SIMULATOR, send
from tests.e2e.test_pipeline import EVENT_TIMEOUT, OUTCOMES, event_pattern, sent_line
from tests.harness.appliance import Appliance
from tests.harness.waiting import wait_until

pytestmark = [pytest.mark.image, pytest.mark.localstack]

SUPERVISORCTL = ("supervisorctl", "-c", "/etc/supervisor/supervisord.conf")
# What trace shows after "sent to SES", per mailbox, in any order: SES's events arrive as they do.
SES_STEPS = {
    "success": {"SES accepted", "delivered"},
    "bounce": {"SES accepted", "bounced (Permanent/General)"},
    "suppressionlist": {"SES accepted", "bounced (Permanent/OnAccountSuppressionList)"},
    "complaint": {"SES accepted", "delivered", "complained (abuse)"},
    "ooto": {"SES accepted", "delivered", "bounced (Transient/General)"},
}


def counted_in_the_mail_log(lines: list[str]) -> dict[tuple[str, tuple], float]:
    """The figures the metrics must show, counted here with regular expressions of our own."""

    def count(pattern: str) -> int:
        return sum(1 for line in lines if re.search(pattern, line))

    figures: dict[tuple[str, tuple], float] = {
        ("ses_relay_messages_accepted_total", ()): count(r" postfix/smtpd\[\d+\]: [0-9A-F]+: client="),
        ("ses_relay_recipients_refused_total", ()): count(r" postfix/smtpd\[\d+\]: NOQUEUE: reject: "),
        ("ses_relay_recipients_sent_total", ()): count(r" postfix/smtp\[\d+\]: .*, status=sent \(250 Ok "),
        ("ses_relay_recipients_deferred_total", ()): count(r" postfix/smtp\[\d+\]: .*, status=deferred "),
        ("ses_relay_recipients_bounced_total", ()): count(r" postfix/smtp\[\d+\]: .*, status=bounced "),
        ("ses_relay_mail_log_lines_total", ()): len(lines),
    }
    outcomes = Counter()
    for line in lines:
        event = re.search(r" postfix/ses-events\[\d+\]: .*, status=([a-z]+)(?: \(([^)]*)\))?,", line)
        if event:
            kind, _, subtype = (event.group(2) or "").partition("/")
            outcomes[(event.group(1), kind, subtype)] += 1
    for (status, kind, subtype), number in outcomes.items():
        labels = tuple(sorted({"status": status, "type": kind, "subtype": subtype}.items()))
        figures[("ses_relay_ses_events_total", labels)] = number
    return figures


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for metric in text_string_to_metric_families(text)
        for sample in metric.samples
    }


def _mail_log_lines(log_dir: Path) -> list[str]:
    return [line.rstrip("\n") for path in family(log_dir / "mail.log") for line in read_text_lines(path)]


def test_metrics_equal_the_mail_log_and_trace_tells_each_journey(
    pipeline_settings, pki_mount, ses_simulator, ses_pipeline, tmp_path
):
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    port = free_port()
    settings = {**pipeline_settings, "METRICS_PORT": str(port)}
    recipients = {mailbox: f"{mailbox}+see@{SIMULATOR}" for mailbox in OUTCOMES}
    with Appliance(settings, mounts=pki_mount, volumes=[(str(log_dir), "/var/log")]) as relay:
        relay.exec(*SUPERVISORCTL, "stop", "ses-events")
        for mailbox, recipient in recipients.items():
            send(relay.port, ALLOWED_SENDER, [recipient], subject=f"to {mailbox}")
        send(relay.port, "billing@apps.example.org", ["bob@example.net"], subject="SES refuses the sender")
        with pytest.raises(Exception, match="RELAY_ALLOWED_SENDERS"):
            send(relay.port, "intruder@example.com", ["bob@example.net"], subject="the relay refuses it")
        journeys = {}
        for mailbox, recipient in recipients.items():
            sent = sent_line(relay, recipient, ses_simulator.port)
            journeys[mailbox] = (sent.group("qid"), sent.group("ses_id"))
        relay.wait_for_mail_log(r"to=<bob@example\.net>, .*status=bounced \(host ")
        # SES's events go to the next file: trace must read both.
        relay.exec("ses-relay", "rotate")
        relay.exec(*SUPERVISORCTL, "start", "ses-events")
        for mailbox, (qid, ses_id) in journeys.items():
            for dsn, status in [(r"2\.0\.0", "accepted"), *OUTCOMES[mailbox]]:
                pattern = re.compile(event_pattern(qid, recipients[mailbox], dsn, status, ses_id))
                wait_until(
                    lambda p=pattern: p.search("\n".join(_mail_log_lines(log_dir))),
                    EVENT_TIMEOUT,
                    pattern.pattern,
                )
        ses_simulator.wait_idle()
        wait_until(lambda: ses_pipeline.messages_left() == 0, timeout=60, what="an empty queue")

        # The metrics say what the mail log says, once the exporter has read it all.
        def metrics_match() -> bool:
            scraped, expected = scrape(port), counted_in_the_mail_log(_mail_log_lines(log_dir))
            return all(scraped.get(key) == value for key, value in expected.items())

        wait_until(metrics_match, 30, "the metrics to equal the mail log's counts")
        scraped = scrape(port)
        expected = counted_in_the_mail_log(_mail_log_lines(log_dir))
        traces = {
            mailbox: json.loads(relay.exec("ses-relay", "trace", "--json", recipient).stdout)
            for mailbox, recipient in recipients.items()
        }
        by_ses_id = json.loads(relay.exec("ses-relay", "trace", "--json", journeys["bounce"][1]).stdout)

    for key, value in expected.items():
        assert scraped[key] == value, key
    assert expected[("ses_relay_recipients_sent_total", ())] == len(recipients)
    assert expected[("ses_relay_recipients_bounced_total", ())] == 1
    assert expected[("ses_relay_recipients_refused_total", ())] == 1
    # The gauges: an empty Postfix queue, an empty SQS queue, the pacer's rate, no logger errors.
    assert scraped[("ses_relay_postfix_queue_messages", (("queue", "hold"),))] == 0
    assert scraped[("ses_relay_events_queue_messages", (("state", "visible"),))] == 0
    assert scraped[("ses_relay_send_rate_limit", ())] > 0
    assert scraped[("ses_relay_events_sqs_errors_total", ())] == 0
    assert scraped[("ses_relay_events_newest_logged_age_seconds", ())] >= 0

    files = family(log_dir / "mail.log")
    assert [path.name for path in files] == ["mail.log.1", "mail.log"]
    assert "status=sent (250 Ok" in files[0].read_text()
    assert re.search(
        r"postfix/ses-events\[\d+\]: .*status=(delivered|bounced|complained)", files[1].read_text()
    )
    for mailbox, [journey] in traces.items():
        qid, ses_id = journeys[mailbox]
        steps = [step["step"] for step in journey["steps"]]
        assert (journey["queue_id"], journey["ses_message_ids"]) == (qid, [ses_id]), mailbox
        assert (journey["sender"], journey["recipients"]) == (ALLOWED_SENDER, [recipients[mailbox]])
        assert steps[:2] == ["accepted", "held"], steps
        assert journey["steps"][0]["fields"]["client"] == "localhost[127.0.0.1]"
        sent_at = steps.index("sent to SES")
        assert {"released", "queued"} <= set(steps[:sent_at])
        assert set(steps[sent_at + 1 :]) - {"removed"} == SES_STEPS[mailbox], (mailbox, steps)
        assert journey["steps"][sent_at]["fields"]["ses_id"] == ses_id
    assert [journey["queue_id"] for journey in by_ses_id] == [journeys["bounce"][0]]
