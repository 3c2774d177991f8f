"""Image size and time from `docker run` until SMTP answers: ses-relay next to stock Postfix."""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

from devstack.net import free_port, wait_for_banner
from tests.harness.appliance import DOCKER, IMAGE

STOCK_IMAGE = "ses-relay-bench/stock-postfix"
RUNS = 7
STOCK_PORT = 2526  # baked into the stock image


def image_bytes(image: str) -> int:
    output = subprocess.run(
        [DOCKER, "image", "inspect", "--format", "{{.Size}}", image],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(output.strip())


def build_stock() -> None:
    subprocess.run(
        [DOCKER, "build", "-q", "-t", STOCK_IMAGE, str(Path(__file__).parent / "stock-postfix")],
        check=True,
        capture_output=True,
    )


def _time_to_banner(arguments: list[str], port: int) -> float:
    started = time.monotonic()
    container = subprocess.run(
        [DOCKER, "run", "-d", "--network", "host", *arguments], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        wait_for_banner(port, timeout=60)
        return time.monotonic() - started
    finally:
        subprocess.run([DOCKER, "rm", "-f", "-v", container], capture_output=True, check=False)


def startup_seconds(image: str, settings: dict[str, str] | None) -> list[float]:
    samples = []
    for _ in range(RUNS):
        if settings is None:
            port, arguments = STOCK_PORT, [image]
        else:
            port = free_port()
            env = []
            for name, value in {**settings, "RELAY_LISTEN_PORT": str(port)}.items():
                env += ["-e", f"{name}={value}"]
            arguments = [*env, image]
        samples.append(_time_to_banner(arguments, port))
    return samples


RELAY_SETTINGS = {
    "SES_REGION": "us-east-1",
    "SES_SMTP_HOST": "localhost",
    "SES_SMTP_USERNAME": "AKIAIOSFODNN7EXAMPLE",
    "SES_SMTP_PASSWORD": "bench-only-password",
    "RELAY_ALLOWED_SENDERS": "app@example.com",
    "RELAY_ALLOWED_NETWORKS": "127.0.0.1/32",
}


def run() -> list[str]:
    build_stock()
    ours, stock = image_bytes(IMAGE), image_bytes(STOCK_IMAGE)
    ours_start = startup_seconds(IMAGE, RELAY_SETTINGS)
    stock_start = startup_seconds(STOCK_IMAGE, None)
    return [
        "| Figure | ses-relay | stock Postfix (baseline) | ratio | target |",
        "|---|---|---|---|---|",
        f"| Image size | {ours / 1e6:.1f} MB | {stock / 1e6:.1f} MB | {ours / stock:.2f}x | <= 1.3x |",
        f"| `docker start` to SMTP 220, median of {RUNS} | {statistics.median(ours_start):.2f} s | "
        f"{statistics.median(stock_start):.2f} s | "
        f"{statistics.median(ours_start) / statistics.median(stock_start):.2f}x | <= 2 s |",
        f"| same, slowest | {max(ours_start):.2f} s | {max(stock_start):.2f} s | | |",
    ]
