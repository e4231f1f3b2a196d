"""问卷 in chat: sent to a tagged group, answered one question at a time by three members
(one changing an answer at the review, one resuming after an interruption and a restart,
one skipping an optional question) and by one on the member page's service method; the
results and the XLSX; bad answers refused with nothing changed; after the deadline refused."""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.clock import FrozenClock
from bot.people import Actor
from handlers.surveys import SurveyService
from handlers.surveys.answers import AnswerError
from handlers.surveys.results import labels, results, write_export
from handlers.surveys.service import Audience, SurveyRefused
from tests.conftest import MEMBERS_ROOM, OTHER_ROOM, ChatBot, demo_config, make_services

STAFF = Actor("wxid_wang", "王科长")
ZHOU = "wxid_zhou"  # answers on the member page

SURVEY: dict[str, Any] = {
    "title": "四季度经营情况快报",
    "intro": "五道题，一分钟。",
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
    """The survey defined and sent to the groups tagged 制造业 (会员一群 only)."""
    app = bot.app
    for room in (MEMBERS_ROOM, OTHER_ROOM):
        bot.say("大家好", room=room)
    app.places.set_tags(MEMBERS_ROOM, ["制造业"])
    app.people.remember("wxid_zhang", enterprise="张氏机械")
    app.people.remember("wxid_li", enterprise="李记食品")
    app.people.remember("wxid_sun", enterprise="孙氏物流")
    app.people.remember(ZHOU, name="周总", enterprise="周氏电子")
    survey = app.service(SurveyService).define(data, STAFF)
    sent = app.service(SurveyService).send(survey.id, Audience(groups="制造业"), STAFF)
    assert sent.groups == ["会员一群"]
    return survey.id


def ask(bot: ChatBot, text: str, who: str) -> str:
    return bot.text(text, sender=who, room=None)


def answers_of(bot: ChatBot, survey_id: int, who: str) -> tuple[str, int, dict[str, Any]]:
    found = bot.app.service(SurveyService).progress(survey_id, who)
    assert found is not None
    return found.status, found.position, found.answers


def test_a_survey_sent_to_a_tag_is_answered_by_three_in_chat_and_one_on_the_page(
    bot: ChatBot, tmp_path: Path, clock: FrozenClock
) -> None:
    survey_id = sent_survey(bot)
    out = bot.deliver()
    notice = [o.text for o in out if o.conversation_id == MEMBERS_ROOM]
    assert len(notice) == 1
    assert "四季度经营情况快报" in notice[0]
    assert "私聊我发送「问卷」即可作答" in notice[0]
    assert not [o for o in out if o.conversation_id == OTHER_ROOM]
    assert "请私聊我" in bot.text("问卷")  # in the group: answer privately

    # 张总 answers everything, then changes an answer at the review.
    first = ask(bot, "问卷", "wxid_zhang")
    assert "五道题" in first
    assert "第1/5题：营收与上季度相比" in first
    assert "1. 增长" in first
    assert "第2/5题" in ask(bot, "1", "wxid_zhang")
    assert "第3/5题（选填）" in ask(bot, "120人", "wxid_zhang")
    assert "第4/5题" in ask(bot, "1 3", "wxid_zhang")
    assert "第5/5题（选填）" in ask(bot, "4", "wxid_zhang")
    review = ask(bot, "希望多办政策解读会", "wxid_zhang")
    assert "请核对" in review
    assert "希望得到的支持：融资、政策解读" in review
    assert "在岗职工人数：120人" in review
    changed = ask(bot, "修改 2", "wxid_zhang")
    assert "修改第2/5题" in changed
    assert "原来的回答：120" in changed
    assert "在岗职工人数：150人" in ask(bot, "150", "wxid_zhang")
    assert "已提交" in ask(bot, "提交", "wxid_zhang")
    assert answers_of(bot, survey_id, "wxid_zhang") == (
        "submitted", 5,
        {"trend": "增长", "staff": 150, "needs": ["融资", "政策解读"], "mood": 4,
         "note": "希望多办政策解读会"},
    )  # fmt: skip
    assert "没有需要您填写的问卷" in ask(bot, "问卷", "wxid_zhang")
    assert "已经提交过" in ask(bot, f"问卷 {survey_id}", "wxid_zhang")

    # 李总 answers two questions, wanders off to another command, and the bot restarts.
    ask(bot, "问卷", "wxid_li")
    ask(bot, "2", "wxid_li")
    ask(bot, "35", "wxid_li")
    bot.advance(hours=1)  # the prompt expires; the place is kept
    assert "发送「问卷」从停下的地方继续" in ask(bot, "3", "wxid_li")
    menu = ask(bot, "帮助", "wxid_li")
    assert "问卷" in menu
    assert answers_of(bot, survey_id, "wxid_li")[:2] == ("started", 2)
    bot.app.close()
    bot.app = make_services(demo_config(), tmp_path / "bot.db", clock)
    again = ChatBot(bot.app, clock)
    again._ids = bot._ids  # new message ids after the restart
    back = ask(again, "问卷", "wxid_li")
    assert "欢迎回来" in back
    assert "第3/5题（选填）" in back
    for text in ("2", "3", "跳过"):
        ask(again, text, "wxid_li")
    assert "已提交" in ask(again, "提交", "wxid_li")

    # 孙总 skips the optional question about support.
    ask(again, "问卷", "wxid_sun")
    for text in ("3", "8", "跳过", "2", "资金紧张"):
        ask(again, text, "wxid_sun")
    assert "希望得到的支持：（未填）" in ask(again, "问卷", "wxid_sun")  # back at the review
    assert "已提交" in ask(again, "提交", "wxid_sun")

    # 周总 answers on the member page, through the service method it calls.
    svc = again.app.service(SurveyService)
    assert [s.id for s in svc.open_for(ZHOU)] == [survey_id]
    assert [q.id for q in svc.questions(survey_id)] == ["trend", "staff", "needs", "mood", "note"]
    done = svc.answer(
        survey_id, ZHOU, {"trend": "持平", "staff": "60", "needs": ["用工"], "mood": 5},
        Actor(ZHOU, "周总"),
    )  # fmt: skip
    assert done.response.submitted
    assert svc.open_for(ZHOU) == []

    # The results and the workbook.
    survey = svc.get(survey_id)
    assert survey is not None
    r = results(svc.store, survey)
    assert (r.submitted, r.started, r.groups) == (4, 0, 1)
    by_id = {t.question.id: t for t in r.tallies}
    assert by_id["trend"].counts == [("增长", 1), ("持平", 2), ("下降", 1)]
    assert (by_id["needs"].answered, by_id["needs"].skipped) == (3, 1)
    assert by_id["needs"].counts == [("融资", 1), ("用工", 2), ("政策解读", 1)]
    assert by_id["staff"].stats["sum"] == 150 + 35 + 8 + 60
    assert by_id["mood"].counts == [("1", 0), ("2", 1), ("3", 1), ("4", 1), ("5", 1)]
    assert by_id["note"].texts == [("张氏机械", "希望多办政策解读会"), ("孙氏物流", "资金紧张")]

    path = tmp_path / "survey.xlsx"
    write_export(svc.store, survey, labels(again.app.templates.render), again.app.config.tz, path)
    book = load_workbook(path, read_only=True)
    rows = [list(row) for row in book["回答"].iter_rows(values_only=True)]
    assert rows[0][:4] == ["企业", "填写人", "提交时间", "1. 营收与上季度相比"]
    assert [row[0] for row in rows[1:]] == ["周氏电子", "孙氏物流", "张氏机械", "李记食品"]
    assert rows[3][3:] == ["增长", 150, "融资、政策解读", 4, "希望多办政策解读会"]
    assert rows[2][3:] == ["下降", 8, None, 2, "资金紧张"]
    summary = [list(row) for row in book["汇总"].iter_rows(values_only=True)]
    assert ["1. 营收与上季度相比", "持平", 2, 0.5] in summary
    again.app.close()


def test_bad_answers_are_refused_politely_and_change_nothing(bot: ChatBot) -> None:
    survey_id = sent_survey(bot)
    (first,) = bot.say("问卷", sender="wxid_zhang", room=None)
    assert [(c.label, c.command) for c in first.choices] == [("增长", "1"), ("持平", "2"),
                                                             ("下降", "3")]  # fmt: skip
    before = answers_of(bot, survey_id, "wxid_zhang")
    for bad, said in (
        ("4", "请回复1到3之间的序号"),
        ("很好", "没有找到这个选项"),
    ):
        reply = ask(bot, bad, "wxid_zhang")
        assert said in reply
        assert "未作任何改动" in reply
        assert "第1/5题" in reply  # the same question again
    assert answers_of(bot, survey_id, "wxid_zhang") == before
    ask(bot, "1", "wxid_zhang")
    assert "不是一个数字" in ask(bot, "一百", "wxid_zhang")
    (optional,) = bot.say("100", sender="wxid_zhang", room=None)
    assert [c.command for c in optional.choices] == ["跳过"]
    (scale,) = bot.say("跳过", sender="wxid_zhang", room=None)
    assert [c.label for c in scale.choices] == ["1分", "2分", "3分", "4分", "5分"]
    refusal = ask(bot, "跳过", "wxid_zhang")
    assert "第4题是必答题，不能跳过" in refusal
    assert "1到5之间" in ask(bot, "6", "wxid_zhang")
    assert "只能修改已回答过的题，题号请写1到3之间" in ask(bot, "修改 4", "wxid_zhang")
    again = ask(bot, "修改 2", "wxid_zhang")  # before the end, too: then back to question 4
    assert "修改第2/5题" in again
    assert "原来的回答：100" in again
    assert "第4/5题" in ask(bot, "101", "wxid_zhang")
    assert answers_of(bot, survey_id, "wxid_zhang") == (
        "started", 3, {"trend": "增长", "staff": 101, "needs": None},
    )  # fmt: skip

    svc = bot.app.service(SurveyService)
    who = Actor(ZHOU, "周总")
    for answers, code in (
        ({"trend": "增长", "staff": "很多", "mood": 3}, "bad_number"),
        ({"trend": "增长", "staff": 3}, "required"),
        ({"trend": "上升", "staff": 3, "mood": 3}, "bad_option"),
        ({"trend": "增长", "staff": 3, "mood": 9}, "bad_scale"),
    ):
        with pytest.raises(AnswerError) as refused:
            svc.answer(survey_id, ZHOU, answers, who)
        assert refused.value.code == code
    assert svc.progress(survey_id, ZHOU) is None


def test_after_the_deadline_answers_are_refused_politely(bot: ChatBot) -> None:
    survey_id = sent_survey(bot)
    bot.clock.set(bot.clock.now().replace(day=20, hour=17, minute=50))
    ask(bot, "问卷", "wxid_zhang")
    ask(bot, "1", "wxid_zhang")
    bot.advance(minutes=10)
    late = ask(bot, "100", "wxid_zhang")
    assert "已于11月20日(周五) 18:00截止，不再接收回答" in late
    assert answers_of(bot, survey_id, "wxid_zhang")[:2] == ("started", 1)
    assert "没有需要您填写的问卷" in ask(bot, "问卷", "wxid_zhang")
    assert "截止" in ask(bot, f"问卷 {survey_id}", "wxid_zhang")
    svc = bot.app.service(SurveyService)
    with pytest.raises(SurveyRefused) as refused:
        svc.answer(survey_id, ZHOU, {"trend": "增长", "staff": 1, "mood": 1}, Actor(ZHOU, "周总"))
    assert refused.value.code == "closed"
    with pytest.raises(SurveyRefused):
        bot.app.service(SurveyService).send(survey_id, Audience(groups="全部"), STAFF)


def test_a_survey_once_sent_cannot_be_redefined_and_a_draft_can(bot: ChatBot) -> None:
    svc = bot.app.service(SurveyService)
    draft = svc.define({**deepcopy(SURVEY), "key": "q4"}, STAFF)
    changed = svc.define({**deepcopy(SURVEY), "key": "q4", "title": "四季度快报（修订）"}, STAFF)
    assert changed.id == draft.id
    assert changed.title == "四季度快报（修订）"
    sent_survey(bot, {**deepcopy(SURVEY), "key": "q4"})
    with pytest.raises(SurveyRefused) as refused:
        svc.define({**deepcopy(SURVEY), "key": "q4"}, STAFF)
    assert refused.value.code == "edit_sent"
