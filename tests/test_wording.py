"""Wording a secretariat noticed (issue 10, "Cases"): each with its template and a test."""

from __future__ import annotations

from tests.conftest import WANG, ChatBot


def test_details_of_a_reopened_then_withdrawn_case_shows_no_resolution_time(
    bot: ChatBot,
) -> None:
    case = bot.report()
    bot.say(f"认领 {case.number}", **WANG)
    bot.say(f"办结 {case.number} 银行同意续贷", **WANG)
    assert "办结时间：" in bot.text(f"详情 {case.number}", **WANG)
    bot.say("不满意 还没有放款")
    bot.say(f"撤回 {case.number}")

    details = bot.text(f"详情 {case.number}", **WANG)

    assert "已撤回" in details
    assert "办结时间：" not in details


def test_todo_truncation_never_cuts_a_phone_number_in_half(bot: ChatBot) -> None:
    # 24 characters would end inside the number (…请联系1381…).
    case = bot.report("厂区门口的道路坑洼不平货车进不来请联系13812345678尽快")

    todo = bot.text("待办", **WANG)

    (line,) = [line for line in todo.splitlines() if "厂区门口" in line]
    assert line.endswith("货车进不来请联系…")  # the number is left out, not halved
    assert case.number in todo


def test_clip_keeps_short_text_and_whole_numbers() -> None:
    from bot.templates import clip

    assert clip("短文本", 24) == "短文本"
    assert clip("请联系13812345678", 8) == "请联系…"
    assert clip("abcdefghij", 5) == "abcd…"


def test_the_escalation_reply_names_nobody_and_says_escalated_once(bot: ChatBot) -> None:
    case = bot.report()

    reply = bot.text(f"升级 {case.number} 银行拒不配合", **WANG)

    assert reply.startswith("@王科长\u2005诉求 2026-0001（市场环境，经济处）已升级至部门负责人。")
    assert reply.count("王科长") == 1  # the @mention only
    assert reply.count("升级") == 1
    assert "原因：银行拒不配合" in reply
