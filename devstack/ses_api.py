"""The two SES API calls that read an account's sending limits, for the simulator's account.

- SES v2 ``GetAccount``: REST JSON, ``GET /v2/email/account``, answering ``SendQuota``
  (``Max24HourSend``, ``MaxSendRate``, ``SentLast24Hours``), ``ProductionAccessEnabled``,
  ``SendingEnabled``, ``EnforcementStatus`` and ``DedicatedIpAutoWarmupEnabled`` in the shapes of
  botocore's sesv2 model (reference §3.6a);
- SES v1 ``GetSendQuota``: the Query API (``POST /`` with ``Action=GetSendQuota``), answering the
  same three numbers in SES's XML, ``GetSendQuotaResponse/GetSendQuotaResult``;
- SES v1 ``GetIdentityVerificationAttributes``: ``Success`` for each asked identity the account
  has verified, and, as SES does, nothing at all for one it does not have (every identity is
  verified when the account lists none). LocalStack answers ``Success`` for any identity, even one
  it never created, so a check for unverified senders needs this one.

boto3 reaches it with ``endpoint_url=`` or, per service, ``AWS_ENDPOINT_URL_SESV2`` /
``AWS_ENDPOINT_URL_SES``, so SQS and SNS can stay on LocalStack. Requests are not authenticated
(any credentials do, as on LocalStack). ``Max24HourSend`` is -1 for an unlimited quota, as SES
says; ``MaxSendRate`` is -1 when the simulator has no rate limit, which real SES never has (the
simulator's own convention). Every other operation gets the error SES's protocols use for an
unknown one.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from devstack.net import LOOPBACK

log = logging.getLogger("ses-api")

SES_V1_NAMESPACE = "http://ses.amazonaws.com/doc/2010-12-01/"
UNLIMITED = -1.0


@dataclass(frozen=True)
class AccountStatus:
    """What GetAccount / GetSendQuota report; quotas count recipients, -1 is unlimited."""

    max_24_hour_send: float
    max_send_rate: float
    sent_last_24_hours: float
    production_access_enabled: bool = True
    sending_enabled: bool = True
    enforcement_status: str = "HEALTHY"
    # Lower-case identities (addresses and domains); None: every identity is verified.
    verified_identities: frozenset[str] | None = None

    def get_account(self) -> dict:
        """SES v2 GetAccountResponse."""
        return {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": self.enforcement_status,
            "ProductionAccessEnabled": self.production_access_enabled,
            "SendQuota": {
                "Max24HourSend": self.max_24_hour_send,
                "MaxSendRate": self.max_send_rate,
                "SentLast24Hours": self.sent_last_24_hours,
            },
            "SendingEnabled": self.sending_enabled,
        }

    def get_send_quota(self, request_id: str) -> str:
        """SES v1 GetSendQuotaResponse (Query API XML)."""
        return (
            f'<GetSendQuotaResponse xmlns="{SES_V1_NAMESPACE}">\n'
            "  <GetSendQuotaResult>\n"
            f"    <SentLast24Hours>{float(self.sent_last_24_hours)}</SentLast24Hours>\n"
            f"    <Max24HourSend>{float(self.max_24_hour_send)}</Max24HourSend>\n"
            f"    <MaxSendRate>{float(self.max_send_rate)}</MaxSendRate>\n"
            "  </GetSendQuotaResult>\n"
            "  <ResponseMetadata>\n"
            f"    <RequestId>{request_id}</RequestId>\n"
            "  </ResponseMetadata>\n"
            "</GetSendQuotaResponse>\n"
        )

    def get_identity_verification_attributes(self, identities: list[str], request_id: str) -> str:
        """SES v1 GetIdentityVerificationAttributesResponse: only the identities the account has."""
        entries = "".join(
            f"      <entry>\n        <key>{escape(identity)}</key>\n        <value>\n"
            "          <VerificationStatus>Success</VerificationStatus>\n"
            "        </value>\n      </entry>\n"
            for identity in dict.fromkeys(identities)
            if self.verified_identities is None or identity.lower() in self.verified_identities
        )
        return (
            f'<GetIdentityVerificationAttributesResponse xmlns="{SES_V1_NAMESPACE}">\n'
            "  <GetIdentityVerificationAttributesResult>\n"
            f"    <VerificationAttributes>\n{entries}    </VerificationAttributes>\n"
            "  </GetIdentityVerificationAttributesResult>\n"
            f"  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n"
            "</GetIdentityVerificationAttributesResponse>\n"
        )


def _query_error(code: str, message: str, request_id: str) -> str:
    return (
        f'<ErrorResponse xmlns="{SES_V1_NAMESPACE}">\n'
        f"  <Error>\n    <Type>Sender</Type>\n    <Code>{escape(code)}</Code>\n"
        f"    <Message>{escape(message)}</Message>\n  </Error>\n"
        f"  <RequestId>{request_id}</RequestId>\n"
        "</ErrorResponse>\n"
    )


class SesAccountApi:
    """``with SesAccountApi(status) as api:`` -> ``api.url``; ``status()`` is read on every call."""

    def __init__(self, status: Callable[[], AccountStatus], host: str = LOOPBACK, port: int = 0):
        self._status = status
        self._host = host
        self._port = port
        self._http: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self._calls: collections.Counter[str] = collections.Counter()

    @property
    def url(self) -> str:
        host = LOOPBACK if self._host in ("0.0.0.0", "") else self._host
        return f"http://{host}:{self.port}"

    @property
    def calls(self) -> dict[str, int]:
        """How many times each operation was answered (``GetAccount``, ``GetSendQuota``)."""
        with self._lock:
            return dict(self._calls)

    def _count(self, operation: str) -> None:
        with self._lock:
            self._calls[operation] += 1

    def start(self) -> SesAccountApi:
        self._http = ThreadingHTTPServer((self._host, self._port), _handler(self))
        self._http.daemon_threads = True
        self.port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, name="ses-api", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    def __enter__(self) -> SesAccountApi:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _handler(api: SesAccountApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "Server"
        sys_version = ""

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s " + format, self.address_string(), *args)

        def _send(self, status: int, body: str, content_type: str, headers: dict[str, str]) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _rest(self) -> None:
            request_id = str(uuid.uuid4())
            path = urllib.parse.urlsplit(self.path).path
            if self.command == "GET" and path.rstrip("/") == "/v2/email/account":
                api._count("GetAccount")
                body = json.dumps(api._status().get_account())
                self._send(200, body, "application/json", {"x-amzn-RequestId": request_id})
                return
            self._send(
                404,
                json.dumps({"message": f"No operation for {self.command} {path}"}),
                "application/json",
                {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": "UnknownOperationException"},
            )

        def _query(self, form: dict[str, list[str]]) -> None:
            request_id = str(uuid.uuid4())
            action = (form.get("Action") or [""])[0]
            if action == "GetSendQuota":
                api._count("GetSendQuota")
                self._send(200, api._status().get_send_quota(request_id), "text/xml", {})
                return
            if action == "GetIdentityVerificationAttributes":
                api._count(action)
                identities = [
                    values[0] for key, values in sorted(form.items()) if key.startswith("Identities.member.")
                ]
                body = api._status().get_identity_verification_attributes(identities, request_id)
                self._send(200, body, "text/xml", {})
                return
            error = _query_error("InvalidAction", f"Could not find operation {action}", request_id)
            self._send(400, error, "text/xml", {})

        def do_GET(self) -> None:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            if "Action" in query:
                self._query(query)
            else:
                self._rest()

        def do_POST(self) -> None:
            body = self._body()
            content_type = self.headers.get("Content-Type", "")
            if urllib.parse.urlsplit(self.path).path == "/" and "x-www-form-urlencoded" in content_type:
                self._query(urllib.parse.parse_qs(body.decode("utf-8", "replace")))
            else:
                self._rest()

        def do_PUT(self) -> None:
            self._body()
            self._rest()

        do_DELETE = do_PUT  # http.server dispatches on do_<METHOD>

    return Handler
