"""待补充: staff ask the enterprise for materials and the resolution clock stands still
until the enterprise's 补充 (or `cases.max_pause_days` working days): no reminder nor
escalation meanwhile, both deadlines move later by the paused working days, and a case
resolved before the later deadline counts as 按期 in the month's figures."""

from __future__ import annotations

from datetime import datetime

from bot.db import from_db
from handlers.cases.deadlines import sweep
from handlers.cases.service import Case, EventKind, Status, ledger_labels, ledger_rows
from handlers.reports.figures import totals
from handlers.reports.period import Period
from tests.conftest import MEMBERS_ROOM, STAFF_ROOM, TZ, WANG, ChatBot, case_service
from tests.web_harness import http_console, http_login, text_at

NEED = "营业执照副本和近三个月银行流水"


def _paused(bot: ChatBot) -> Case:
    """A case reported on Monday, asked for materials by 王科长 on Wednesday 11:00."""
    case = bot.report()
    bot.advance(days=2, hours=2)
    outs = bot.say(f"待补充 {case.number} {NEED}", **WANG)
    (staff,) = [o.text for o in outs if o.conversation_id == STAFF_ROOM]
    assert staff.startswith(f"@王科长\u2005已请张总补充材料（诉求 {case.number}），办理计时已暂停")
    assert staff.endswith("最迟 12月2日(周三) 11:00 恢复计时。")
    (asked,) = [o.text for o in outs if o.conversation_id == MEMBERS_ROOM]
    assert asked.startswith(f"@张总\u2005关于您的诉求 {case.number}，王科长请您补充以下材料：")
    assert NEED in asked
    assert f"请发送「补充 {case.number} 内容」提交" in asked
    assert "最长10个工作日" in asked
    paused = case_service(bot.app).get(case.id)
    assert paused.paused_at is not None
    assert paused.due_at == case.due_at  # not moved yet: it moves when the clock restarts
    return paused


def _events(bot: ChatBot, case: Case) -> list[tuple[str, str]]:
    return [(e.kind, e.text) for e in case_service(bot.app).timeline(case)]


def test_supplement_resumes_with_later_deadlines_and_counts_as_on_time(bot: ChatBot) -> None:
    case = _paused(bot)
    assert _events(bot, case)[-1] == ("paused", f"暂停计时，等待企业补充材料：{NEED}")
    original = from_db(case.due_at).astimezone(TZ)
    assert original == datetime(2026, 11, 30, 9, 0, tzinfo=TZ)  # 10 working days

    # Past the original deadline (Tuesday 12-01): no reminder, no escalation while paused.
    bot.advance(days=13)
    sweep(bot.app)
    assert bot.deliver() == []
    still = case_service(bot.app).get(case.id)
    assert (still.escalation, still.reminded_at, still.paused_at) == (0, None, case.paused_at)
    # 待办 marks it as waiting, not as overdue
    todo = bot.text("待办", **WANG)
    assert f"{case.number}｜" in todo
    assert "⏸待补充（暂停计时）" in todo
    assert "⚠超期" not in todo

    reply = bot.text(f"补充 {case.number} 已上传执照和流水")
    assert reply.endswith("并已转告工作人员。办理计时已恢复。")
    staff = [o for o in bot.app.db.table("outbox").rows if o["conversation_id"] == STAFF_ROOM]
    assert "【恢复计时】" in str(staff[-1]["text"])
    assert "企业已补充材料，恢复计时（暂停9个工作日）" in str(staff[-1]["text"])
    resumed = case_service(bot.app).get(case.id)
    # Thursday 11-19 … Tuesday 12-01: 9 working days, both deadlines that much later
    assert (resumed.paused_at, resumed.pause_until, resumed.paused_days) == (None, None, 9)
    assert from_db(resumed.due_at).astimezone(TZ) == datetime(2026, 12, 11, 9, 0, tzinfo=TZ)
    level2 = from_db(resumed.level2_due_at) - from_db(case.level2_due_at)
    assert level2.days == 11  # 9 working days over a weekend
    kind, text = _events(bot, case)[-1]
    assert kind == "resumed"
    assert text == "恢复计时（暂停9个工作日），办结期限顺延至 12月11日(周五) 09:00"

    # Resolved on 12-02, after the original deadline, before the later one: 按期.
    bot.advance(days=1)
    bot.say(f"办结 {case.number} 已协调银行续贷", **WANG)
    done = case_service(bot.app).get(case.id)
    assert done.status == Status.RESOLVED
    end = datetime(2026, 12, 31, 23, 0, tzinfo=TZ)  # December's report: 12-11 has passed
    dec = totals(bot.app.db, Period.of_month(2026, 12, TZ), end)
    assert (dec.on_time.num, dec.on_time.den) == (1, 1)
    nov = totals(bot.app.db, Period.of_month(2026, 11, TZ), end)
    assert nov.on_time.den == 0  # its deadline is no longer November's

    # The ledger: 暂停天数 next to 办结期限, on the timeline both events.
    lab = ledger_labels(bot.app.templates.render)
    ledger = ledger_rows(bot.app.db, lab, TZ, bot.clock.now())
    head = ledger.header
    at = head.index("办结期限")
    assert head[at : at + 3] == ["办结期限", "暂停天数", "办结时间"]
    (row,) = ledger.rows
    assert row[head.index("暂停天数")] == 9
    assert row[head.index("是否超期")] == "否"
    kinds = [r[2] for r in ledger.timeline]
    assert kinds[-4:] == ["暂停计时", "企业补充", "恢复计时", "办结"]

    details = bot.text(f"详情 {case.number}", **WANG)
    assert "办结期限：12月11日(周五) 09:00（已暂停9个工作日）" in details
    assert f"王科长 暂停计时（待企业补充）：暂停计时，等待企业补充材料：{NEED}" in details


async def test_the_console_marks_a_paused_case_and_not_as_overdue(bot: ChatBot) -> None:
    case = _paused(bot)
    bot.advance(days=13)  # past its original deadline
    async with http_console(bot.app) as client:
        await http_login(client, "wang")
        ledger = await client.get("/cases")
    row = text_at(ledger.text, f"//tr[td/a[@href='/cases/{case.number}']]")
    assert "待补充" in row
    assert "超期" not in row


def test_the_sweep_resumes_after_max_pause_days_and_tells_staff(bot: ChatBot) -> None:
    case = _paused(bot)
    assert from_db(str(case.pause_until)).astimezone(TZ) == datetime(
        2026, 12, 2, 11, 0, tzinfo=TZ
    )  # 10 working days after Wednesday 11-18
    bot.advance(days=14, minutes=-1)
    sweep(bot.app)
    assert bot.deliver() == []
    bot.advance(minutes=1)
    sweep(bot.app)
    outs = bot.deliver()
    (told,) = [o.text for o in outs if o.conversation_id == STAFF_ROOM]
    assert "企业未在期限内补充材料，已自动恢复计时（暂停10个工作日）" in told
    assert "办结期限：12月14日(周一) 09:00" in told  # 11-30 + 10 working days
    assert [o for o in outs if o.conversation_id == MEMBERS_ROOM] == []
    resumed = case_service(bot.app).get(case.id)
    assert (resumed.paused_at, resumed.paused_days, resumed.escalation) == (None, 10, 0)
    kind, text = _events(bot, case)[-1]
    assert (kind, text.split("，")[0]) == ("resumed", "企业未补充材料")

    # The clock runs again: reminded before, escalated at the later deadline.
    bot.advance(days=12)  # Monday 12-14 11:00
    sweep(bot.app)
    assert case_service(bot.app).get(case.id).escalation == 1
    # A late 补充 is recorded, and the clock, already running, is left alone.
    reply = bot.text(f"补充 {case.number} 材料补上了")
    assert "办理计时已恢复" not in reply
    assert case_service(bot.app).get(case.id).paused_days == 10


def test_resolving_while_paused_folds_the_waiting_in(bot: ChatBot) -> None:
    case = _paused(bot)
    bot.advance(days=1)  # Thursday 11-19: one working day
    bot.say(f"办结 {case.number} 企业已自行解决", **WANG)
    done = case_service(bot.app).get(case.id)
    assert (done.status, done.paused_at, done.paused_days) == (Status.RESOLVED, None, 1)
    assert from_db(done.due_at).astimezone(TZ) == datetime(2026, 12, 1, 9, 0, tzinfo=TZ)


def test_bad_asks_are_answered_politely_and_change_nothing(bot: ChatBot) -> None:
    case = bot.report()
    before = case_service(bot.app).timeline(case)

    assert "9999" in bot.text(f"待补充 9999 {NEED}", **WANG)
    usage = bot.text(f"待补充 {case.number}", **WANG)
    assert "待补充 <编号> <需要的材料>" in usage
    refused = bot.text(f"待补充 {case.number} {NEED}")  # a member, in the members' group
    assert refused == "@张总\u2005抱歉，「待补充 <编号> <需要的材料>」仅限商会工作人员使用。" + (
        "如需反映问题，请发送「诉求 问题描述」。"
    )
    assert case_service(bot.app).timeline(case) == before
    assert case_service(bot.app).get(case.id).paused_at is None

    bot.say(f"待补充 {case.number} {NEED}", **WANG)
    again = bot.text(f"待补充 {case.number} 再要一份合同", **WANG)
    assert again.startswith(f"@王科长\u2005诉求 {case.number} 已在等待企业补充材料")
    assert [e.kind for e in case_service(bot.app).timeline(case)].count(EventKind.PAUSED) == 1

    bot.say(f"补充 {case.number} 材料", sender="wxid_zhang")
    bot.say(f"办结 {case.number} 已办", **WANG)
    bot.say(f"满意 {case.number}")
    closed = case_service(bot.app).get(case.id)
    assert closed.status == Status.CLOSED
    answer = bot.text(f"待补充 {case.number} {NEED}", **WANG)
    assert answer.startswith(f"@王科长\u2005诉求 {case.number} 已销号，不能再办理。")
    assert case_service(bot.app).get(case.id).paused_at is None
