"""SNS-signed messages for tests, with no AWS and no internet: a throwaway RSA key, a certificate
made for it, and an HTTPS server on loopback that serves that certificate.

The verifier accepts the server's URLs only because a test builds it with a rule that says so
(``SnsVerifier(certificate_url_allowed=server.owns, ssl_context=server.client_context())``); the
image and its settings have no way to do that.

The string to sign is written out here from the SNS Developer Guide, independently of
``ses_events.core.sns_string_to_sign``, so a test that signs here and verifies there checks one
against the other.
"""

from __future__ import annotations

import base64
import datetime
import http.server
import json
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from devstack.net import LOOPBACK
from devstack.tls import create_pki

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:ses-events"
SUBJECT = "Amazon SES Email Event Notification"
# The SNS Developer Guide, "Verifying the signatures of Amazon SNS messages": the fields each type
# signs, in this order (Subject only when the message has one).
CONFIRMATION_FIELDS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
SIGNED_FIELDS = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": CONFIRMATION_FIELDS,
    "UnsubscribeConfirmation": CONFIRMATION_FIELDS,
}
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}


def string_to_sign(envelope: dict) -> bytes:
    fields = [name for name in SIGNED_FIELDS[envelope["Type"]] if envelope.get(name) is not None]
    return "".join(f"{name}\n{envelope[name]}\n" for name in fields).encode("utf-8")


def notification(message: str, *, subject: str | None = SUBJECT, topic_arn: str = TOPIC_ARN) -> dict:
    """An SNS Notification as SNS delivers it to SQS, before it is signed."""
    envelope = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": topic_arn,
        "Message": message,
        "Timestamp": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "UnsubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic_arn}:1",
    }
    if subject is not None:
        envelope["Subject"] = subject
    return envelope


def confirmation(sns_type: str = "SubscriptionConfirmation", topic_arn: str = TOPIC_ARN) -> dict:
    token = uuid.uuid4().hex * 4
    return {
        "Type": sns_type,
        "MessageId": str(uuid.uuid4()),
        "Token": token,
        "TopicArn": topic_arn,
        "Message": f"You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the subscription, "
        "visit the SubscribeURL included in this message.",
        "SubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={topic_arn}"
        f"&Token={token}",
        "Timestamp": "2024-05-01T12:00:00.000Z",
    }


class SnsSigner:
    """A throwaway RSA key and a self-signed certificate for it, as SNS's signing certificate."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = datetime.datetime.now(datetime.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .sign(self.key, hashes.SHA256())
        )
        self.certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, envelope: dict, certificate_url: str, version: str = "2") -> dict:
        """``envelope`` with SignatureVersion, Signature and SigningCertURL, as SNS adds them."""
        signature = self.key.sign(string_to_sign(envelope), padding.PKCS1v15(), HASHES[version]())
        return {
            **envelope,
            "SignatureVersion": version,
            "Signature": base64.b64encode(signature).decode("ascii"),
            "SigningCertURL": certificate_url,
        }

    def signed_body(self, envelope: dict, certificate_url: str, version: str = "2") -> str:
        return json.dumps(self.sign(envelope, certificate_url, version))


class CertificateServer:
    """HTTPS on loopback (its own CA, for ``localhost``), serving ``files`` by path.

    ``requests`` lists every path asked for, so a test can tell what was fetched and how often.
    Paths under ``/redirect/`` answer 302 to the rest of the path; ``/slow/`` waits 3 s first.
    """

    def __init__(self, pki_dir: Path, files: dict[str, bytes] | None = None):
        self.files = dict(files or {})
        self.requests: list[str] = []
        self._pki = create_pki(pki_dir, ["localhost"])
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                if self.path.startswith("/redirect/"):
                    self.send_response(302)
                    self.send_header("Location", server.url(self.path[len("/redirect") :]))
                    self.end_headers()
                    return
                if self.path.startswith("/slow/"):
                    time.sleep(3)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-pem-file")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.socket = self._pki.server_context().wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self.base_url = f"https://localhost:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def owns(self, url: str) -> bool:
        """The test's certificate URL rule: this server's URLs, in place of AWS's."""
        return url.startswith(f"{self.base_url}/")

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self._pki.ca_file))

    @property
    def ca_file(self) -> Path:
        return self._pki.ca_file

    def start(self) -> CertificateServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def certificate_server(pki_dir: Path, files: dict[str, bytes] | None = None) -> Iterator[CertificateServer]:
    server = CertificateServer(pki_dir, files).start()
    try:
        yield server
    finally:
        server.stop()
