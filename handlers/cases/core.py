"""What every intent of the case service shares: reading, finding by number, the one
checked `change`, deadlines and the reporter's status updates."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot.calendar_file import CalendarFile
from bot.config import Config
from bot.db import from_db, to_db, transaction
from bot.messages import Outgoing
from bot.normalize import normalize, parse_case_ref
from bot.notices import Notices
from bot.people import People
from bot.refusal import Refusal
from bot.workdays import Deadlines, WorkCalendar
from handlers.cases.classify import classify
from handlers.cases.model import OPEN, Actor, Case, EventKind, Status
from handlers.cases.rules import RESPONDS, check, next_status
from handlers.cases.settings import case_settings, categories
from handlers.cases.store import CaseStore, track

__all__ = ["CaseCore", "Outcome"]

_FOLLOW_UP = ("follow_up_asked_at", "follow_up_expires_at", "follow_up_result", "follow_up_at")


@dataclass(frozen=True)
class Outcome:
    """The case after an intent, the case before it, and what must be sent."""

    case: Case
    previous: Case
    notices: list[Outgoing] = field(default_factory=list)
    changed: bool = True


class CaseCore:
    def __init__(
        self,
        db: Database,
        config: Config,
        people: People,
        notices: Notices,
        calendar_file: CalendarFile | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.people = people
        self.notices = notices
        self.store = CaseStore(db, timedelta(hours=case_settings(config).remind_before_hours))
        self._calendar_file = calendar_file
        self._plain = WorkCalendar()

    @property
    def calendar(self) -> WorkCalendar:
        """The working-day calendar: calendar.file's as last (re)loaded, else the package's."""
        return self._calendar_file.calendar if self._calendar_file else self._plain

    # -- reading -------------------------------------------------------------------------

    def get(self, case_id: int) -> Case:
        return self.store.get(case_id)

    def where(
        self,
        where: str,
        params: list[Any],
        order_by: str = "id",
        limit: int | None = None,
        index: str | None = None,
    ) -> list[Case]:
        return self.store.where(where, params, order_by, limit, index)

    def count(self, where: str, params: list[Any], index: str | None = None) -> int:
        return self.store.count(where, params, index)

    def open_count(self, assignee_id: str | None = None) -> int:
        return self.store.open_count(assignee_id)

    def timeline(self, case: Case) -> list[Any]:
        return self.store.timeline(case)

    def find(self, ref: str, now: datetime, asker_id: str, *, staff: bool) -> Case:
        """The case a number means to the asker: `2026-0042`, `0042`, `42`, `#42`.

        Staff look among all cases; a member only among the cases they reported, so "no
        such case" and "someone else's case" get the same answer and reveal nothing.
        """
        parsed = parse_case_ref(ref)
        shown = unicodedata.normalize("NFKC", ref).replace(" ", "")
        if parsed is None:
            raise Refusal("case_not_found", ref=shown, member=not staff)
        year, seq = parsed
        shown = f"{year or now.year}-{seq:04d}"
        where, params = "seq = ?", [seq]
        if year is not None:
            where, params = "year = ? and seq = ?", [year, seq]
        mine = self.people.same_person(asker_id)  # the person's, from any linked channel
        marks = ", ".join("?" * len(mine))
        found = self.store.where(
            where if staff else f"{where} and reporter_id in ({marks})",
            params if staff else [*params, *mine],
            order_by="year desc",
        )
        if len(found) > 1:
            open_ = [c for c in found if c.is_open]
            this_year = [c for c in found if c.year == now.year]
            if len(open_) == 1:
                found = open_
            elif not open_ and len(this_year) == 1:
                found = this_year
            else:
                raise Refusal("case_ambiguous", ref=ref, numbers=[c.number for c in found])
        if not found:
            raise Refusal("case_not_found", ref=shown, member=not staff)
        return found[0]

    # -- helpers -------------------------------------------------------------------------

    def change(
        self,
        case: Case,
        kind: EventKind,
        actor: Actor,
        now: datetime,
        text: str = "",
        data: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> Case:
        """The one place a case changes: checked, then its state from the table."""
        check(case, kind)
        status = next_status(case, kind)
        if status != case.status:
            changes["status"] = status
            days = case_settings(self.config).follow_up_days
            if case.paused_at and status not in OPEN:  # resolved while waiting: clock folded in
                changes = {**self.unpause(case, now)[1], **changes}
            if status in (Status.CLOSED, Status.WITHDRAWN):  # a new round of 回访
                due = to_db(self.calendar.add(now, days)[0]) if days else None
                changes.update(dict.fromkeys(_FOLLOW_UP, None), follow_up_due_at=due)
        if kind in RESPONDS and not case.first_response_at:
            changes["first_response_at"] = to_db(now)
        return self.store.write(case, kind, actor, now, text, data, changes)

    def create(
        self, author: Actor, values: Mapping[str, Any], now: datetime, *, start: datetime
    ) -> Case:
        """A new case row (numbered YYYY-NNNN), classified, its deadlines counted from
        `start` (when the chamber collected it), and its 受理 event by `author`."""
        found = classify(str(values["description"]), self.config)
        plan = self.plan(start, found.category)
        with transaction(self.db):
            blank = self.store.insert(
                {
                    **values,
                    "category": found.category,
                    "aspect": found.aspect,
                    "department": found.department,
                    "status": str(Status.NEW),
                    "escalation": 0,
                    "reopen_count": 0,
                    "created_at": to_db(now),
                    "updated_at": to_db(now),
                    "first_response_at": None,
                    "response_due_at": to_db(self.response_due(start)),
                    "response_flagged_at": None,
                    "due_at": to_db(plan.due),
                    "reminded_at": None,
                    "level2_due_at": to_db(plan.level2),
                    "rate_due_at": None,
                },
                now,
            )
            if plan.fallback_years:
                track(self.db, blank.id, plan)
            data = {"category": found.category, "department": found.department}
            text = str(values["description"])
            return self.store.write(blank, EventKind.OPENED, author, now, text, data)

    def response_due(self, opened: datetime) -> datetime:
        """When the first response is promised: `first_response_hours` after `opened`,
        moved on to the next working time when that falls outside `working_hours` or on a
        day off (the Chinese calendar with 调休, as for the resolution deadline).

        The hours are counted on the clock, not in working time: "24 小时内" stays about a
        day whenever someone is at work (a case at Tuesday 10:00 is answered by Wednesday
        10:00, not Thursday noon as 24 working hours would make it); only a promise that
        would fall at night or on a weekend or holiday — when nobody can keep it — waits
        for the next working morning (Saturday 02:36 → Monday 09:00)."""
        cases = case_settings(self.config)
        start, end = cases.working_span
        due = opened.astimezone(self.config.tz) + timedelta(hours=cases.first_response_hours)
        return self.calendar.working_time(due, start, end)

    def to_reporter(self, case: Case, template: str, **context: Any) -> Outgoing:
        """A status update into the conversation the case came from, @reporter in a group."""
        mentions = (case.reporter_id,) if case.conversation_is_group else ()
        out = self.notices.to(
            case.conversation_id, template, mentions, channel=case.channel, case=case, **context
        )
        if not case.relayed:
            return out
        # registered by staff for an enterprise the bot cannot reach: theirs to pass on
        relay = self.notices.render("case_relay", case=case)
        return replace(out, text=f"{relay}\n{out.text}")

    def rate_window(self) -> timedelta:
        """How long the reporter has to rate a resolution before it closes as 未评价."""
        return timedelta(days=case_settings(self.config).auto_close_days)

    def limit_days(self, category: str) -> int:
        for cat in categories(self.config):
            if cat.name == category:
                return cat.limit_days
        return case_settings(self.config).default_limit_days

    def plan(self, start: datetime, category: str) -> Deadlines:
        limits = case_settings(self.config)
        return self.calendar.deadlines(start, self.limit_days(category), limits.level2_after_days)

    def deadlines(
        self, start: datetime, category: str, case_id: int | None = None
    ) -> dict[str, str | None]:
        """Fresh deadline columns; with `case_id`, a count through a year no calendar
        knows is recorded (or an earlier record dropped) for bot/calendar_watch.py."""
        plan = self.plan(start, category)
        if case_id is not None:
            track(self.db, case_id, plan)
        return {
            "due_at": to_db(plan.due),
            "level2_due_at": to_db(plan.level2),
            "reminded_at": None,
        }

    def unpause(self, case: Case, now: datetime) -> tuple[int, dict[str, Any]]:
        """The columns that restart a paused case's clock at `now` (at its `pause_until` at
        the latest): the working days it stood still — those after the day it paused, up
        to the day it restarts — and both deadlines that many working days later."""
        assert case.paused_at
        tz = self.config.tz
        end = min(now, from_db(case.pause_until)) if case.pause_until else now
        day, last = from_db(case.paused_at).astimezone(tz).date(), end.astimezone(tz).date()
        days = 0
        while day < last:
            day += timedelta(days=1)
            days += self.calendar.is_workday(day)
        changes: dict[str, Any] = {
            "paused_at": None,
            "pause_until": None,
            "paused_days": case.paused_days + days,
        }
        if days:
            for column in ("due_at", "level2_due_at"):
                moved = self.calendar.add(from_db(getattr(case, column)).astimezone(tz), days)
                changes[column] = to_db(moved[0])
            changes["reminded_at"] = None  # a new reminder before the later deadline
        return days, changes

    def department_named(self, given: str) -> str | None:
        """One of the configured departments: exact, or the only one containing the text."""
        known = self.departments()
        wanted = normalize(given)
        exact = [d for d in known if normalize(d) == wanted]
        if exact:
            return exact[0]
        partial = [d for d in known if wanted and wanted in normalize(d)]
        return partial[0] if len(partial) == 1 else None

    def departments(self) -> list[str]:
        config = self.config
        return list(dict.fromkeys([*config.departments, case_settings(config).default_department]))
