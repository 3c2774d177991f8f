"""LocalStack for the tests: a user's running one (AWS_ENDPOINT_URL), else a native one we start.

The native one runs from the .venv-localstack that `make localstack` builds, on a free
loopback port, and is stopped by its own PID at teardown.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from devstack.net import LOOPBACK, free_port
from tests.harness.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
LOCALSTACK_PYTHON = Path(os.environ.get("LOCALSTACK_PYTHON_BIN", REPO / ".venv-localstack/bin/python"))
SERVICES = "sqs,sns,secretsmanager,ses,sts,iam,cloudformation"
# LocalStack accepts any credentials; these are its documented dummies.
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def is_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_localstack/health", timeout=2) as response:  # noqa: S310
            return response.status == 200 and "services" in json.load(response)
    except OSError:
        return False


@contextmanager
def localstack(host: str = LOOPBACK) -> Iterator[str]:
    """Yield the endpoint URL of a ready LocalStack.

    A container on a bridge network of its own (Compose's) cannot reach loopback: for it, pass the
    host's address on the Docker bridge, and a LocalStack of our own listens there.
    """
    existing = os.environ.get("AWS_ENDPOINT_URL") if host == LOOPBACK else None
    if existing:
        if not is_healthy(existing):
            raise RuntimeError(f"AWS_ENDPOINT_URL={existing} does not answer as LocalStack")
        yield existing
        return
    if not LOCALSTACK_PYTHON.exists():
        raise RuntimeError(f"{LOCALSTACK_PYTHON} is missing: run `make localstack` (make test does)")

    port = free_port()
    url = f"http://{host}:{port}"
    with tempfile.TemporaryDirectory(prefix="localstack-") as state:
        environment = {
            **os.environ,
            "GATEWAY_LISTEN": f"{host}:{port}",
            "SERVICES": SERVICES,
            "LOCALSTACK_HOST": f"{host}:{port}",
            "FILESYSTEM_ROOT": state,
            "DNS_ADDRESS": "0",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",
        }
        log_path = Path(state) / "localstack.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(LOCALSTACK_PYTHON), "-m", "localstack.runtime.main"],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            # Ready, or dead: either ends the wait; a timeout is reported with the log below.
            with suppress(AssertionError):
                wait_until(lambda: process.poll() is not None or is_healthy(url), 120, "LocalStack", 0.3)
            if not is_healthy(url):
                raise RuntimeError(f"LocalStack did not start:\n{log_path.read_text()[-4000:]}")
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
