"""One house style for dates and times: the `date` and `datetime` filters of
bot/templates.py, and no template under bot/templates or handlers/*/templates formats a
date by itself (handlers/reports and web have their own owners and follow later)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.db import to_db
from bot.templates import Templates
from tests.conftest import START, TZ, ChatBot

ROOT = Path(__file__).resolve().parent.parent
NOT_OURS = ("handlers/reports/",)
HOUSE_STYLE_TEMPLATES = sorted(
    p
    for p in [*ROOT.glob("bot/templates/*.j2"), *ROOT.glob("handlers/**/templates/*.j2")]
    if not p.relative_to(ROOT).as_posix().startswith(NOT_OURS)
)
AD_HOC = {
    "strftime / isoformat": re.compile(r"strftime|isoformat|%[YmdHMS]"),
    "a date's parts": re.compile(r"\.(month|day|hour|minute|weekday)\b"),
    "the older filters": re.compile(r"\|\s*(when|day)\b"),
    "a slice of a date": re.compile(r"(date|datetime)\s*\)\s*\[[-\d]*:[-\d]*\]"),
    "a date spelled out": re.compile(r"\}\}\s*[月日]|[月周]\s*\{\{"),
}


def test_the_templates_are_found() -> None:
    names = {p.name for p in HOUSE_STYLE_TEMPLATES}
    assert {"intake_opened.j2", "staff_details.j2", "_events.j2", "calendar_cli.j2"} <= names
    assert "reports_summary.j2" not in names


@pytest.mark.parametrize("path", HOUSE_STYLE_TEMPLATES, ids=lambda p: p.name)
def test_templates_write_dates_only_through_the_house_filters(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = {why: [m.group(0) for m in pattern.finditer(text)] for why, pattern in AD_HOC.items()}
    assert {why: hits for why, hits in found.items() if hits} == {}


@pytest.fixture
def templates() -> Templates:
    return Templates(TZ, clock=FrozenClock(START))  # "now": Monday 2026-11-16 09:00


def render(templates: Templates, source: str, **context: object) -> str:
    return templates.env.from_string(source).render(**context)


def test_date_is_month_day_and_weekday_with_the_year_only_when_it_differs(
    templates: Templates,
) -> None:
    thursday = datetime(2026, 12, 3, 14, 30, tzinfo=TZ)
    assert render(templates, "{{ x | date }}", x=thursday) == "12月3日(周四)"
    assert render(templates, "{{ x | date }}", x=date(2027, 1, 4)) == "2027年1月4日(周一)"
    assert render(templates, "{{ x | date }}", x=date(2025, 12, 31)) == "2025年12月31日(周三)"
    assert render(templates, "{{ x | date(year=2027) }}", x=date(2027, 1, 4)) == "1月4日(周一)"
    assert render(templates, "{{ x | date }}", x=None) == "—"


def test_datetime_adds_the_local_time(templates: Templates) -> None:
    utc = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    stamp = to_db(datetime(2027, 1, 4, 9, 0, tzinfo=TZ))  # as the database stores it
    assert render(templates, "{{ x | datetime }}", x=utc) == "12月3日(周四) 09:00"
    assert render(templates, "{{ x | datetime }}", x=stamp) == "2027年1月4日(周一) 09:00"
    assert render(templates, "{{ x | datetime }}", x="") == "—"


def test_datetime_on_the_same_day_is_only_the_time(templates: Templates) -> None:
    start = datetime(2026, 11, 20, 14, 0, tzinfo=TZ)
    source = "{{ start | datetime }}–{{ end | datetime(same_day=start) }}"
    end = start + timedelta(hours=2)
    assert render(templates, source, start=start, end=end) == "11月20日(周五) 14:00–16:00"
    nextday = start + timedelta(days=1)
    assert render(templates, source, start=start, end=nextday) == (
        "11月20日(周五) 14:00–11月21日(周六) 14:00"
    )


def test_the_year_follows_the_clock_across_new_year(tmp_path: Path) -> None:
    clock = FrozenClock(datetime(2026, 12, 30, 10, 0, tzinfo=TZ))
    templates = Templates(TZ, clock=clock)
    due = date(2027, 1, 4)
    assert render(templates, "{{ x | date }}", x=due) == "2027年1月4日(周一)"
    clock.advance(timedelta(days=3))
    assert render(templates, "{{ x | date }}", x=due) == "1月4日(周一)"


def test_a_reply_across_the_new_year_names_the_year(bot: ChatBot, clock: FrozenClock) -> None:
    clock.advance(timedelta(days=42))  # Monday 2026-12-28: ten working days end in 2027
    bot.app.people.remember("wxid_zhang", name="张总", enterprise="宏达机械有限公司")
    reply = bot.text("诉求 银行突然抽贷，流动资金紧张")
    assert "我们将在24小时内（12月29日(周二) 09:00前）给您首次回复" in reply
    assert "预计2027年1月11日(周一)前办结" in reply  # 2027 counted Monday–Friday here
