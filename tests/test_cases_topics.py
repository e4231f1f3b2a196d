"""专题: staff link cases that share a problem; one 回复 / 办结 reaches every linked
enterprise in its own conversation under its own case number, and each rates its own case.
In chat, on the console (the 共性问题 list's 建为专题 too), and in the reports."""

from __future__ import annotations

import lxml.html  # type: ignore[import-untyped]

from bot.db import from_db
from bot.messages import Outgoing
from handlers.cases.service import Case, Status
from handlers.reports.figures import compute
from handlers.reports.html import render_html
from handlers.reports.period import month_of
from handlers.reports.text import summary_context
from tests.conftest import (
    MEMBERS_ROOM,
    OTHER_ROOM,
    STAFF_ROOM,
    TZ,
    WANG,
    ChatBot,
    case_service,
)
from tests.web_harness import csrf_in, http_console, http_login, text_at

LAMP = "园区路灯坏了一个月，晚上下班路上很黑"


def _three(bot: ChatBot) -> tuple[Case, Case, Case]:
    """Three enterprises, three conversations: two groups and a private chat."""
    zhang = bot.report(LAMP, reporter="wxid_zhang", enterprise="张氏机械", room=MEMBERS_ROOM)
    li = bot.report(LAMP, reporter="wxid_li", enterprise="李记食品", room=OTHER_ROOM)
    sun = bot.report(LAMP, reporter="wxid_sun", enterprise="孙氏电子", room=None)
    bot.deliver()
    return zhang, li, sun


def _to(outs: list[Outgoing], conversation: str) -> list[str]:
    return [o.text for o in outs if o.conversation_id == conversation]


def _staff_reply(outs: list[Outgoing]) -> str:
    return "\n".join(_to(outs, STAFF_ROOM))


def test_a_topic_of_three_cases_answered_once_reaches_all_three_each_rated(
    bot: ChatBot,
) -> None:
    zhang, li, sun = _three(bot)
    numbers = f"{zhang.number} {li.number}、{sun.number}"
    made = _staff_reply(bot.say(f"专题 新建 园区路灯 {numbers}", **WANG))
    assert "已建立专题 1「园区路灯」。负责人：王科长（经济处）" in made
    assert f"· {li.number} 李记食品" in made
    details = _staff_reply(bot.say(f"详情 {li.number}", **WANG))
    assert "专题：专题 1「园区路灯」（王科长负责，期限 " in details
    assert "王科长 加入专题：园区路灯" in details

    outs = bot.say("专题 回复 1 已协调供电所，本周内修复园区路灯", **WANG)
    assert "已将专题 1「园区路灯」的答复分别转达 3 家企业" in _staff_reply(outs)
    for case, place in ((zhang, MEMBERS_ROOM), (li, OTHER_ROOM), (sun, "wxid_sun")):
        (told,) = _to(outs, place)  # one message each, in its own conversation
        assert f"关于您的诉求 {case.number}，王科长答复如下" in told
        assert "本周内修复园区路灯" in told
        others = {zhang.number, li.number, sun.number} - {case.number}
        assert not any(n in told for n in others)
    assert [o.mention_ids for o in outs if o.conversation_id == MEMBERS_ROOM] == [("wxid_zhang",)]

    outs = bot.say("专题 办结 1 路灯已全部修复", **WANG)
    assert "专题 1「园区路灯」已办结，3 件诉求已分别办结并请企业评价" in _staff_reply(outs)
    for case, place in ((zhang, MEMBERS_ROOM), (li, OTHER_ROOM), (sun, "wxid_sun")):
        (invite,) = _to(outs, place)
        assert f"诉求 {case.number} 已办结" in invite
        assert case_service(bot.app).get(case.id).status == Status.RESOLVED

    # each enterprise rates its own case where it reported it
    for case, sender, room in (
        (zhang, "wxid_zhang", MEMBERS_ROOM),
        (li, "wxid_li", OTHER_ROOM),
        (sun, "wxid_sun", None),
    ):
        thanked = bot.text("满意", sender=sender, room=room)
        assert f"诉求 {case.number} 已销号" in thanked
        closed = case_service(bot.app).get(case.id)
        assert (closed.status, closed.rating) == (Status.CLOSED, "satisfied")
    kinds = [e.kind for e in case_service(bot.app).timeline(case_service(bot.app).get(li.id))]
    assert kinds[:2] == ["opened", "topic_joined"]
    assert kinds.count("answered") == kinds.count("resolved") == 1

    details = _staff_reply(bot.say("专题 1", **WANG))
    assert "专题 1「园区路灯」｜已办结" in details
    assert "诉求 3 件，涉及企业 3 家" in details
    assert f"· {sun.number}｜孙氏电子｜已销号｜满意" in details
    listing = _staff_reply(bot.say("专题 列表", **WANG))
    assert "1. 「园区路灯」｜已办结｜3 件诉求，3 家企业｜王科长" in listing


def test_a_case_that_left_the_topic_no_longer_receives_its_answers(bot: ChatBot) -> None:
    zhang, li, sun = _three(bot)
    bot.say(f"专题 新建 园区路灯 {zhang.number} {li.number} {sun.number}", **WANG)
    left = _staff_reply(bot.say(f"专题 移出 1 {li.number}", **WANG))
    assert f"诉求 {li.number} 已移出专题 1「园区路灯」" in left
    outs = bot.say("专题 回复 1 供电所已排期", **WANG)
    assert "转达 2 家企业" in _staff_reply(outs)
    assert _to(outs, OTHER_ROOM) == []
    assert len(_to(outs, MEMBERS_ROOM)) == len(_to(outs, "wxid_sun")) == 1
    kinds = [e.kind for e in case_service(bot.app).timeline(case_service(bot.app).get(li.id))]
    assert kinds[-2:] == ["topic_joined", "topic_left"]
    # it may join another 专题 now; while in one, it cannot join a second
    again = _staff_reply(bot.say(f"专题 新建 另一个 {li.number} {zhang.number}", **WANG))
    assert "已建立专题 2「另一个」" in again
    assert f"{zhang.number}（张氏机械）未加入：已在专题 1「园区路灯」中，请先移出" in again


def test_a_topic_reply_is_refused_once_the_topic_is_closed(bot: ChatBot) -> None:
    zhang, li, _sun = _three(bot)
    bot.say(f"专题 新建 园区路灯 {zhang.number} {li.number}", **WANG)
    bot.say("专题 办结 1 已修复", **WANG)
    before = bot.app.outbox.last_id()
    refused = _staff_reply(bot.say("专题 回复 1 再补充一句", **WANG))
    assert "专题 1「园区路灯」已于" in refused
    assert "办结，不能再回复或改动" in refused
    assert bot.app.outbox.last_id() == before + 1  # only the refusal itself
    assert "办结，不能再回复" in _staff_reply(bot.say(f"专题 加入 1 {zhang.number}", **WANG))


def _nothing_changed(bot: ChatBot) -> tuple[int, int, int]:
    db = bot.app.db
    return (
        db.table("topics").count,
        db.table("topic_cases").count,
        db.execute("select count(*) from case_events").fetchone()[0],
    )


def test_bad_input_is_answered_politely_in_chinese_and_changes_nothing(bot: ChatBot) -> None:
    zhang, li, _sun = _three(bot)
    bot.say(f"专题 新建 园区路灯 {zhang.number}", **WANG)
    before = _nothing_changed(bot)
    answers = {
        "专题 新建": "请写上专题名称",
        "专题 新建 园区路灯": "请写上要加入专题的诉求编号",
        f"专题 新建 {'很长' * 30} {li.number}": "专题名称最多 40 个字",
        f"专题 新建 路灯 {li.number} 9999": "没有找到诉求 2026-9999",
        f"专题 新建 路灯 {zhang.number}": "没有可以加入专题的诉求，未作任何改动",
        "专题 加入 7 0002": "没有找到专题 7",
        "专题 加入 1": "请写上要加入专题的诉求编号",
        f"专题 移出 1 {li.number}": f"诉求 {li.number} 不在专题 1「园区路灯」中",
        "专题 回复 1": "请写上回复的内容",
        "专题 回复 路灯 你好": "没有看懂「路灯」",
        "专题 期限 1 下周五": "看不懂日期「下周五」",
        "专题 期限 1 2020-01-01": "期限 2020-01-01 已经过去",
        "专题 指派 1 @路人甲": "没有找到工作人员「路人甲」",
        "专题 解散 1": "没有看懂「解散」",
    }
    for said, expected in answers.items():
        reply = _staff_reply(bot.say(said, **WANG))
        assert expected in reply, (said, reply)
        assert "Traceback" not in reply
    assert _nothing_changed(bot) == before
    # a member may not use it
    member = bot.text(f"专题 新建 路灯 {li.number}", sender="wxid_li", room=OTHER_ROOM)
    assert "工作人员" in member
    assert _nothing_changed(bot) == before


def test_deadline_follows_the_cases_unless_set_and_the_owner_can_change(bot: ChatBot) -> None:
    zhang, li, _sun = _three(bot)
    made = _staff_reply(bot.say(f"专题 新建 园区路灯 {zhang.number} {li.number}", **WANG))
    service = case_service(bot.app)
    latest = max(service.get(zhang.id).due_at, service.get(li.id).due_at)
    expected = from_db(latest).astimezone(TZ).date().isoformat()
    assert service.topic(1).deadline == expected
    assert f"期限：{expected}" in made
    set_ = _staff_reply(bot.say("专题 期限 1 2026-12-31", **WANG))
    assert "期限已改为 2026-12-31" in set_
    owner = _staff_reply(bot.say("专题 指派 1 @赵律师", **WANG))
    assert "负责人已改为赵律师（法律处）" in owner
    assert (service.topic(1).owner_id, service.topic(1).department) == ("wxid_zhao", "法律处")
    # each linked case's timeline records both changes (详情 shows them)
    for case in (zhang, li):
        changed = [e.text for e in service.timeline(case) if e.kind == "topic_changed"]
        assert changed == [
            "专题 1「园区路灯」办理期限改为 2026-12-31",
            "专题 1「园区路灯」改由赵律师（法律处）负责",
        ]
    assert "专题变更：专题 1「园区路灯」改由赵律师（法律处）负责" in bot.text(
        f"详情 {zhang.number}", **WANG
    )


async def test_the_console_lists_topics_answers_them_and_builds_one_from_a_common_issue(
    bot: ChatBot,
) -> None:
    zhang, li, sun = _three(bot)
    bot.advance(minutes=5)  # 共性问题 counts cases opened before the report's cut-off
    async with http_console(bot.app) as client:
        await http_login(client, "wang")
        stats = await client.get("/stats")
        assert stats.status_code == 200
        button = "//table[@id='common']//form[@action='/topics/new']//button"
        assert text_at(stats.text, button).startswith("建为专题")
        (first, *_) = lxml.html.fromstring(stats.text).xpath(
            "//table[@id='common']//form[@action='/topics/new']"
        )
        form = {str(i.name): str(i.value) for i in first.xpath(".//input")}
        assert form["cases"] == f"{zhang.number} {li.number} {sun.number}"
        form["name"] = "园区路灯"  # the issue's label, as staff would rename it
        assert (await client.post("/topics/new", data={**form, "csrf": "x"})).status_code == 403
        assert bot.app.db.table("topics").count == 0
        made = await client.post("/topics/new", data=form)
        assert (made.status_code, made.headers["location"]) == (303, "/topics/1")
        page = await client.get("/topics/1")
        assert "已建立专题 1「园区路灯」" in page.text
        assert text_at(page.text, "//h2") == "专题 1「园区路灯」"
        rows = text_at(page.text, "//table[@id='topic-cases']//tbody")
        for case in (zhang, li, sun):
            assert case.number in rows

        token = csrf_in(page.text)
        empty = await client.post("/topics/1/answer", data={"csrf": token, "text": " "})
        assert empty.status_code == 303
        page = await client.get("/topics/1")
        assert "请写上回复的内容" in page.text
        done = await client.post("/topics/1/answer", data={"csrf": token, "text": "本周修复"})
        assert done.status_code == 303
        page = await client.get("/topics/1")
        assert "已将专题 1「园区路灯」的答复分别转达 3 家企业" in page.text
        left = await client.post("/topics/1/leave", data={"csrf": token, "case": sun.number})
        assert left.status_code == 303
        listing = await client.get("/topics")
        assert "园区路灯" in text_at(listing.text, "//table[@id='topics']")
        closed = await client.post("/topics/1/resolve", data={"csrf": token, "text": "已修复"})
        assert closed.status_code == 303
        refused = await client.post("/topics/1/answer", data={"csrf": token, "text": "再说一句"})
        assert refused.status_code == 303
        page = await client.get("/topics/1")
        assert "办结，不能再回复或改动" in page.text
        stats = await client.get("/stats")
        assert text_at(stats.text, "//td[@data-figure='topics']") == "1"
        assert text_at(stats.text, "//td[@data-figure='topic_enterprises']") == "2"  # sun left
    assert any("本周修复" in t for t in _texts(bot, MEMBERS_ROOM))
    assert case_service(bot.app).get(zhang.id).status == Status.RESOLVED
    assert case_service(bot.app).get(sun.id).status == Status.IN_PROGRESS  # left before 办结


def _texts(bot: ChatBot, conversation: str) -> list[str]:
    return [str(row["text"]) for row in bot.queued(conversation)]


def test_the_reports_count_topics_enterprises_and_cases_closed_through_a_topic(
    bot: ChatBot,
) -> None:
    zhang, li, sun = _three(bot)
    bot.say(f"专题 新建 园区路灯 {zhang.number} {li.number} {sun.number}", **WANG)
    bot.say("专题 办结 1 已修复", **WANG)
    bot.say("满意", sender="wxid_zhang", room=MEMBERS_ROOM)
    bot.say("基本满意", sender="wxid_li", room=OTHER_ROOM)  # sun has not rated yet
    now = bot.clock.now()
    report = compute(bot.app.db, bot.app.config, month_of(now), now)
    assert report.topics is not None
    assert (report.topics.topics, report.topics.enterprises, report.topics.closed) == (1, 3, 2)
    render = bot.app.templates.render
    text = render("reports_summary", **summary_context(render, bot.app.config, report))
    assert "专题：建立专题 1 个，覆盖企业 3 家，经专题销号诉求 2 件" in text
    html = render_html(render, bot.app.config, report)
    assert text_at(html, "//td[@data-figure='topic_closed']") == "2"
    assert text_at(html, "//td[@data-figure='topic_enterprises']/../th") == "专题覆盖企业（家）"
