"""The periodic sweep: first-response flag, reminder, two escalation levels, auto-close."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from bot.clock import FrozenClock
from bot.db import from_db, to_db
from bot.messages import Outgoing
from bot.services import Services
from chamberbot.root import services as build_services
from channels.test import TestTransport
from handlers.cases.deadlines import sweep
from handlers.cases.service import Case, EventKind, Status
from handlers.cases.settings import case_settings
from tests.conftest import (
    MEMBERS_ROOM,
    STAFF_ROOM,
    START,
    TZ,
    ChatBot,
    actor,
    case_service,
    demo_config,
    make_services,
    open_case,
)

NEW, ACCEPTED, IN_PROGRESS = Status.NEW, Status.ACCEPTED, Status.IN_PROGRESS
RESOLVED, CLOSED, WITHDRAWN = Status.RESOLVED, Status.CLOSED, Status.WITHDRAWN

# 政务环境 (审批): 7 working days from Monday 2026-11-16 09:00.
PERMIT = "办证审批太慢，跑了三趟窗口还没办下来，联系人13812345678"
DUE = datetime(2026, 11, 25, 9, 0, tzinfo=TZ)  # Wednesday
LEVEL2_DUE = datetime(2026, 12, 2, 9, 0, tzinfo=TZ)  # 5 working days later


def claim(app: Services, case: Case, now: datetime, staff_id: str = "wxid_wang") -> Case:
    return case_service(app).claim(case, actor(staff_id), now).case


def resolve(app: Services, case: Case, now: datetime) -> Case:
    return case_service(app).resolve(case, actor("wxid_wang"), "已协调窗口加急办理", now).case


def swept(app: Services) -> list[Outgoing]:
    """One sweep pass, and what the transport then receives of it."""
    sweep(app)
    return TestTransport(app.people.name).deliver(app.outbox)


def kinds(app: Services, case: Case) -> list[str]:
    return [e.kind for e in case_service(app).timeline(case)]


def rating_label(app: Services, code: str | None) -> str:
    labels = app.templates.env.from_string(
        '{% import "_labels.j2" as labels %}{{ labels.rating(code) }}'
    )
    return labels.render(code=code)


# -- 1. first response --------------------------------------------------------------------


def test_unanswered_case_is_flagged_to_staff_room_when_first_response_limit_passes(
    app: Services, clock: FrozenClock, bot: ChatBot
) -> None:
    case = open_case(app, clock.now(), PERMIT)
    clock.advance(hours=23, minutes=59)
    assert swept(app) == []

    clock.advance(minutes=1)
    outs = swept(app)

    assert [(o.conversation_id, o.mention_ids) for o in outs] == [(STAFF_ROOM, ())]
    text = outs[0].text
    assert "【超时未响应】诉求 2026-0001（政务环境）登记已1天，仍未响应企业" in text
    assert "应在24小时内响应" in text
    assert "请尽快认领或答复：认领 2026-0001" in text
    assert "13812345678" in text  # staff rooms see the phone number in full
    assert [r["text"] for r in bot.queued(STAFF_ROOM)] == [text]
    assert bot.queued(MEMBERS_ROOM) == []  # the enterprise is not told about internal flags

    case = case_service(app).get(case.id)
    assert case.response_flagged_at == to_db(clock.now())
    event = case_service(app).timeline(case)[-1]
    assert (event.kind, event.actor_id, event.actor_name) == ("response_overdue", "system", "系统")
    assert event.text == "登记后1天未响应企业，已提醒工作群"

    clock.advance(hours=3)
    assert swept(app) == []  # flagged once, not every pass
    assert len(bot.queued(STAFF_ROOM)) == 1


def test_response_overdue_says_how_long_the_case_has_waited(
    app: Services, clock: FrozenClock
) -> None:
    open_case(app, clock.now(), PERMIT)
    clock.advance(hours=50)  # the bot was down for two days

    (out,) = swept(app)

    assert "登记已2天2小时" in out.text


def test_case_answered_in_time_is_not_flagged(app: Services, clock: FrozenClock) -> None:
    case = open_case(app, clock.now(), PERMIT)
    clock.advance(hours=2)
    claim(app, case, clock.now())

    clock.advance(hours=30)

    assert swept(app) == []
    assert "response_overdue" not in kinds(app, case)


def test_case_in_progress_without_first_response_stamp_is_not_flagged(
    app: Services, clock: FrozenClock
) -> None:
    case = open_case(app, clock.now(), PERMIT)
    # a state older versions could leave: in progress, no first-response stamp
    case_service(app).store.write(
        case,
        EventKind.TRANSFERRED,
        actor("wxid_chen"),
        clock.now(),
        changes={"status": IN_PROGRESS},
    )
    clock.advance(hours=25)

    assert swept(app) == []


# -- 2. reminder before the due date -------------------------------------------------------


def test_assignee_is_reminded_privately_a_day_before_the_due_date(
    app: Services, clock: FrozenClock, bot: ChatBot
) -> None:
    case = claim(app, open_case(app, clock.now(), PERMIT), clock.now())
    clock.set(DUE - timedelta(hours=24, minutes=1))
    assert swept(app) == []

    clock.set(DUE - timedelta(hours=24))
    outs = swept(app)

    assert [(o.conversation_id, o.mention_ids) for o in outs] == [("wxid_wang", ())]
    assert outs[0].text == (
        "【到期提醒】您负责的诉求 2026-0001（政务环境，张氏机械）将于 11月25日(周三) 09:00 到期，"
        "请抓紧办理。\n办结后请发送：办结 2026-0001 结果说明"
    )
    assert bot.queued(STAFF_ROOM) == []
    case = case_service(app).get(case.id)
    assert case.reminded_at == to_db(clock.now())
    assert (
        case_service(app).timeline(case)[-1].text
        == "办结时限 11月25日(周三) 09:00 将到，已提醒王科长"
    )

    clock.advance(hours=1)
    assert swept(app) == []


def test_unassigned_case_reminder_goes_to_staff_rooms(
    app: Services, clock: FrozenClock, bot: ChatBot
) -> None:
    case = open_case(app, clock.now(), PERMIT)
    case_service(app).answer(case, actor("wxid_zhao"), "已收到，正在了解情况", clock.now())
    clock.set(DUE - timedelta(hours=3))

    outs = sweep(app)  # 06:00: queued, held until the quiet hours end

    assert [(o.conversation_id, o.mention_ids) for o in outs] == [(STAFF_ROOM, ())]
    assert "尚未指派办理人，请经济处尽快认领或指派" in outs[0].text
    assert "11月25日(周三) 09:00 到期" in outs[0].text
    assert bot.queued("wxid_zhao") == []
    assert case_service(app).timeline(case)[-1].text.endswith("已提醒工作群")


# -- 3. and 4. escalation ------------------------------------------------------------------


def test_overdue_case_is_escalated_to_department_head_and_reporter_told(
    app: Services, clock: FrozenClock, bot: ChatBot
) -> None:
    case = claim(app, open_case(app, clock.now(), PERMIT), clock.now())
    clock.set(DUE - timedelta(hours=1))
    swept(app)  # the reminder
    clock.set(DUE - timedelta(seconds=1))
    assert swept(app) == []

    clock.set(DUE)
    outs = swept(app)

    staff, reporter = outs
    assert (staff.conversation_id, staff.mention_ids) == (STAFF_ROOM, ())
    assert staff.text.startswith(
        "【超期升级】诉求 2026-0001（政务环境，经济处·王科长）已超过办结时限"
        "（11月25日(周三) 09:00）仍未办结，已升级至部门负责人，请经济处负责人督办。"
    )
    assert (reporter.conversation_id, reporter.mention_ids) == (MEMBERS_ROOM, ("wxid_zhang",))
    assert reporter.text == "@张总\u2005您的诉求 2026-0001 已升级至部门负责人，我们将加快办理。"
    assert [r["text"] for r in bot.queued(MEMBERS_ROOM)] == [reporter.text]

    case = case_service(app).get(case.id)
    assert case.escalation == 1
    event = case_service(app).timeline(case)[-1]
    assert (event.kind, event.actor_id, event.actor_name) == ("escalated", "system", "系统")
    assert event.data["level"] == 1
    assert swept(app) == []


def test_second_limit_raises_case_to_leadership_for_the_monthly_report(
    app: Services, clock: FrozenClock
) -> None:
    case = claim(app, open_case(app, clock.now(), PERMIT), clock.now())
    clock.set(DUE)
    swept(app)
    clock.set(LEVEL2_DUE - timedelta(minutes=1))
    assert swept(app) == []

    clock.set(LEVEL2_DUE)
    staff, reporter = swept(app)

    assert staff.conversation_id == STAFF_ROOM
    assert "【提请领导督办】诉求 2026-0001" in staff.text
    assert "超期已满5个工作日仍未办结" in staff.text
    assert "应办难办/久拖不决" in staff.text
    assert "月度报告中列为超期诉求" in staff.text
    assert reporter.mention_ids == ("wxid_zhang",)
    assert reporter.text == "@张总\u2005您的诉求 2026-0001 已提请领导督办，我们将加快办理。"
    case = case_service(app).get(case.id)
    assert case.escalation == 2
    assert [
        e.data.get("level") for e in case_service(app).timeline(case) if e.kind == "escalated"
    ] == [
        1,
        2,
    ]
    clock.advance(days=30)
    assert swept(app) == []  # nothing above level 2


def test_reporter_in_private_chat_is_told_without_a_mention(
    app: Services, clock: FrozenClock
) -> None:
    claim(app, open_case(app, clock.now(), PERMIT, room=None), clock.now())
    clock.set(DUE)

    _staff, reporter = swept(app)

    assert (reporter.conversation_id, reporter.mention_ids) == ("wxid_zhang", ())
    assert reporter.text == "您的诉求 2026-0001 已升级至部门负责人，我们将加快办理。"


def test_case_escalated_by_staff_by_hand_is_not_escalated_again_at_level_1(
    app: Services, clock: FrozenClock
) -> None:
    case = claim(app, open_case(app, clock.now(), PERMIT), clock.now())
    case_service(app).escalate(case, actor("wxid_wang"), "需协调", clock.now())
    clock.set(DUE)

    assert swept(app) == []


# -- 5. auto-close -------------------------------------------------------------------------


def test_unrated_resolution_closes_as_unrated_and_is_never_satisfied(
    app: Services, clock: FrozenClock, bot: ChatBot
) -> None:
    case = claim(app, open_case(app, clock.now(), PERMIT), clock.now())
    clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=TZ))
    case = resolve(app, case, clock.now())
    rate_due = from_db(str(case.rate_due_at))
    clock.set(DUE + timedelta(hours=1))
    assert swept(app) == []  # resolved: past the resolution deadline means nothing now
    clock.set(rate_due - timedelta(minutes=1))
    assert swept(app) == []

    clock.set(rate_due)
    outs = swept(app)

    assert [(o.conversation_id, o.mention_ids) for o in outs] == [(MEMBERS_ROOM, ("wxid_zhang",))]
    assert outs[0].text == (
        "@张总\u2005您的诉求 2026-0001 办结后7天未收到评价，已自动销号。"
        "如仍有问题，欢迎再次发送「诉求 问题描述」。"
    )
    assert bot.queued(STAFF_ROOM) == []
    case = case_service(app).get(case.id)
    assert (case.status, case.rating, case.close_reason) == (CLOSED, "unrated", "unrated")
    assert case.closed_at == to_db(rate_due)
    assert rating_label(app, case.rating) == "未评价"
    assert case.rating not in ("satisfied", "basic")
    event = case_service(app).timeline(case)[-1]
    assert (event.kind, event.actor_name) == ("closed", "系统")
    assert event.text == "办结后7天未评价，自动销号（未评价）"
    assert swept(app) == []


# -- what the sweep leaves alone -----------------------------------------------------------


def test_closed_and_withdrawn_cases_are_never_touched_without_follow_up(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """With 回访 off (cases.follow_up_days 0) the sweep leaves a finished case alone for good
    (with it on, tests/test_cases_follow_up.py)."""
    demo_cases = case_settings(demo_config()).model_dump()
    demo = demo_config(cases={**demo_cases, "follow_up_days": 0})
    assert case_settings(demo).follow_up_days == 0
    app = make_services(demo, tmp_path / "bot.db", clock)
    withdrawn = open_case(app, clock.now(), PERMIT)
    withdrawn = case_service(app).withdraw(withdrawn, actor("wxid_zhang"), "", clock.now()).case
    closed = resolve(
        app, claim(app, open_case(app, clock.now(), PERMIT), clock.now()), clock.now()
    )
    closed = case_service(app).rate(closed, actor("wxid_zhang"), "satisfied", "", clock.now()).case
    before = {c.id: (c, kinds(app, c)) for c in (withdrawn, closed)}

    clock.advance(days=90)

    assert swept(app) == []
    for case_id, (case, timeline) in before.items():
        assert case_service(app).get(case_id) == case
        assert kinds(app, case) == timeline


def test_sweep_forgets_prompts_that_expired_long_ago(app: Services, clock: FrozenClock) -> None:
    app.sessions.ask(MEMBERS_ROOM, "wxid_li", "report_description", clock.now())
    clock.advance(hours=2)
    swept(app)
    prompt = app.sessions.get(MEMBERS_ROOM, "wxid_li", clock.now())
    assert prompt is not None  # expired, but kept so the user hears it timed out
    assert prompt.expired

    clock.advance(days=1)
    swept(app)

    assert app.sessions.get(MEMBERS_ROOM, "wxid_li", clock.now()) is None


# -- working days, idempotency, catching up ------------------------------------------------


def test_deadline_of_case_opened_before_national_day_skips_the_holiday(
    app: Services, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 9, 30, 9, 0, tzinfo=TZ))
    case = claim(app, open_case(app, clock.now(), PERMIT), clock.now())
    # 10-08, 10-09, 10-10 (调休 Saturday), 10-12 … 10-15: the 7th working day.
    due = datetime(2026, 10, 15, 9, 0, tzinfo=TZ)
    assert from_db(case.due_at) == due

    clock.advance(days=7)
    assert swept(app) == []
    assert case_service(app).get(case.id).escalation == 0

    clock.set(due - timedelta(hours=24))
    (reminder,) = swept(app)
    assert "10月15日(周四) 09:00 到期" in reminder.text
    clock.set(due)
    assert [o.conversation_id for o in swept(app)] == [STAFF_ROOM, MEMBERS_ROOM]
    assert case_service(app).get(case.id).escalation == 1


@pytest.mark.parametrize(
    "when",
    [
        timedelta(hours=24),
        DUE - timedelta(hours=2) - START,
        DUE - START,
        LEVEL2_DUE - START,
        timedelta(days=60),
    ],
    ids=["response", "reminder", "level1", "level2", "much-later"],
)
def test_second_pass_at_the_same_time_queues_nothing(
    app: Services, clock: FrozenClock, bot: ChatBot, when: timedelta
) -> None:
    open_case(app, clock.now(), PERMIT)
    resolve(app, open_case(app, clock.now(), "拖欠工程款"), clock.now())
    clock.advance(when)

    first = sweep(app)
    queued = len(bot.queued())

    assert first
    assert sweep(app) == []
    assert len(bot.queued()) == queued


def test_bot_down_for_weeks_takes_each_step_once_in_order(
    app: Services, clock: FrozenClock, bot: ChatBot
) -> None:
    late = open_case(app, clock.now(), PERMIT)
    resolved = resolve(app, open_case(app, clock.now(), "拖欠工程款"), clock.now())

    clock.advance(days=30)
    outs = swept(app)

    assert [(o.conversation_id, o.text[:7]) for o in outs] == [
        (STAFF_ROOM, "【超时未响应】"),
        (STAFF_ROOM, "【超期升级】诉"),
        (MEMBERS_ROOM, "@张总\u2005您的诉"),
        (STAFF_ROOM, "【提请领导督办"),
        (MEMBERS_ROOM, "@张总\u2005您的诉"),
        (MEMBERS_ROOM, "@张总\u2005您的诉"),
    ]
    assert "2026-0002 办结后7天未收到评价" in outs[-1].text
    assert kinds(app, late) == ["opened", "response_overdue", "escalated", "escalated"]
    assert case_service(app).get(late.id).escalation == 2
    assert (
        case_service(app).get(late.id).reminded_at is None
    )  # too late to remind: it was escalated
    assert case_service(app).get(resolved.id).status == CLOSED
    assert len(bot.queued()) == len(outs)
    assert swept(app) == []


def test_a_failing_pass_changes_nothing_and_queues_nothing(
    tmp_path: Path, clock: FrozenClock
) -> None:
    broken = tmp_path / "templates"
    broken.mkdir()
    (broken / "case_escalated.j2").write_text("{{ no_such_value }}", encoding="utf-8")
    app = build_services(
        demo_config(templates_dir=str(broken)), db_path=tmp_path / "b.db", clock=clock
    )
    try:
        case = open_case(app, clock.now(), PERMIT)
        clock.set(DUE)

        with pytest.raises(UndefinedError, match="no_such_value"):
            swept(app)

        assert case_service(app).get(case.id) == case
        assert kinds(app, case) == ["opened"]
        assert app.outbox.pending_count() == 0
    finally:
        app.db.close()


def test_staff_hints_use_the_configured_keywords(tmp_path: Path, clock: FrozenClock) -> None:
    config = demo_config(commands={"claim": ["接单"], "resolve": ["结案"]})
    app = build_services(config, db_path=tmp_path / "k.db", clock=clock)
    try:
        case = open_case(app, clock.now(), PERMIT)
        clock.advance(hours=24)
        (flag,) = swept(app)
        claim(app, case, clock.now())
        clock.set(DUE - timedelta(hours=1))
        (reminder,) = swept(app)
    finally:
        app.db.close()

    assert "请尽快认领或答复：接单 2026-0001" in flag.text
    assert "办结后请发送：结案 2026-0001 结果说明" in reminder.text


def test_escalation_found_at_night_waits_for_the_morning(
    app: Services, clock: FrozenClock
) -> None:
    """Nobody is waiting for a sweep's message at 23:00: it is held until quiet hours end."""
    open_case(app, clock.now(), PERMIT)
    clock.set(DUE.replace(hour=23))

    assert sweep(app)
    assert swept(app) == []  # nothing reaches a group at night
    rows = list(app.db.table("outbox").rows_where("text like ?", ["%升级%"]))
    assert rows
    morning = (DUE + timedelta(days=1)).replace(hour=8)
    assert {r["not_before"] for r in rows} == {to_db(morning)}
