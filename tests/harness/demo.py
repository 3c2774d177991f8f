"""`make demo`: the whole local SES stack on this machine, a few messages, and each one's journey.

Starts LocalStack (natively, tests/harness/localstack.py), the MailHog stand-in and the SES simulator
on loopback, creates the AWS side with deploy.bootstrap, runs the real image ($SES_RELAY_IMAGE,
default ses-relay:test) with --network host, sends a handful of messages through it, prints every
message's journey from the unified mail log (its lines, found by queue ID), and tears it all down.

    python -m tests.harness.demo            # exit status 0 when every journey completed
"""

from __future__ import annotations

import os
import re
import smtplib
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from deploy.bootstrap import Bootstrap, Names, Options
from devstack.mailhog import MailHogStandIn
from devstack.net import LOOPBACK
from devstack.ses_simulator import SesSimulator
from devstack.tls import create_pki
from tests.harness.appliance import IMAGE, SES_SMTP_NAME, Appliance
from tests.harness.localstack import DUMMY_CREDENTIALS, localstack
from tests.harness.mailhog_client import MailHogClient
from tests.harness.waiting import wait_until

SIMULATOR = "simulator.amazonses.com"
# Demo-only credentials: AWS's documented example key and its SMTP password; they open nothing.
SMTP_USERNAME = "AKIAIOSFODNN7EXAMPLE"
SMTP_PASSWORD = "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9"
CA_IN_CONTAINER = "/run/ses-relay-demo/ca.pem"
WAIT_SECONDS = 90
DEMO_NAME = "ses-relay-demo"


@dataclass
class Mail:
    title: str
    sender: str
    recipient: str
    # The line that ends this message's journey in the mail log ({qid} is filled in).
    last_line: str
    refused_at_smtp: bool = False


MAILS = [
    Mail(
        "delivered",
        "app@example.com",
        f"success@{SIMULATOR}",
        r"{qid}: to=<success@[^>]+>.* status=delivered",
    ),
    Mail(
        "hard bounce",
        "app@example.com",
        f"bounce@{SIMULATOR}",
        r"{qid}: to=<bounce@[^>]+>.* status=bounced \(Permanent",
    ),
    Mail(
        "delivered, then a complaint",
        "app@example.com",
        f"complaint@{SIMULATOR}",
        r"{qid}: to=<complaint@[^>]+>.* status=complained",
    ),
    Mail(
        "sender SES has not verified: SES refuses it, Postfix bounces it",
        "billing@apps.example.org",
        "bob@example.net",
        r"{qid}: to=<bob@example\.net>.* status=bounced \(host .* said: 554 Message rejected",
    ),
    Mail(
        "sender the relay does not allow: refused before it is queued",
        "intruder@example.com",
        "bob@example.net",
        r"NOQUEUE: reject: RCPT from .*from=<intruder@example\.com>",
        refused_at_smtp=True,
    ),
]


def say(text: str = "") -> None:
    print(text, flush=True)


def wait_for(check: Callable[[], object], timeout: float) -> object:
    """What check found in time, or None: the demo reports a journey that did not finish."""
    try:
        return wait_until(check, timeout)
    except AssertionError:
        return None


def submit(port: int, mail: Mail) -> str:
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = mail.recipient
    message["Subject"] = f"demo: {mail.title}"
    message.set_content(f"This message shows: {mail.title}.\n")
    with smtplib.SMTP(LOOPBACK, port, timeout=30) as client:
        client.ehlo("app-1.example.com")
        try:
            client.send_message(message, from_addr=mail.sender, to_addrs=[mail.recipient])
        except smtplib.SMTPRecipientsRefused as refused:
            code, reply = refused.recipients[mail.recipient]
            return f"refused: {code} {reply.decode()}"
    return "accepted"


def queue_id(log: str, mail: Mail) -> str | None:
    """The queue ID Postfix gave the message: the one its smtp client logs for the recipient."""
    found = re.search(rf"postfix/smtp\[\d+\]: ([0-9A-F]+): to=<{re.escape(mail.recipient)}>", log)
    return found.group(1) if found else None


def journey(relay: Appliance, mail: Mail) -> tuple[bool, list[str]]:
    if mail.refused_at_smtp:
        pattern = re.compile(mail.last_line)
        done = wait_for(lambda: pattern.search(relay.mail_log()), 30)
        return bool(done), [line for line in relay.mail_log().splitlines() if pattern.search(line)]
    qid = wait_for(lambda: queue_id(relay.mail_log(), mail), 30)
    if not qid:
        return False, []
    pattern = re.compile(mail.last_line.format(qid=qid))
    done = wait_for(lambda: pattern.search(relay.mail_log()), WAIT_SECONDS)
    # Postfix's own lines and SES's, for this queue ID (a bounce's notice to the sender has its own).
    return bool(done), [line for line in relay.mail_log().splitlines() if f" {qid}: " in line]


def run(work: Path) -> int:
    os.environ.update({key: os.environ.get(key, value) for key, value in DUMMY_CREDENTIALS.items()})
    with ExitStack() as stack:
        say("Starting LocalStack (SNS, SQS, Secrets Manager, SES) ...")
        endpoint = stack.enter_context(localstack())
        say(f"  {endpoint}")

        say("Creating the AWS side with deploy.bootstrap ...")
        result = Bootstrap(
            Options(
                name=DEMO_NAME,
                region="us-east-1",
                identities=["example.com"],
                smtp_username=SMTP_USERNAME,
                smtp_password=SMTP_PASSWORD,
                endpoint_url=endpoint,
            ),
            log=lambda line: say(f"  {line}"),
        ).run()
        for key, value in result.settings.items():
            say(f"  {key}={value}")

        pki = create_pki(work / "pki", [SES_SMTP_NAME])
        (work / "pki").chmod(0o755)
        mailhog = stack.enter_context(MailHogStandIn())
        simulator = stack.enter_context(
            SesSimulator(
                pki,
                SMTP_USERNAME,
                SMTP_PASSWORD,
                verified_identities=["example.com"],
                configuration_sets=[result.settings["SES_CONFIGURATION_SET"]],
                sns_topic_arn=f"arn:aws:sns:us-east-1:000000000000:{Names(DEMO_NAME).topic}",
                aws_endpoint_url=endpoint,
                mailhog=(LOOPBACK, mailhog.smtp_port),
            )
        )
        say(f"SES simulator on {LOOPBACK}:{simulator.port}, MailHog stand-in at {mailhog.api_url}")

        settings = {
            **result.settings,
            "SES_SMTP_HOST": SES_SMTP_NAME,
            "SES_SMTP_PORT": str(simulator.port),
            "SES_TLS_CA_FILE": CA_IN_CONTAINER,
            "RELAY_ALLOWED_SENDERS": "app@example.com @apps.example.org",
            "RELAY_ALLOWED_NETWORKS": "127.0.0.1/32",
            "RELAY_HOSTNAME": "relay.example.com",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "AWS_REGION": "us-east-1",
            # LocalStack signs with its own key, not AWS's: off, as compose.override.yaml has it.
            "SES_EVENTS_VERIFY_SNS_SIGNATURES": "off",
        }
        say(f"Starting the appliance ({IMAGE}) ...")
        relay = stack.enter_context(Appliance(settings, mounts=[(pki.ca_file, CA_IN_CONTAINER)]))
        say(f"  listening on {LOOPBACK}:{relay.port}")

        say()
        for mail in MAILS:
            say(f"Sending {mail.sender} -> {mail.recipient}: {submit(relay.port, mail)}")

        complete = True
        for number, mail in enumerate(MAILS, 1):
            done, lines = journey(relay, mail)
            complete &= done
            say()
            say(f"== {number}. {mail.title}")
            say(f"   {mail.sender} -> {mail.recipient}")
            for line in lines:
                say(f"   {line}")
            if not done:
                say("   (journey incomplete: no such line within the time allowed)")

        say()
        delivered = MailHogClient(mailhog.api_url).messages()
        say(f"MailHog received {len(delivered)} message(s):")
        for item in delivered:
            subject = item["Content"]["Headers"].get("Subject", [""])[0]
            say(f"   to {', '.join(item['Raw']['To'])}: {subject}")
        if not complete:
            say()
            say("Some journeys did not complete; the container's output:")
            say(relay.logs()[-4000:])
        say()
        say("Tearing down.")
        return 0 if complete else 1


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ses-relay-demo-") as work:
        try:
            return run(Path(work))
        except RuntimeError as error:  # LocalStack missing or not starting, image missing
            print(f"demo failed: {error}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    raise SystemExit(main())
