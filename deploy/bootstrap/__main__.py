"""The command line: ``python -m deploy.bootstrap --name ... --region ... --identity ...``.

Parses the options, reads the SMTP password from a file or the environment (never from the
command line), runs ``Bootstrap`` and prints the appliance's settings as ``KEY=value`` lines.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from deploy.bootstrap.desired_state import DEFAULT_MAX_RECEIVE_COUNT, DEFAULT_VISIBILITY_TIMEOUT
from deploy.bootstrap.reconcile import Bootstrap, Options


def env_lines(settings: Mapping[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def _read_secret_file(path: Path | None) -> str | None:
    if path is None:
        return None
    return path.read_text(encoding="utf-8").rstrip("\r\n")


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m deploy.bootstrap",
        description="Create the SNS topic, SQS queues, secret, SES identities and configuration set that "
        "ses-relay needs; print the appliance's settings. Idempotent.",
    )
    parser.add_argument(
        "--name", default="ses-relay", help="prefix of every resource name (default ses-relay)"
    )
    parser.add_argument(
        "--region",
        default=env("AWS_REGION") or env("AWS_DEFAULT_REGION"),
        help="AWS region of SES and the queue (default $AWS_REGION)",
    )
    parser.add_argument(
        "--identity",
        action="append",
        default=[],
        dest="identities",
        metavar="DOMAIN|ADDRESS",
        help="SES identity to create (repeatable)",
    )
    parser.add_argument(
        "--max-receive-count",
        type=int,
        default=DEFAULT_MAX_RECEIVE_COUNT,
        help=f"receives before an event moves to the dead-letter queue (default {DEFAULT_MAX_RECEIVE_COUNT})",
    )
    parser.add_argument(
        "--visibility-timeout",
        type=int,
        default=DEFAULT_VISIBILITY_TIMEOUT,
        help=f"queue visibility timeout, seconds (default {DEFAULT_VISIBILITY_TIMEOUT})",
    )
    parser.add_argument("--smtp-username", default=env("SES_SMTP_USERNAME"), help="SES SMTP user name")
    parser.add_argument(
        "--smtp-password-file", type=Path, help="file holding the SES SMTP password (or $SES_SMTP_PASSWORD)"
    )
    parser.add_argument(
        "--smtp-secret-access-key-file",
        type=Path,
        help="file holding the IAM secret access key to derive it from (or $SES_SMTP_SECRET_ACCESS_KEY)",
    )
    parser.add_argument(
        "--endpoint-url",
        default=env("AWS_ENDPOINT_URL"),
        help="AWS endpoint, e.g. LocalStack (default $AWS_ENDPOINT_URL)",
    )
    parser.add_argument(
        "--track-opens-and-clicks",
        action="store_true",
        help="also publish open and click events (SES then adds a tracking pixel and rewrites links)",
    )
    parser.add_argument("--env-file", type=Path, help="also write the settings to this file")
    return parser


def main(argv: Iterable[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not args.region:
        parser.error("--region (or AWS_REGION) is required")
    if args.max_receive_count < 1 or args.max_receive_count > 1000:
        parser.error("--max-receive-count must be 1..1000")
    options = Options(
        name=args.name,
        region=args.region,
        identities=args.identities,
        max_receive_count=args.max_receive_count,
        visibility_timeout=args.visibility_timeout,
        smtp_username=args.smtp_username,
        smtp_password=_read_secret_file(args.smtp_password_file)
        or os.environ.get("SES_SMTP_PASSWORD")
        or None,
        smtp_secret_access_key=_read_secret_file(args.smtp_secret_access_key_file)
        or os.environ.get("SES_SMTP_SECRET_ACCESS_KEY")
        or None,
        endpoint_url=args.endpoint_url or None,
        track_opens_and_clicks=args.track_opens_and_clicks,
    )
    try:
        result = Bootstrap(options).run()
    except (ClientError, BotoCoreError, ValueError) as error:
        print(f"bootstrap failed: {error}", file=sys.stderr)
        return 1
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print("changed" if result.changed else "nothing to change: everything already in place", file=sys.stderr)
    sys.stdout.write(env_lines(result.settings))
    if args.env_file:
        args.env_file.write_text(env_lines(result.settings), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
