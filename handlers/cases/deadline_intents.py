"""Time limits as intents of the system: one sweep pass acts on the stored deadlines.

There is no timer per case. Every case carries its deadlines as columns
(`response_due_at`, `due_at`, `level2_due_at`, `rate_due_at`) and a marker for each
step already taken (`response_flagged_at`, `reminded_at`, `escalation`, `status`), so a
pass is idempotent: running it twice at the same time sends nothing the second time.
A case that crossed several thresholds while the bot was down gets each step once, in
order, in a single pass.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.db import from_db, to_db
from bot.messages import Outgoing
from handlers.cases.core import Outcome
from handlers.cases.follow_up_intents import FollowUpIntents
from handlers.cases.model import SYSTEM, Case, EventKind, Status
from handlers.cases.pause_intents import PauseIntents
from handlers.cases.settings import case_settings
from handlers.cases.store import track

__all__ = ["DeadlineIntents"]


def _is_due(value: str | None, now: datetime) -> bool:
    return bool(value) and from_db(str(value)) <= now


class DeadlineIntents(FollowUpIntents, PauseIntents):
    def recount_deadlines(
        self, case: Case, start: datetime, limit_days: int, level2_days: int, now: datetime
    ) -> Case | None:
        """A year counted Monday–Friday is now known: count the deadlines again (the
        first-response promise too while unanswered), one `deadlines_recomputed` event on
        the timeline, nothing sent to the enterprise. None when nothing moved."""
        if not case.is_open:
            self.store.db.execute("delete from fallback_deadlines where case_id = ?", [case.id])
            return None
        plan = self.calendar.deadlines(start, limit_days, level2_days)
        track(self.store.db, case.id, plan)
        # the working days the case already stood still (待补充) still move both deadlines
        due, level2 = (
            self.calendar.add(moment.astimezone(self.config.tz), case.paused_days)[0]
            if case.paused_days
            else moment
            for moment in (plan.due, plan.level2)
        )
        changes = {"due_at": to_db(due), "level2_due_at": to_db(level2)}
        if not case.first_response_at:
            changes["response_due_at"] = to_db(self.response_due(plan.start))
        changes = {k: v for k, v in changes.items() if v != getattr(case, k)}
        if not changes:
            return None
        text = self.notices.render(
            "calendar_recomputed", old=case.due_at, new=changes.get("due_at", case.due_at)
        )
        data = {k: [getattr(case, k), v] for k, v in changes.items()}
        return self.change(
            case, EventKind.DEADLINES_RECOMPUTED, SYSTEM, now, text, data, **changes
        )

    def _event_text(self, kind: str, case: Case, **context: object) -> str:
        return self.notices.render("deadline_event", kind=kind, case=case, **context)

    def flag_response_overdue(self, case: Case, now: datetime) -> Outcome:
        """件件有回应: nobody has answered a new case within the first-response limit."""
        if case.first_response_at or case.response_flagged_at:
            return Outcome(case, case, changed=False)
        if not _is_due(case.response_due_at, now) or case.status not in (
            Status.NEW,
            Status.ACCEPTED,
        ):
            return Outcome(case, case, changed=False)
        hours = int((now - from_db(case.created_at)) / timedelta(hours=1))
        text = self._event_text("response_overdue", case, hours=hours)
        updated = self.change(
            case,
            EventKind.RESPONSE_OVERDUE,
            SYSTEM,
            now,
            text,
            {"hours": hours},
            response_flagged_at=to_db(now),
        )
        limit = case_settings(self.config).first_response_hours
        notices = self.notices.to_staff(
            "deadline_response_overdue", case=updated, hours=hours, limit=limit
        )
        return Outcome(updated, case, notices)

    def remind(self, case: Case, now: datetime) -> Outcome:
        """Before the resolution deadline: the assignee privately, else the staff rooms."""
        due = from_db(case.due_at)
        before = timedelta(hours=case_settings(self.config).remind_before_hours)
        window = due - before <= now < due
        if case.paused_at or not (case.is_open and not case.reminded_at and window):
            return Outcome(case, case, changed=False)
        to = case.assignee_id
        to_name = self.people.staff_name(to) if to else None
        updated = self.change(
            case,
            EventKind.REMINDED,
            SYSTEM,
            now,
            self._event_text("reminded", case, to_name=to_name),
            {"to": to or "staff_rooms"},
            reminded_at=to_db(now),
        )
        if to:
            notices = [self.notices.to_contact(to, "deadline_reminder", case=updated)]
        else:
            notices = self.notices.to_staff("deadline_reminder", case=updated)
        return Outcome(updated, case, notices)

    def _escalate_overdue(self, level: int) -> Callable[[Case, datetime], Outcome]:
        def step(case: Case, now: datetime) -> Outcome:
            deadline = case.due_at if level == 1 else case.level2_due_at
            if case.paused_at or not (  # 待补充: the clock stands still
                case.is_open and case.escalation < level and _is_due(deadline, now)
            ):
                return Outcome(case, case, changed=False)
            days = case_settings(self.config).level2_after_days
            updated = self.change(
                case,
                EventKind.ESCALATED,
                SYSTEM,
                now,
                self._event_text("escalated", case, level=level, days=days),
                {"level": level, "from": case.escalation, "reason": "overdue"},
                escalation=level,
            )
            notices = [
                *self.notices.to_staff("deadline_escalated", case=updated, days=days),
                self.to_reporter(updated, "case_escalated"),
            ]
            return Outcome(updated, case, notices)

        return step

    def auto_close(self, case: Case, now: datetime) -> Outcome:
        """No rating within the limit: closed as 未评价, never counted as satisfied."""
        if not (case.status == Status.RESOLVED and _is_due(case.rate_due_at, now)):
            return Outcome(case, case, changed=False)
        days = case_settings(self.config).auto_close_days
        updated = self.change(
            case,
            EventKind.CLOSED,
            SYSTEM,
            now,
            self._event_text("closed", case, days=days),
            {"reason": "unrated"},
            rating="unrated",
            close_reason="unrated",
            closed_at=to_db(now),
        )
        return Outcome(updated, case, [self.to_reporter(updated, "case_closed", days=days)])

    # -- the pass ------------------------------------------------------------------------

    def due_cases(self, now: datetime) -> list[Case]:
        """Cases with something due (their `next_action_at`, bot/cases/schedule.py, has
        come); each step re-checks its own rule on the current row."""
        due = "id in (select id from cases where next_action_at <= ?)"  # its index, not a scan
        return self.store.where(due, [to_db(now)])

    def advance(self, case: Case, now: datetime) -> list[Outgoing]:
        """Every step that is due for this case, in the order a case meets them."""
        steps = (
            self.resume_expired,
            self.flag_response_overdue,
            self.remind,
            self._escalate_overdue(1),
            self._escalate_overdue(2),
            self.auto_close,
            self.ask_follow_up,
            self.expire_follow_up,
        )
        notices: list[Outgoing] = []
        changed = False
        for step in steps:
            outcome = step(case, now)
            case = outcome.case
            notices += outcome.notices
            changed = changed or outcome.changed
        if not changed:
            self.store.reschedule(case, now)
        return notices
