"""回访: five working days after 销号 or 撤回 the reporter is asked whether the problem is
really solved; 未解决 reopens a closed case (重办) and flags a withdrawn one to staff; no
answer in three working days is 未回访成功; a relayed case is a phone task for staff."""

from __future__ import annotations

from handlers.cases.deadlines import sweep
from handlers.cases.service import Case, EventKind, Status
from handlers.cases.settings import case_settings
from tests.conftest import (
    MEMBERS_ROOM,
    STAFF_ROOM,
    WANG,
    ChatBot,
    case_service,
    delivered,
)
from tests.web_harness import csrf_in, http_console, http_login, text_at


def _closed(bot: ChatBot, description: str = "审批窗口办证太慢，跑了三趟") -> Case:
    """A case reported in the members' group, resolved and rated 满意 today (Monday)."""
    case = bot.report(description)
    bot.say(f"办结 {case.number} 已协调窗口当天办结", **WANG)
    bot.say(f"满意 {case.number}")
    closed = case_service(bot.app).get(case.id)
    assert closed.status == Status.CLOSED
    return closed


def _at_follow_up(bot: ChatBot, case: Case) -> list[str]:
    """The sweep at the 回访 time, five working days on (next Monday 09:00)."""
    bot.advance(days=7)
    assert case_service(bot.app).get(case.id).follow_up_due_at == case.follow_up_due_at
    sweep(bot.app)
    return delivered(bot, MEMBERS_ROOM)


def _kinds(bot: ChatBot, case: Case) -> list[str]:
    return [e.kind for e in case_service(bot.app).timeline(case)]


def test_unsolved_at_follow_up_reopens_the_case_and_tells_staff(bot: ChatBot) -> None:
    case = _closed(bot)
    bot.advance(days=6, hours=23)  # Sunday night: not yet
    sweep(bot.app)
    assert delivered(bot, MEMBERS_ROOM) == []

    bot.advance(hours=1)  # Monday 09:00, five working days after 销号
    sweep(bot.app)
    outs = [o for o in bot.deliver() if o.conversation_id == MEMBERS_ROOM]
    (asked,) = outs
    assert asked.text.startswith("@张总\u2005【回访】您的诉求 " + case.number)
    assert "已办结销号。请问问题是否真正解决了？" in asked.text
    assert [c.command for c in asked.choices] == [f"已解决 {case.number}", f"未解决 {case.number}"]

    outs = bot.say(asked.choices[1].command + " 窗口又让补材料")
    told = [o.text for o in outs if o.conversation_id == MEMBERS_ROOM]
    assert f"诉求 {case.number} 的问题仍未解决，已重新办理" in told[0]
    staff = [o.text for o in outs if o.conversation_id == STAFF_ROOM]
    assert "【回访未解决】" in staff[0]
    assert "窗口又让补材料" in staff[0]
    assert "第1次重办" in staff[0]
    again = case_service(bot.app).get(case.id)
    assert (again.status, again.reopen_count, again.rating) == (Status.IN_PROGRESS, 1, None)
    assert _kinds(bot, case)[-2:] == [EventKind.FOLLOW_UP_ASKED, EventKind.FOLLOW_UP_REOPENED]
    assert "已记录过回访结果" in bot.text(f"未解决 {case.number}")  # answered once only


def test_solved_is_thanked_and_the_case_rests(bot: ChatBot) -> None:
    case = _closed(bot)
    assert len(_at_follow_up(bot, case)) == 1
    thanks = bot.text("已解决")  # the one pending follow-up: no number needed
    assert f"很高兴诉求 {case.number} 的问题已经解决" in thanks
    done = case_service(bot.app).get(case.id)
    assert (done.status, done.follow_up_result) == (Status.CLOSED, "solved")
    bot.advance(days=30)
    sweep(bot.app)
    assert delivered(bot, MEMBERS_ROOM) == []
    assert bot.text("已解决", mention=True) == "@张总\u2005您目前没有需要回访确认的诉求。"
    assert bot.say("已解决了，谢谢大家", sender="wxid_li") == []  # chatter in the group


def test_no_answer_in_three_working_days_is_recorded_as_not_reached(bot: ChatBot) -> None:
    case = _closed(bot)
    assert len(_at_follow_up(bot, case)) == 1
    bot.advance(days=3)  # Thursday 09:00
    sweep(bot.app)
    assert bot.deliver() == []
    done = case_service(bot.app).get(case.id)
    assert done.follow_up_result == "no_answer"
    assert _kinds(bot, case)[-1] == EventKind.FOLLOW_UP_FAILED


def test_a_withdrawal_that_did_not_solve_the_problem_is_flagged_to_staff(bot: ChatBot) -> None:
    case = bot.report("厂区门口道路坑洼，货车进不来")
    bot.say(f"撤回 {case.number}")
    withdrawn = case_service(bot.app).get(case.id)
    (asked,) = _at_follow_up(bot, withdrawn)
    assert "已撤回。请问撤回是否因为问题已解决？" in asked
    outs = bot.say(f"未解决 {case.number} 怕麻烦才撤的")
    staff = [o.text for o in outs if o.conversation_id == STAFF_ROOM]
    assert "【回访·撤单质检】" in staff[0]
    assert "怕麻烦才撤的" in staff[0]
    assert case_service(bot.app).get(case.id).status == Status.WITHDRAWN  # not reopened


def test_a_relayed_case_becomes_a_phone_task_that_staff_record(bot: ChatBot) -> None:
    bot.say("代录 华丰纺织有限公司 厂区周边供电不稳定", **WANG)
    bot.say("1", **WANG)
    case = case_service(bot.app).where("enterprise = ?", ["华丰纺织有限公司"])[0]
    bot.say(f"办结 {case.number} 已协调供电公司改线", **WANG)
    bot.say(f"评价 {case.number} 满意", sender="wxid_wang", room=None)  # passed on by 王科长
    bot.deliver()
    bot.advance(days=7)
    sweep(bot.app)
    outs = bot.deliver()
    assert [o.conversation_id for o in outs] == [STAFF_ROOM]  # nothing to the enterprise
    assert "【回访任务】诉求 " + case.number in outs[0].text
    assert "请电话回访问题是否真正解决" in outs[0].text
    todo = bot.text("待办", **WANG)
    assert "待电话回访 1 件" in todo
    assert f"{case.number}｜华丰纺织有限公司" in todo

    bot.advance(days=10)  # a staff task does not expire
    sweep(bot.app)
    recorded = bot.text(f"回访 {case.number} 已解决 电话确认已恢复供电", **WANG)
    assert recorded == f"@王科长\u2005已记录诉求 {case.number} 的回访结果：问题已解决。"
    assert "待电话回访" not in bot.text("待办", **WANG)
    assert case_service(bot.app).get(case.id).follow_up_result == "solved"


def test_follow_up_days_zero_turns_it_off(bot: ChatBot) -> None:
    cases = case_settings(bot.app.config).model_copy(update={"follow_up_days": 0})
    bot.app.config._sections["cases"] = cases
    case = _closed(bot)
    assert case.follow_up_due_at is None
    bot.advance(days=60)
    sweep(bot.app)
    assert delivered(bot, MEMBERS_ROOM) == []


async def test_the_console_lists_phone_tasks_and_records_the_call(bot: ChatBot) -> None:
    """The same phone task on the 工作台 and the case page, recorded there as in chat."""
    bot.say("代录 华丰纺织有限公司 厂区周边供电不稳定", **WANG)
    bot.say("1", **WANG)
    case = case_service(bot.app).where("enterprise = ?", ["华丰纺织有限公司"])[0]
    bot.say(f"办结 {case.number} 已协调供电公司改线", **WANG)
    bot.say(f"评价 {case.number} 满意", sender="wxid_wang", room=None)
    bot.advance(days=7)
    sweep(bot.app)
    bot.deliver()
    async with http_console(bot.app) as client:
        await http_login(client, "wang")
        board = await client.get("/")
        assert f"{case.number}华丰纺织有限公司" in text_at(board.text, "//section[@id='calls']")
        page = await client.get(f"/cases/{case.number}")
        assert "请电话回访" in text_at(page.text, "//section[@id='follow-up']")
        csrf = csrf_in(page.text)
        url = f"/cases/{case.number}/follow_up"
        await client.post(url, data={"csrf": csrf, "text": "没选结果"})
        assert case_service(bot.app).get(case.id).follow_up_result is None
        done = await client.post(url, data={"csrf": csrf, "result": "unsolved", "text": "又停电"})
        shown = await client.get(done.headers["location"])
        flash = text_at(shown.text, "//article[contains(@class, 'flash')]")
        assert f"已记录诉求 {case.number} 的回访结果" in flash
        assert not text_at(shown.text, "//section[@id='follow-up']")
        board = await client.get("/")
        assert not text_at(board.text, "//section[@id='calls']")
    reopened = case_service(bot.app).get(case.id)
    assert (reopened.follow_up_result, reopened.status) == ("unsolved", Status.IN_PROGRESS)
    assert _kinds(bot, case)[-1] == EventKind.FOLLOW_UP_REOPENED
    told = delivered(bot, STAFF_ROOM)
    assert any("又停电" in t for t in told)  # staff told, as from chat
