"""The queue ID from this relay's own Received header, as SES publishes the submitted headers."""

from __future__ import annotations

import copy
import json

import pytest

from ses_events import event_to_log_lines
from ses_events.received_header import relay_queue_id
from tests.unit.ses_events_fixtures import FIXTURES, SES_ID

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


def delivery() -> dict:
    return json.loads((FIXTURES / "raw/event_delivery.json").read_text())


def mail_with(*headers: dict) -> dict:
    return {"messageId": SES_ID, "headers": list(headers)}


def test_the_reference_event_names_its_queue_id():
    assert relay_queue_id(delivery()["mail"], "relay.example.com") == "4F1A22C0D3E"


def test_host_names_compare_without_case_and_long_ids_and_tls_clients_are_read():
    assert relay_queue_id(mail_with(SES_RECEIVED, OURS_OVER_TLS), "Relay.Example.COM") == "4VTrq21mQmz9sQ"


def test_another_relays_queue_id_means_nothing_here():
    assert relay_queue_id(delivery()["mail"], "other-relay.example.com") is None


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


def test_the_mail_logs_queue_id_wins_and_the_header_fills_in_when_the_log_has_none():
    event = delivery()
    from_header = event_to_log_lines(event, relay_hostname="relay.example.com")
    assert all(line.startswith("4F1A22C0D3E: ") for line in from_header)
    from_log = event_to_log_lines(event, {SES_ID: "1A2B3C4D5E6"}.get, relay_hostname="relay.example.com")
    assert all(line.startswith("1A2B3C4D5E6: ") for line in from_log)
    assert all(line.startswith(f"{SES_ID}: ") for line in event_to_log_lines(event))
