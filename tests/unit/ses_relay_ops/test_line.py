from __future__ import annotations

from datetime import datetime

from ses_relay_ops.line import classic_time, parse_line


def test_a_classic_line_is_split_into_its_parts():
    line = parse_line(
        "Dec  3 12:25:25 relay postfix/smtpd[184]: 47B72186935: client=x[1.2.3.4]\n", datetime(2026, 12, 4)
    )
    assert line is not None
    assert (line.time, line.host, line.program, line.pid) == (
        datetime(2026, 12, 3, 12, 25, 25),
        "relay",
        "postfix/smtpd",
        "184",
    )
    assert line.message == "47B72186935: client=x[1.2.3.4]"
    assert line.queue_id == "47B72186935"


def test_the_year_is_the_latest_that_is_not_in_the_future():
    january = datetime(2027, 1, 2, 8, 0)
    assert classic_time("Dec", 31, "23:59:59", january) == datetime(2026, 12, 31, 23, 59, 59)
    assert classic_time("Jan", 2, "07:00:00", january) == datetime(2027, 1, 2, 7, 0)
    # A copied log from a machine a few hours ahead is still this year's.
    assert classic_time("Jan", 2, "20:00:00", january) == datetime(2027, 1, 2, 20, 0)
    # 29 February belongs to the latest leap year.
    assert classic_time("Feb", 29, "12:00:00", datetime(2027, 3, 1)) == datetime(2024, 2, 29, 12, 0)


def test_rfc3339_timestamps_are_read_too():
    line = parse_line(
        "2026-12-03T12:25:25.123456+00:00 relay postfix/qmgr[9]: 47B72186935: removed", datetime(2026, 12, 4)
    )
    assert line is not None
    assert line.program == "postfix/qmgr"
    assert line.time.microsecond == 123456


def test_what_is_not_a_mail_log_line():
    now = datetime(2026, 12, 4)
    assert parse_line("", now) is None
    assert parse_line("ses-relay: starting supervisord", now) is None
    assert parse_line("2026-12-03 12:00:00,000 INFO spawned: 'postfix' with pid 7", now) is None
    assert parse_line("Foo  3 12:25:25 relay postfix/smtpd[1]: x", now) is None


def test_a_tag_without_a_pid():
    line = parse_line(
        'Dec  3 12:25:25 relay rsyslogd: [origin software="rsyslogd"] start', datetime(2026, 12, 4)
    )
    assert line is not None
    assert (line.program, line.pid) == ("rsyslogd", "")
