"""The ``ses-events format`` command line."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ses_events.cli import EX_DATAERR, main
from tests.unit.ses_events.fixtures import FIXTURES, SES_ID

BOUNCE_LINE = (
    f"{SES_ID}: to=<alice@example.net>, relay=a8-30.smtp-out.amazonses.com[203.0.113.20], dsn=5.1.1, "
    f"status=bounced (Permanent/NoEmail), delay=1389ms, ses_id={SES_ID}, response=(smtp; 550 5.1.1 "
    "<alice@example.net>: Recipient address rejected: User unknown)\n"
)


def use_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_format_file(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["format", str(FIXTURES / "sns" / "event_bounce.json")])

    assert status == 0
    assert capsys.readouterr() == (BOUNCE_LINE, "")


def test_format_prints_one_line_per_recipient_without_syslog_prefix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["format", str(FIXTURES / "raw" / "event_send.json")]) == 0

    assert capsys.readouterr().out == "".join(
        f"{SES_ID}: to=<{rcpt}>, relay=amazonses.com, dsn=2.0.0, status=accepted, ses_id={SES_ID}, "
        "response=()\n"
        for rcpt in ("alice@example.net", "bob@example.org")
    )


@pytest.mark.parametrize("argv", [["format", "-"], ["format"]])
def test_format_reads_standard_input(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_stdin(monkeypatch, (FIXTURES / "raw" / "event_bounce.json").read_bytes())

    assert main(argv) == 0
    assert capsys.readouterr().out == BOUNCE_LINE


def test_mail_log_gives_the_queue_id(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        [
            "format",
            "--mail-log",
            str(FIXTURES / "postfix" / "mail_log.txt"),
            str(FIXTURES / "sns" / "event_bounce.json"),
        ]
    )

    assert status == 0
    assert capsys.readouterr().out == BOUNCE_LINE.replace(f"{SES_ID}: to=", "4F1A22C0D3E: to=", 1)


def test_relay_hostname_reads_the_queue_id_from_the_relays_received_header(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bounce = str(FIXTURES / "sns" / "event_bounce.json")
    assert main(["format", "--relay-hostname", "relay.example.com", bounce]) == 0
    assert capsys.readouterr().out == BOUNCE_LINE.replace(f"{SES_ID}: to=", "4F1A22C0D3E: to=", 1)

    assert main(["format", "--relay-hostname", "another-relay.example.com", bounce]) == 0
    assert capsys.readouterr().out == BOUNCE_LINE


def test_non_event_prints_nothing_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["format", str(FIXTURES / "sns_examples" / "sns_ses_validation.json")])

    assert status == 0
    assert capsys.readouterr() == (
        "",
        "ses-events: SES validated the SNS topic for event publishing; nothing to log\n",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"not json",
            "ses-events: poison message: SQS body is not valid JSON (Expecting value at line 1 column 1)\n",
        ),
        (b"", "ses-events: poison message: SQS body is empty\n"),
        (
            b'{"eventType": "Bounce", "mail": {}}',
            "ses-events: poison message: Bounce event has no mail.messageId\n",
        ),
        (b"\xff\xfe{}", "ses-events: standard input is not UTF-8 text (byte 0)\n"),
    ],
)
def test_bad_input_exits_65(
    body: bytes, message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_stdin(monkeypatch, body)

    assert main(["format", "-"]) == EX_DATAERR == 65
    assert capsys.readouterr() == ("", message)


def test_unreadable_file_exits_65(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.json"

    assert main(["format", str(missing)]) == 65
    assert capsys.readouterr() == ("", f"ses-events: cannot read {missing}: No such file or directory\n")


def test_directory_instead_of_file_exits_65(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["format", str(tmp_path)]) == 65
    assert capsys.readouterr().err.startswith(f"ses-events: cannot read {tmp_path}: ")


def test_unreadable_mail_log_exits_65(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "mail.log"

    assert main(["format", "--mail-log", str(missing), str(FIXTURES / "raw" / "event_send.json")]) == 65
    assert capsys.readouterr() == (
        "",
        f"ses-events: cannot read mail log {missing}: No such file or directory\n",
    )


def test_byte_order_mark_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / "raw" / "event_bounce.json").read_bytes())

    assert main(["format", str(body)]) == 0
    assert capsys.readouterr().out == BOUNCE_LINE


def test_non_ascii_lines_are_written_as_utf8(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    body = tmp_path / "body.json"
    event = (FIXTURES / "raw" / "event_delivery.json").read_text(encoding="utf-8")
    body.write_text(
        event.replace('"recipients": ["bob@example.org"]', '"recipients": ["jörg@bücher.example"]')
    )

    assert main(["format", str(body)]) == 0
    assert capsysbinary.readouterr().out.startswith(f"{SES_ID}: to=<jörg@bücher.example>, ".encode())


def test_missing_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])

    assert exit_info.value.code == 2
    assert "usage: ses-events" in capsys.readouterr().err


def test_help_lists_the_format_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])

    assert exit_info.value.code == 0
    assert "format" in capsys.readouterr().out


def test_python_dash_m_with_an_ascii_only_terminal(tmp_path: Path) -> None:
    """``python -m ses_events`` works, and non-ASCII output survives a non-UTF-8 locale."""
    body = tmp_path / "body.json"
    event = (FIXTURES / "raw" / "event_delivery.json").read_text(encoding="utf-8")
    body.write_text(event.replace('"recipients": ["bob@example.org"]', '"recipients": ["用户@例子.广告"]'))
    environment = {**os.environ, "PYTHONIOENCODING": "ascii", "PYTHONPATH": str(Path(__file__).parents[3])}

    result = subprocess.run(
        [sys.executable, "-m", "ses_events", "format", str(body)],
        capture_output=True,
        env=environment,
        check=False,
    )

    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout.startswith(f"{SES_ID}: to=<用户@例子.广告>, ".encode())
