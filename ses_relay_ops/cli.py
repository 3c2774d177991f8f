"""``ses-relay``: the operator's commands, inside the container or on a copied log.

ses-relay trace QUERY [--json] [--log PATH]...     one message's timeline
ses-relay report [--since 24h] [--json] [--log PATH]...
ses-relay rotate [--watch]                          rotate the mail log now (or as configured)
ses-relay metrics                                   the Prometheus exporter (METRICS_PORT)
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

from ses_relay_ops import report as report_module
from ses_relay_ops import trace as trace_module
from ses_relay_ops.config import CONFIG_FILE, OpsConfig
from ses_relay_ops.log_files import MAIL_LOG, log_files, read_lines
from ses_relay_ops.timeline import Query, find_journeys

_DURATION = re.compile(r"^(?P<amount>[0-9]+(\.[0-9]+)?)(?P<unit>[smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def since_time(text: str, now: datetime) -> datetime | None:
    """``24h``, ``30m``, ``7d``, ``2w`` before now; an ISO date or time; ``all`` for no limit."""
    if text == "all":
        return None
    duration = _DURATION.match(text)
    if duration:
        return now - timedelta(seconds=float(duration["amount"]) * _UNITS[duration["unit"]])
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a duration (24h, 30m, 7d), a date or time, or all"
        ) from None
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment


def _add_log_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help=f"a mail log file (plain or .gz), or a directory with mail.log and its rotations; "
        f"repeatable (default: {MAIL_LOG} and its rotations)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ses-relay", description="See what the relay did with the mail.")
    commands = parser.add_subparsers(dest="command", required=True)

    trace = commands.add_parser("trace", help="each matching message's timeline from the mail log")
    trace.add_argument("query", help="a queue ID, an SES message ID, an address or a Message-ID")
    trace.add_argument("--json", action="store_true", help="JSON for scripts")
    _add_log_argument(trace)

    report = commands.add_parser("report", help="outcomes, bounce and complaint rates, deferrals")
    report.add_argument("--since", default="24h", help="24h (default), 30m, 7d, a date or time, or all")
    report.add_argument("--json", action="store_true", help="JSON for scripts")
    _add_log_argument(report)

    rotate = commands.add_parser("rotate", help="rotate the mail log now; --watch: as configured")
    rotate.add_argument("--watch", action="store_true", help="run, rotating by MAIL_LOG_ROTATE_SIZE and _AGE")
    rotate.add_argument("--config", type=Path, default=CONFIG_FILE)

    metrics = commands.add_parser("metrics", help="serve Prometheus metrics on METRICS_PORT")
    metrics.add_argument("--config", type=Path, default=CONFIG_FILE)
    return parser


def _files(arguments: argparse.Namespace) -> list[Path]:
    files = log_files(arguments.log)
    if not files:
        raise FileNotFoundError(f"no mail log found at {MAIL_LOG} (use --log FILE or DIRECTORY)")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    now = datetime.now()
    try:
        if arguments.command == "trace":
            files = _files(arguments)
            journeys = find_journeys(lambda: read_lines(files, now), Query(arguments.query))
            render = trace_module.render_json if arguments.json else trace_module.render_text
            sys.stdout.write(render(journeys))
            if not journeys and not arguments.json:
                print(f"nothing in {len(files)} file(s) matches {arguments.query!r}", file=sys.stderr)
            return 0 if journeys else 1
        if arguments.command == "report":
            try:
                start = since_time(arguments.since, now)
            except argparse.ArgumentTypeError as error:
                parser.error(str(error))
            files = _files(arguments)
            built = report_module.build_report(read_lines(files, now), start, now)
            built.files = len(files)
            render = report_module.render_json if arguments.json else report_module.render_text
            sys.stdout.write(render(built))
            return 0
        config = OpsConfig.load(arguments.config)
        if arguments.command == "metrics":
            from ses_relay_ops.metrics import run

            return run(config)
        from ses_relay_ops import rotation

        path = Path(config.mail_log)
        reopen = rotation.hup_rsyslog(Path(config.rsyslog_pid_file))
        if arguments.watch:
            policy = rotation.Policy(config.rotate_size, config.rotate_age_seconds, config.rotate_keep)
            return rotation.watch(path, policy, reopen)
        if not rotation.rotate_now(path, config.rotate_keep, reopen, "ses-relay rotate was run"):
            print(f"{path} is empty or missing: nothing to rotate", file=sys.stderr)
        return 0
    except FileNotFoundError as error:
        print(f"ses-relay: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
