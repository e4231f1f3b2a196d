"""待补充: staff ask the enterprise for materials and the resolution clock stands still
until the enterprise answers with 补充, or until `cases.max_pause_days` working days have
passed (the sweep restarts it then, handlers/cases/deadline_intents.py).

The pause is counted in whole working days: those after the day it began, up to and
including the day it ends (asked on Monday, answered on Wednesday: 2 days; answered the
same day: none). When it ends, `due_at` and `level2_due_at` move that many working days
later and `paused_days` adds them up (the ledger's 暂停天数); 按期办结率 compares the
resolution with the later deadline, so the waiting is not the chamber's lateness. While
paused nothing is reminded nor escalated (handlers/cases/schedule.py). A case resolved or
withdrawn while paused gets its waiting folded in the same way (CaseCore.change).
"""

from __future__ import annotations

from datetime import datetime

from bot.db import to_db
from bot.refusal import Refusal
from handlers.cases.core import CaseCore, Outcome
from handlers.cases.model import SYSTEM, Actor, Case, EventKind
from handlers.cases.settings import case_settings

__all__ = ["PauseIntents"]


class PauseIntents(CaseCore):
    def pause(self, case: Case, actor: Actor, wanted: str, now: datetime) -> Outcome:
        """Ask the enterprise, in the case's conversation, for `wanted`; stop the clock."""
        if case.paused_at and case.is_open:
            raise Refusal("staff_pause_already", case=case)
        days = case_settings(self.config).max_pause_days
        until = self.calendar.add(now.astimezone(self.config.tz), days)[0]
        text = self.notices.render("pause_event", kind="paused", wanted=wanted)
        updated = self.change(
            case,
            EventKind.PAUSED,
            actor,
            now,
            text,
            {"wanted": wanted, "until": to_db(until)},
            paused_at=to_db(now),
            pause_until=to_db(until),
        )
        notice = self.to_reporter(
            updated, "case_pause_asked", staff_name=actor.name, wanted=wanted, days=days
        )
        return Outcome(updated, case, [notice])

    def resume(self, case: Case, actor: Actor, now: datetime) -> Outcome:
        """Restart a paused case's clock (the enterprise answered, or the sweep at
        `pause_until`); staff hear of it. Unchanged when the case is not paused."""
        if not (case.paused_at and case.is_open):
            return Outcome(case, case, changed=False)
        days, changes = self.unpause(case, now)
        auto = actor.id == SYSTEM.id
        text = self.notices.render(
            "pause_event", kind="resumed", days=days, auto=auto, due=changes.get("due_at")
        )
        data = {"days": days, "auto": auto, "from": case.due_at}
        updated = self.change(case, EventKind.RESUMED, actor, now, text, data, **changes)
        notices = self.notices.to_staff("case_resumed_staff", case=updated, days=days, auto=auto)
        return Outcome(updated, case, notices)

    def resume_expired(self, case: Case, now: datetime) -> Outcome:
        """The sweep's step: `max_pause_days` passed without an answer."""
        if not (case.pause_until and case.pause_until <= to_db(now)):
            return Outcome(case, case, changed=False)
        return self.resume(case, SYSTEM, now)
