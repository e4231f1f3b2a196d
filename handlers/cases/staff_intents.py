"""Staff intents: take a case in hand, hand it on, answer, resolve, escalate, note,
correct its category. Whoever acts is the `Actor` (the chat sender or the web user)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.db import from_db, to_db
from bot.refusal import Refusal
from handlers.cases.core import CaseCore, Outcome
from handlers.cases.model import Actor, Case, EventKind, Status, classified
from handlers.cases.settings import case_settings, categories

__all__ = ["StaffIntents"]


class StaffIntents(CaseCore):
    def _hand_to(
        self, case: Case, kind: EventKind, actor: Actor, assignee_id: str, note: str, now: datetime
    ) -> Case:
        """Make assignee_id responsible (their department too); a new case is accepted."""
        name = self.people.staff_name(assignee_id)
        member = self.people.staff.get(assignee_id)
        department = member.department if member and member.department else case.department
        data = {"assignee_id": assignee_id, "assignee_name": name, "department": department}
        return self.change(case, kind, actor, now, note, data, **data)

    def _taken(self, case: Case, updated: Case) -> list[Any]:
        """The reporter hears 已受理 when a new case is first taken in hand."""
        return [self.to_reporter(updated, "case_accepted")] if case.status == Status.NEW else []

    def claim(self, case: Case, actor: Actor, now: datetime) -> Outcome:
        if case.assignee_id == actor.id:
            return Outcome(case, case, changed=False)
        updated = self._hand_to(case, EventKind.CLAIMED, actor, actor.id, "", now)
        return Outcome(updated, case, self._taken(case, updated))

    def assign(
        self, case: Case, actor: Actor, assignee_id: str, note: str, now: datetime
    ) -> Outcome:
        if assignee_id not in self.people.staff:
            names = [member.name for member in self.people.staff.values()]
            raise Refusal("staff_unknown_staff", who=assignee_id, names=names)
        if case.assignee_id == assignee_id:
            return Outcome(case, case, changed=False)
        updated = self._hand_to(case, EventKind.ASSIGNED, actor, assignee_id, note, now)
        notices = []
        if assignee_id != actor.id:
            notices.append(
                self.notices.to_contact(
                    assignee_id, "staff_assigned_you", case=updated, by=actor.name, note=note
                )
            )
        return Outcome(updated, case, [*notices, *self._taken(case, updated)])

    def transfer(
        self, case: Case, actor: Actor, department: str, reason: str, now: datetime
    ) -> Outcome:
        if department not in self.departments():
            raise Refusal(
                "staff_unknown_department", given=department, departments=self.departments()
            )
        data = {"from": case.department, "to": department, "from_assignee": case.assignee_name}
        updated = self.change(
            case,
            EventKind.TRANSFERRED,
            actor,
            now,
            reason,
            data,
            department=department,
            assignee_id=None,
            assignee_name=None,
        )
        notices = self.notices.to_staff(
            "staff_transferred",
            skip=actor.place,
            case=updated,
            actor=actor.name,
            previous=case.department,
            reason=reason,
        )
        return Outcome(updated, case, notices)

    def answer(self, case: Case, actor: Actor, text: str, now: datetime) -> Outcome:
        updated = self.change(case, EventKind.ANSWERED, actor, now, text)
        notice = self.to_reporter(updated, "case_answered", staff_name=actor.name, answer=text)
        return Outcome(updated, case, [notice])

    def resolve(self, case: Case, actor: Actor, summary: str, now: datetime) -> Outcome:
        days = case_settings(self.config).auto_close_days
        updated = self.change(
            case,
            EventKind.RESOLVED,
            actor,
            now,
            summary,
            resolved_at=to_db(now),
            rate_due_at=to_db(now + self.rate_window()),
        )
        notice = self.to_reporter(updated, "case_resolved", summary=summary, days=days)
        return Outcome(updated, case, [notice])

    def escalate(self, case: Case, actor: Actor, reason: str, now: datetime) -> Outcome:
        """Raise the level by one (0 staff → 1 department head → 2 leadership)."""
        if case.escalation >= 2 and case.is_open:
            raise Refusal("staff_escalation_top", case=case)
        level = case.escalation + 1
        data = {"level": level, "from": case.escalation, "reason": "manual"}
        updated = self.change(
            case, EventKind.ESCALATED, actor, now, reason, data, escalation=level
        )
        notices = [
            *self.notices.to_staff(
                "staff_escalated", skip=actor.place, case=updated, actor=actor.name, reason=reason
            ),
            self.to_reporter(updated, "case_escalated"),
        ]
        return Outcome(updated, case, notices)

    def note(self, case: Case, actor: Actor, text: str, now: datetime) -> Outcome:
        """An internal note: on the timeline, never sent to the enterprise."""
        return Outcome(self.change(case, EventKind.NOTED, actor, now, text), case)

    def reclassify(
        self,
        case: Case,
        actor: Actor,
        category: str,
        aspect: str,
        now: datetime,
        *,
        new_deadline: bool = False,
    ) -> Outcome:
        """Correct the category (and sub-aspect); the due date follows the new category's
        limit only when staff ask for it."""
        known = {c.name: [a.name for a in c.aspects] for c in categories(self.config)}
        known.setdefault(
            case_settings(self.config).default_category, []
        )  # 其他: back where it was
        if category not in known:
            raise Refusal("staff_unknown_category", given=category, categories=list(known))
        aspects = known[category]
        if aspect and aspect not in aspects:
            raise Refusal("staff_unknown_aspect", given=aspect, category=category, aspects=aspects)
        changes: dict[str, Any] = {"category": category, "aspect": aspect}
        if new_deadline:
            changes.update(self.deadlines(from_db(case.created_at), category, case.id))
        data = {
            "from": case.classified,
            "to": classified(category, aspect),
            "new_deadline": new_deadline,
        }
        updated = self.change(case, EventKind.RECLASSIFIED, actor, now, "", data, **changes)
        return Outcome(updated, case)
