"""README's layout table is the map of the repository: every path it names exists, and every
top-level folder is on it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _layout_rows() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text[text.index("| Path | What |") :].split("\n\n", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", table, re.MULTILINE)


def _tracked_top_level_folders() -> set[str]:
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return {
        path.split("/", 1)[0] + "/" for path in files.splitlines() if "/" in path and not path.startswith(".")
    }


def test_every_path_in_the_layout_table_exists():
    rows = _layout_rows()
    assert rows, "README.md lost its layout table"
    missing = [row for row in rows if not (REPO / row).exists()]
    assert missing == []


def test_every_top_level_folder_is_in_the_layout_table():
    listed = {row.split("/", 1)[0] + "/" for row in _layout_rows()}
    assert _tracked_top_level_folders() - listed == set()
