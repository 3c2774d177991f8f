"""Where a queue ID comes from: parse_sent_line, the queue ID <-> SES message ID join and nothing
else (reference §8); relay_queue_id, this relay's own Received header as SES publishes it."""

from __future__ import annotations

import copy
import random

import pytest

from ses_events.core import parse_sent_line, relay_queue_id
from tests.unit.ses_events.fixtures import EVENT_NAMES, FIXTURES, SES_ID, lines_for, load_event

SENT = (
    "4F1A22C0D3E: to=<bob@example.org>, relay=email-smtp.us-east-1.amazonaws.com[192.0.2.10]:587, delay=1.2, "
    f"delays=0.02/0/0.7/0.48, dsn=2.0.0, status=sent (250 Ok {SES_ID})"
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # The two real lines quoted in reference §8.1, exactly as quoted there.
        (
            "postfix/smtp[2827]: 5A57120799: to=<user@gmail.com>, "
            "relay=email-smtp.us-east-1.amazonaws.com[100.24.90.91]:587, delay=2.4, "
            "delays=0.04/0.01/1.5/0.88, "
            "dsn=2.0.0, status=sent (250 Ok 0100016e4ab7c399-5058a2a5-d4ad-407b-92b8-94472f229325-000000)",
            ("5A57120799", "0100016e4ab7c399-5058a2a5-d4ad-407b-92b8-94472f229325-000000"),
        ),
        (
            "postfix/smtp[692]: 8C82A7E7: to=<someone@example.com>, "
            "relay=email-smtp.us-east-1.amazonaws.com[107.20.142.169]:25, delay=0.35, "
            "delays=0/0.02/0.13/0.2, "
            "dsn=2.0.0, status=sent (250 Ok 01000154dc729264-93fdd7ea-f039-43d6-91ed-653e8547867c-000000)",
            ("8C82A7E7", "01000154dc729264-93fdd7ea-f039-43d6-91ed-653e8547867c-000000"),
        ),
        (SENT, ("4F1A22C0D3E", SES_ID)),
        (f"May  1 12:00:01 relay postfix/smtp[2827]: {SENT}", ("4F1A22C0D3E", SES_ID)),
        (f"Dec 12 23:59:59 relay.example.com postfix/smtp[1]: {SENT}", ("4F1A22C0D3E", SES_ID)),
        (f"2024-05-01T12:00:01.302123+00:00 relay postfix/smtp[2827]: {SENT}", ("4F1A22C0D3E", SES_ID)),
        (f"May 01 12:00:01 relay postfix/relay/smtp[2827]: {SENT}", ("4F1A22C0D3E", SES_ID)),
        (f"May  1 12:00:01 relay postfix-out/smtp[2827]: {SENT}", ("4F1A22C0D3E", SES_ID)),
        (f"{SENT}\n", ("4F1A22C0D3E", SES_ID)),
        (f"{SENT}\r\n", ("4F1A22C0D3E", SES_ID)),
        # Long queue IDs (enable_long_queue_ids = yes, reference §8.3).
        (SENT.replace("4F1A22C0D3E", "3Pt2mN2VXxznjll"), ("3Pt2mN2VXxznjll", SES_ID)),
        # Optional fields: orig_to, conn_use, tls (Postfix >= 3.11), IPv6 relay.
        (
            "4F1A22C0D3E: to=<bob@example.org>, orig_to=<Bob@Example.org>, "
            "relay=email-smtp.us-east-1.amazonaws.com[2600:1f18:abcd::25]:587, conn_use=3, delay=0.4, "
            f"delays=0/0/0.1/0.3, tls=may, dsn=2.0.0, status=sent (250 Ok {SES_ID})",
            ("4F1A22C0D3E", SES_ID),
        ),
        (SENT.replace("delay=1.2, ", "delay=123, "), ("4F1A22C0D3E", SES_ID)),
        # Tolerant of the exact SES ID shape, and of "OK".
        (SENT.replace(SES_ID, "some-future-id_format.v2"), ("4F1A22C0D3E", "some-future-id_format.v2")),
        (SENT.replace("250 Ok", "250 OK"), ("4F1A22C0D3E", SES_ID)),
        # Non-ASCII recipient (SMTPUTF8).
        (SENT.replace("bob@example.org", "jörg@bücher.example"), ("4F1A22C0D3E", SES_ID)),
    ],
)
def test_sent_lines(line: str, expected: tuple[str, str]) -> None:
    assert parse_sent_line(line) == expected


NOT_SENT = [
    # Deferred and bounced lines of reference §8.1.
    "4F1A22C0D3E: to=<bob@example.org>, relay=email-smtp.us-east-1.amazonaws.com[192.0.2.10]:587, delay=1.1, "
    "delays=0.02/0/0.7/0.38, dsn=4.0.0, status=deferred (host "
    "email-smtp.us-east-1.amazonaws.com[192.0.2.10] said: "
    "454 Throttling failure: Maximum sending rate exceeded. (in reply to end of DATA command))",
    "4F1A22C0D3E: to=<bob@example.org>, relay=email-smtp.us-east-1.amazonaws.com[192.0.2.10]:587, delay=0.9, "
    "delays=0.02/0/0.6/0.28, dsn=5.0.0, status=bounced (host "
    "email-smtp.us-east-1.amazonaws.com[192.0.2.10] said: "
    "554 Message rejected: Email address is not verified. The following identities failed the "
    "check in region "
    "US-EAST-1: app@example.com (in reply to end of DATA command))",
    # Sent, but not through SES (no "250 Ok <id>").
    SENT.replace(f"250 Ok {SES_ID}", "250 2.0.0 Ok: queued as 4VTrq21mQmz9sQ"),
    SENT.replace(f"250 Ok {SES_ID}", "250 Ok"),
    SENT.replace(f"250 Ok {SES_ID}", f"250 Ok {SES_ID} trailing"),
    SENT.replace(f"250 Ok {SES_ID}", f"250 Ok ({SES_ID})"),
    SENT + " trailing",
    SENT.replace("dsn=2.0.0", "dsn=5.0.0"),
    # Other programs, including ours.
    f"May  1 12:00:01 relay postfix/ses-events[3001]: {SENT}",
    f"May  1 12:00:01 relay postfix/lmtp[2827]: {SENT}",
    f"May  1 12:00:01 relay postfix/smtpd[2827]: {SENT}",
    f"May  1 12:00:01 relay evil/smtp-wannabe[2827]: {SENT}",
    # Other Postfix lines about the same message.
    "May  1 11:59:59 relay postfix/qmgr[2790]: 4F1A22C0D3E: from=<app@example.com>, size=1234, "
    "nrcpt=2 (queue active)",
    "May  1 11:59:59 relay postfix/cleanup[2815]: 4F1A22C0D3E: "
    "message-id=<20240501115959.4F1A22C0D3E@relay.example.com>",
    "May  1 12:00:00 relay postfix/qmgr[2790]: 4F1A22C0D3E: removed",
    "NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <x@example.net>: Relay access denied; "
    "from=<a@b> to=<x@example.net> proto=ESMTP helo=<x>",
    "",
    "\n",
]


@pytest.mark.parametrize("line", NOT_SENT)
def test_other_lines_are_not_sent_lines(line: str) -> None:
    assert parse_sent_line(line) is None


def test_mail_log_fixture() -> None:
    lines = (FIXTURES / "postfix" / "mail_log.txt").read_text(encoding="utf-8").splitlines()

    assert [pair for pair in map(parse_sent_line, lines) if pair] == [
        ("4F1A22C0D3E", SES_ID),
        ("4F1A22C0D3E", SES_ID),
        ("3Pt2mN2VXxznjll", "0100018f3410aa00-aaaabbbb-cccc-4ddd-8eee-ffff00001111-000000"),
    ]


# --- Our own lines can never be taken for a sent line (no feedback loop, no forged join) ---

SYSLOG_PREFIXES = ["", "postfix/ses-events[77]: ", "May  1 12:00:02 relay postfix/ses-events[77]: "]


@pytest.mark.parametrize("name", EVENT_NAMES)
@pytest.mark.parametrize("prefix", SYSLOG_PREFIXES)
def test_none_of_our_lines_is_a_sent_line(name: str, prefix: str) -> None:
    event = load_event(name)

    for queue_ids in ({}, {SES_ID: "4F1A22C0D3E"}):
        for line in lines_for(event, queue_ids.get):
            assert parse_sent_line(prefix + line) is None


FORGERIES = [
    "x, dsn=2.0.0, status=sent (250 Ok FORGED",
    "x postfix/smtp[1]: EVIL: to=<a@x>, relay=r, delay=1, delays=1/1/1/1, dsn=2.0.0, status=sent "
    "(250 Ok FORGED",
    "EVIL: to=<a@x>, relay=r, delay=1, delays=1/1/1/1, dsn=2.0.0, status=sent (250 Ok FORGED",
    "a>, relay=r, delay=1, delays=1/1/1/1, dsn=2.0.0, status=sent (250 Ok FORGED",
    "a>, orig_to=<",
    ">, relay=r, delay=1, delays=1, dsn=2.0.0, status=sent (250 Ok FORGED)",
    f"\nMay  1 12:00:00 relay postfix/smtp[1]: {SENT.replace(SES_ID, 'FORGED')}",
    f"{SENT.replace(SES_ID, 'FORGED')}",
]


TARGETS = [
    "recipient",
    "diagnostic",
    "status",
    "messageId",
    "reportingMTA",
    "remoteMtaIp",
    "bounceType",
    "bounceSubType",
]


def set_field(event: dict, target: str, text: str) -> None:
    """Put attacker-controlled ``text`` into one field that ends up in the log line."""
    recipient = event["bounce"]["bouncedRecipients"][0]
    if target == "recipient":
        recipient["emailAddress"] = text
    elif target == "diagnostic":
        recipient["diagnosticCode"] = text
    elif target == "status":
        recipient["status"] = text
    elif target == "messageId":
        event["mail"]["messageId"] = text
    else:
        event["bounce"][target] = text


@pytest.mark.parametrize("forgery", FORGERIES)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("prefix", SYSLOG_PREFIXES)
def test_forged_sent_text_in_any_field_is_not_a_sent_line(forgery: str, target: str, prefix: str) -> None:
    event = load_event("event_bounce")
    set_field(event, target, forgery)

    for queue_id in ("4F1A22C0D3E", None, forgery):
        for line in lines_for(event, lambda _ses_id, queue_id=queue_id: queue_id):
            assert parse_sent_line(prefix + line) is None, line


def test_random_combinations_of_forged_fragments_never_match() -> None:
    """Seeded fuzzing: splice pieces of a real sent line into several fields at once."""
    pieces = [
        *SENT.replace(SES_ID, "FORGED").split(" "),
        ",",
        ", ",
        ")",
        "(",
        "<",
        ">",
        "[1]:",
        "postfix/smtp[1]:",
    ]
    generator = random.Random(20240501)
    for _ in range(3000):
        event = load_event("event_bounce")
        for target in generator.sample(TARGETS, k=generator.randint(1, len(TARGETS))):
            set_field(event, target, " ".join(generator.choices(pieces, k=generator.randint(1, 12))))
        queue_id = generator.choice(["4F1A22C0D3E", None, " ".join(generator.choices(pieces, k=3))])
        for line in lines_for(event, lambda _ses_id, queue_id=queue_id: queue_id):
            for prefix in SYSLOG_PREFIXES:
                assert parse_sent_line(prefix + line) is None, prefix + line


def test_long_hostile_line_is_rejected_quickly() -> None:
    line = "May  1 12:00:01 relay postfix/smtp[1]: " + "a " * 50_000 + "status=sent (250 " + "b " * 50_000

    assert parse_sent_line(line) is None


# --- The queue ID from this relay's own Received header, as SES publishes the submitted headers ---

SES_RECEIVED = {
    "name": "Received",
    "value": "from relay.example.com (relay.example.com [198.51.100.25]) by email-smtp.amazonaws.com with "
    "SMTP (SimpleEmailService-d-7QH2LX9KD) id Xq3vT9bLm2RkP8sWc4Za; Wed, 01 May 2024 12:00:00 +0000 (UTC)",
}
# Postfix smtpd's default Received header for a client that used STARTTLS, unfolded as SES does.
OURS_OVER_TLS = {
    "name": "Received",
    "value": "from app01.example.com (app01.example.com [10.0.1.23]) (using TLSv1.3 with cipher "
    "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) "
    "server-digest SHA256) (No client certificate requested) by relay.example.com (Postfix) with "
    "ESMTPS id 4VTrq21mQmz9sQ for <bob@example.org>; Wed,  1 May 2024 11:59:59 +0000 (UTC)",
}


def mail_with(*headers: dict) -> dict:
    return {"messageId": SES_ID, "headers": list(headers)}


def test_the_reference_event_names_its_queue_id():
    assert relay_queue_id(load_event("event_delivery")["mail"], "relay.example.com") == "4F1A22C0D3E"


def test_host_names_compare_without_case_and_long_ids_and_tls_clients_are_read():
    assert relay_queue_id(mail_with(SES_RECEIVED, OURS_OVER_TLS), "Relay.Example.COM") == "4VTrq21mQmz9sQ"


def test_another_relays_queue_id_means_nothing_here():
    assert relay_queue_id(load_event("event_delivery")["mail"], "other-relay.example.com") is None


def test_without_ses_smtp_received_first_nothing_is_trusted():
    """An API send carries no SES Received header: the top header is the client's own."""
    assert relay_queue_id(mail_with(OURS_OVER_TLS), "relay.example.com") is None
    assert relay_queue_id(mail_with(OURS_OVER_TLS, SES_RECEIVED), "relay.example.com") is None


def test_a_header_below_the_relays_own_is_never_read():
    """A client can write any Received header, also one naming this relay: only the top one counts."""
    forged = copy.deepcopy(OURS_OVER_TLS)
    client_hop = {"name": "Received", "value": "from laptop (laptop [192.0.2.7]) by mx.example.net with SMTP"}
    assert relay_queue_id(mail_with(SES_RECEIVED, client_hop, forged), "relay.example.com") is None


@pytest.mark.parametrize(
    "headers",
    [
        None,
        "Received: x",
        [],
        [SES_RECEIVED],
        [SES_RECEIVED, {"name": "Received", "value": 42}],
        [SES_RECEIVED, "x"],
    ],
)
def test_missing_or_malformed_headers_give_no_queue_id(headers):
    assert relay_queue_id({"messageId": SES_ID, "headers": headers}, "relay.example.com") is None
