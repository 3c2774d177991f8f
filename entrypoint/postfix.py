"""Postfix's own tools: build the lookup tables and check the result before anything starts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from entrypoint.log import ConfigurationError
from entrypoint.render import TEMPLATES


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stderr + result.stdout).strip()
        raise ConfigurationError([f"{' '.join(command)} failed: {output}"])


def build_lookup_tables(output_root: Path) -> None:
    for template in TEMPLATES:
        if not template.postmap:
            continue
        source = output_root / template.path
        # The .db of sasl_passwd holds the password too: create it as private as its source.
        previous_umask = os.umask(0o777 & ~template.mode)
        try:
            _run(["postmap", f"hash:{source}"])
        finally:
            os.umask(previous_umask)
        os.chmod(f"{source}.db", template.mode)


def check() -> None:
    """`postfix check` also creates missing queue directories, e.g. on a fresh volume."""
    _run(["postfix", "check"])


def build_and_check(output_root: Path) -> None:
    """The lookup tables Postfix reads, then Postfix's own verdict on the whole configuration."""
    build_lookup_tables(output_root)
    check()
