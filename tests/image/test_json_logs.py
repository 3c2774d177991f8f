"""LOG_FORMAT=json on the real image: every mail-log line reaches stdout once, as one JSON object
whose fields are the ones `ses-relay trace` and `report` read from the same line."""

from __future__ import annotations

import contextlib
import json
import re
import smtplib
from datetime import datetime

import pytest

from devstack.net import LOOPBACK
from ses_relay_ops.fields import fields_of
from ses_relay_ops.line import parse_line
from tests.conftest import ALLOWED_SENDER
from tests.harness.appliance import Appliance
from tests.harness.waiting import wait_until

pytestmark = pytest.mark.image

CLASSIC = re.compile(r"^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} ")
ENVELOPE = {"time", "host", "program", "pid", "severity", "message"}


def _send(port: int, sender: str, recipient: str) -> None:
    message = f"Subject: json\r\nMessage-ID: <{recipient}>\r\n\r\nhello\r\n"
    with (
        smtplib.SMTP(LOOPBACK, port, timeout=30) as client,
        contextlib.suppress(smtplib.SMTPRecipientsRefused),
    ):
        client.sendmail(sender, [recipient], message)


def _stdout_objects(relay: Appliance) -> list[dict]:
    return [json.loads(line) for line in relay.logs().splitlines() if line.startswith("{")]


def test_every_mail_log_line_is_one_json_object_on_stdout(relay_settings, pki_mount, ses_smtp):
    with Appliance({**relay_settings, "LOG_FORMAT": "json"}, mounts=pki_mount) as relay:
        _send(relay.port, ALLOWED_SENDER, "bob@example.net")
        _send(relay.port, ALLOWED_SENDER, "carol@example.net")
        _send(relay.port, "intruder@example.com", "dave@example.net")  # refused: NOQUEUE
        ses_smtp.wait_for_messages(2)
        relay.wait_for_mail_log(r"to=<carol@example\.net>, .*status=sent \(250 Ok ")
        relay.wait_for_mail_log(r"NOQUEUE: reject: .*from=<intruder@example\.com>")
        relay.wait_for_mail_log(r"[0-9A-F]+: removed\n(.*\n)*.*[0-9A-F]+: removed")
        now = datetime.now()
        classic = [parse_line(text, now) for text in relay.mail_log().splitlines()]

        def mail_objects() -> list[dict]:
            return [o for o in _stdout_objects(relay) if o["program"].startswith("postfix/")]

        wait_until(lambda: len(mail_objects()) >= len(classic), 30, "every mail-log line on stdout")
        objects = mail_objects()[: len(classic)]
        output = relay.logs()

    assert all(classic)
    # No mail-log line reaches stdout in its classic form; every JSON-looking line is JSON.
    assert [line for line in output.splitlines() if CLASSIC.match(line)] == []
    for line in output.splitlines():
        if line.startswith("{"):
            json.loads(line)
    # The same lines, in the same order, each once.
    assert [(o["program"], o["message"]) for o in objects] == [
        (line.program, line.message) for line in classic
    ]
    for obj, line in zip(objects, classic, strict=True):
        assert obj["pid"] == line.pid
        assert obj["host"] == line.host
        stamp = datetime.fromisoformat(obj["time"]).astimezone().replace(tzinfo=None, microsecond=0)
        assert stamp == line.time
        # rsyslog's fields are the ones Python reads from the same line.
        fields = {name: value for name, value in obj.items() if name not in ENVELOPE}
        assert fields == fields_of(line.program, line.message), line.text
    sent = [o for o in objects if o.get("status") == "sent" and o["program"] == "postfix/smtp"]
    assert sorted(o["to"] for o in sent) == ["bob@example.net", "carol@example.net"]
    assert all(re.fullmatch(r"[0-9a-f-]+-000000", o["ses_id"]) for o in sent)
    refused = next(o for o in objects if o["message"].startswith("NOQUEUE: reject: "))
    assert (refused["from"], refused["to"]) == ("intruder@example.com", "dave@example.net")
    assert {o.get("message_id") for o in objects} >= {"<bob@example.net>", "<carol@example.net>"}


def test_classic_is_the_default_and_stdout_carries_the_mail_log_s_lines(relay_settings, pki_mount, ses_smtp):
    with Appliance(relay_settings, mounts=pki_mount) as relay:
        _send(relay.port, ALLOWED_SENDER, "bob@example.net")
        ses_smtp.wait_for_messages(1)
        sent = relay.wait_for_mail_log(
            r"postfix/smtp\[\d+\]: [0-9A-F]+: to=<bob@example\.net>, .*status=sent.*"
        )
        wait_until(lambda: sent.group(0) in relay.logs(), 30, "the sent line on stdout")
        assert not any(line.startswith("{") for line in relay.logs().splitlines())
