"""clean_field: one line, UTF-8-encodable, bounded, and otherwise untouched."""

from __future__ import annotations

import unicodedata

import pytest

from ses_events.core._sanitize import MAX_FIELD_CHARS, TRUNCATION_MARK, clean_field

EVERY_CODE_POINT = "".join(chr(code_point) for code_point in range(0x110000))


def test_no_code_point_can_start_a_new_line() -> None:
    cleaned = clean_field(EVERY_CODE_POINT, limit=len(EVERY_CODE_POINT))

    assert cleaned.splitlines() == [cleaned]
    cleaned.encode("utf-8")  # would raise on a lone surrogate


def test_every_other_character_passes_through() -> None:
    kept = "".join(
        character
        for character in EVERY_CODE_POINT
        if unicodedata.category(character) not in ("Cc", "Cs", "Zl", "Zp")
        and ord(character) not in _BIDI_CONTROLS
    )

    assert clean_field(kept, limit=len(kept)) == kept.strip()
    assert len(kept.strip()) > 1_000_000


_BIDI_CONTROLS = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("one\ntwo", "one two"),
        ("one\r\ntwo", "one two"),
        ("one\n\n\r\ntwo", "one two"),
        ("tab\there", "tab here"),
        ("vt\vff\fend", "vt ff end"),
        ("fs\x1cgs\x1drs\x1eend", "fs gs rs end"),
        ("nel\x85ls\u2028ps\u2029end", "nel ls ps end"),
        ("nul\x00bel\x07esc\x1b[31m", "nul?bel?esc?[31m"),
        ("del\x7fc1\x9bend", "del?c1?end"),
        ("us\x1fend", "us?end"),
        ("\u202egnp.exe", "?gnp.exe"),
        ("\u2066isolate\u2069", "?isolate?"),
        ("lone \ud800 surrogate", "lone ? surrogate"),
        ("  padded \n", "padded"),
        ("", ""),
    ],
)
def test_controls_become_spaces_or_question_marks(raw: str, cleaned: str) -> None:
    assert clean_field(raw) == cleaned


@pytest.mark.parametrize(
    "text",
    [
        "jörg.müller@bücher.example",
        "用户@例子.广告",
        '"Jörg Müller" <jorg@example.de>',
        "Zoë 📧 <zoe@example.com>",
        "مرحبا@مثال.اختبار",  # right-to-left script itself is fine; only the invisible controls go
        "zero\u200dwidth joiner",
        "C:\\path\\with\\backslashes and (parens) <angles> = signs, commas",
    ],
)
def test_non_ascii_and_punctuation_are_untouched(text: str) -> None:
    assert clean_field(text) == text


def test_value_at_the_limit_is_kept_whole() -> None:
    assert clean_field("x" * MAX_FIELD_CHARS) == "x" * MAX_FIELD_CHARS


def test_value_over_the_limit_is_cut_with_a_mark() -> None:
    cleaned = clean_field("x" * (MAX_FIELD_CHARS + 1))

    assert len(cleaned) == MAX_FIELD_CHARS
    assert cleaned == "x" * (MAX_FIELD_CHARS - 1) + TRUNCATION_MARK


def test_limit_applies_after_cleaning() -> None:
    assert clean_field("\n" * 5000 + "ok") == "ok"
    assert clean_field("a\n" * 3, limit=4) == "a a…"


def test_custom_limit() -> None:
    assert clean_field("abcdefgh", limit=5) == "abcd…"
    assert clean_field("abcde", limit=5) == "abcde"


def test_megabyte_value_is_fast_and_bounded() -> None:
    cleaned = clean_field("\n\x00é" * 350_000)

    assert len(cleaned) == MAX_FIELD_CHARS
    assert cleaned.startswith("?é ?é")
