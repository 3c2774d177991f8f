"""ReadBack: which events' lines the mail log has been seen to hold."""

from __future__ import annotations

from ses_events.daemon.read_back import ReadBack


def test_an_event_is_read_back_once_every_line_of_it_was_seen():
    read_back = ReadBack()
    expectation = read_back.expect(["a: one", "a: two"])
    read_back.saw("a: one")
    assert not expectation.read_back
    read_back.saw("a: two")
    assert expectation.read_back
    assert not read_back.waiting


def test_a_line_seen_before_it_was_expected_does_not_count():
    read_back = ReadBack()
    read_back.saw("a: one")
    expectation = read_back.expect(["a: one"])
    assert not expectation.read_back


def test_two_events_with_the_same_line_each_need_their_own_copy():
    read_back = ReadBack()
    first = read_back.expect(["same line"])
    second = read_back.expect(["same line"])
    read_back.saw("same line")
    assert (first.read_back, second.read_back) == (True, False)
    read_back.saw("same line")
    assert second.read_back


def test_an_event_with_no_lines_to_write_is_read_back_at_once():
    assert ReadBack().expect([]).read_back


def test_forgotten_expectations_wait_for_nothing_more():
    read_back = ReadBack()
    given_up = read_back.expect(["lost line", "lost line"])
    kept = read_back.expect(["lost line"])
    read_back.forget([given_up])
    assert read_back.waiting
    read_back.saw("lost line")
    assert kept.read_back
    assert not given_up.read_back
    assert not read_back.waiting
