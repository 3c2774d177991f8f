"""How the entrypoint talks: one prefix, a level, stderr, and never a value of a secret.

A configuration problem is raised as ConfigurationError, wherever it is found, and ``main``
turns it into one report of every problem and exit status 78.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

# sysexits.h: the configuration is wrong, and retrying will not help.
EX_CONFIG = 78
PREFIX = "ses-relay"


class ConfigurationError(Exception):
    """The configuration cannot start the appliance; carries every problem found."""

    def __init__(self, problems: Iterable[object]):
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


def _write(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def info(message: str) -> None:
    _write(f"{PREFIX}: {message}")


def warning(message: str) -> None:
    _write(f"{PREFIX}: warning: {message}")


def error(message: str) -> None:
    _write(f"{PREFIX}: error: {message}")


def invalid_configuration(problems: Iterable[object]) -> int:
    """Report every problem at once, so the operator fixes them in one go; returns the exit status."""
    problems = list(problems)
    noun = "problem" if len(problems) == 1 else "problems"
    lines = [f"{PREFIX}: invalid configuration ({len(problems)} {noun}); nothing was started:"]
    lines += [f"{PREFIX}:   - {problem}" for problem in problems]
    lines.append(f"{PREFIX}: see the settings table in README.md")
    _write("\n".join(lines))
    return EX_CONFIG
