"""Drain on stop: SIGTERM closes the listener, hands the queue to SES, and only then stops.

A replaced Fargate task takes its queue with it; with the drain, a relay being replaced hands
over what SES takes in time, stays healthy while it does, and names what it could not deliver.
"""

from __future__ import annotations

import smtplib
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from devstack.net import LOOPBACK, free_port
from devstack.ses_smtp import SesSmtpStandIn
from tests.conftest import ALLOWED_SENDER, SMTP_PASSWORD, SMTP_USERNAME
from tests.harness.appliance import Appliance
from tests.harness.waiting import wait_until

pytestmark = pytest.mark.image


def _send(port: int, count: int, tag: str) -> None:
    with smtplib.SMTP(LOOPBACK, port, timeout=60) as client:
        for number in range(count):
            client.sendmail(
                ALLOWED_SENDER, [f"{tag}-{number}@example.net"], f"Subject: {tag} {number}\r\n\r\nhi\r\n"
            )


def _refused(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=2):
            return False
    except OSError:
        return True


def test_a_burst_is_handed_to_ses_before_the_relay_stops(relay_settings, pki_mount, pki):
    with SesSmtpStandIn(pki, SMTP_USERNAME, SMTP_PASSWORD, max_send_rate=20) as ses:
        settings = {**relay_settings, "SES_SMTP_PORT": str(ses.port), "SES_MAX_SEND_RATE": "20"}
        with Appliance(settings, mounts=pki_mount) as relay:
            _send(relay.port, 120, "burst")  # about 7 s of sending at the account's rate
            stopping = ThreadPoolExecutor(1).submit(relay.stop, 90)
            # While it drains: no new mail (the listener is closed), and still healthy.
            wait_until(lambda: _refused(relay.port), timeout=30, what="the listener to close")
            health = relay.exec("ses-relay-healthcheck", check=False)
            assert (health.returncode, health.stdout.strip()) == (0, "healthy: draining before stop")
            assert stopping.result(timeout=180) == 0
            assert len(ses.messages) == 120
            output = relay.logs()
            assert "stopping: taking no new mail, handing the queue to SES" in output
            # supervisord was told to stop only after this (it has its own stream in the logs).
            assert "drained: the queue is empty" in output


def test_with_ses_unreachable_the_drain_ends_and_names_what_is_left(relay_settings, pki_mount):
    settings = {**relay_settings, "SES_SMTP_PORT": str(free_port()), "SES_MAX_SEND_RATE": "20"}
    with Appliance(settings, mounts=pki_mount) as relay:
        _send(relay.port, 3, "down")
        wait_until(lambda: relay.mail_log().count("status=deferred") >= 3, what="three deferrals")
        # Waiting out RELAY_DRAIN_SECONDS would be in vain: the drain sees SES take nothing and ends.
        assert relay.stop(timeout=30) == 0
        output = relay.logs()  # the mail log's lines reach stdout too, and outlive the container
        assert output.count("left in the deferred queue at stop") == 3
        assert "stopping with 3 messages (3 recipients) still queued" in output


def test_the_drain_can_be_turned_off(relay_settings, pki_mount):
    with Appliance({**relay_settings, "RELAY_DRAIN_SECONDS": "0"}, mounts=pki_mount) as relay:
        assert relay.stop(timeout=30) == 0
        output = relay.logs()
        assert "stopped: postfix" in output
        assert "taking no new mail" not in output
