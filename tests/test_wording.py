"""Wording a secretariat noticed (issue 10, "Cases"): each with its template and a test."""

from __future__ import annotations

from tests.conftest import ChatBot
from tests.test_staff import WANG, open_case


def test_details_of_a_reopened_then_withdrawn_case_shows_no_resolution_time(
    bot: ChatBot,
) -> None:
    case = open_case(bot)
    bot.say(f"认领 {case.number}", **WANG)
    bot.say(f"办结 {case.number} 银行同意续贷", **WANG)
    assert "办结时间：" in bot.text(f"详情 {case.number}", **WANG)
    bot.say("不满意 还没有放款")
    bot.say(f"撤回 {case.number}")

    details = bot.text(f"详情 {case.number}", **WANG)

    assert "已撤回" in details
    assert "办结时间：" not in details
