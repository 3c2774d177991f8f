"""Every message's whole life in one mail log, through the real image:

smtplib -> the appliance (Postfix) -> the SES simulator (SMTP, TLS, AUTH) -> SNS (LocalStack) -> SQS
-> the appliance's event logger -> /var/log/mail.log, next to Postfix's own lines for the same
queue ID. The appliance is configured as production is: ``deploy.bootstrap``'s output (queue URL,
configuration set, Secrets Manager secret holding the SMTP credentials).
"""

from __future__ import annotations

import re

import pytest

from devstack.event_json import sns_message
from devstack.ses_smtp import THROTTLED
from ses_events.core import format_sqs_body
from tests.conftest import ALLOWED_SENDER
from tests.e2e.conftest import SIMULATOR, send
from tests.harness.appliance import Appliance
from tests.harness.waiting import wait_until

pytestmark = [pytest.mark.image, pytest.mark.localstack]

# What the mail log must show after Postfix's status=sent line, per mailbox: (dsn, status) pairs.
OUTCOMES = {
    "success": [(r"2\.\d\.\d", r"delivered")],
    "bounce": [(r"5\.1\.1", r"bounced \(Permanent/General\)")],
    "suppressionlist": [(r"5\.1\.1", r"bounced \(Permanent/OnAccountSuppressionList\)")],
    "complaint": [(r"2\.\d\.\d", r"delivered"), (r"2\.0\.0", r"complained \(abuse\)")],
    "ooto": [(r"2\.\d\.\d", r"delivered"), (r"4\.0\.0", r"bounced \(Transient/General\)")],
}
DELIVERED = {"success", "complaint", "ooto"}
EVENT_TIMEOUT = 90


def sent_line(relay: Appliance, recipient: str, port: int) -> re.Match[str]:
    return relay.wait_for_mail_log(
        rf"postfix/smtp\[\d+\]: (?P<qid>[0-9A-F]+): to=<{re.escape(recipient)}>, "
        rf"relay=ses-smtp\.test\[127\.0\.0\.1\]:{port}, .*dsn=2\.0\.0, "
        rf"status=sent \(250 Ok (?P<ses_id>[0-9a-f-]+-000000)\)",
        timeout=60,
    )


def event_pattern(qid: str, recipient: str, dsn: str, status: str, ses_id: str) -> str:
    return (
        rf"postfix/ses-events\[\d+\]: {qid}: to=<{re.escape(recipient)}>, relay=[^,\n]*, "
        rf"dsn={dsn}, status={status}[,\n][^\n]*ses_id={ses_id}"
    )


def logged_messages(log: str) -> list[str]:
    """The message part of every line the event logger wrote."""
    return [line.split("]: ", 1)[1] for line in log.splitlines() if " postfix/ses-events[" in line]


def test_each_simulator_outcome_joins_its_queue_id_in_the_mail_log(
    pipeline_settings, pki_mount, ses_simulator, ses_pipeline, mailhog
):
    recipients = {mailbox: f"{mailbox}+e2e@{SIMULATOR}" for mailbox in OUTCOMES}
    with Appliance(pipeline_settings, mounts=pki_mount) as relay:
        for mailbox, recipient in recipients.items():
            send(relay.port, ALLOWED_SENDER, [recipient], subject=f"to {mailbox}")

        journeys = {}
        for mailbox, recipient in recipients.items():
            sent = sent_line(relay, recipient, ses_simulator.port)
            journeys[mailbox] = (sent.group("qid"), sent.group("ses_id"))
            for dsn, status in [(r"2\.0\.0", "accepted"), *OUTCOMES[mailbox]]:
                relay.wait_for_mail_log(
                    event_pattern(sent.group("qid"), recipient, dsn, status, sent.group("ses_id")),
                    timeout=EVENT_TIMEOUT,
                )

        ses_simulator.wait_idle()
        wait_until(lambda: ses_pipeline.messages_left() == 0, timeout=60, what="an empty queue")
        log = relay.mail_log()

    lines = log.splitlines()
    written = logged_messages(log)
    for mailbox, (qid, ses_id) in journeys.items():
        # Postfix's status=sent line comes first, then SES's lines, each exactly as the logger's own
        # formatter renders the event SES published, each once.
        sent_at = next(i for i, line in enumerate(lines) if f"status=sent (250 Ok {ses_id})" in line)
        expected = [
            line
            for event in ses_simulator.events(ses_id)
            for line in format_sqs_body(sns_message(event), lambda _id, q=qid: q).lines
        ]
        assert len(expected) == 1 + len(OUTCOMES[mailbox]), mailbox
        for line in expected:
            assert written.count(line) == 1, f"{mailbox}: {line!r} logged {written.count(line)} times"
            logged_at = next(i for i, text in enumerate(lines) if text.endswith(line))
            assert logged_at > sent_at, f"{mailbox}: SES's line before Postfix's status=sent"

    for mailbox, recipient in recipients.items():
        delivered = mailhog.client.messages_to(recipient)
        assert len(delivered) == (1 if mailbox in DELIVERED else 0), mailbox
        if delivered:
            headers = {name.lower(): values for name, values in delivered[0]["Content"]["Headers"].items()}
            assert headers["message-id"] == [f"<{journeys[mailbox][1]}@email.amazonses.com>"]
            assert "x-ses-configuration-set" not in headers  # the relay adds it, SES strips it
    assert ses_pipeline.messages_left(ses_pipeline.dlq_url()) == 0


def test_an_appliance_that_did_not_relay_the_mail_still_logs_under_its_queue_id(
    pipeline_settings, pki_mount, ses_simulator, ses_pipeline
):
    """Two appliances, one queue (the ECS stack runs two tasks): the event may reach the one whose
    mail log never had the status=sent line. It finds the queue ID in the relay's own Received
    header, which SES publishes with the event."""
    recipient = f"success+other@{SIMULATOR}"
    relay_only = {key: value for key, value in pipeline_settings.items() if key != "SES_EVENTS_QUEUE_URL"}
    with (
        Appliance(relay_only, mounts=pki_mount) as sender,
        Appliance(pipeline_settings, mounts=pki_mount) as logger,
    ):
        send(sender.port, ALLOWED_SENDER, [recipient], subject="one relay sends, the other logs")
        sent = sent_line(sender, recipient, ses_simulator.port)
        qid, ses_id = sent.group("qid"), sent.group("ses_id")
        for dsn, status in [(r"2\.0\.0", "accepted"), (r"2\.\d\.\d", "delivered")]:
            logger.wait_for_mail_log(
                event_pattern(qid, recipient, dsn, status, ses_id), timeout=EVENT_TIMEOUT
            )
        assert f"status=sent (250 Ok {ses_id})" not in logger.mail_log()
        assert "postfix/ses-events" not in sender.mail_log()


def test_throttled_send_is_deferred_then_delivered_never_bounced(
    pipeline_settings, pki_mount, ses_simulator, ses_pipeline, mailhog
):
    recipient = f"success+throttled@{SIMULATOR}"
    ses_simulator.smtp.fail_next(THROTTLED)
    with Appliance(pipeline_settings, mounts=pki_mount) as relay:
        send(relay.port, ALLOWED_SENDER, [recipient], subject="throttled")
        deferred = relay.wait_for_mail_log(
            rf"(?P<qid>[0-9A-F]+): to=<{re.escape(recipient)}>, relay=ses-smtp\.test\[127\.0\.0\.1\]:\d+, "
            r".*dsn=4\.0\.0, status=deferred \(host ses-smtp\.test\[127\.0\.0\.1\] said: "
            r"454 Throttling failure: Maximum sending rate exceeded\. \(in reply to end of DATA command\)\)"
        )
        qid = deferred.group("qid")
        assert ses_simulator.messages == []
        relay.exec("postqueue", "-f")
        sent = sent_line(relay, recipient, ses_simulator.port)
        assert sent.group("qid") == qid
        relay.wait_for_mail_log(
            event_pattern(qid, recipient, r"2\.\d\.\d", "delivered", sent.group("ses_id")),
            timeout=EVENT_TIMEOUT,
        )
        log = relay.mail_log()
    assert not re.search(rf"{qid}: .*status=bounced", log)
    assert len(mailhog.client.messages_to(recipient)) == 1
    assert [rejection.reply for rejection in ses_simulator.smtp.rejections] == [THROTTLED]


def test_sender_ses_has_not_verified_is_bounced_with_ses_reply(
    pipeline_settings, pki_mount, ses_simulator, ses_pipeline
):
    sender = "billing@apps.example.org"  # the relay allows @apps.example.org; SES has not verified it
    with Appliance(pipeline_settings, mounts=pki_mount) as relay:
        send(relay.port, sender, ["bob@example.net"], subject="unverified")
        bounced = relay.wait_for_mail_log(
            r"(?P<qid>[0-9A-F]+): to=<bob@example\.net>, relay=ses-smtp\.test\[127\.0\.0\.1\]:\d+, .*"
            r"dsn=5\.0\.0, status=bounced \(host ses-smtp\.test\[127\.0\.0\.1\] said: 554 Message rejected: "
            r"Email address is not verified\. The following identities failed the check in region US-EAST-1: "
            r"billing@apps\.example\.org \(in reply to end of DATA command\)\)"
        )
        # Postfix's bounce message to the sender (null sender) is not sent to SES, which refuses it.
        notice = relay.wait_for_mail_log(
            rf"{bounced.group('qid')}: sender non-delivery notification: (?P<notice>[0-9A-F]+)"
        ).group("notice")
        relay.wait_for_mail_log(
            rf"{notice}: to=<{re.escape(sender)}>, relay=none, .*status=sent \(SES accepts no null sender\)"
        )
        log = relay.mail_log()
    assert not re.search(rf"postfix/ses-events\[\d+\]: {bounced.group('qid')}:", log)
    assert not [m for m in ses_simulator.messages if m.mail_from == ""]
    assert not [m for m in ses_simulator.messages if m.mail_from == sender]
    assert [e for e in ses_simulator.events() if e["mail"]["source"] == sender] == []


def test_more_recipients_than_ses_takes_are_split_into_several_messages(
    pipeline_settings, pki_mount, ses_simulator, ses_pipeline
):
    recipients = [f"user{i:02d}@example.net" for i in range(60)]
    with Appliance(pipeline_settings, mounts=pki_mount) as relay:
        send(relay.port, ALLOWED_SENDER, recipients, subject="sixty")
        messages = ses_simulator.smtp.wait_for_messages(2, timeout=60)
        assert sorted(len(m.rcpt_tos) for m in messages) == [10, 50]
        assert ses_simulator.smtp.rejections == []
        ids = {m.ses_message_id for m in messages}
        for recipient in (recipients[0], recipients[-1]):
            sent = sent_line(relay, recipient, ses_simulator.port)
            assert sent.group("ses_id") in ids
            relay.wait_for_mail_log(
                event_pattern(sent.group("qid"), recipient, r"2\.\d\.\d", "delivered", sent.group("ses_id")),
                timeout=EVENT_TIMEOUT,
            )
        wait_until(
            lambda: (
                sum("status=delivered" in m for m in logged_messages(relay.mail_log())) == len(recipients)
            ),
            timeout=EVENT_TIMEOUT,
            what="a delivered line for every recipient",
        )
