"""The SES simulator's account limits, session limits, latency, outages, counters and quota API.

Real sockets and real TLS on loopback. What SES says comes from the reference (§3.5-3.6a, §5):
the texts are pinned here as literals, not imported, so a change to the simulator shows.
"""

from __future__ import annotations

import base64
import json
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest

from devstack import tls
from devstack.net import LOOPBACK, free_port, wait_for_banner
from devstack.ses_simulator import SesSimulator
from devstack.ses_smtp import SesSmtpStandIn, SmtpCounters
from tests.e2e.conftest import SIMULATOR, make_message
from tests.e2e.test_simulator import PASSWORD, USER, session
from tests.e2e.test_simulator import simulator as _simulator
from tests.harness.localstack import DUMMY_CREDENTIALS
from tests.harness.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]

DAILY_QUOTA = "454 Throttling failure: Daily message quota exceeded."
MAX_RATE = "454 Throttling failure: Maximum sending rate exceeded."
SESSION_CAP = "421 Connection closed by server. Maximum message count per session reached."
IDLE = "451 4.4.2 Timeout waiting for data from client."
TOO_MANY_CONNECTIONS = "421 Too many concurrent SMTP connections"


@pytest.fixture
def client_tls(pki: tls.TestPki) -> ssl.SSLContext:
    """Trusts the stand-in's CA (tests/conftest.py's ``pki``); we dial 127.0.0.1, not its name."""
    context = ssl.create_default_context(cafile=str(pki.ca_file))
    context.check_hostname = False
    return context


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and no instance metadata for boto3; no endpoint from the environment."""
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SES", "AWS_ENDPOINT_URL_SESV2", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


def simulator(pki: tls.TestPki, **options) -> SesSimulator:
    return _simulator(pki, **{"event_delay": (0.0, 0.0), **options})


MESSAGE = make_message("app@example.com", ["bob@example.net"], "limits").as_bytes()


def send(client: smtplib.SMTP, recipients: list[str]) -> str:
    """One transaction; its end-of-DATA reply as ``"<code> <text>"``."""
    assert client.mail("app@example.com") == (250, b"Ok")
    for recipient in recipients:
        assert client.rcpt(recipient) == (250, b"Ok")
    code, text = client.data(MESSAGE)
    return f"{code} {text.decode()}"


def accepted(reply: str) -> bool:
    return reply.startswith("250 Ok ")


# --- the daily quota -------------------------------------------------------------------------


def test_daily_quota_counts_recipients_not_messages(pki, client_tls):
    with simulator(pki, daily_quota=3) as ses, session(ses.port, client_tls) as client:
        assert accepted(send(client, ["a@example.net", "b@example.net"]))
        assert send(client, ["c@example.net", "d@example.net"]) == DAILY_QUOTA  # 2 + 2 > 3
        assert accepted(send(client, ["c@example.net"]))  # 3 of 3
        assert send(client, ["d@example.net"]) == DAILY_QUOTA
        assert ses.smtp.sent_last_24_hours() == 3
        # The mailbox simulator counts against the rate but not the daily quota (reference §5).
        assert accepted(send(client, [f"success@{SIMULATOR}", f"bounce+1@{SIMULATOR}"]))
        assert send(client, [f"success@{SIMULATOR}", "e@example.net"]) == DAILY_QUOTA
        assert ses.smtp.sent_last_24_hours() == 3
    counters = ses.counters()
    assert counters.replies_454 == {DAILY_QUOTA: 3}
    assert counters.recipients_accepted == 5
    assert [len(m.rcpt_tos) for m in ses.messages] == [2, 1, 2]


def test_daily_quota_reached_then_lifted_at_run_time(pki, client_tls):
    with simulator(pki) as ses, session(ses.port, client_tls) as client:
        assert accepted(send(client, ["a@example.net", "b@example.net"]))
        ses.set_daily_quota(2)  # reached: what was sent still counts
        assert send(client, ["c@example.net"]) == DAILY_QUOTA
        ses.set_daily_quota(10)  # SES raised the quota
        assert accepted(send(client, ["c@example.net"]))
        ses.set_daily_quota(3)
        assert send(client, ["d@example.net"]) == DAILY_QUOTA
        ses.set_daily_quota(None)
        assert accepted(send(client, ["d@example.net"]))
    assert ses.smtp.sent_last_24_hours() == 4


def test_daily_quota_is_a_rolling_24_hours(pki, client_tls):
    now = [1000.0]
    with simulator(pki, daily_quota=2) as ses, session(ses.port, client_tls) as client:
        ses.smtp.handler.clock = lambda: now[0]
        assert accepted(send(client, ["a@example.net"]))
        now[0] += 12 * 3600
        assert accepted(send(client, ["b@example.net"]))
        assert send(client, ["c@example.net"]) == DAILY_QUOTA
        now[0] += 12 * 3600  # the first one is 24 h old: out of the window
        assert ses.smtp.sent_last_24_hours() == 1
        assert accepted(send(client, ["c@example.net"]))
        assert send(client, ["d@example.net"]) == DAILY_QUOTA


def test_refused_messages_do_not_count_against_the_quota(pki, client_tls):
    with simulator(pki, daily_quota=2, max_send_rate=1) as ses, session(ses.port, client_tls) as client:
        ses.smtp.handler.clock = lambda: 5000.0  # one second that never ends
        assert accepted(send(client, ["a@example.net"]))
        assert send(client, ["b@example.net"]) == MAX_RATE
        assert ses.smtp.sent_last_24_hours() == 1
    assert ses.counters().replies_454 == {MAX_RATE: 1}


# --- the per-session cap ---------------------------------------------------------------------


def test_421_comes_right_after_the_350th_message_and_closes_the_session(pki, client_tls):
    with simulator(pki) as ses:
        client = session(ses.port, client_tls)
        try:
            for number in range(350):
                assert accepted(send(client, ["bob@example.net"])), number
            code, text = client.docmd("MAIL", "FROM:<app@example.com>")
            assert f"{code} {text.decode()}" == SESSION_CAP
            with pytest.raises(smtplib.SMTPServerDisconnected):
                client.noop()
        finally:
            client.close()
        with session(ses.port, client_tls) as fresh:  # a new session may go on
            assert accepted(send(fresh, ["bob@example.net"]))
    counters = ses.counters()
    assert counters.messages_per_session == (350, 1)
    assert counters.max_messages_in_a_session == 350
    assert counters.replies_421 == 1
    assert counters.replies_4xx == {SESSION_CAP: 1}


def test_every_message_answered_counts_toward_the_cap_and_rset_does_not(pki, client_tls):
    with (
        simulator(pki, max_messages_per_session=3) as ses,
        session(ses.port, client_tls) as client,
    ):
        ses.smtp.fail_next(MAX_RATE)
        assert send(client, ["bob@example.net"]) == MAX_RATE
        assert accepted(send(client, ["bob@example.net"]))
        assert client.rset()[0] == 250
        assert client.noop()[0] == 250
        assert accepted(send(client, ["bob@example.net"]))
        code, text = client.docmd("MAIL", "FROM:<app@example.com>")
        assert (code, text.decode()) == (421, SESSION_CAP[4:])
    assert ses.counters().messages_per_session == (3,)


def test_a_forced_421_closes_the_connection_as_ses_does(pki, client_tls):
    with simulator(pki) as ses, session(ses.port, client_tls) as client:
        ses.smtp.fail_next(SESSION_CAP)
        assert send(client, ["bob@example.net"]) == SESSION_CAP
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()


# --- the idle timeout ------------------------------------------------------------------------


def test_defaults_are_the_references(pki):
    stand_in = SesSmtpStandIn(pki, USER, PASSWORD)
    assert stand_in.handler.max_messages_per_session == 350
    assert stand_in.handler.idle_timeout == 10
    assert stand_in.handler.daily_quota is None
    assert stand_in.handler.latency == 0


@pytest.mark.parametrize("after_tls", [False, True])
def test_an_idle_connection_gets_451_and_is_closed(pki, client_tls, after_tls):
    with simulator(pki, idle_timeout=0.3) as ses:
        client = session(ses.port, client_tls) if after_tls else smtplib.SMTP(LOOPBACK, ses.port, timeout=30)
        try:
            code, text = client.getreply()  # the client says nothing; the server speaks
            assert f"{code} {text.decode()}" == IDLE
            with pytest.raises(smtplib.SMTPServerDisconnected):
                client.getreply()
        finally:
            client.close()
    assert ses.counters().idle_timeouts == 1


def test_a_client_still_sending_its_message_is_not_idle(pki, client_tls):
    """The timer restarts on every byte: a message trickling in for longer than it is accepted."""
    with simulator(pki, idle_timeout=0.5) as ses, session(ses.port, client_tls) as client:
        client.mail("app@example.com")
        client.rcpt("bob@example.net")
        assert client.docmd("DATA")[0] == 354
        started = time.monotonic()
        lines = MESSAGE.splitlines()
        for line in lines:
            client.send(line + b"\r\n")
            time.sleep(1.5 / len(lines))
        client.send(b".\r\n")
        code, text = client.getreply()
        assert time.monotonic() - started > 1.0  # twice the idle timeout went by
        assert code == 250, text
    assert ses.counters().idle_timeouts == 0


# --- latency ---------------------------------------------------------------------------------


def test_latency_delays_the_greeting_every_reply_and_the_tls_handshake(pki, client_tls):
    latency = 0.2
    with simulator(pki, latency=latency) as ses:
        started = time.monotonic()
        client = smtplib.SMTP(LOOPBACK, ses.port, timeout=30)
        try:
            assert time.monotonic() - started >= latency  # the greeting
            started = time.monotonic()
            client.ehlo("client.example.com")
            assert time.monotonic() - started >= latency
            started = time.monotonic()
            client.starttls(context=client_tls)  # 220 Ready, then the server's handshake flight
            assert time.monotonic() - started >= 2 * latency
            client.ehlo("client.example.com")
            client.login(USER, PASSWORD)
            started = time.monotonic()
            assert client.noop()[0] == 250
            assert time.monotonic() - started >= latency
            ses.set_latency(0.3)
            started = time.monotonic()
            assert accepted(send(client, ["bob@example.net"]))  # MAIL, RCPT, DATA, end of DATA
            assert time.monotonic() - started >= 4 * 0.3
        finally:
            client.close()


# --- outages ---------------------------------------------------------------------------------


def test_refused_outage_stops_listening_and_cuts_open_sessions_then_recovers(pki, client_tls):
    with simulator(pki) as ses:
        open_session = session(ses.port, client_tls)
        with ses.outage("refuse"):
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((LOOPBACK, ses.port), timeout=10)
            with pytest.raises(smtplib.SMTPServerDisconnected):
                open_session.noop()
        open_session.close()
        with session(ses.port, client_tls) as client:  # same port, listening again
            assert accepted(send(client, ["bob@example.net"]))


def test_dropped_outage_accepts_and_closes_before_the_greeting(pki, client_tls):
    with simulator(pki) as ses:
        ses.set_outage("drop")
        with pytest.raises(smtplib.SMTPServerDisconnected):
            smtplib.SMTP(LOOPBACK, ses.port, timeout=30)
        ses.set_outage(None)
        with session(ses.port, client_tls) as client:
            assert accepted(send(client, ["bob@example.net"]))
    counters = ses.counters()
    assert (counters.connections, counters.sessions) == (2, 1)


def test_421_outage_greets_every_new_connection_with_421(pki, client_tls):
    with simulator(pki) as ses:
        established = session(ses.port, client_tls)
        with ses.outage("421"):
            with pytest.raises(smtplib.SMTPConnectError) as greeted:
                smtplib.SMTP(LOOPBACK, ses.port, timeout=30)
            assert f"{greeted.value.smtp_code} {greeted.value.smtp_error.decode()}" == TOO_MANY_CONNECTIONS
            assert accepted(send(established, ["bob@example.net"]))  # sessions already open go on
        with ses.outage("421", "421 Service unavailable (a test's own text)"):
            with pytest.raises(smtplib.SMTPConnectError) as greeted:
                smtplib.SMTP(LOOPBACK, ses.port, timeout=30)
            assert greeted.value.smtp_error == b"Service unavailable (a test's own text)"
        established.close()
        with session(ses.port, client_tls) as client:
            assert accepted(send(client, ["bob@example.net"]))
    assert ses.counters().replies_421 == 2


def test_454_outage_throttles_every_message_until_it_ends(pki, client_tls):
    with simulator(pki) as ses, session(ses.port, client_tls) as client:
        with ses.outage("454"):
            assert send(client, ["bob@example.net"]) == MAX_RATE
            assert send(client, [f"success@{SIMULATOR}"]) == MAX_RATE
        assert accepted(send(client, ["bob@example.net"]))
        ses.set_outage("454", "454 Temporary service failure")
        assert send(client, ["bob@example.net"]) == "454 Temporary service failure"
        ses.set_outage(None)
        assert accepted(send(client, ["bob@example.net"]))
    assert ses.counters().replies_454 == {MAX_RATE: 2, "454 Temporary service failure": 1}
    assert len(ses.messages) == 2


# --- counters --------------------------------------------------------------------------------


def test_counters_count_handshakes_auths_sessions_and_recipients_across_threads(pki, client_tls):
    threads, messages = 8, 5
    with simulator(pki) as ses:
        wait_for_banner(ses.port)  # a connection with no TLS, no AUTH, no message
        failures: list[BaseException] = []

        def client() -> None:
            try:
                with session(ses.port, client_tls) as smtp:
                    for _ in range(messages):
                        assert accepted(send(smtp, ["a@example.net", f"success@{SIMULATOR}"]))
            except BaseException as error:
                failures.append(error)

        workers = [threading.Thread(target=client) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert failures == []
        with (
            session(ses.port, client_tls, login=False) as smtp,
            pytest.raises(smtplib.SMTPAuthenticationError),
        ):
            smtp.login(USER, "wrong")
        counters = ses.counters()
        assert counters.connections == counters.sessions == threads + 2
        assert counters.tls_handshakes == threads + 1
        assert counters.auths == threads
        assert sorted(counters.messages_per_session) == [0, 0] + [messages] * threads
        assert counters.recipients_accepted == threads * messages * 2
        assert counters.replies_4xx == {}
        with session(ses.port, client_tls) as smtp:
            assert accepted(send(smtp, ["a@example.net"]))
            ses.smtp.reset_counters()  # e.g. after a benchmark's warm-up
            assert ses.counters() == SmtpCounters()
            assert accepted(send(smtp, ["a@example.net"]))  # a session from before counts no more
            with session(ses.port, client_tls) as fresh:
                assert accepted(send(fresh, ["a@example.net"]))
        counters = ses.counters()
        assert counters.messages_per_session == (1,)
        assert counters.recipients_accepted == 2


def test_a_resumed_tls_session_is_counted(pki, client_tls):
    def starttls_session(port: int, tls_session: ssl.SSLSession | None) -> ssl.SSLSocket:
        raw = socket.create_connection((LOOPBACK, port), timeout=30)
        reader = raw.makefile("rb")
        assert reader.readline().startswith(b"220 ")
        raw.sendall(b"EHLO client.example.com\r\n")
        while not reader.readline().startswith(b"250 "):
            pass
        raw.sendall(b"STARTTLS\r\n")
        assert reader.readline().startswith(b"220 ")
        wrapped = client_tls.wrap_socket(raw, session=tls_session)
        wrapped.sendall(b"NOOP\r\n")
        assert wrapped.recv(512).startswith(b"250")  # with TLS 1.3 the ticket came before this
        return wrapped

    with simulator(pki) as ses:
        first = starttls_session(ses.port, None)
        saved = first.session
        first.close()
        second = starttls_session(ses.port, saved)
        assert second.session_reused
        second.close()
    counters = ses.counters()
    assert (counters.tls_handshakes, counters.tls_resumptions) == (2, 1)


# --- the quota API ---------------------------------------------------------------------------


def test_boto3_reads_the_account_from_getaccount_and_getsendquota(pki, client_tls, aws):
    with simulator(pki, max_send_rate=14, daily_quota=50000, api_listen=(LOOPBACK, 0)) as ses:
        with session(ses.port, client_tls) as client:
            assert accepted(send(client, ["a@example.net", "b@example.net", f"success@{SIMULATOR}"]))
        sesv2 = boto3.client("sesv2", region_name="us-east-1", endpoint_url=ses.api_url)
        account = sesv2.get_account()
        assert account["SendQuota"] == {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": 2.0}
        assert account["ProductionAccessEnabled"] is True
        assert account["SendingEnabled"] is True
        assert account["EnforcementStatus"] == "HEALTHY"
        v1 = boto3.client("ses", region_name="us-east-1", endpoint_url=ses.api_url)
        quota = v1.get_send_quota()
        assert {key: quota[key] for key in ("Max24HourSend", "MaxSendRate", "SentLast24Hours")} == {
            "Max24HourSend": 50000.0,
            "MaxSendRate": 14.0,
            "SentLast24Hours": 2.0,
        }
        ses.set_daily_quota(None)
        ses.set_max_send_rate(50)
        assert sesv2.get_account()["SendQuota"]["Max24HourSend"] == -1.0  # unlimited, as SES says
        assert v1.get_send_quota()["MaxSendRate"] == 50.0
        assert ses.api.calls == {"GetAccount": 2, "GetSendQuota": 2}


def test_boto3_finds_the_api_through_the_per_service_endpoint_variables(
    pki, aws, monkeypatch: pytest.MonkeyPatch
):
    account = {"sandbox": True, "max_send_rate": 1, "daily_quota": 200}
    with simulator(pki, **account, api_listen=(LOOPBACK, 0)) as ses:
        # SQS and SNS would go to LocalStack; the SES API calls go to the simulator.
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{LOOPBACK}:{free_port()}")
        monkeypatch.setenv("AWS_ENDPOINT_URL_SESV2", ses.api_url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_SES", ses.api_url)
        account = boto3.client("sesv2", region_name="us-east-1").get_account()
        assert account["ProductionAccessEnabled"] is False
        assert account["SendQuota"] == {"Max24HourSend": 200.0, "MaxSendRate": 1.0, "SentLast24Hours": 0.0}
        assert boto3.client("ses", region_name="us-east-1").get_send_quota()["Max24HourSend"] == 200.0


def test_other_operations_get_the_protocols_unknown_operation_errors(pki, aws):
    with simulator(pki, api_listen=(LOOPBACK, 0)) as ses:
        v1 = boto3.client("ses", region_name="us-east-1", endpoint_url=ses.api_url)
        with pytest.raises(v1.exceptions.ClientError) as refused:
            v1.get_send_statistics()
        assert refused.value.response["Error"]["Code"] == "InvalidAction"
        sesv2 = boto3.client("sesv2", region_name="us-east-1", endpoint_url=ses.api_url)
        with pytest.raises(sesv2.exceptions.ClientError) as refused:
            sesv2.get_email_identity(EmailIdentity="example.com")
        assert refused.value.response["Error"]["Code"] == "UnknownOperationException"
        assert sesv2.get_account()["SendQuota"]["MaxSendRate"] == -1.0  # no rate limit configured


# --- standalone ------------------------------------------------------------------------------


def test_standalone_flags_set_the_account_the_session_limits_and_the_api(tmp_path: Path, aws):
    port, api_port = free_port(), free_port()
    flags = {
        "listen": f"{LOOPBACK}:{port}",
        "tls-dir": tmp_path / "pki",
        "server-name": "localhost",
        "username": USER,
        "max-send-rate": 14,
        "daily-quota": 50000,
        "max-messages-per-session": 2,
        "idle-timeout": 30,
        "latency-ms": 100,
        "api-listen": f"{LOOPBACK}:{api_port}",
    }
    command = [sys.executable, "-m", "devstack.ses_simulator", *(f"--{k}={v}" for k, v in flags.items())]
    environment = {"SES_SIMULATOR_PASSWORD": PASSWORD, "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(
        command, cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_for_banner(port, timeout=20)
        context = ssl.create_default_context(cafile=str(tmp_path / "pki/ca.pem"))
        context.check_hostname = False
        with session(port, context) as client:
            started = time.monotonic()
            assert client.noop()[0] == 250
            assert time.monotonic() - started >= 0.1
            assert accepted(send(client, ["a@example.net", "b@example.net"]))
            assert accepted(send(client, ["c@example.net"]))
            code, text = client.docmd("MAIL", "FROM:<app@example.com>")
            assert f"{code} {text.decode()}" == SESSION_CAP
        url = f"http://{LOOPBACK}:{api_port}"
        sesv2 = boto3.client("sesv2", region_name="us-east-1", endpoint_url=url)
        quota = wait_until(lambda: sesv2.get_account()["SendQuota"], timeout=10, what="GetAccount")
        assert quota == {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": 3.0}
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    assert process.returncode == 0, output
    assert "account: 14 recipients/s, 50000 per 24 h" in output
    assert PASSWORD not in output


def test_help_lists_every_limit_flag():
    result = subprocess.run(
        [sys.executable, "-m", "devstack.ses_simulator", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    for flag in (
        "--max-send-rate",
        "--daily-quota",
        "--max-messages-per-session",
        "--idle-timeout",
        "--latency-ms",
        "--api-listen",
    ):
        assert flag in result.stdout


def test_auth_plain_counts_once_per_session(pki, client_tls):
    with simulator(pki) as ses, session(ses.port, client_tls, login=False) as client:
        token = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
        assert client.docmd("AUTH", f"PLAIN {token}")[0] == 235
        assert client.docmd("AUTH", f"PLAIN {token}")[0] == 503  # already authenticated
    assert ses.counters().auths == 1
    assert json.dumps(ses.counters().replies_4xx) == "{}"
