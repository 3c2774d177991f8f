"""Render every config file from its template beside it (``main.cf.j2`` -> ``main.cf``)."""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

# Postfix treats a config file modified less than this long ago as possibly half-written.
FRESH_FILE_SECONDS = 5


@dataclass(frozen=True)
class Template:
    """One rendered file, as a path relative to the filesystem root."""

    path: str
    mode: int = 0o644
    # Postfix reads a hash: table from its .db, which postmap builds from the rendered text.
    postmap: bool = False


TEMPLATES: tuple[Template, ...] = (
    Template("etc/postfix/main.cf"),
    Template("etc/postfix/master.cf"),
    Template("etc/postfix/allowed_senders", postmap=True),
    Template("etc/postfix/sasl_passwd", mode=0o600, postmap=True),
    Template("etc/postfix/header_checks"),
    Template("etc/rsyslog.conf"),
    Template("etc/supervisor/supervisord.conf", mode=0o600),
    Template("etc/ses-relay/ses-events.json"),
    Template("etc/ses-relay/ses-pacer.json"),
    Template("etc/ses-relay/ses-check.json"),
    Template("etc/ses-relay/ses-relay.json"),
)


def _regex_escape(value: str) -> str:
    """Escape a literal for a POSIX extended regular expression (Postfix regexp: tables)."""
    return re.sub(r"([.\\+*?\[^\]$(){}|/])", r"\\\1", value)


def _environment(template_root: Path) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_root)),
        # A misspelt variable in a template must fail the start, not render as an empty string.
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # noqa: S701 - these are config files, not HTML
    )
    environment.filters["regex_escape"] = _regex_escape
    return environment


def _write_atomically(destination: Path, content: str, mode: int) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    # Created with its final mode, so a secret is never readable for a moment, and renamed into
    # place, so a restart never sees half a file.
    descriptor, temporary = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.")
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
        # Postfix pauses ("pausing to let main.cf cool down") for up to 2 s before reading a
        # config file younger than 2 s, in case an editor is still writing it. Ours is complete
        # (written, then renamed into place), so date it back rather than wait at every start.
        settled = time.time() - FRESH_FILE_SECONDS
        os.utime(temporary, (settled, settled))
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def render_template(template: Template, context: Mapping[str, Any], template_root: Path) -> str:
    return _environment(template_root).get_template(f"{template.path}.j2").render(context)


def render_all(context: Mapping[str, Any], template_root: Path, output_root: Path) -> list[Path]:
    """Render every template; returns the written paths."""
    written = []
    for template in TEMPLATES:
        destination = output_root / template.path
        _write_atomically(destination, render_template(template, context, template_root), template.mode)
        written.append(destination)
    return written
