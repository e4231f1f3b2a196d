"""The reporter's intents: open a case, add to it, rate it, withdraw it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.db import to_db
from bot.refusal import Refusal
from handlers.cases.core import Outcome
from handlers.cases.model import CHAT_ROUTES, SYSTEM, Actor, Case, EventKind
from handlers.cases.pause_intents import PauseIntents
from handlers.cases.settings import case_settings

__all__ = ["RATINGS", "ReporterIntents"]

RATINGS = ("satisfied", "basic", "unsatisfied")


class ReporterIntents(PauseIntents):
    def open(
        self,
        reporter: Actor,
        *,
        enterprise: str | None,
        channel: str,
        conversation_id: str,
        is_group: bool,
        description: str,
        now: datetime,
        origin: str | None = None,
    ) -> Outcome:
        """A new case from chat, numbered YYYY-NNNN, classified, with its deadlines; its
        route is the chat's (群聊 / 私聊)."""
        case = self.create(
            reporter,
            {
                "year": now.year,
                "reporter_id": reporter.id,
                "reporter_name": reporter.name,
                "enterprise": enterprise,
                "channel": channel,
                "conversation_id": conversation_id,
                "conversation_is_group": int(is_group),
                "description": description,
                "route": CHAT_ROUTES[is_group],
            },
            now,
            start=now,
        )
        notices = self.notices.to_staff("intake_staff_opened", case=case, origin=origin)
        return Outcome(case, case, notices)

    def supplement(self, case: Case, actor: Actor, text: str, now: datetime) -> Outcome:
        if case.reporter_id not in self.people.same_person(actor.id):
            raise Refusal("intake_supplement_staff", case=case)
        updated = self.change(case, EventKind.SUPPLEMENTED, actor, now, text)
        notices = self.notices.to_staff("intake_staff_supplemented", case=updated, text=text)
        resumed = self.resume(updated, actor, now)  # 待补充 answered: the clock runs again
        return Outcome(resumed.case, case, [*notices, *resumed.notices])

    def _reporter_only(self, case: Case, actor: Actor, action: str) -> None:
        if case.reporter_id not in self.people.same_person(actor.id):
            raise Refusal("reporter_only_reporter", case=case, action=action)

    def rate(self, case: Case, actor: Actor, rating: str, reason: str, now: datetime) -> Outcome:
        """满意 / 基本满意 close the case (销号); 不满意 reopens it."""
        if rating not in RATINGS:
            raise ValueError(rating)
        self._reporter_only(case, actor, "rate")
        data = {"rating": rating}
        rated = self.change(
            case,
            EventKind.RATED,
            actor,
            now,
            reason,
            data,
            rating=rating,
            rating_reason=reason or None,
        )
        if rating == "unsatisfied":
            return self.reopen(rated, actor, reason, now, previous=case)
        closed = self.change(
            rated, EventKind.CLOSED, actor, now, close_reason="rated", closed_at=to_db(now)
        )
        days = case_settings(self.config).auto_close_days
        notices = [
            self.to_reporter(closed, "case_closed", days=days),
            *self.notices.to_staff("reporter_staff_rated", case=closed),
        ]
        return Outcome(closed, case, notices)

    def reopen(
        self, case: Case, actor: Actor, reason: str, now: datetime, previous: Case | None = None
    ) -> Outcome:
        """Handled again: reopen count + 1, fresh deadlines, no auto-close meanwhile."""
        changes: dict[str, Any] = {
            "reopen_count": case.reopen_count + 1,
            "rate_due_at": None,
            **self.deadlines(now, case.category, case.id),
        }
        updated = self.change(case, EventKind.REOPENED, actor, now, reason, **changes)
        notices = [
            self.to_reporter(updated, "case_reopened"),
            *self.notices.to_staff("reporter_staff_reopened", case=updated, reason=reason),
        ]
        return Outcome(updated, previous or case, notices)

    def withdraw(self, case: Case, actor: Actor, reason: str, now: datetime) -> Outcome:
        self._reporter_only(case, actor, "withdraw")
        updated = self.change(
            case,
            EventKind.WITHDRAWN,
            actor,
            now,
            reason,
            close_reason="withdrawn",
            closed_at=to_db(now),
        )
        notices = self.notices.to_staff("reporter_staff_withdrawn", case=updated, reason=reason)
        return Outcome(updated, case, notices)

    def rerouted(self, case: Case, note: str, origin: str, to: str, now: datetime) -> Case:
        """A push the case's channel held went to the reporter's linked channel `to`."""
        data = {"from": origin, "to": to}
        return self.change(case, EventKind.REROUTED, SYSTEM, now, note, data)

    def pushed(self, channel: str, conversation_id: str, text: str) -> Case | None:
        """The case a status push into its conversation is about (its number in the text)."""
        found = self.store.where(
            "channel = ? and conversation_id = ? and instr(?, printf('%d-%04d', year, seq)) > 0",
            [channel, conversation_id, text],
            order_by="id desc",
        )
        return found[0] if found else None
