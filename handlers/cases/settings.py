"""The cases feature's settings section (`cases:` in the config): deadlines, working
hours, routes, 回访 and 待补充. config.example.yaml documents each with its default; read
them with `case_settings(config)`."""

from __future__ import annotations

import re
from datetime import time

from pydantic import ConfigDict, Field, RootModel, field_validator

from bot.config import Config
from bot.strict import Strict

__all__ = ["ROUTES", "Aspect", "Cases", "Categories", "Category", "case_settings", "categories"]


class Aspect(Strict):
    name: str = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)


class Category(Strict):
    name: str = Field(min_length=1)
    department: str = Field(min_length=1)
    limit_days: int = Field(10, ge=1, le=365, description="working days to resolve")
    keywords: list[str] = Field(default_factory=list)
    aspects: list[Aspect] = Field(default_factory=list)


class Categories(RootModel[list[Category]]):
    """`categories`: a list at the top of the file (the classification's 分类 and 方面)."""

    model_config = ConfigDict(frozen=True)

    root: list[Category] = Field(default_factory=list)


_WORKING_HOURS = re.compile(r"(\d{1,2}):([0-5]\d)-(\d{1,2}):([0-5]\d)")


#: the default `cases.routes`: chat's two first (a chat case gets one of them by itself)
ROUTES = ("群聊", "私聊", "接待日", "走访调研", "座谈会/早餐会", "12345转办", "问卷", "其他")


class Cases(Strict):
    first_response_hours: float = Field(24, gt=0)
    #: a first-response deadline outside these hours, or on a day off, moves to the next
    #: working day's start (bot/workdays.py WorkCalendar.working_time)
    working_hours: str = "09:00-18:00"
    remind_before_hours: float = Field(24, ge=0)
    level2_after_days: int = Field(5, ge=1)
    auto_close_days: int = Field(7, ge=1)
    default_category: str = "其他"
    default_department: str = "秘书处"
    default_limit_days: int = Field(10, ge=1)
    #: where cases come from; chat cases are 群聊 / 私聊, staff pick one when they 代录
    routes: list[str] = Field(default_factory=lambda: list(ROUTES))
    #: working days after 销号 (or 撤回) when the reporter is asked whether the problem is
    #: really solved (回访); 0: no follow-up
    follow_up_days: int = Field(5, ge=0)
    #: 待补充: working days at most that a case's deadline clock stands still waiting for
    #: the enterprise's 补充; then it runs again by itself
    max_pause_days: int = Field(10, ge=1)

    @field_validator("routes")
    @classmethod
    def _routes(cls, value: list[str]) -> list[str]:
        names = [v.strip() for v in value]
        if any(not n for n in names) or len(set(names)) != len(names):
            raise ValueError("routes must be distinct, non-empty names")
        missing = [r for r in ROUTES[:2] if r not in names]
        if missing:
            raise ValueError(f"routes must include the chat routes {'、'.join(missing)}")
        return names

    @field_validator("working_hours")
    @classmethod
    def _hours_span(cls, value: str) -> str:
        found = _WORKING_HOURS.fullmatch(value.replace(" ", ""))
        if not found or max(int(found[1]), int(found[3])) > 23:
            raise ValueError("expected HH:MM-HH:MM, e.g. 09:00-18:00")
        start_h, start_m, end_h, end_m = map(int, found.groups())
        if (start_h, start_m) >= (end_h, end_m):
            raise ValueError("the working day must end after it starts, e.g. 09:00-18:00")
        return f"{start_h:02d}:{start_m:02d}-{end_h:02d}:{end_m:02d}"

    @property
    def working_span(self) -> tuple[time, time]:
        """`working_hours` as (start, end) local times."""
        start, end = self.working_hours.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)

    def cross_check(self, config: Config) -> tuple[str, str] | None:
        """Staff and categories name departments the config lists (or the default one)."""
        departments = {*config.departments, self.default_department}
        for i, member in enumerate(config.staff):
            if member.department and member.department not in departments:
                return f"staff[{i}].department", f"{member.department!r} is not in departments"
        for i, cat in enumerate(categories(config)):
            if cat.department not in departments:
                return f"categories[{i}].department", f"{cat.department!r} is not in departments"
        return None


def case_settings(config: Config) -> Cases:
    return config.section("cases", Cases)


def categories(config: Config) -> list[Category]:
    return config.section("categories", Categories).root
