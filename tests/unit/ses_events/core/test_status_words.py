"""The status-word table is complete, consistent, and the only source of words we emit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ses_events.core import STATUS_WORDS, StatusWord, no_queue_ids, status_word, status_words_table
from ses_events.core import _status_words as status_words
from ses_events.core._ses_event import PAYLOAD_KEY_BY_TYPE
from tests.unit.ses_events.fixtures import EVENT_NAMES, lines_for, load_event

STATUS = re.compile(r", status=(?P<word>\S+?)(?: \(|,)")


def emitted_words(event: dict) -> set[str]:
    return {STATUS.search(line)["word"] for line in lines_for(event, no_queue_ids)}


def every_event_we_test() -> list[dict]:
    events = [load_event(name) for name in EVENT_NAMES]
    partial = load_event("event_subscription")
    partial["subscription"]["newTopicPreferences"]["unsubscribeAll"] = False
    events.append(partial)
    events.extend({"eventType": event_type, "mail": {"messageId": "X"}} for event_type in PAYLOAD_KEY_BY_TYPE)
    return events


def test_every_emitted_word_is_in_the_table_and_every_row_is_emitted() -> None:
    emitted = set().union(*(emitted_words(event) for event in every_event_we_test()))

    assert emitted == {row.word for row in STATUS_WORDS}


def test_every_row_object_in_the_module_is_in_the_table() -> None:
    rows = {value for value in vars(status_words).values() if isinstance(value, StatusWord)}

    assert rows == set(STATUS_WORDS)


def test_words_are_unique_single_lowercase_words() -> None:
    words = [row.word for row in STATUS_WORDS]

    assert len(words) == len(set(words))
    assert all(re.fullmatch(r"[a-z]+", word) for word in words)


def test_words_never_collide_with_postfix_own_sent() -> None:
    """Our lines must never say status=sent: parse_sent_line relies on it, and so do people."""
    assert status_word("sent") is None


@pytest.mark.parametrize("row", STATUS_WORDS, ids=lambda row: row.word)
def test_each_row_is_well_formed(row: StatusWord) -> None:
    assert re.fullmatch(r"[245]\.0\.0", row.default_dsn)
    assert row.ses_event_type in PAYLOAD_KEY_BY_TYPE
    assert row.meaning.strip() == row.meaning
    assert "\n" not in row.meaning
    assert "|" not in row.meaning  # it becomes a Markdown table cell
    assert str(row) == row.word


def test_every_ses_event_type_has_a_word() -> None:
    assert {row.ses_event_type for row in STATUS_WORDS} == set(PAYLOAD_KEY_BY_TYPE)


def test_lookup_by_word() -> None:
    assert status_word("bounced") is status_words.BOUNCED
    assert status_word("Bounced") is None


def test_status_words_table() -> None:
    table = status_words_table().splitlines()

    assert table[:3] == [
        "| status | SES event | dsn (default) | meaning |",
        "| --- | --- | --- | --- |",
        "| `accepted` | Send | 2.0.0 | SES accepted the message and will try to deliver it "
        "(nothing has reached the recipient yet). |",
    ]
    assert len(table) == 2 + len(STATUS_WORDS)
    assert status_words_table().endswith("|\n")


PACKAGE_README = Path(__file__).parents[4] / "ses_events" / "README.md"


def test_package_readme_carries_the_generated_table() -> None:
    readme = PACKAGE_README.read_text(encoding="utf-8")
    table = readme.split("<!-- status-words:begin -->\n")[1].split("<!-- status-words:end -->")[0]

    assert table == status_words_table()


def test_package_readme_examples_are_real_output() -> None:
    readme = PACKAGE_README.read_text(encoding="utf-8")
    examples = [line for line in readme.splitlines() if line.startswith("4F1A22C0D3E: ")]
    names = ("event_delivery", "event_bounce", "event_complaint")
    produced = {line for name in names for line in lines_for(load_event(name))}

    assert len(examples) == 3
    assert set(examples) == produced
