"""The event logger's throughput, latency and memory, next to the seed article's loop.

The baseline reproduces the loop the product started from: receive 10 messages, then for each
one a syslog call and a DeleteMessage. Both run against the same LocalStack queue, pre-filled
with the same number of events, and write to the same syslog listener.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import statistics
import tempfile
import threading
import time
from pathlib import Path

import boto3

from ses_events.formatting import format_sqs_body
from tests.harness.logger_process import LoggerProcess, write_config
from tests.harness.pipeline import Pipeline, create_pipeline, delivery_event
from tests.harness.syslog_listener import SyslogListener

EVENTS = 5000
ROUNDS = 3
LATENCY_RATE = 200  # events per second
LATENCY_SECONDS = 10
PUBLISH_BATCH = 5
FIXTURES = Path(__file__).resolve().parents[1] / "unit/fixtures/ses_events/sns"


def prefill(pipeline: Pipeline, count: int) -> list[dict]:
    events = [delivery_event([f"bench{i}@example.net"]) for i in range(count)]
    pipeline.publish_many(events)
    deadline = time.monotonic() + 120
    while pipeline.messages_left() < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return events


def _wait_for_lines(listener: SyslogListener, count: int, timeout: float = 600) -> float:
    deadline = time.monotonic() + timeout
    while len(listener.arrivals) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(listener.arrivals)} of {count} lines")
        time.sleep(0.05)
    return time.monotonic()


def _steady_rate(listener: SyslogListener, count: int) -> float:
    """Lines per second from the first line to the last: steady state, so that neither the
    daemon's start (a new process importing boto3) nor the in-process baseline's lack of one
    decides the comparison."""
    first, last = listener.arrivals[0][0], listener.arrivals[count - 1][0]
    return (count - 1) / (last - first)


def seed_loop(pipeline: Pipeline, socket_path: Path, stop: threading.Event) -> None:
    """The seed article's loop: receive 10, then one syslog call and one delete per message."""
    handler = logging.handlers.SysLogHandler(address=str(socket_path), facility="mail")
    handler.setFormatter(logging.Formatter("postfix/ses-events: %(message)s"))
    log = logging.getLogger(f"seed-loop-{socket_path.name}")  # one per round: handlers stay apart
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    sqs = pipeline.sqs
    while not stop.is_set():
        response = sqs.receive_message(QueueUrl=pipeline.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            event = json.loads(json.loads(message["Body"])["Message"])
            for recipient in event["delivery"]["recipients"]:
                log.info("%s: to=<%s>, status=delivered", event["mail"]["messageId"], recipient)
            sqs.delete_message(QueueUrl=pipeline.queue_url, ReceiptHandle=message["ReceiptHandle"])
    handler.close()


def _start_logger(pipeline: Pipeline, listener: SyslogListener, workdir: Path, localstack_url: str):
    # The daemon's own default visibility timeout, not the tests' short one.
    config = write_config(
        workdir / "ses-events.json", pipeline.queue_url, listener, workdir, visibility_timeout=60
    )
    return LoggerProcess(config, localstack_url, workdir / "logger.out").start()


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _seed_round(localstack_url: str, workdir: Path, index: int) -> float:
    pipeline = create_pipeline(localstack_url, max_receive_count=10)
    prefill(pipeline, EVENTS)
    listener = SyslogListener(workdir / f"seed{index}.sock", workdir / f"seed{index}.log").start()
    stop = threading.Event()
    worker = threading.Thread(target=seed_loop, args=(pipeline, listener.socket_path, stop))
    worker.start()
    _wait_for_lines(listener, EVENTS)
    stop.set()
    worker.join()
    listener.stop()
    return _steady_rate(listener, EVENTS)


def _logger_round(localstack_url: str, workdir: Path, index: int) -> tuple[float, float]:
    pipeline = create_pipeline(localstack_url, max_receive_count=10)
    prefill(pipeline, EVENTS)
    listener = SyslogListener(workdir / f"ours{index}.sock", workdir / f"ours{index}.log").start()
    state = workdir / f"state{index}"
    state.mkdir()
    logger = _start_logger(pipeline, listener, state, localstack_url)
    _wait_for_lines(listener, EVENTS)
    rss = _peak_rss_mb(logger.process.pid)
    logger.stop()
    listener.stop()
    return _steady_rate(listener, EVENTS), rss


def throughput(localstack_url: str) -> dict[str, object]:
    """Alternating rounds of the baseline and the logger, each on a fresh pre-filled queue."""
    seed, ours, rss = [], [], []
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        for index in range(ROUNDS):
            seed.append(_seed_round(localstack_url, workdir, index))
            rate, peak = _logger_round(localstack_url, workdir, index)
            ours.append(rate)
            rss.append(peak)
    return {"seed": seed, "ours": ours, "rss_mb": max(rss)}


def latency(localstack_url: str) -> dict[str, float]:
    """Publish at a steady rate to SNS; time each event until its line reaches the log."""
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        pipeline = create_pipeline(localstack_url, max_receive_count=10)
        listener = SyslogListener(workdir / "lat.sock", workdir / "lat.log").start()
        logger = _start_logger(pipeline, listener, workdir, localstack_url)
        time.sleep(2)  # the logger is polling
        published: dict[str, float] = {}
        total = LATENCY_RATE * LATENCY_SECONDS
        start = time.monotonic() + 0.5

        sns = boto3.client("sns", endpoint_url=localstack_url)
        # One SNS call takes several ms on LocalStack, too slow for 200 single publishes a second:
        # publish small batches on a fixed schedule instead (each event stamped when sent).
        for first in range(0, total, PUBLISH_BATCH):
            time.sleep(max(0.0, start + first / LATENCY_RATE - time.monotonic()))
            events = [
                delivery_event([f"latency{i}@example.net"]) for i in range(first, first + PUBLISH_BATCH)
            ]
            now = time.monotonic()
            published.update({event["mail"]["messageId"]: now for event in events})
            sns.publish_batch(
                TopicArn=pipeline.topic_arn,
                PublishBatchRequestEntries=[
                    {"Id": str(i), "Message": json.dumps(e), "Subject": "Amazon SES Email Event Notification"}
                    for i, e in enumerate(events)
                ],
            )
        achieved_rate = total / (time.monotonic() - start)
        _wait_for_lines(listener, total, timeout=120)
        logger.stop()
        listener.stop()
    delays = []
    for arrived, message in listener.arrivals:
        ses_id = message.split(b"ses_id=", 1)[1].split(b",", 1)[0].decode()
        delays.append((arrived - published[ses_id]) * 1000)
    delays.sort()
    return {
        "rate": achieved_rate,
        "p50": statistics.median(delays),
        "p99": delays[int(len(delays) * 0.99) - 1],
    }


def formatter_rate(seconds: float = 2.0) -> float:
    bodies = [path.read_text() for path in sorted(FIXTURES.glob("*.json"))]
    count = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        for body in bodies:
            format_sqs_body(body)
        count += len(bodies)
    return count / (time.perf_counter() - started)


def run(localstack_url: str) -> list[str]:
    rates = throughput(localstack_url)
    ours, seed = statistics.median(rates["ours"]), statistics.median(rates["seed"])
    lat = latency(localstack_url)
    formatted = formatter_rate()
    return [
        "| Figure | ses-relay logger | seed loop (baseline) | ratio | target |",
        "|---|---|---|---|---|",
        f"| Events/s, pre-filled queue of {EVENTS}, first to last line in the log, median of {ROUNDS} "
        f"alternating rounds | {ours:.0f} ({min(rates['ours']):.0f}-{max(rates['ours']):.0f}) | "
        f"{seed:.0f} ({min(rates['seed']):.0f}-{max(rates['seed']):.0f}) | {ours / seed:.1f}x | >= 5x |",
        f"| Publish-to-log latency at {lat['rate']:.0f} events/s, p50 | {lat['p50']:.0f} ms | | | |",
        f"| Publish-to-log latency at {lat['rate']:.0f} events/s, p99 | {lat['p99']:.0f} ms "
        "| | | < 1000 ms |",
        f"| Logger peak resident memory (VmHWM) | {rates['rss_mb']:.0f} MB | | | < 80 MB |",
        f"| Pure formatter (`format_sqs_body`, SNS-wrapped events) | {formatted:,.0f} events/s | | | |",
    ]
