"""A MailHog stand-in, as far as the local stack and the tests use MailHog: an SMTP sink and its HTTP API.

``MailHogStandIn`` speaks plain SMTP (no TLS, no AUTH; replies ``250 Ok: queued as <id>``) and serves
the part of MailHog's API the tests read, in MailHog's own JSON shape:

- ``GET /api/v2/messages[?start=N&limit=N]`` -> ``{total, count, start, items: [...]}``, newest first;
- ``GET /api/v2/search?kind=from|to|containing&query=...`` -> the same shape;
- ``GET /api/v1/messages/{id}`` -> one message; ``DELETE /api/v1/messages`` (and ``/{id}``) -> 200.

Each item is ``{ID, From: {Relays, Mailbox, Domain, Params}, To: [...], Content: {Headers, Body,
Size, MIME}, Created, MIME, Raw: {From, To, Data, Helo}}``. Like MailHog, a repeated header keeps
only its last value in ``Content.Headers``, and MailHog's own ``Received``, ``Return-Path`` and (when
missing) ``Message-ID`` are added.

The tests read it, or a real MailHog (``mailhog/mailhog``), with tests/harness/mailhog_client.py:
the ``mailhog`` fixture in tests/e2e uses ``MAILHOG_API_URL`` and ``MAILHOG_SMTP`` when set.

Standalone: ``python -m devstack.mailhog --smtp 0.0.0.0:1025 --api 0.0.0.0:8025``.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import secrets
import signal
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from devstack.net import LOOPBACK, free_port

MAILHOG_HOSTNAME = "mailhog.example"


def _message_id(hostname: str) -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode() + "@" + hostname


def _path(address: str) -> dict[str, Any]:
    relays = None
    if ":" in address:
        route, address = address.split(":", 1)
        relays = route.split(",")
    mailbox, _, domain = address.partition("@")
    return {"Relays": relays, "Mailbox": mailbox, "Domain": domain, "Params": ""}


def _content(data: str) -> dict[str, Any]:
    """MailHog's ContentFromString: headers split at ': ', folded lines appended, last value wins."""
    headers: dict[str, list[str]] = {}
    parts = data.split("\r\n\r\n", 1)
    if len(parts) == 2:
        block, body = parts
        last = ""
        for line in block.split("\r\n"):
            if last and line[:1] in (" ", "\t"):
                headers[last][-1] += line
            elif ": " in line:
                key, value = line.split(": ", 1)
                headers[key] = [value]
                last = key
    else:
        body = parts[0]
    return {"Headers": headers, "Body": body, "Size": len(data), "MIME": None}


def _mime_parts(content: dict[str, Any]) -> dict[str, Any] | None:
    content_type = content["Headers"].get("Content-Type", [""])[0]
    if not content_type.startswith("multipart/"):
        return None
    boundary = ""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "boundary":
            boundary = value.strip('"')
    pieces = content["Body"].split("--" + boundary)[1:-1] if boundary else []
    parts = []
    for piece in pieces:
        if piece:
            part = _content(piece.strip("\r\n"))
            part["MIME"] = _mime_parts(part)
            parts.append(part)
    return {"Parts": parts}


def parse_message(mail_from: str, rcpt_tos: list[str], data: str, helo: str, hostname: str) -> dict:
    """One stored message in MailHog's JSON shape (data.SMTPMessage.Parse)."""
    message_id = _message_id(hostname)
    content = _content(data)
    mime = _mime_parts(content)
    headers = content["Headers"]
    lowered = {key.lower(): key for key in headers}
    if "message-id" not in lowered:
        headers["Message-ID"] = [message_id]
    received = (
        f"from {helo} by {hostname} (MailHog)\r\n          id {message_id}; "
        + datetime.datetime.now().astimezone().strftime("%a, %d %b %Y %H:%M:%S %z")
    )
    headers.setdefault(lowered.get("received", "Received"), []).append(received)
    headers.setdefault(lowered.get("return-path", "Return-Path"), []).append(f"<{mail_from}>")
    return {
        "ID": message_id,
        "From": _path(mail_from),
        "To": [_path(rcpt) for rcpt in rcpt_tos],
        "Content": content,
        "Created": datetime.datetime.now().astimezone().isoformat(),
        "MIME": mime,
        "Raw": {"From": mail_from, "To": list(rcpt_tos), "Data": data, "Helo": helo},
    }


class _Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[dict] = []

    def add(self, message: dict) -> None:
        with self.lock:
            self.messages.append(message)

    def newest_first(self) -> list[dict]:
        with self.lock:
            return list(reversed(self.messages))

    def delete(self, message_id: str | None = None) -> None:
        with self.lock:
            if message_id is None:
                self.messages.clear()
            else:
                self.messages = [message for message in self.messages if message["ID"] != message_id]


@dataclass
class _SmtpHandler:
    store: _Store
    hostname: str

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = (envelope.original_content or b"").decode("utf-8", errors="replace")
        message = parse_message(
            envelope.mail_from, list(envelope.rcpt_tos), data, session.host_name or "", self.hostname
        )
        self.store.add(message)
        return f"250 Ok: queued as {message['ID']}"


def _search(messages: list[dict], kind: str, query: str) -> list[dict]:
    query = query.lower()

    def matches(message: dict) -> bool:
        raw = message["Raw"]
        if kind == "from":
            return query in raw["From"].lower()
        if kind == "to":
            return any(query in rcpt.lower() for rcpt in raw["To"])
        if kind == "containing":
            return query in raw["Data"].lower()
        return False

    return [message for message in messages if matches(message)]


def _page(messages: list[dict], start: int, limit: int) -> dict:
    items = messages[start : start + limit]
    return {"total": len(messages), "count": len(items), "start": start, "items": items}


def _api_handler(store: _Store) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:  # quiet
            pass

        def _reply(self, status: int, document: Any = None) -> None:
            body = b"" if document is None else json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            start = int(query.get("start", ["0"])[0])
            limit = int(query.get("limit", ["50"])[0])
            if url.path == "/api/v2/messages":
                self._reply(200, _page(store.newest_first(), start, limit))
            elif url.path == "/api/v2/search":
                found = _search(store.newest_first(), query.get("kind", [""])[0], query.get("query", [""])[0])
                self._reply(200, _page(found, start, limit))
            elif url.path.startswith("/api/v1/messages/"):
                wanted = urllib.parse.unquote(url.path.rsplit("/", 1)[1])
                found = [message for message in store.newest_first() if message["ID"] == wanted]
                if found:
                    self._reply(200, found[0])
                else:
                    self._reply(404)
            else:
                self._reply(404)

        def do_DELETE(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            if path == "/api/v1/messages":
                store.delete()
                self._reply(200)
            elif path.startswith("/api/v1/messages/"):
                store.delete(urllib.parse.unquote(path.rsplit("/", 1)[1]))
                self._reply(200)
            else:
                self._reply(404)

    return Handler


class MailHogStandIn:
    """``with MailHogStandIn() as mailhog:`` -> ``mailhog.smtp_port``, ``mailhog.api_url``."""

    def __init__(
        self,
        host: str = LOOPBACK,
        smtp_port: int | None = None,
        api_port: int | None = None,
        hostname: str = MAILHOG_HOSTNAME,
    ):
        self.host = host
        self.smtp_port = smtp_port or free_port()
        self._api_port = api_port if api_port is not None else free_port()
        self.hostname = hostname
        self.store = _Store()
        self._controller: Controller | None = None
        self._http: ThreadingHTTPServer | None = None

    @property
    def api_url(self) -> str:
        host = LOOPBACK if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.api_port}"

    def start(self) -> MailHogStandIn:
        handler = _SmtpHandler(self.store, self.hostname)
        controller = Controller(handler, hostname=self.host, port=self.smtp_port, ready_timeout=10)
        controller.factory = lambda: SMTP(handler, hostname=self.hostname, ident="MailHog")  # type: ignore[method-assign]
        controller.start()
        self._controller = controller
        self._http = ThreadingHTTPServer((self.host, self._api_port), _api_handler(self.store))
        self.api_port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, name="mailhog-api", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailHogStandIn:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _host_port(value: str, default_host: str = "0.0.0.0") -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host or default_host, int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.mailhog", description=__doc__.split("\n")[0])
    parser.add_argument("--smtp", default=os.environ.get("MAILHOG_SMTP_BIND", "0.0.0.0:1025"))
    parser.add_argument("--api", default=os.environ.get("MAILHOG_API_BIND", "0.0.0.0:8025"))
    parser.add_argument("--hostname", default=MAILHOG_HOSTNAME)
    args = parser.parse_args(argv)
    smtp_host, smtp_port = _host_port(args.smtp)
    api_host, api_port = _host_port(args.api)
    if smtp_host != api_host:
        parser.error("--smtp and --api must use the same address")
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    with MailHogStandIn(smtp_host, smtp_port, api_port, args.hostname) as mailhog:
        print(f"MailHog stand-in: SMTP {smtp_host}:{mailhog.smtp_port}, API {mailhog.api_url}", flush=True)
        stopped.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
