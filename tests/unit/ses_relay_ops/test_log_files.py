from __future__ import annotations

import gzip
from datetime import datetime

import pytest

from ses_relay_ops.log_files import family, log_files, read_lines, rotation_number


def _write(path, lines):
    text = "".join(f"Dec  3 12:00:0{n} relay postfix/qmgr[1]: ABCDEF{n}: removed\n" for n in lines)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)


def test_the_family_is_read_oldest_first_plain_and_compressed(tmp_path):
    _write(tmp_path / "mail.log.3.gz", [1])
    _write(tmp_path / "mail.log.2.gz", [2])
    _write(tmp_path / "mail.log.1", [3])
    _write(tmp_path / "mail.log", [4])
    (tmp_path / "mail.log.2.gz.partial").write_text("half a file")
    (tmp_path / "other.log").write_text("not ours")
    files = log_files([tmp_path])
    assert [path.name for path in files] == ["mail.log.3.gz", "mail.log.2.gz", "mail.log.1", "mail.log"]
    queue_ids = [line.queue_id for line in read_lines(files, datetime(2026, 12, 4))]
    assert queue_ids == ["ABCDEF1", "ABCDEF2", "ABCDEF3", "ABCDEF4"]


def test_while_a_rotation_is_compressed_its_plain_copy_is_read(tmp_path):
    _write(tmp_path / "mail.log.2", [2])
    _write(tmp_path / "mail.log.2.gz", [2])
    assert [path.name for path in family(tmp_path / "mail.log")] == ["mail.log.2"]


def test_named_files_are_read_as_given_and_a_missing_one_is_named(tmp_path):
    _write(tmp_path / "copy.log", [1])
    assert log_files([tmp_path / "copy.log"]) == [tmp_path / "copy.log"]
    with pytest.raises(FileNotFoundError, match=r"nowhere\.log"):
        log_files([tmp_path / "nowhere.log"])


def test_rotation_numbers(tmp_path):
    base = tmp_path / "mail.log"
    assert rotation_number(base, base) == 0
    assert rotation_number(tmp_path / "mail.log.12.gz", base) == 12
    assert rotation_number(tmp_path / "mail.log.1", base) == 1
    assert rotation_number(tmp_path / "mail.log.old", base) is None
    assert rotation_number(tmp_path / "mail.logx", base) is None
