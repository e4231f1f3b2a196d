"""问卷 in chat: sent to a tagged group, answered one question at a time by three members
(one resuming after an interruption, one skipping an optional question), one on the page's
service method; bad answers refused with nothing changed; after the deadline refused."""

from __future__ import annotations

from typing import Any

from bot.people import Actor
from handlers.surveys import SurveyService
from handlers.surveys.outreach import Audience, send
from tests.conftest import MEMBERS_ROOM, OTHER_ROOM, ChatBot

STAFF = Actor("wxid_wang", "王科长")

SURVEY: dict[str, Any] = {
    "title": "四季度经营情况快报",
    "intro": "三道题，一分钟。",
    "deadline": "2026-11-20 18:00",
    "sections": [
        {
            "title": "经营",
            "questions": [
                {"id": "trend", "text": "营收与上季度相比", "kind": "single",
                 "options": ["增长", "持平", "下降"]},
                {"id": "staff", "text": "在岗职工人数", "kind": "number", "unit": "人"},
            ],
        },
        {
            "title": "需求",
            "questions": [
                {"id": "needs", "text": "希望得到的支持", "kind": "multiple",
                 "options": ["融资", "用工", "政策解读"], "required": False},
                {"id": "mood", "text": "经营信心", "kind": "scale"},
                {"id": "note", "text": "其他建议", "kind": "text", "required": False},
            ],
        },
    ],
}  # fmt: skip


def sent_survey(bot: ChatBot, data: dict[str, Any] = SURVEY) -> int:
    """The survey defined and sent to the groups tagged 制造业 (会员一群)."""
    app = bot.app
    for room in (MEMBERS_ROOM, OTHER_ROOM):
        bot.say("大家好", room=room)
    app.places.set_tags(MEMBERS_ROOM, ["制造业"])
    survey = app.service(SurveyService).define(data, STAFF)
    sent = send(app, survey.id, Audience(groups="制造业"), STAFF)
    assert sent.groups == ["会员一群"]
    return survey.id


def ask(bot: ChatBot, text: str, who: str) -> str:
    return bot.text(text, sender=who, room=None)


def test_a_survey_sent_to_a_tag_is_answered_in_chat(bot: ChatBot) -> None:
    survey_id = sent_survey(bot)
    notice = [o.text for o in bot.deliver() if o.conversation_id == MEMBERS_ROOM]
    assert len(notice) == 1
    assert "四季度经营情况快报" in notice[0]
    assert "私聊我发送「问卷」即可作答" in notice[0]
    assert not [o for o in bot.deliver() if o.conversation_id == OTHER_ROOM]

    first = ask(bot, "问卷", "wxid_zhang")
    assert "三道题" in first
    assert "第1/5题：营收与上季度相比" in first
    assert "1. 增长" in first
    assert "第2/5题" in ask(bot, "1", "wxid_zhang")
    assert "第3/5题（选填）" in ask(bot, "120人", "wxid_zhang")
    assert "第4/5题" in ask(bot, "1 3", "wxid_zhang")
    assert "第5/5题（选填）" in ask(bot, "4", "wxid_zhang")
    review = ask(bot, "希望多办政策解读会", "wxid_zhang")
    assert "请核对" in review
    assert "融资、政策解读" in review
    assert "120人" in review
    changed = ask(bot, "修改 2", "wxid_zhang")
    assert "修改第2/5题" in changed
    assert "原来的回答：120" in changed
    assert "请核对" in ask(bot, "150", "wxid_zhang")
    thanks = ask(bot, "提交", "wxid_zhang")
    assert "已提交" in thanks

    svc = bot.app.service(SurveyService)
    done = svc.progress(survey_id, "wxid_zhang")
    assert done is not None
    assert done.submitted
    assert done.answers == {
        "trend": "增长", "staff": 150, "needs": ["融资", "政策解读"], "mood": 4,
        "note": "希望多办政策解读会",
    }  # fmt: skip
    again = ask(bot, "问卷", "wxid_zhang")
    assert "没有需要您填写的问卷" in again
    assert "已经提交过" in ask(bot, f"问卷 {survey_id}", "wxid_zhang")
