"""``ses-check run [--config PATH]``: the start-up check that supervisord runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ses_check.config import CONFIG_FILE, CheckConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ses-check", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="check SES's login, sender identities and sandbox, then idle")
    run.add_argument("--config", type=Path, default=CONFIG_FILE)
    arguments = parser.parse_args(argv)
    from ses_check.daemon import run as run_check

    return run_check(CheckConfig.load(arguments.config))


if __name__ == "__main__":
    sys.exit(main())
