"""回访: some working days after a case is closed (销号) or withdrawn (撤回), the reporter is
asked whether the problem is really solved.

    closed / withdrawn ─follow_up_days─→ asked ─已解决→ solved
                                             ├─未解决→ closed: reopened (重办), staff told
                                             │         withdrawn: flagged to staff (撤单质检)
                                             └─3 working days, no answer→ no_answer (未回访成功)

A case registered for an enterprise the bot cannot reach (Case.relayed) is not asked in
chat: the staff rooms get a 回访 task, and staff record the call's result with
`回访 <编号> 已解决|未解决 [说明]`; it stays in their 待办 until they do.
"""

from __future__ import annotations

from datetime import datetime

from bot.db import to_db
from bot.messages import Outgoing
from bot.refusal import Refusal
from handlers.cases.core import CaseCore, Outcome
from handlers.cases.model import SYSTEM, Actor, Case, EventKind, Status

__all__ = ["FOLLOW_UP_WAIT_DAYS", "FollowUpIntents"]

#: working days an asked reporter has to answer before it counts as 未回访成功
FOLLOW_UP_WAIT_DAYS = 3
#: asked, not answered: the condition of the partial index cases_follow_up_pending (m002)
_PENDING = "follow_up_asked_at is not null and follow_up_result is null"


def _due(value: str | None, now: datetime) -> bool:
    return bool(value) and str(value) <= to_db(now)


class FollowUpIntents(CaseCore):
    def ask_follow_up(self, case: Case, now: datetime) -> Outcome:
        """The sweep's step: the question to the reporter, or the task to staff."""
        finished = case.status in (Status.CLOSED, Status.WITHDRAWN)
        if not finished or case.follow_up_asked_at or not _due(case.follow_up_due_at, now):
            return Outcome(case, case, changed=False)
        withdrawn = case.status == Status.WITHDRAWN
        if case.relayed:
            text = self.notices.render("follow_up_event", kind="task", case=case)
            updated = self.change(
                case, EventKind.FOLLOW_UP_ASKED, SYSTEM, now, text, {"by": "staff"},
                follow_up_asked_at=to_db(now),
            )  # fmt: skip
            notices = self.notices.to_staff("follow_up_task", case=updated, withdrawn=withdrawn)
            return Outcome(updated, case, notices)
        expires = self.calendar.add(now, FOLLOW_UP_WAIT_DAYS)[0]
        text = self.notices.render("follow_up_event", kind="asked", case=case)
        updated = self.change(
            case, EventKind.FOLLOW_UP_ASKED, SYSTEM, now, text, {"by": "chat"},
            follow_up_asked_at=to_db(now), follow_up_expires_at=to_db(expires),
        )  # fmt: skip
        ask = self.to_reporter(updated, "follow_up_ask", withdrawn=withdrawn, until=expires)
        return Outcome(updated, case, [ask])

    def expire_follow_up(self, case: Case, now: datetime) -> Outcome:
        """The sweep's step: no answer within FOLLOW_UP_WAIT_DAYS is 未回访成功."""
        waiting = case.follow_up_asked_at and not case.follow_up_result
        if not (waiting and _due(case.follow_up_expires_at, now)):
            return Outcome(case, case, changed=False)
        text = self.notices.render("follow_up_event", kind="failed", case=case)
        updated = self.change(
            case, EventKind.FOLLOW_UP_FAILED, SYSTEM, now, text,
            follow_up_result="no_answer", follow_up_at=to_db(now),
        )  # fmt: skip
        return Outcome(updated, case)

    def pending_follow_ups(self, reporter_id: str) -> list[Case]:
        """The reporter's (the person's) cases asked about and not answered yet, oldest first."""
        ids = self.people.same_person(reporter_id)
        return self.store.where(
            f"reporter_id in ({', '.join('?' * len(ids))}) and {_PENDING}",
            ids,
            index="cases_follow_up_pending",
        )

    def follow_up_tasks(self) -> list[Case]:
        """回访 calls staff owe: relayed cases asked about and not recorded yet."""
        return self.store.where(
            f"registered_by_id = reporter_id and {_PENDING}",
            [],
            order_by="reporter_id, id",  # by who registered them: the index's order
            index="cases_follow_up_pending",
        )

    def answer_follow_up(
        self, case: Case, actor: Actor, solved: bool, text: str, now: datetime
    ) -> Outcome:
        """已解决 / 未解决 from the reporter, or staff recording a call's result. Unsolved:
        a closed case is handled again (重办), a withdrawn one is flagged to staff."""
        by_staff = actor.id in self.people.staff
        if not by_staff and case.reporter_id not in self.people.same_person(actor.id):
            raise Refusal("follow_up_none")
        if case.follow_up_result or case.status not in (Status.CLOSED, Status.WITHDRAWN):
            raise Refusal("follow_up_done", case=case)
        data = {"solved": solved, "by_staff": by_staff}
        result = {"follow_up_result": "solved" if solved else "unsolved"}
        result["follow_up_at"] = to_db(now)
        thanks = [] if by_staff else ["follow_up_thanks"]
        if solved or case.status == Status.WITHDRAWN:
            kind = EventKind.FOLLOW_UP_ANSWERED
            updated = self.change(case, kind, actor, now, text, data, **result)
            notices = [self.to_reporter(updated, t, solved=solved) for t in thanks]
            if not solved:  # a withdrawal that did not solve it: 撤单质检
                notices += self._tell_staff(updated, text)
            return Outcome(updated, case, notices)
        changes = {
            **result,
            "reopen_count": case.reopen_count + 1,
            "rating": None,
            "rating_reason": None,
            "rate_due_at": None,
            "closed_at": None,
            "close_reason": None,
            "resolved_at": None,
            **self.deadlines(now, case.category, case.id),
        }
        kind = EventKind.FOLLOW_UP_REOPENED
        updated = self.change(case, kind, actor, now, text, data, **changes)
        notices = [self.to_reporter(updated, t, solved=False) for t in thanks]
        return Outcome(updated, case, [*notices, *self._tell_staff(updated, text)])

    def _tell_staff(self, case: Case, text: str) -> list[Outgoing]:
        return self.notices.to_staff("follow_up_staff_unsolved", case=case, text=text)
