"""Working days follow the official Chinese calendar: holidays and 调休 make-up days.

The 2026 arrangement (State Council, as shipped in chinese-calendar): Spring Festival
02-15 to 02-23 off, Saturdays 02-14 and 02-28 worked; National Day 10-01 to 10-07 off,
Sunday 09-20 and Saturday 10-10 worked.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import pytest

from bot.workdays import FALLBACK, PACKAGE, WorkCalendar, add_workdays, is_workday
from tests.conftest import TZ


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def test_national_day_2026_is_seven_days_off() -> None:
    assert not any(is_workday(d) for d in days(date(2026, 10, 1), date(2026, 10, 7)))
    assert is_workday(date(2026, 9, 30))
    assert is_workday(date(2026, 10, 8))


def test_make_up_weekend_days_around_national_day_are_workdays() -> None:
    assert date(2026, 9, 20).weekday() == 6
    assert date(2026, 10, 10).weekday() == 5
    assert is_workday(date(2026, 9, 20))
    assert is_workday(date(2026, 10, 10))
    assert not is_workday(date(2026, 10, 11))  # the Sunday after stays off


def test_seven_workdays_from_the_eve_of_national_day() -> None:
    start = datetime(2026, 9, 30, 9, 0, tzinfo=TZ)

    # 10-08 Thu, 10-09 Fri, 10-10 Sat (调休), 10-12 Mon, 10-13, 10-14, 10-15.
    assert add_workdays(start, 1) == datetime(2026, 10, 8, 9, 0, tzinfo=TZ)
    assert add_workdays(start, 3) == datetime(2026, 10, 10, 9, 0, tzinfo=TZ)
    assert add_workdays(start, 4) == datetime(2026, 10, 12, 9, 0, tzinfo=TZ)
    assert add_workdays(start, 7) == datetime(2026, 10, 15, 9, 0, tzinfo=TZ)


def test_spring_festival_2026() -> None:
    assert not any(is_workday(d) for d in days(date(2026, 2, 15), date(2026, 2, 23)))
    assert is_workday(date(2026, 2, 14))  # Saturday worked before the holiday
    assert is_workday(date(2026, 2, 28))  # and the Saturday after
    start = datetime(2026, 2, 13, 16, 30, tzinfo=TZ)  # Friday afternoon

    assert add_workdays(start, 1) == datetime(2026, 2, 14, 16, 30, tzinfo=TZ)
    assert add_workdays(start, 2) == datetime(2026, 2, 24, 16, 30, tzinfo=TZ)
    assert add_workdays(start, 6) == datetime(2026, 2, 28, 16, 30, tzinfo=TZ)


def test_ordinary_week_skips_the_weekend_and_keeps_the_time_of_day() -> None:
    friday = datetime(2026, 11, 20, 17, 45, tzinfo=TZ)

    assert add_workdays(friday, 1) == datetime(2026, 11, 23, 17, 45, tzinfo=TZ)
    assert add_workdays(friday, 0) == friday
    assert add_workdays(friday, 1).tzinfo is TZ


def test_year_without_official_data_counts_monday_to_friday_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.workdays")
    calendar = WorkCalendar()  # the package alone: it knows up to 2026
    thursday = datetime(2026, 12, 31, 9, 0, tzinfo=TZ)

    # 2027-01-01 is a Friday; without data it counts as a working day, and the answer
    # says the deadline went through 2027 on the fallback.
    assert calendar.add(thursday, 1) == (datetime(2027, 1, 1, 9, 0, tzinfo=TZ), {2027})
    assert calendar.add(thursday, 3) == (datetime(2027, 1, 5, 9, 0, tzinfo=TZ), {2027})
    assert not calendar.is_workday(date(2027, 1, 9))  # Saturday
    assert calendar.is_workday(date(2027, 3, 3))  # Wednesday
    assert calendar.source(2027) == FALLBACK
    assert calendar.source(2026) == PACKAGE

    # Logged once, at INFO (the staff room is told in Chinese by handlers.cases.calendar_watch).
    notes = [r for r in caplog.records if r.name == "bot.workdays"]
    assert len(notes) == 1
    assert notes[0].levelno == logging.INFO
    assert "2027" in notes[0].getMessage()


def test_a_deadline_inside_a_known_year_is_not_on_the_fallback() -> None:
    calendar = WorkCalendar()

    assert calendar.add(datetime(2026, 12, 1, 9, 0, tzinfo=TZ), 10)[1] == frozenset()
    # 12-28 (Monday) + 4 working days stays in 2026: Dec 29, 30, 31 … and 2027-01-01.
    assert calendar.add(datetime(2026, 12, 28, 9, 0, tzinfo=TZ), 3)[1] == frozenset()
    assert calendar.add(datetime(2026, 12, 28, 9, 0, tzinfo=TZ), 4)[1] == {2027}


def test_known_years_log_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.workdays")

    add_workdays(datetime(2026, 1, 1, 9, 0, tzinfo=TZ), 200)

    assert caplog.records == []


def test_the_per_year_set_agrees_with_chinese_calendar_on_every_known_day() -> None:
    import chinese_calendar

    day = date(2004, 1, 1)
    while day.year <= 2026:
        assert is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)
