"""SES-native delivery on the real image: pacing to the account's rate, retrying throttled mail in
seconds, one TLS session for many messages, the daily quota, and recovery after an outage.

The SES stand-in keeps SES's limits (devstack/ses_smtp.py): recipients per second, the daily
quota, about 350 messages a session, 10 s idle. Deadlines below are generous bounds on waiting,
never measurements: the figures are in BENCHMARKS.md.
"""

from __future__ import annotations

import re
import smtplib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devstack.net import LOOPBACK, free_port
from devstack.ses_simulator import SesSimulator
from devstack.ses_smtp import DAILY_QUOTA_EXCEEDED, THROTTLED, SesSmtpStandIn
from tests.conftest import ALLOWED_SENDER, SMTP_PASSWORD, SMTP_USERNAME
from tests.harness.appliance import Appliance, docker
from tests.harness.localstack import DUMMY_CREDENTIALS
from tests.harness.waiting import wait_until

pytestmark = pytest.mark.image

# Of 150 recipients at a known rate: the stand-in counts every sliding second strictly, and on a
# shared 2-core machine Postfix's deliveries bunch a little; without pacing most would get 454.
ALMOST_NO_454 = 8


def _burst(port: int, count: int, tag: str, recipients_each: int = 1) -> None:
    """count messages over a few client sessions, as an application's burst would come."""

    def session(first: int) -> None:
        with smtplib.SMTP(LOOPBACK, port, timeout=60) as client:
            for number in range(first, min(first + 50, count)):
                recipients = [f"{tag}-{number}-{r}@example.net" for r in range(recipients_each)]
                client.sendmail(ALLOWED_SENDER, recipients, f"Subject: {tag} {number}\r\n\r\nhello\r\n")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(session, range(0, count, 50)))


def _all_delivered(ses: SesSmtpStandIn, recipients: int, timeout: float) -> None:
    wait_until(
        lambda: ses.counters().recipients_accepted >= recipients,
        timeout,
        f"{recipients} recipients at the SES stand-in",
        interval=0.5,
    )


def _no_bounce(relay: Appliance) -> None:
    log = relay.mail_log()
    assert "status=bounced" not in log
    assert "status=expired" not in log


@pytest.fixture
def paced_ses(pki) -> SesSmtpStandIn:
    with SesSmtpStandIn(pki, SMTP_USERNAME, SMTP_PASSWORD, max_send_rate=20) as stand_in:
        yield stand_in


def _settings(relay_settings: dict[str, str], ses: SesSmtpStandIn, **more: str) -> dict[str, str]:
    return {**relay_settings, "SES_SMTP_PORT": str(ses.port), **more}


def test_a_burst_drains_at_the_known_rate_with_almost_no_throttling(relay_settings, pki_mount, paced_ses):
    settings = _settings(relay_settings, paced_ses, SES_MAX_SEND_RATE="20")
    with Appliance(settings, mounts=pki_mount) as relay:
        _burst(relay.port, 150, "known")
        # 150 recipients at 20/s is 7.5 s; Postfix alone would leave most for 5-minute retries.
        _all_delivered(paced_ses, 150, timeout=60)
        counters = paced_ses.counters()
        assert sum(counters.replies_454.values()) <= ALMOST_NO_454, counters.replies_454
        _no_bounce(relay)
        assert "pacing to SES at 18.6 recipients/s (SES_MAX_SEND_RATE=20)" in relay.mail_log()
        # Every message's own line is still there, with SES's id, for the event logger to join on.
        assert len(re.findall(r"status=sent \(250 Ok [0-9a-f-]+\)", relay.mail_log())) == 150


def test_an_unknown_rate_is_found_and_throttled_mail_is_retried_in_seconds(
    relay_settings, pki_mount, paced_ses
):
    # auto, with no AWS credentials: SES's API cannot be read, so the relay adapts.
    settings = _settings(relay_settings, paced_ses)
    with Appliance(settings, mounts=pki_mount) as relay:
        relay.wait_for_mail_log(r"cannot read SES's send rate \(no AWS credentials\): adapting")
        _burst(relay.port, 300, "unknown")
        # 15 s at the account's rate; throttled mail must not wait for Postfix's 300 s backoff.
        _all_delivered(paced_ses, 300, timeout=90)
        _no_bounce(relay)
        assert sum(paced_ses.counters().replies_454.values()) > 0  # it did have to find the rate
        assert "SES throttled the send rate (454 Throttling failure: Maximum sending rate exceeded)" in (
            relay.mail_log()
        )


def test_recipients_are_counted_not_messages(relay_settings, pki_mount, paced_ses):
    settings = _settings(relay_settings, paced_ses, SES_MAX_SEND_RATE="20")
    with Appliance(settings, mounts=pki_mount) as relay:
        _burst(relay.port, 30, "multi", recipients_each=5)  # 150 recipients in 30 messages
        _all_delivered(paced_ses, 150, timeout=60)
        assert sum(paced_ses.counters().replies_454.values()) <= ALMOST_NO_454
        _no_bounce(relay)


def test_many_messages_ride_one_verified_tls_session_and_none_exceeds_the_cap(relay_settings, pki_mount, pki):
    with SesSmtpStandIn(pki, SMTP_USERNAME, SMTP_PASSWORD, max_messages_per_session=40) as ses:
        settings = _settings(relay_settings, ses, SES_MAX_SEND_RATE="200")
        with Appliance(settings, mounts=pki_mount) as relay:
            _burst(relay.port, 200, "reuse")
            _all_delivered(ses, 200, timeout=60)
            counters = ses.counters()
            # Far fewer TLS handshakes and AUTHs than messages ...
            assert counters.auths <= 200 / 5, counters
            assert counters.tls_handshakes <= 200 / 5, counters
            # ... and SES's per-session cap is never reached: Postfix ends sessions before it would
            # be (here lowered to 40), so no message meets SES's 421.
            assert counters.max_messages_in_a_session <= 40
            _no_bounce(relay)
            assert "Verified TLS connection established to ses-smtp.test" in relay.mail_log()


# Connects over TCP (IPv4, and IPv6 where the container has it) and prints TCP_NODELAY per family.
NODELAY_PROBE = """
import socket
for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    try:
        listener = socket.socket(family)
        listener.bind((address, 0))
    except OSError:
        continue
    listener.listen()
    client = socket.create_connection(listener.getsockname()[:2])
    print(family.name, client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0)
"""
SHIM = "/usr/lib/ses-relay/tcp_nodelay.so"


def _programs_with(relay: Appliance, library: str) -> set[str]:
    """The container's programs that have ``library`` loaded. Read from the host: inside, root
    lacks CAP_SYS_PTRACE and cannot read the maps of Postfix's daemons."""
    pids = docker("top", relay.container_id, "-eo", "pid").stdout.split()[1:]
    programs = set()
    for pid in pids:
        try:
            if library in Path(f"/proc/{pid}/maps").read_text():
                programs.add(Path(f"/proc/{pid}/comm").read_text().strip())
        except OSError:
            continue  # it has exited
    return programs


def test_postfix_connects_to_ses_with_nagles_algorithm_off(relay_settings, pki_mount, ses_smtp):
    """tlsproxy writes a message in 4 KB TLS records; with Nagle on, the last waits for the
    server's delayed acknowledgement of the one before. tcp_nodelay.so turns it off in Postfix."""
    with Appliance(relay_settings, mounts=pki_mount) as relay:
        _burst(relay.port, 1, "nodelay")
        _all_delivered(ses_smtp, 1, timeout=30)
        # The smtp process that delivered it (idle now, for reuse) has the shim loaded ...
        assert "smtp" in _programs_with(relay, SHIM)
        # ... and the shim sets TCP_NODELAY on a TCP connection, which is otherwise off.
        with_shim = relay.exec("env", f"LD_PRELOAD={SHIM}", "python3", "-c", NODELAY_PROBE).stdout
        without = relay.exec("python3", "-c", NODELAY_PROBE).stdout
        assert "AF_INET True" in with_shim.splitlines(), with_shim
        assert "False" not in with_shim, with_shim
        assert "AF_INET False" in without.splitlines(), without
        assert "status=sent (250 Ok " in relay.mail_log()


def test_the_daily_quota_holds_mail_says_so_once_and_resumes(relay_settings, pki_mount, ses_smtp):
    settings = {**relay_settings, "SES_MAX_SEND_RATE": "50"}
    with Appliance(settings, mounts=pki_mount) as relay:
        ses_smtp.set_daily_quota(0)
        _burst(relay.port, 20, "quota")
        relay.wait_for_mail_log(r"SES's daily sending quota is used up")
        # While the quota is used up, mail stays queued: nothing bounces, nothing is lost.
        assert ses_smtp.counters().recipients_accepted == 0
        ses_smtp.set_daily_quota(None)  # a new day, or a raised quota
        _all_delivered(ses_smtp, 20, timeout=60)
        relay.wait_for_mail_log(r"SES takes mail again after its daily quota")
        log = relay.mail_log()
        assert log.count("daily sending quota is used up") == 1
        assert log.count(DAILY_QUOTA_EXCEEDED.removeprefix("454 ")) >= 1  # Postfix's own deferral
        _no_bounce(relay)


def test_delivery_resumes_quickly_after_ses_comes_back(relay_settings, pki_mount, ses_smtp):
    settings = {**relay_settings, "SES_MAX_SEND_RATE": "50"}
    with Appliance(settings, mounts=pki_mount) as relay:
        with ses_smtp.outage("refuse"):
            _burst(relay.port, 20, "outage")
            relay.wait_for_mail_log(r"status=deferred \(connect to ses-smtp\.test")
        # SES is back: Postfix retries deferred mail within 30 s (not after 300 s or more).
        _all_delivered(ses_smtp, 20, timeout=45)
        _no_bounce(relay)
        assert len({m.content for m in ses_smtp.messages}) == 20  # each once


def test_a_throttle_from_another_sender_on_the_account_is_retried_not_bounced(
    relay_settings, pki_mount, ses_smtp
):
    settings = {**relay_settings, "SES_MAX_SEND_RATE": "50"}
    with Appliance(settings, mounts=pki_mount) as relay:
        ses_smtp.fail_next(THROTTLED, count=5)
        _burst(relay.port, 10, "shared")
        _all_delivered(ses_smtp, 10, timeout=60)
        _no_bounce(relay)
        assert relay.mail_log().count("Throttling failure: Maximum sending rate exceeded") >= 5


@pytest.fixture
def account(pki) -> SesSimulator:
    """An SES account at 20 recipients/s with its API: what SES_MAX_SEND_RATE=auto reads."""
    with SesSimulator(
        pki, SMTP_USERNAME, SMTP_PASSWORD, max_send_rate=20, api_listen=(LOOPBACK, free_port())
    ) as simulator:
        yield simulator


def _through_the_api(relay_settings: dict[str, str], account: SesSimulator) -> dict[str, str]:
    return {
        **relay_settings,
        "SES_SMTP_PORT": str(account.smtp.port),
        "AWS_ENDPOINT_URL_SESV2": account.api_url,
        **{name: value for name, value in DUMMY_CREDENTIALS.items() if not name.endswith("REGION")},
    }


def test_auto_reads_the_accounts_rate_from_ses_and_paces_to_it(relay_settings, pki_mount, account):
    with Appliance(_through_the_api(relay_settings, account), mounts=pki_mount) as relay:
        relay.wait_for_mail_log(r"SES's maximum send rate is 20 recipients/s: pacing at 18\.6 recipients/s")
        _burst(relay.port, 150, "auto")
        _all_delivered(account.smtp, 150, timeout=60)
        assert sum(account.smtp.counters().replies_454.values()) <= ALMOST_NO_454
        _no_bounce(relay)
    assert account.api.calls.get("GetAccount", 0) >= 1


def test_two_appliances_on_one_account_share_its_rate_and_both_drain(relay_settings, pki_mount, account):
    """Both read the account's full rate, so together they start twice too fast; SES's throttling
    brings each down until their sum fits. Nothing is bounced, and throttled mail is re-sent."""
    settings = _through_the_api(relay_settings, account)
    with Appliance(settings, mounts=pki_mount) as first, Appliance(settings, mounts=pki_mount) as second:
        for relay in (first, second):
            relay.wait_for_mail_log(r"SES's maximum send rate is 20 recipients/s")
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda pair: _burst(pair[0].port, 200, pair[1]), [(first, "one"), (second, "two")]))
        _all_delivered(account.smtp, 400, timeout=120)
        for relay in (first, second):
            _no_bounce(relay)
            relay.wait_for_mail_log(r"SES throttled the send rate")
        delivered = {m.rcpt_tos[0].split("-")[0] for m in account.smtp.messages}
        assert delivered == {"one", "two"}
        # The account's own limit held throughout (the stand-in refuses what is over it), and the
        # two backed off instead of hammering it: most messages met no 454. Without backing off,
        # 37 recipients/s into 20 would meet a 454 about 340 times for 400 messages. (Each cut is
        # by the share SES throttled, so the two near their shares in small steps, each overshoot
        # costing a few 454s: 74 to 143 of 400 here over several runs.)
        assert sum(account.smtp.counters().replies_454.values()) < 400 * 0.4
