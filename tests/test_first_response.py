"""件件有回应 in working hours: the first-response promise falls on a working day between
`cases.working_hours` (default 09:00-18:00), moved on from nights, weekends, holidays."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.config import ConfigError, parse_config
from bot.db import from_db
from bot.services import Services
from bot.workdays import WorkCalendar
from chamberbot.root import sections
from channels.test import TestTransport
from handlers.cases.deadlines import sweep
from tests.conftest import MEMBERS_ROOM, STAFF_ROOM, TZ, ChatBot, demo_config, make_services

SAMPLE = Path(__file__).resolve().parent.parent / "calendar.example.yaml"
NINE, SIX = time(9), time(18)


@contextmanager
def _bot(tmp_path: Path, when: datetime, **overrides: object) -> Iterator[ChatBot]:
    clock = FrozenClock(when)
    app = make_services(demo_config(**overrides), tmp_path / "bot.db", clock)
    app.people.remember("wxid_zhang", name="张总", enterprise="宏达机械有限公司")
    try:
        yield ChatBot(app, clock)
    finally:
        app.close()


def _ack(bot: ChatBot) -> str:
    """The group acknowledgement of a new case."""
    outs = bot.say("诉求 银行突然抽贷，流动资金紧张")
    (ack,) = [o.text for o in outs if o.conversation_id == MEMBERS_ROOM]
    return ack


def _due(app: Services) -> datetime:
    (row,) = app.db.execute("select response_due_at from cases").fetchall()
    return from_db(row[0])


def test_a_case_opened_on_saturday_night_is_promised_monday_morning(tmp_path: Path) -> None:
    saturday = datetime(2026, 11, 21, 2, 36, tzinfo=TZ)
    with _bot(tmp_path, saturday) as bot:
        ack = _ack(bot)
        assert "我们将于11月23日(周一) 09:00前给您首次回复（24小时时限遇非工作时间顺延）" in ack
        assert "02:36" not in ack
        assert _due(bot.app) == datetime(2026, 11, 23, 9, 0, tzinfo=TZ)

        # The sweep follows the stored deadline: nothing on Sunday, the flag at Monday 09:00.
        transport = TestTransport(bot.app.people.name)
        bot.clock.advance(hours=54, minutes=23)  # Monday 08:59
        sweep(bot.app)
        assert transport.deliver(bot.app.outbox) == []
        bot.clock.advance(minutes=1)
        sweep(bot.app)
        (flag,) = transport.deliver(bot.app.outbox)
        assert flag.conversation_id == STAFF_ROOM
        assert flag.text.startswith("【超时未响应】诉求 2026-0001")


def test_a_promise_inside_working_hours_stays_24_hours_on_the_clock(tmp_path: Path) -> None:
    tuesday = datetime(2026, 11, 17, 10, 15, tzinfo=TZ)
    with _bot(tmp_path, tuesday) as bot:
        assert "我们将在24小时内（11月18日(周三) 10:15前）给您首次回复" in _ack(bot)


def test_after_hours_the_promise_is_the_next_working_morning(tmp_path: Path) -> None:
    monday_evening = datetime(2026, 11, 16, 18, 30, tzinfo=TZ)  # + 24 h: Tuesday 18:30
    with _bot(tmp_path, monday_evening) as bot:
        assert "我们将于11月18日(周三) 09:00前给您首次回复" in _ack(bot)


def test_the_chambers_own_working_hours(tmp_path: Path) -> None:
    friday = datetime(2026, 11, 20, 8, 0, tzinfo=TZ)  # + 8 h: Friday 16:00, after 15:30
    cases = {"first_response_hours": 8, "working_hours": "8:30-15:30"}
    with _bot(tmp_path, friday, cases=cases) as bot:
        assert "我们将于11月23日(周一) 08:30前给您首次回复（8小时时限遇非工作时间顺延）" in _ack(
            bot
        )


def test_new_years_day_moves_the_promise_to_the_make_up_sunday(tmp_path: Path) -> None:
    # 2026: 元旦 Thursday 1 – Saturday 3 January off, Sunday 4 January worked (调休).
    new_years_eve = datetime(2025, 12, 31, 20, 0, tzinfo=TZ)
    with _bot(tmp_path, new_years_eve) as bot:
        _ack(bot)
        assert _due(bot.app) == datetime(2026, 1, 4, 9, 0, tzinfo=TZ)


def test_the_calendar_file_moves_the_promise_past_new_years_day_2027(tmp_path: Path) -> None:
    thursday = datetime(2026, 12, 31, 15, 0, tzinfo=TZ)  # + 24 h: Friday 2027-01-01, 元旦
    with _bot(tmp_path, thursday, calendar={"file": str(SAMPLE)}) as bot:
        _ack(bot)
        assert _due(bot.app) == datetime(2027, 1, 4, 9, 0, tzinfo=TZ)


def test_working_time_on_the_calendar() -> None:
    calendar = WorkCalendar()
    on = datetime(2026, 11, 17, 9, 0, tzinfo=TZ)
    assert calendar.working_time(on, NINE, SIX) == on
    end = datetime(2026, 11, 17, 18, 0, tzinfo=TZ)
    assert calendar.working_time(end, NINE, SIX) == end  # the day's end still counts
    early = datetime(2026, 11, 17, 7, 59, tzinfo=TZ)
    assert calendar.working_time(early, NINE, SIX) == on
    # National Day 2026: 1–7 October off, Saturday 10 October worked (调休).
    holiday = datetime(2026, 10, 1, 11, 0, tzinfo=TZ)
    assert calendar.working_time(holiday, NINE, SIX) == datetime(2026, 10, 8, 9, 0, tzinfo=TZ)
    friday_night = datetime(2026, 10, 9, 21, 0, tzinfo=TZ)
    make_up = calendar.working_time(friday_night, NINE, SIX)
    assert make_up == datetime(2026, 10, 10, 9, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("9-18", "expected HH:MM-HH:MM, e.g. 09:00-18:00"),
        ("25:00-26:00", "expected HH:MM-HH:MM, e.g. 09:00-18:00"),
        ("18:00-09:00", "the working day must end after it starts, e.g. 09:00-18:00"),
    ],
)
def test_bad_working_hours_name_file_key_and_reason(value: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"cases": {"working_hours": value}}, "config.yaml", sections())
    assert str(caught.value) == f"config.yaml: cases.working_hours: {reason}"
