"""``ses-pacer run [--config PATH]``: the pacer that supervisord runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ses_pacer.config import CONFIG_FILE, PacerConfig
from ses_pacer.daemon import Daemon


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ses-pacer", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="release held mail to SES at the account's send rate")
    run.add_argument("--config", type=Path, default=CONFIG_FILE)
    arguments = parser.parse_args(argv)
    return Daemon(PacerConfig.load(arguments.config)).run()


if __name__ == "__main__":
    sys.exit(main())
