"""How the entrypoint talks: one prefix, stderr, and never a value of a secret."""

from __future__ import annotations

import sys
from collections.abc import Iterable

# sysexits.h: the configuration is wrong, and retrying will not help.
EX_CONFIG = 78
PREFIX = "ses-relay"


def info(message: str) -> None:
    print(f"{PREFIX}: {message}", file=sys.stderr, flush=True)


def invalid_configuration(problems: Iterable[object]) -> int:
    """Report every problem at once, so the operator fixes them in one go; returns the exit status."""
    problems = list(problems)
    noun = "problem" if len(problems) == 1 else "problems"
    lines = [f"{PREFIX}: invalid configuration ({len(problems)} {noun}); nothing was started:"]
    lines += [f"{PREFIX}:   - {problem}" for problem in problems]
    lines.append(f"{PREFIX}: see the settings table in README.md")
    print("\n".join(lines), file=sys.stderr, flush=True)
    return EX_CONFIG
