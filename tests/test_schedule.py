"""`next_action_at` (the sweep's index) and 待办's limit and count.

A case's stored `next_action_at` is checked against what the sweep actually does: one
second before it, a pass leaves the case alone; at it, the pass acts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import FrozenClock
from bot.db import from_db, to_db
from bot.services import Services
from handlers.cases.deadlines import sweep
from handlers.cases.service import OPEN, Case, EventKind, Status
from handlers.cases.settings import case_settings
from handlers.cases.store import OPEN_SQL
from tests.conftest import MEMBERS_ROOM, WANG, ChatBot, actor, case_service

SECOND = timedelta(seconds=1)


def _open(app: Services, description: str = "银行抽贷", reporter: str = "wxid_zhang") -> Case:
    return (
        case_service(app)
        .open(
            actor(reporter),
            enterprise="张氏机械",
            channel="wechat",
            conversation_id=MEMBERS_ROOM,
            is_group=True,
            description=description,
            now=app.clock.now(),
        )
        .case
    )


def _next(app: Services, case: Case) -> str | None:
    row = app.db.execute("select next_action_at from cases where id = ?", [case.id]).fetchone()
    return row[0]


def _events(app: Services, case: Case) -> list[str]:
    return [e.kind for e in case_service(app).timeline(case)]


def _sweep_at(app: Services, clock: FrozenClock, when: datetime) -> None:
    clock.advance(when - clock.now())
    sweep(app)


def _acts_exactly_at(app: Services, clock: FrozenClock, case: Case, kind: EventKind) -> Case:
    """The stored time is when the sweep acts: not a second earlier, and then `kind`."""
    stored = _next(app, case)
    assert stored is not None
    before = _events(app, case)
    _sweep_at(app, clock, from_db(stored) - SECOND)
    assert _events(app, case) == before
    assert _next(app, case) == stored
    _sweep_at(app, clock, from_db(stored))
    assert _events(app, case)[len(before)] == kind
    return case_service(app).get(case.id)


def test_open_sql_names_exactly_the_open_statuses() -> None:
    listed = ", ".join(repr(str(s)) for s in sorted(OPEN))
    assert OPEN_SQL.removeprefix("status in (").removesuffix(")") == listed


def test_a_new_case_is_next_looked_at_when_its_first_response_is_due(
    app: Services, clock: FrozenClock
) -> None:
    case = _open(app)
    assert _next(app, case) == case.response_due_at
    flagged = _acts_exactly_at(app, clock, case, EventKind.RESPONSE_OVERDUE)
    # then the reminder before the deadline
    due = from_db(flagged.due_at)
    remind = due - timedelta(hours=case_settings(app.config).remind_before_hours)
    assert _next(app, flagged) == to_db(remind)


def test_next_action_follows_every_intent_of_a_case_life(
    app: Services, clock: FrozenClock
) -> None:
    wang = actor("wxid_wang")
    before = timedelta(hours=case_settings(app.config).remind_before_hours)
    case = _open(app)

    case = (
        case_service(app).claim(case, wang, clock.now()).case
    )  # answered: no first-response flag
    assert _next(app, case) == to_db(from_db(case.due_at) - before)
    case = case_service(app).answer(case, wang, "在办", clock.now()).case
    assert _next(app, case) == to_db(from_db(case.due_at) - before)
    case = case_service(app).note(case, wang, "内部", clock.now()).case
    assert _next(app, case) == to_db(from_db(case.due_at) - before)

    case = _acts_exactly_at(app, clock, case, EventKind.REMINDED)
    assert _next(app, case) == case.due_at
    case = _acts_exactly_at(app, clock, case, EventKind.ESCALATED)
    assert case.escalation == 1
    assert _next(app, case) == case.level2_due_at
    case = _acts_exactly_at(app, clock, case, EventKind.ESCALATED)
    assert case.escalation == 2
    assert _next(app, case) is None  # nothing left to do until someone acts

    case = case_service(app).resolve(case, wang, "已办", clock.now()).case
    assert case.status == Status.RESOLVED
    assert _next(app, case) == case.rate_due_at
    reporter = actor("wxid_zhang")
    case = case_service(app).rate(case, reporter, "unsatisfied", "没解决", clock.now()).case
    assert case.status == Status.IN_PROGRESS  # reopened with fresh deadlines
    assert _next(app, case) == to_db(from_db(case.due_at) - before)

    case = case_service(app).resolve(case, wang, "再办", clock.now()).case
    case = _acts_exactly_at(app, clock, case, EventKind.CLOSED)
    assert case.status == Status.CLOSED
    assert _next(app, case) == case.follow_up_due_at  # 回访, five working days on
    case = _acts_exactly_at(app, clock, case, EventKind.FOLLOW_UP_ASKED)
    assert _next(app, case) == case.follow_up_expires_at
    case = _acts_exactly_at(app, clock, case, EventKind.FOLLOW_UP_FAILED)
    assert case.follow_up_result == "no_answer"
    assert _next(app, case) is None


def test_a_withdrawn_case_is_looked_at_again_only_for_its_follow_up(
    app: Services, clock: FrozenClock
) -> None:
    case = _open(app)
    case = case_service(app).withdraw(case, actor("wxid_zhang"), "", clock.now()).case
    assert _next(app, case) == case.follow_up_due_at
    case = _acts_exactly_at(app, clock, case, EventKind.FOLLOW_UP_ASKED)
    reporter = actor("wxid_zhang")
    case = case_service(app).answer_follow_up(case, reporter, True, "", clock.now()).case
    assert _next(app, case) is None
    assert case_service(app).due_cases(clock.now() + timedelta(days=400)) == []


def test_a_reminder_window_that_passed_unseen_stops_counting(
    app: Services, clock: FrozenClock
) -> None:
    """Reopened after escalation: no second level-1 step; if its reminder window passes
    while the bot is down, the next pass looks again only at level 2."""
    wang = actor("wxid_wang")
    case = case_service(app).claim(_open(app), wang, clock.now()).case
    case = case_service(app).escalate(case, wang, "", clock.now()).case  # escalation 1 by hand
    _sweep_at(app, clock, from_db(case.due_at) + timedelta(hours=1))  # window missed
    case = case_service(app).get(case.id)
    assert EventKind.REMINDED not in _events(app, case)
    assert _next(app, case) == case.level2_due_at


def test_todo_shows_thirty_and_counts_them_all(
    bot: ChatBot, app: Services, clock: FrozenClock
) -> None:
    cases = [_open(app, f"银行抽贷{i}", reporter=f"wxid_m{i}") for i in range(33)]
    case_service(app).claim(cases[0], actor("wxid_wang"), clock.now())

    everything = bot.text("待办", **WANG)
    assert "共 33 件" in everything
    assert sum(c.number in everything for c in cases) == 30
    unassigned = bot.text("待办 未分配", **WANG)
    assert "共 32 件" in unassigned
    assert cases[0].number not in unassigned
    mine = bot.text("待办 我的", **WANG)
    assert cases[0].number in mine
    assert sum(c.number in mine for c in cases) == 1

    bot.advance(days=30)  # every one past its deadline
    overdue = bot.text("待办 超期", **WANG)
    assert "共 33 件" in overdue
    assert sum(c.number in overdue for c in cases) == 30


def test_the_open_counter_follows_status_and_assignee(app: Services, clock: FrozenClock) -> None:
    first, second = _open(app), _open(app, "合同纠纷")
    assert (case_service(app).open_count(), case_service(app).open_count("")) == (
        2,
        2,
    )
    case_service(app).claim(first, actor("wxid_wang"), clock.now())
    assert case_service(app).open_count("wxid_wang") == 1
    assert case_service(app).open_count("") == 1
    case_service(app).withdraw(second, actor("wxid_zhang"), "", clock.now())
    assert (case_service(app).open_count(), case_service(app).open_count("")) == (
        1,
        0,
    )
    assert case_service(app).open_count() == case_service(app).count(OPEN_SQL, [])
