"""The staff actions on a case, as one table: the chat's routes (staff.py) and the web
console's forms (handlers/cases/web.py) both read it and both act through `perform`.

Each row names the service intent, the chat keywords and usage, whether text must follow
(the chat's `CaseArg(need_text=…)`, the web's required field), the choice a web form
makes (assignee, department, category) and the label the console shows.

`staff_actor` is the one staff check of an adapter that is not the chat (the chat's router
checks the role of the route); `perform` runs one intent. The adapter hands the notices to
the outbox in the transaction it opened (`bot.db.transaction`), as the dispatcher does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.normalize import SEPARATORS, normalize
from bot.people import People
from bot.refusal import Refusal
from handlers.cases.core import Outcome
from handlers.cases.model import Actor, Case
from handlers.cases.service import CaseService

__all__ = ["STAFF_ACTIONS", "Asked", "StaffAction", "perform", "staff_actor", "staff_id_named"]


@dataclass(frozen=True)
class Asked:
    """What the staff member gave besides the case: a choice (assignee id, department,
    `分类[/方面]`), a text, and for 改类 whether the due date follows the new category."""

    choice: str = ""
    text: str = ""
    new_deadline: bool = False


Intent = Callable[[CaseService, Case, Actor, Asked, datetime], Outcome]


def _reclassify(s: CaseService, case: Case, actor: Actor, a: Asked, now: datetime) -> Outcome:
    category, _, aspect = a.choice.partition("/")
    return s.reclassify(case, actor, category, aspect.strip(), now, new_deadline=a.new_deadline)


@dataclass(frozen=True)
class StaffAction:
    name: str  # the intent of CaseService, the chat command and the web path
    keywords: tuple[str, ...]  # the chat's words
    usage: str
    summary: str
    label: str  # the console's word for it (已{label})
    intent: Intent
    needs_text: bool = False  # the text must not be empty
    choice: str = ""  # the web form's field that must be chosen ('' for none); in chat
    #                   the choice is the first word of the text (so text must follow)
    choice_label: str = ""  # what the choice is, in words (请先选择{choice_label})
    tells_reporter: bool = False  # the enterprise hears of it (企业将收到通知)

    @property
    def chat_needs_text(self) -> bool:
        return self.needs_text or bool(self.choice)


STAFF_ACTIONS: dict[str, StaffAction] = {
    a.name: a
    for a in (
        StaffAction(
            "claim", ("认领", "接单"), "认领 <编号>", "由我负责办理", "认领",
            lambda s, c, actor, a, now: s.claim(c, actor, now),
            tells_reporter=True,
        ),
        StaffAction(
            "assign", ("指派", "分派"), "指派 <编号> @某人", "指定工作人员办理", "指派",
            lambda s, c, actor, a, now: s.assign(c, actor, a.choice, a.text, now),
            choice="assignee", choice_label="工作人员", tells_reporter=True,
        ),
        StaffAction(
            "transfer", ("转办", "转交"), "转办 <编号> <部门>", "转交其他部门办理", "转办",
            lambda s, c, actor, a, now: s.transfer(c, actor, a.choice, a.text, now),
            choice="department", choice_label="部门",
        ),
        StaffAction(
            "answer", ("回复", "答复"), "回复 <编号> <内容>", "答复企业（转发到原群）",
            "回复企业",
            lambda s, c, actor, a, now: s.answer(c, actor, a.text, now),
            needs_text=True, tells_reporter=True,
        ),
        StaffAction(
            "resolve", ("办结",), "办结 <编号> <结果说明>", "办结并请企业评价", "办结",
            lambda s, c, actor, a, now: s.resolve(c, actor, a.text, now),
            needs_text=True, tells_reporter=True,
        ),
        StaffAction(
            "escalate", ("升级",), "升级 <编号> [原因]", "提请部门负责人或领导督办", "升级",
            lambda s, c, actor, a, now: s.escalate(c, actor, a.text, now),
            tells_reporter=True,
        ),
        StaffAction(
            "note", ("备注",), "备注 <编号> <内容>", "内部备注（企业看不到）", "内部备注",
            lambda s, c, actor, a, now: s.note(c, actor, a.text, now),
            needs_text=True,
        ),
        StaffAction(
            "reclassify", ("改类", "改分类"), "改类 <编号> <分类>[/<方面>] [重算期限]",
            "更正诉求分类（加「重算期限」按新分类重算办结期限）", "改类",
            _reclassify,
            choice="category", choice_label="分类",
        ),
        StaffAction(
            "pause", ("待补充",), "待补充 <编号> <需要的材料>",
            "请企业补充材料，补充前暂停办理计时", "暂停计时并请企业补充材料",
            lambda s, c, actor, a, now: s.pause(c, actor, a.text, now),
            needs_text=True, tells_reporter=True,
        ),
    )
}  # fmt: skip


def staff_actor(people: People, contact_id: str | None, place: str | None = None) -> Actor:
    """The staff member acting, or the refusal a non-staff contact gets."""
    if not contact_id or contact_id not in people.staff:
        raise Refusal("refuse_staff_contact")
    return Actor(contact_id, people.staff_name(contact_id), place)


def perform(
    cases: CaseService,
    name: str,
    case: Case,
    actor: Actor,
    asked: Asked,
    now: datetime,
) -> Outcome:
    """Run staff action `name` on `case` (a `Refusal` if a rule says no)."""
    return STAFF_ACTIONS[name].intent(cases, case, actor, asked, now)


def staff_id_named(people: People, who: str) -> str | None:
    """A configured staff member by contact id or by name (after an optional @)."""
    who = who.lstrip("@＠").strip(SEPARATORS)
    if who in people.staff:
        return who
    wanted = normalize(who)
    for contact_id, member in people.staff.items():
        if normalize(member.name) == wanted:
            return contact_id
    return None
