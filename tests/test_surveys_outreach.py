"""问卷 beyond one chat: the quarterly example filling enterprise profiles, a send to the
enterprises a profile filter matches, the one reminder (through the feature's APScheduler
job) to whoever has not submitted, and `chamberbot surveys` with its `file: key: reason`."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.people import Actor
from bot.scheduler import build_scheduler
from bot.services import Services
from chamberbot.cli import main
from chamberbot.root import FEATURES, load
from handlers.enterprises.service import EnterpriseService, ProfileFilter
from handlers.surveys import SurveyService
from handlers.surveys.model import DefinitionError
from handlers.surveys.outreach import remind, sweep_job
from handlers.surveys.service import Audience
from handlers.surveys.web import EXAMPLE
from tests.conftest import MEMBERS_ROOM, TZ, ChatBot, running

STAFF = Actor("wxid_wang", "王科长")


def quarterly(deadline: str = "2026-11-23 18:00") -> dict[str, Any]:
    """The shipped example with a deadline a week after the tests' Monday."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return {**data, "deadline": deadline}


def profiles(app: Any) -> EnterpriseService:
    """Three enterprises: two 制造业 (one 小型, one 中型) and a 批发和零售业 one."""
    ent = app.service(EnterpriseService)
    for contact, name, industry, size in (
        ("wxid_zhang", "张氏机械", "制造业", "小型"),
        ("wxid_li", "李记食品", "制造业", "中型"),
        ("wxid_sun", "孙氏商贸", "批发和零售业", "小型"),
    ):
        app.people.remember(contact, name=contact, enterprise=name)
        ent.save({"name": name, "industry": industry, "size": size}, STAFF,
                 contact_id=contact, source="console")  # fmt: skip
    return ent


def answer_all(bot: ChatBot, who: str, answers: list[str]) -> str:
    bot.say("问卷", sender=who, room=None)
    for text in answers:
        bot.say(text, sender=who, room=None)
    return bot.text("提交", sender=who, room=None)


# The quarterly example, question by question: 行业 (1 制造业 … 6 信息传输…), 规模, 资质 (multi),
# 营收趋势, 营收, 订单预期, 信心, 职工, 用工, 融资困难 (multi), 政策需求 (multi), 建议.
ANSWERS = ["6", "3", "1 2", "2", "850", "1", "4", "46", "3", "1 5", "2 4", "希望多组织银企对接"]


def test_survey_answers_fill_the_enterprise_profile(bot: ChatBot) -> None:
    app = bot.app
    ent = profiles(app)
    survey = app.service(SurveyService).define(quarterly(), STAFF)
    assert len(survey.definition.questions) == 12
    app.service(SurveyService).send(
        survey.id, Audience(profile=ProfileFilter(industries=("制造业",))), STAFF
    )
    thanks = answer_all(bot, "wxid_zhang", ANSWERS)
    assert "已提交" in thanks
    assert "已根据您的回答更新贵企业的资料：行业、规模、资质" in thanks
    profile = ent.of_contact("wxid_zhang")
    assert profile is not None
    assert profile.industry == "信息传输、软件和信息技术服务业"
    assert profile.size == "小型"
    assert profile.qualifications == ("高新技术企业", "专精特新")
    sources = {c["source"] for c in ent.changes(profile.id) if c["field"] != "name"}
    assert sources == {"console", f"survey:{survey.id}"}

    # 其他 is no industry: the answer is kept in the survey, the profile left as it was.
    answers = ["10", *ANSWERS[1:]]
    assert "已提交" in answer_all(bot, "wxid_li", answers)
    li = ent.of_contact("wxid_li")
    assert li is not None
    assert li.industry == "制造业"
    assert li.size == "小型"
    done = app.service(SurveyService).progress(survey.id, "wxid_li")
    assert done is not None
    assert done.answers["industry"] == "其他"


def test_a_profile_filter_send_and_the_one_reminder_to_who_has_not_finished(
    bot: ChatBot,
) -> None:
    app = bot.app
    profiles(app)
    bot.say("大家好", room=MEMBERS_ROOM)
    app.places.set_tags(MEMBERS_ROOM, ["制造业"])
    svc = app.service(SurveyService)
    survey = svc.define(quarterly(), STAFF)
    sent = svc.send(survey.id, Audience(profile=ProfileFilter(industries=("制造业",))), STAFF)
    assert sent.contacts == ["wxid_li", "wxid_zhang"]
    invites = {o.conversation_id: o for o in bot.deliver()}
    assert set(invites) == {"wxid_li", "wxid_zhang"}
    assert "回复「问卷 1」开始作答" in invites["wxid_zhang"].text
    assert [c.command for c in invites["wxid_zhang"].choices] == ["问卷 1"]
    small = ProfileFilter(sizes=("小型",))
    again = svc.send(survey.id, Audience(groups="制造业", profile=small), STAFF)
    assert (again.groups, again.contacts, again.already) == (["会员一群"], ["wxid_sun"], 1)
    bot.deliver()

    assert "已提交" in answer_all(bot, "wxid_zhang", ANSWERS)
    bot.say("问卷", sender="wxid_li", room=None)
    bot.say("1", sender="wxid_li", room=None)  # 李总 starts and stops

    assert remind(app) == []  # not yet: a day before the deadline
    bot.clock.set(datetime(2026, 11, 22, 18, 0, tzinfo=TZ))
    with running(app):
        import asyncio

        asyncio.run(sweep_job())
        asyncio.run(sweep_job())  # once only
    said = bot.deliver()
    private = {o.conversation_id: o.text for o in said if o.conversation_id != MEMBERS_ROOM}
    assert set(private) == {"wxid_li", "wxid_sun"}
    assert "您还没有提交" in private["wxid_li"]
    assert "您还没有填写" in private["wxid_sun"]
    group = [o.text for o in said if o.conversation_id == MEMBERS_ROOM]
    assert len(group) == 1
    assert "已经提交的请忽略" in group[0]
    assert remind(app, bot.clock.now() + timedelta(hours=1)) == []


async def test_the_reminder_sweep_is_a_stored_scheduler_job(bot: ChatBot) -> None:
    scheduler = build_scheduler(bot.app)
    scheduler.start()
    try:
        job = scheduler.get_job("surveys_sweep")
        assert job is not None
        assert job.func_ref == "handlers.surveys.outreach:sweep_job"
        interval = bot.app.config.sweep_interval_seconds
        assert job.trigger.interval == timedelta(seconds=interval)
    finally:
        scheduler.shutdown(wait=False)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A small config (each command reads it again; the demo's takes 0.2 s to parse)."""
    path = tmp_path / "config.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\ndatabase: bot.db\n", encoding="utf-8")
    return path


def _cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str]:
    code = main(["surveys", *args, "--config", str(config)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_surveys_commands_load_list_send_show_export_and_bad_files(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    deadline = (datetime.now(TZ) + timedelta(days=7)).strftime("%Y-%m-%d %H:%M")
    good = tmp_path / "q.yaml"
    good.write_text(yaml.safe_dump(quarterly(deadline), allow_unicode=True), encoding="utf-8")
    code, out = _cli(capsys, config, "load", str(good))
    assert code == 0, out
    assert "已保存问卷 1「季度企业经营状况调查」（12题，草稿）" in out
    code, out = _cli(capsys, config, "send", "1")
    assert code == 2
    assert "请指定发送对象" in out
    code, out = _cli(capsys, config, "send", "1", "--groups", "全部")
    assert code == 2  # the bot has seen no group yet
    assert "没有符合条件的群或企业联系人" in out
    live = Services(load(config), db_path=config.parent / "data" / "bot.db", features=FEATURES)
    live.places.remember_room(MEMBERS_ROOM, "会员一群")
    live.places.remember_room("room_members2", "会员二群")
    live.close()
    code, out = _cli(capsys, config, "send", "1", "--groups", "全部")
    assert code == 0, out
    assert "已发送：2 个群（会员一群、会员二群）" in out
    code, out = _cli(capsys, config, "list")
    assert "1｜已发出｜季度企业经营状况调查｜12题" in out
    code, out = _cli(capsys, config, "show", "1")
    assert "发出：2 个群" in out
    assert "1. 贵企业所属行业（作答 0，跳过 0）" in out
    code, out = _cli(capsys, config, "export", "1", "--out", str(tmp_path / "a.xlsx"))
    assert code == 0
    assert (tmp_path / "a.xlsx").exists()
    assert _cli(capsys, config, "show", "9")[0] == 1

    bad = quarterly(deadline)
    bad["sections"][1]["questions"][0]["kind"] = "dropdown"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    code, out = _cli(capsys, config, "load", str(path))
    assert code == 2
    assert out.strip() == (
        f"{path}: sections[1].questions[0].kind: must be one of single, multiple, number, text,"
        " scale"
    )
    path.write_text("title: [unclosed", encoding="utf-8")
    assert _cli(capsys, config, "load", str(path))[1].startswith(f"{path}: (top level): not valid")


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        ({"title": "x", "sections": []}, "sections: List should have at least 1 item"),
        ({"title": "x", "sections": [{"questions": [{"text": "行业", "kind": "single",
          "options": ["a"]}]}]}, "sections[0].questions[0].options: a choice needs"),
        ({"title": "x", "sections": [{"questions": [{"text": "y", "kind": "text",
          "profile_field": "phone"}]}]}, "sections[0].questions[0].profile_field: must be"),
        ({"title": "x", "color": 1, "sections": [{"questions": [{"text": "y", "kind": "text"}]}]},
         "color: unknown setting"),
        ({"title": "x", "sections": [{"questions": [{"text": "行业", "kind": "single",
          "options": ["制造业", "信息技术业"], "profile_field": "industry"}]}]},
         "sections[0].questions[0].options[1]: '信息技术业' is not one of enterprises.industry"),
        ({"title": "x", "deadline": "2026-11-01 18:00", "sections": [{"questions": [
          {"text": "y", "kind": "text"}]}]}, "deadline: is in the past"),
    ],
)  # fmt: skip
def test_a_bad_definition_says_where_and_why(
    bot: ChatBot, broken: dict[str, Any], problem: str
) -> None:
    with pytest.raises(DefinitionError) as refused:
        bot.app.service(SurveyService).define(broken, STAFF)
    assert str(refused.value).startswith(problem)
