"""Clients inside the allowed networks that misbehave: they hog connections, trickle bytes, route
senders through the percent hack, aim at address literals, or forge this relay's headers.

Every client here is on loopback. Linux answers on all of 127.0.0.0/8, so a second client
address (127.0.0.2) is a different client to Postfix, as another host of the subnet would be.
"""

from __future__ import annotations

import email
import smtplib
from contextlib import ExitStack

import pytest

from devstack.net import LOOPBACK
from tests.conftest import ALLOWED_SENDER
from tests.harness.appliance import Appliance
from tests.harness.smtp_wire import command, connect, read_reply

pytestmark = pytest.mark.image

OTHER_CLIENT = "127.0.0.2"


@pytest.fixture
def subnet_settings(relay_settings):
    """Both loopback clients are allowed, as the hosts of one private subnet would be."""
    return {**relay_settings, "RELAY_ALLOWED_NETWORKS": "127.0.0.0/8"}


def _relay_one(port: int, source: str, recipient: str = "bob@example.net") -> None:
    with smtplib.SMTP(LOOPBACK, port, timeout=30, source_address=(source, 0)) as client:
        client.sendmail(ALLOWED_SENDER, [recipient], f"Subject: from {source}\r\n\r\nhello\r\n")


def test_one_client_cannot_hold_every_connection(subnet_settings, pki_mount, ses_smtp):
    """With the defaults (100 connections, 20 per client), a client that opens 40 and sits idle
    gets 20; the others are refused at once, and another client is served without waiting."""
    with Appliance(subnet_settings, mounts=pki_mount) as relay, ExitStack() as idle:
        greetings, idle_sessions = [], []
        for _ in range(40):
            connection, greeting = connect(relay.port)
            idle.callback(connection.close)
            greetings.append(greeting)
            if greeting.startswith(b"220 "):
                idle_sessions.append(connection)
        assert len(idle_sessions) == 20
        refused = [greeting for greeting in greetings if not greeting.startswith(b"220 ")]
        assert len(refused) == 20
        assert all(greeting.startswith(b"421 4.7.0 ") for greeting in refused), refused[0]

        _relay_one(relay.port, OTHER_CLIENT)
        # Served by a free process, not by one an idle session gave up: all 20 are still open.
        for connection in idle_sessions:
            assert command(connection, b"NOOP").startswith(b"250")
        [received] = ses_smtp.wait_for_messages(1)
        assert received.rcpt_tos == ("bob@example.net",)
        relay.wait_for_mail_log(
            r"warning: Connection concurrency limit exceeded: 21 from localhost\[127\.0\.0\.1\]"
        )


def test_connection_limits_are_settings(subnet_settings, pki_mount, ses_smtp):
    settings = {**subnet_settings, "RELAY_MAX_CONNECTIONS": "6", "RELAY_MAX_CONNECTIONS_PER_CLIENT": "2"}
    with Appliance(settings, mounts=pki_mount) as relay, ExitStack() as idle:
        greetings = []
        for _ in range(3):
            connection, greeting = connect(relay.port)
            idle.callback(connection.close)
            greetings.append(greeting[:3])
        assert greetings == [b"220", b"220", b"421"]
        _relay_one(relay.port, OTHER_CLIENT)
        ses_smtp.wait_for_messages(1)


def test_a_client_that_trickles_bytes_is_cut_off_at_the_deadline(subnet_settings, pki_mount):
    """Each command line must arrive whole within 60 s: one byte every 5 s cannot hold a session.
    The line would take about 190 s to send; the relay closes the session before it is whole."""
    with Appliance(subnet_settings, mounts=pki_mount) as relay:
        connection, greeting = connect(relay.port, timeout=120)
        with connection:
            assert greeting.startswith(b"220")
            line = b"EHLO " + b"a" * 20 + b".example.com\r\n"
            connection.settimeout(5)
            answer = None
            for position in range(len(line)):
                try:
                    connection.sendall(line[position : position + 1])
                    answer = connection.recv(4096)
                except TimeoutError:
                    continue  # nothing from the server yet: keep trickling
                except OSError:
                    answer = b""
                break
        # The server spoke only to end the session (its 421, or the close itself), mid-line.
        assert answer is not None, "the session outlived the whole line"
        assert answer == b"" or answer.startswith(b"421"), answer
        assert position < len(line) - 1
        relay.wait_for_mail_log(r"timeout after CONNECT from localhost\[127\.0\.0\.1\]")


@pytest.mark.parametrize(
    "sender",
    [
        "app%probe.example@[127.0.0.1]",  # the percent hack, through one of the relay's own addresses
        "app@[127.0.0.1]",  # an address literal
        "billing%elsewhere.example@apps.example.org",  # %-routed through an allowed domain
        "elsewhere.example!billing@apps.example.org",  # a bang path through an allowed domain
    ],
)
def test_routed_and_literal_senders_are_refused(subnet_settings, pki_mount, ses_smtp, sender):
    # app@probe.example is allowed; the routed form of it must not be.
    settings = {
        **subnet_settings,
        "RELAY_ALLOWED_SENDERS": f"{ALLOWED_SENDER} app@probe.example @apps.example.org",
    }
    with Appliance(settings, mounts=pki_mount) as relay:
        connection, _greeting = connect(relay.port)
        with connection:
            command(connection, b"EHLO client.example.com")
            assert command(connection, f"MAIL FROM:<{sender}>".encode()).startswith(b"250")
            reply = command(connection, b"RCPT TO:<bob@example.net>")
            assert reply.startswith(b"554 5.7.1 "), reply
            assert b"RELAY_ALLOWED_SENDERS" in reply
            command(connection, b"QUIT")
        relay.wait_for_mail_log(r"NOQUEUE: reject: RCPT from .*Sender address rejected")
        # The allowed address itself still relays: the refusal is of the routing, not the sender.
        _relay_one(relay.port, LOOPBACK)
        [received] = ses_smtp.wait_for_messages(1)
        assert received.mail_from == ALLOWED_SENDER


def test_a_routed_sender_listed_exactly_is_relayed_as_it_is(subnet_settings, pki_mount, ses_smtp):
    sender = "billing%eu@apps.example.org"
    with Appliance({**subnet_settings, "RELAY_ALLOWED_SENDERS": sender}, mounts=pki_mount) as relay:
        with smtplib.SMTP(LOOPBACK, relay.port, timeout=30) as client:
            client.sendmail(sender, ["bob@example.net"], "Subject: listed\r\n\r\nhello\r\n")
        [received] = ses_smtp.wait_for_messages(1)
        assert received.mail_from == sender


@pytest.mark.parametrize("recipient", ["bob@[127.0.0.1]", "bob@[10.1.2.3]", "bob%example.net@[127.0.0.1]"])
def test_address_literal_recipients_are_refused_at_rcpt(subnet_settings, pki_mount, ses_smtp, recipient):
    with Appliance(subnet_settings, mounts=pki_mount) as relay:
        with smtplib.SMTP(LOOPBACK, relay.port, timeout=30) as client:
            client.ehlo("client.example.com")
            client.mail(ALLOWED_SENDER)
            code, reply = client.rcpt(recipient)
            assert (code, reply[:6]) == (550, b"5.1.2 "), reply
            # In the same session a real recipient goes through, and only it reaches SES.
            assert client.rcpt("bob@example.net")[0] == 250
            assert client.data("Subject: literal\r\n\r\nhello\r\n")[0] == 250
        [received] = ses_smtp.wait_for_messages(1)
        assert received.rcpt_tos == ("bob@example.net",)
        relay.wait_for_mail_log(r"status=sent \(250 Ok ")
        assert "status=bounced" not in relay.mail_log()


FORGED_RECEIVED = (
    b"Received: from x (localhost [127.0.0.1]) by relay.example.com (Postfix) with ESMTP id ABC123\r\n"
)
CRAFTED_MESSAGE_ID = "<a: prepend: header Received: x: X-SES-CONFIGURATION-SET: y@client.example.com>"


def _hostile_message() -> bytes:
    """The client's own X-SES-CONFIGURATION-SET, this relay's Received line forged three times, a
    Message-ID that reads like a Postfix log line, and an attached message with headers of its own."""
    return (
        b"X-SES-CONFIGURATION-SET: someone-elses-set\r\n"
        + FORGED_RECEIVED * 3
        + b"Subject: forged\r\n"
        + f"Message-ID: {CRAFTED_MESSAGE_ID}\r\n".encode()
        + b"MIME-Version: 1.0\r\n"
        + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        + b"--b1\r\nContent-Type: text/plain\r\nX-SES-CONFIGURATION-SET: in-a-mime-part\r\n\r\nhello\r\n"
        + b"--b1\r\nContent-Type: message/rfc822\r\n\r\n"
        + b"X-SES-CONFIGURATION-SET: in-an-attached-message\r\nSubject: attached\r\n\r\nattached body\r\n"
        + b"--b1--\r\n"
    )


@pytest.mark.parametrize("verb", ["DATA", "BDAT"])
def test_configuration_set_header_is_added_exactly_once_whatever_the_client_sends(
    relay_settings, pki_mount, ses_smtp, verb
):
    settings = {**relay_settings, "SES_CONFIGURATION_SET": "ses-relay-events"}
    message = _hostile_message()
    with Appliance(settings, mounts=pki_mount) as relay:
        connection, _greeting = connect(relay.port)
        with connection:
            command(connection, b"EHLO client.example.com")
            command(connection, f"MAIL FROM:<{ALLOWED_SENDER}>".encode())
            command(connection, b"RCPT TO:<bob@example.net>")
            command(connection, b"RCPT TO:<carol@example.net>")  # once per message, not per recipient
            if verb == "DATA":
                assert command(connection, b"DATA").startswith(b"354")
                connection.sendall(message + b".\r\n")
            else:
                connection.sendall(b"BDAT %d LAST\r\n" % len(message) + message)
            assert read_reply(connection).startswith(b"250")
            command(connection, b"QUIT")

        [received] = ses_smtp.wait_for_messages(1)
        parsed = email.message_from_bytes(received.content)
        assert parsed.get_all("X-SES-CONFIGURATION-SET") == ["ses-relay-events"]
        assert len(parsed.get_all("Received")) == 4  # ours and the three forged, untouched
        part, attached = parsed.get_payload()
        assert part["X-SES-CONFIGURATION-SET"] == "in-a-mime-part"
        assert attached.get_payload(0)["X-SES-CONFIGURATION-SET"] == "in-an-attached-message"
        assert b"X-SES-Relay-Configuration-Set" not in received.content

        # cleanup's line for the message stays, however its Message-ID reads, and the line for
        # the header rewrite (which names the marker) does not.
        relay.wait_for_mail_log(rf"status=sent \(250 Ok {received.ses_message_id}\)")
        log = relay.mail_log()
        assert f": message-id={CRAFTED_MESSAGE_ID}" in log
        assert "replace: header" not in log
        assert "X-SES-Relay-Configuration-Set" not in log + relay.logs()
