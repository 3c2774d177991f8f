"""MailHog's HTTP API, as the tests read it: a real MailHog (``mailhog/mailhog``) or devstack's
stand-in answer it alike, so the same tests run against both."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

from tests.harness.waiting import wait_until


class MailHogClient:
    """MailHog's HTTP API, for a real MailHog or the stand-in."""

    def __init__(self, api_url: str, timeout: float = 10):
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout

    def _request(self, method: str, path: str) -> Any:
        request = urllib.request.Request(f"{self.api_url}{path}", method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            body = response.read()
        return json.loads(body) if body.strip() else None

    def messages(self, limit: int = 250) -> list[dict]:
        return self._request("GET", f"/api/v2/messages?start=0&limit={limit}")["items"]

    def delete_all(self) -> None:
        self._request("DELETE", "/api/v1/messages")

    def messages_to(self, recipient: str) -> list[dict]:
        wanted = recipient.lower()
        return [
            message
            for message in self.messages()
            if wanted in (rcpt.lower() for rcpt in message["Raw"]["To"])
        ]

    def wait_for(self, predicate: Callable[[dict], bool], count: int = 1, timeout: float = 30) -> list[dict]:
        def enough() -> list[dict] | None:
            found = [message for message in self.messages() if predicate(message)]
            return found if len(found) >= count else None

        return wait_until(enough, timeout, f"{count} matching messages in MailHog at {self.api_url}")

    def wait_for_recipient(self, recipient: str, timeout: float = 30) -> dict:
        wanted = recipient.lower()
        return self.wait_for(lambda m: wanted in (r.lower() for r in m["Raw"]["To"]), timeout=timeout)[0]


def header(message: dict, name: str) -> list[str]:
    """A header's values in a MailHog item (case-insensitive name)."""
    for key, values in message["Content"]["Headers"].items():
        if key.lower() == name.lower():
            return values
    return []
