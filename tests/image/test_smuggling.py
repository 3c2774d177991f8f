"""SMTP smuggling: a bare-LF end of data must never turn one message into two at SES."""

from __future__ import annotations

import re
import socket

import pytest

from devstack.net import LOOPBACK
from tests.conftest import ALLOWED_SENDER
from tests.harness.appliance import Appliance
from tests.harness.smtp_wire import read_reply

pytestmark = pytest.mark.image

SMUGGLED_SENDER = "ceo@example.com"


@pytest.mark.parametrize(
    "end_of_data",
    [b"\n.\r\n", b"\r\n.\n", b"\n.\n", b"\r.\r\n"],
    ids=["LF.CRLF", "CRLF.LF", "LF.LF", "CR.CRLF"],
)
def test_bare_line_end_cannot_smuggle_a_second_message(relay_settings, pki_mount, ses_smtp, end_of_data):
    settings = {**relay_settings, "RELAY_ALLOWED_SENDERS": f"{ALLOWED_SENDER} {SMUGGLED_SENDER}"}
    smuggled = (
        b"Subject: legit\r\n\r\nfirst message"
        + end_of_data
        + f"MAIL FROM:<{SMUGGLED_SENDER}>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\n".encode()
        + b"Subject: smuggled\r\n\r\nsecond message\r\n.\r\n"
    )
    with Appliance(settings, mounts=pki_mount) as relay:
        with socket.create_connection((LOOPBACK, relay.port), timeout=30) as connection:
            assert read_reply(connection).startswith(b"220")
            # One command at a time: the relay refuses unauthorised pipelining outright.
            for command in (
                b"EHLO client.example.com\r\n",
                f"MAIL FROM:<{ALLOWED_SENDER}>\r\n".encode(),
                b"RCPT TO:<bob@example.net>\r\n",
                b"DATA\r\n",
            ):
                connection.sendall(command)
                read_reply(connection)
            connection.sendall(smuggled)
            final = read_reply(connection)
            connection.sendall(b"QUIT\r\n")
            read_reply(connection)

        # Each message Postfix queues in a session gets its own "QUEUEID: client=" line from that
        # session's smtpd, all before its "disconnect": exactly what was queued, with no waiting.
        session = relay.wait_for_mail_log(r"postfix/smtpd\[(\d+)\]: disconnect from ")
        queued = re.findall(rf"postfix/smtpd\[{session.group(1)}\]: ([0-9A-F]+): client=", relay.mail_log())
        assert len(queued) == (1 if final.startswith(b"250") else 0), queued
        for queue_id in queued:
            relay.wait_for_mail_log(rf"{queue_id}: removed")
        received = ses_smtp.messages
        assert len(received) <= 1, [m.mail_from for m in received]
        for message in received:
            assert message.mail_from == ALLOWED_SENDER
            assert message.rcpt_tos == ("bob@example.net",)
        assert SMUGGLED_SENDER not in relay.mail_log().replace(f"from=<{ALLOWED_SENDER}>", "")
