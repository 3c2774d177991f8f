"""``ses-events``: the command line of the SES event logger.

``ses-events format [--mail-log LOG] [FILE|-]`` prints the lines the daemon writes for one SQS
message body (an SNS envelope or, with raw message delivery, the SES JSON itself), using the
daemon's own code. Lines are printed one per line WITHOUT the syslog prefix
(``Mon DD HH:MM:SS host postfix/ses-events[PID]: ``), which syslog adds in the mail log; they
start with the SES message ID, or with the Postfix queue ID when ``--mail-log`` holds Postfix's
``status=sent (250 Ok <id>)`` line for the message.

Exit status: 0 when the body was understood, including non-events such as SES's topic-validation
message (nothing is printed; a note goes to stderr); 65 (EX_DATAERR) when the body can never be
logged or a file cannot be read; 2 for usage errors (argparse).

``ses-events run [--config FILE]`` runs the daemon (under supervisord in the image).

Subcommands are registered by one small function each.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from ses_events.core import PoisonMessage, QueueIdLookup, format_sqs_body, no_queue_ids, parse_sent_line
from ses_events.daemon.config import DEFAULT_CONFIG, DaemonConfig

EX_OK = 0
EX_DATAERR = 65  # sysexits.h; os.EX_DATAERR does not exist on every platform
EX_CONFIG = 78

_PROG = "ses-events"


class _UnreadableInput(Exception):
    """A file or stdin that could not be read as UTF-8 text."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ses-events`` command line; return its exit status."""
    args = build_parser().parse_args(argv)
    return args.run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Write what Amazon SES did with relayed mail into the Postfix mail log.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_format_command(commands)
    _add_run_command(commands)
    return parser


def _add_run_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "run",
        help="run the daemon: poll SQS and write every SES event into the mail log",
        description="Long-poll the SQS queue and write one mail log line per recipient of each SES event.",
    )
    command.add_argument(
        "--config",
        default=str(DEFAULT_CONFIG),
        metavar="FILE",
        help=f"the daemon's JSON settings, rendered by the entrypoint (default {DEFAULT_CONFIG})",
    )
    command.set_defaults(run=_run_daemon)


def _run_daemon(args: argparse.Namespace) -> int:
    from ses_events.daemon.sqs_loop import Daemon  # deferred: threads, SQLite and, once running, the AWS SDK

    try:
        config = DaemonConfig.load(Path(args.config))
    except (OSError, ValueError, TypeError) as error:
        _complain(f"cannot load {args.config}: {error}")
        return EX_CONFIG
    return Daemon(config).run()


def _add_format_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "format",
        help="print the log lines for one SQS message body",
        description=(
            "Print the mail log lines for one SQS message body (SNS envelope or raw SES JSON), one per "
            "recipient, without the syslog prefix. Non-events print nothing. Exit 65 on a body that "
            "can never be logged."
        ),
    )
    command.add_argument(
        "body",
        nargs="?",
        default="-",
        metavar="FILE",
        help="file holding the SQS message body; - (the default) reads standard input",
    )
    command.add_argument(
        "--mail-log",
        metavar="LOG",
        help="Postfix mail log whose 'status=sent (250 Ok <id>)' lines give the queue IDs that start the "
        "lines (without it, lines start with the SES message ID)",
    )
    command.add_argument(
        "--relay-hostname",
        metavar="HOST",
        help="this relay's host name (RELAY_HOSTNAME): a queue ID in its own Received header, as SES "
        "publishes the headers, starts the lines when the mail log does not give one",
    )
    command.set_defaults(run=_run_format)


def _run_format(args: argparse.Namespace) -> int:
    try:
        body = _read_text(args.body)
        queue_id_for = _queue_ids_in_mail_log(args.mail_log) if args.mail_log else no_queue_ids
        formatted = format_sqs_body(body, queue_id_for, args.relay_hostname)
    except _UnreadableInput as error:
        _complain(str(error))
        return EX_DATAERR
    except PoisonMessage as error:
        _complain(f"poison message: {error.reason}")
        return EX_DATAERR
    if not formatted.lines:
        _complain(f"{formatted.kind.description}; nothing to log")
    _write_lines(formatted.lines, sys.stdout)
    return EX_OK


def _read_text(source: str) -> str:
    name = "standard input" if source == "-" else source
    try:
        data = _read_stdin_bytes() if source == "-" else Path(source).read_bytes()
    except OSError as error:
        raise _UnreadableInput(f"cannot read {name}: {error.strerror or error}") from None
    try:
        # utf-8-sig: a body saved by an editor may start with a byte-order mark.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _UnreadableInput(f"{name} is not UTF-8 text (byte {error.start})") from None


def _read_stdin_bytes() -> bytes:
    stream = sys.stdin
    buffer = getattr(stream, "buffer", None)
    return buffer.read() if buffer is not None else stream.read().encode("utf-8")


def _queue_ids_in_mail_log(path: str) -> QueueIdLookup:
    queue_ids: dict[str, str] = {}
    try:
        # A mail log may hold bytes that are not UTF-8; they cannot be in a line we parse anyway.
        with open(path, encoding="utf-8", errors="replace") as log:
            for line in log:
                sent = parse_sent_line(line)
                if sent is not None:
                    queue_id, ses_message_id = sent
                    queue_ids[ses_message_id] = queue_id
    except OSError as error:
        raise _UnreadableInput(f"cannot read mail log {path}: {error.strerror or error}") from None
    return queue_ids.get


def _write_lines(lines: Iterable[str], stream: TextIO) -> None:
    # Encode ourselves: addresses may be non-ASCII and stdout's locale encoding may not be UTF-8.
    data = "".join(f"{line}\n" for line in lines).encode("utf-8")
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(data.decode("utf-8"))
        return
    stream.flush()
    buffer.write(data)
    buffer.flush()


def _complain(message: str) -> None:
    print(f"{_PROG}: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
