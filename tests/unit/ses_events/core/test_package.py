"""The core as a whole: its public API, and that it is pure (standard library only, no I/O)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import ses_events
import ses_events.core

CORE = Path(ses_events.core.__file__).parent
CORE_MODULES = sorted(CORE.glob("*.py"))

# Standard-library modules that do I/O, keep threads or processes, or read clocks and chance: the
# core must not need any of them, so the same body always gives the same lines, in any process.
NOT_IN_THE_CORE = {
    "_thread",
    "asyncio",
    "concurrent",
    "fcntl",
    "glob",
    "http",
    "io",
    "logging",
    "mmap",
    "multiprocessing",
    "os",
    "pathlib",
    "random",
    "select",
    "selectors",
    "shutil",
    "signal",
    "socket",
    "sqlite3",
    "ssl",
    "subprocess",
    "sys",
    "syslog",
    "tempfile",
    "threading",
    "time",
    "urllib",
}
# Builtins that read or write the outside world.
IO_BUILTINS = {"open", "print", "input", "breakpoint", "exec", "eval", "__import__"}


def imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, absolute or relative (as ``.name``)."""
    modules = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.append("." * node.level + (node.module or ""))
    return modules


def test_the_core_has_the_modules_this_test_walks() -> None:
    assert {path.name for path in CORE_MODULES} >= {"__init__.py", "_lines.py", "_sqs_body.py"}


@pytest.mark.parametrize("path", CORE_MODULES, ids=lambda path: path.name)
def test_core_imports_only_the_standard_library_and_itself(path: Path) -> None:
    outside = [
        module
        for module in imported_modules(path)
        if not module.startswith(".")
        and module.split(".")[0] not in sys.stdlib_module_names
        and module != "ses_events.core"
        and not module.startswith("ses_events.core.")
    ]

    assert outside == []


@pytest.mark.parametrize("path", CORE_MODULES, ids=lambda path: path.name)
def test_core_imports_nothing_that_does_io(path: Path) -> None:
    assert [module for module in imported_modules(path) if module.split(".")[0] in NOT_IN_THE_CORE] == []


@pytest.mark.parametrize("path", CORE_MODULES, ids=lambda path: path.name)
def test_core_calls_no_builtin_that_does_io(path: Path) -> None:
    calls = {
        node.func.id
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }

    assert calls & IO_BUILTINS == set()


def test_the_walk_would_catch_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import socket\nfrom boto3 import client\nfrom ses_events.daemon import x\n")

    assert imported_modules(sample) == ["socket", "boto3", "ses_events.daemon"]


def test_a_body_is_validated_in_one_place() -> None:
    """``read_ses_event`` is called once per body, by ``unwrap_sqs_body``; the rest take a SesEvent."""
    callers = [
        path.name
        for path in CORE_MODULES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "read_ses_event"
    ]

    assert callers == ["_sqs_body.py"]


def test_importing_the_package_loads_no_io_module() -> None:
    """``import ses_events`` (the core's API) must not pull in the daemon or the AWS SDK."""
    probe = (
        "import sys, ses_events, ses_events.core; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'boto3', 'botocore', 'sqlite3', 'socket', 'threading', 'subprocess'} "
        "or m.startswith('ses_events.daemon')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(ses_events.__file__).parents[1],
    )

    assert result.stdout.strip() == "[]"


def test_public_api_is_importable_from_the_core_and_the_package() -> None:
    assert set(ses_events.core.__all__) <= set(dir(ses_events.core))
    assert ses_events.__all__ == ses_events.core.__all__
    assert all(getattr(ses_events, name) is getattr(ses_events.core, name) for name in ses_events.__all__)


def test_public_names_come_from_private_modules_only() -> None:
    """Like h11: the modules are private (``_x.py``); ``__init__`` names the API."""
    assert all(path.name == "__init__.py" or path.name.startswith("_") for path in CORE_MODULES)
