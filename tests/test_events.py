"""活动 in chat: 活动, 报名, the waiting list, 取消报名 and promotion, 签到, refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.messages import Incoming
from handlers.events.service import EventService
from tests.conftest import MEMBERS_ROOM, OTHER_ROOM, STAFF_ROOM, ChatBot
from tests.events_helpers import (
    LECTURE_START,
    last_id,
    make_event,
    rows_for,
    seed_groups,
    texts_to,
)

ZHANG, LI, SUN, WANG = "wxid_zhang", "wxid_li", "wxid_sun", "wxid_wang"


def _known(bot: ChatBot, *ids: str) -> None:
    for i, contact in enumerate(ids):
        bot.app.people.remember(contact, enterprise=f"企业{i + 1}号")


def test_upcoming_events_are_listed_with_seats_left(bot: ChatBot) -> None:
    assert "近期暂无可报名的活动" in bot.text("活动")
    make_event(bot.app, capacity=30)
    make_event(bot.app, title="内部筹备会", announced=False)  # a draft is not shown
    make_event(bot.app, title="上周的沙龙", start=LECTURE_START - timedelta(days=9))
    _known(bot, ZHANG)
    bot.say("报名 1")
    text = bot.text("活动")
    assert "1. 【讲座】数字化转型大讲堂" in text
    assert "11月18日(周三) 14:00–16:00｜商会大厦三楼报告厅｜剩余29个名额（共30人）" in text
    assert "内部筹备会" not in text
    assert "上周的沙龙" not in text


def test_enterprise_is_asked_once_and_shared_with_cases(bot: ChatBot) -> None:
    make_event(bot.app)
    make_event(bot.app, title="融资早餐会", kind="早餐会")
    assert "请回复您的企业名称" in bot.text("报名 1")
    assert rows_for(bot.app, 1) == []
    reply = bot.text("张氏机械有限公司")
    assert "报名成功！「数字化转型大讲堂」（编号 1）" in reply
    assert "如需取消请发送「取消报名 1」" in reply
    assert "报名成功" in bot.text("报名 2")  # no question the second time
    assert "企业名称" not in bot.text("诉求 厂区门口路灯坏了")  # 诉求 knows it too
    (row,) = rows_for(bot.app, 1)
    assert (row["name"], row["enterprise"], row["status"]) == (
        "张总",
        "张氏机械有限公司",
        "registered",
    )


def test_a_name_unknown_to_wechat_is_asked_for(bot: ChatBot) -> None:
    make_event(bot.app)
    _known(bot, "wxid_new")
    msg = Incoming("n1", MEMBERS_ROOM, True, "wxid_new", "", "报名 1", bot.clock.now(), "会员一群")
    (question,) = bot.dispatcher.handle(msg)
    assert "请回复您的姓名" in question.text
    reply = bot.text("周建国", sender="wxid_new")
    assert "报名成功" in reply
    assert rows_for(bot.app, 1)[0]["name"] == "周建国"


def test_over_capacity_waits_with_position_and_twice_is_harmless(bot: ChatBot) -> None:
    make_event(bot.app, capacity=1)
    _known(bot, ZHANG, LI, SUN)
    assert "报名成功" in bot.text("报名 1")
    assert "已进入候补名单第1位" in bot.text("报名 1", sender=LI)
    assert "已进入候补名单第2位" in bot.text("報名 1", sender=SUN)  # Traditional works
    assert "您已报名「数字化转型大讲堂」" in bot.text("报名 1")
    assert "当前：已确认座位" in bot.text("报名 数字化")
    assert "当前：候补第2位" in bot.text("报名 1", sender=SUN)
    assert [r["status"] for r in rows_for(bot.app, 1)] == ["registered", "waiting", "waiting"]


def test_a_unique_part_of_the_title_registers_an_ambiguous_one_lists_numbers(
    bot: ChatBot,
) -> None:
    make_event(bot.app, title="数字化转型大讲堂")
    make_event(bot.app, title="数字经济沙龙", kind="沙龙")
    _known(bot, ZHANG)
    text = bot.text("报名 数字")
    assert "「数字」对应多个活动，请用编号" in text
    assert "1. 数字化转型大讲堂" in text
    assert "2. 数字经济沙龙" in text
    assert rows_for(bot.app, 1) == rows_for(bot.app, 2) == []
    assert "报名成功！「数字经济沙龙」" in bot.text("报名：经济沙龙")


def test_malformed_commands_answer_with_the_form_and_change_nothing(bot: ChatBot) -> None:
    make_event(bot.app, checkin_code="8888", start=bot.clock.now() + timedelta(minutes=30))
    _known(bot, ZHANG)
    bot.say("报名 1")
    before = rows_for(bot.app, 1)
    assert bot.text("报名") == "@张总\u2005格式：报名 <活动编号或名称>\n发送「帮助」查看全部指令。"
    assert "没有找到活动「abc」" in bot.text("报名 abc")
    assert "没有找到活动「999」" in bot.text("报名 999")
    assert "格式：取消报名 <活动编号>" in bot.text("取消报名")
    assert "签到码不正确" in bot.text("签到 1 wrong")
    assert "格式：签到 <活动编号> [签到码]" in bot.text("签到 1 wrong")
    assert "没有找到活动「42」" in bot.text("签到 42")
    assert rows_for(bot.app, 1) == before


def test_deadline_cancelled_and_past_events_are_refused(bot: ChatBot) -> None:
    now = bot.clock.now()
    make_event(bot.app, title="截止的培训", kind="培训", deadline_at=now - timedelta(hours=1))
    cancelled = make_event(bot.app, title="取消的沙龙", kind="沙龙")
    bot.app.service(EventService).cancel_event(cancelled, now)
    make_event(bot.app, title="昨天的下午茶", kind="下午茶", start=now - timedelta(days=1))
    _known(bot, ZHANG)
    assert "报名已于 11月16日(周一) 08:00 截止" in bot.text("报名 1")
    assert "活动「取消的沙龙」已取消，不再接受报名" in bot.text("报名 2")
    assert "已开始或已结束，不能再报名" in bot.text("报名 3")
    make_event(bot.app, title="草稿", announced=False)
    assert "没有找到活动「4」" in bot.text("报名 4")  # a member does not see drafts
    assert "尚未发布，发布后才能报名" in bot.text("报名 4", sender="wxid_wang", room=None)
    assert all(rows_for(bot.app, n) == [] for n in (1, 2, 3, 4))


def test_cancelling_promotes_the_first_waiting_and_tells_them_and_staff(bot: ChatBot) -> None:
    seed_groups(bot)
    make_event(bot.app, capacity=1)
    _known(bot, ZHANG, LI, SUN)
    bot.say("报名 1")
    bot.say("报名 1", sender=LI, room=OTHER_ROOM)
    bot.say("报名 1", sender=SUN, room=None)  # privately
    mark = last_id(bot)
    assert "已取消「数字化转型大讲堂」的报名" in bot.text("取消报名 1")
    (promoted,) = texts_to(bot, OTHER_ROOM, mark)
    assert promoted.startswith("@李总\u2005好消息：有人取消报名，您已从候补转为正式报名")
    assert texts_to(bot, STAFF_ROOM, mark) == [
        "【候补递补】活动 1「数字化转型大讲堂」：李总 已由候补转为正式报名。"
    ]
    assert texts_to(bot, SUN, mark) == []
    mark = last_id(bot)
    bot.say("取消报名 1", sender=LI, room=OTHER_ROOM)
    assert "您已从候补转为正式报名" in texts_to(bot, SUN, mark)[0]  # private: no @
    assert "您没有报名活动「数字化转型大讲堂」" in bot.text("取消报名 1")
    statuses = [(r["contact_id"], r["status"]) for r in rows_for(bot.app, 1)]
    assert statuses == [(ZHANG, "cancelled"), (LI, "cancelled"), (SUN, "registered")]


def test_lowering_capacity_drops_nobody_and_new_sign_ups_wait(bot: ChatBot) -> None:
    event = make_event(bot.app, capacity=3)
    _known(bot, ZHANG, LI, SUN, "wxid_zhou")
    for who in (ZHANG, LI, SUN):
        bot.say("报名 1", sender=who)
    bot.app.service(EventService).edit(event, bot.clock.now(), capacity=1)
    assert "已进入候补名单第1位" in bot.text("报名 1", sender="wxid_zhou")
    bot.say("取消报名 1", sender=ZHANG)  # 2 seated for 1 seat: nobody moves up yet
    statuses = [r["status"] for r in rows_for(bot.app, 1)]
    assert statuses == ["cancelled", "registered", "registered", "waiting"]
    assert "当前：已确认座位" in bot.text("报名 1", sender=SUN)


def test_check_in_window_code_second_time_and_walk_in(bot: ChatBot) -> None:
    start = bot.clock.now() + timedelta(hours=3)
    make_event(bot.app, start=start, checkin_code="8866")
    _known(bot, ZHANG, LI)
    bot.say("报名 1")
    assert "签到尚未开始：「数字化转型大讲堂」的签到 11月16日(周一) 11:00 开放" in bot.text(
        "签到 1 8866"
    )
    bot.advance(hours=2)  # exactly one hour before the start
    assert "本活动需要签到码" in bot.text("签到 1")
    assert "签到码不正确" in bot.text("签到 1 1234")
    assert "签到成功！欢迎参加「数字化转型大讲堂」" in bot.text("签到 1 ８８６６")  # full width
    bot.advance(minutes=5)
    assert "您已签到，11:00，无需重复签到" in bot.text("签到 1 8866")
    walk_in = bot.text("签到 1 8866", sender=LI)
    assert "签到成功（现场登记）" in walk_in
    bot.advance(hours=3)  # the event ended
    assert "已结束，签到已关闭" in bot.text("签到 1 8866", sender="wxid_sun")
    rows = rows_for(bot.app, 1)
    assert [(r["contact_id"], r["status"]) for r in rows] == [
        (ZHANG, "registered"),
        (LI, "walk_in"),
    ]
    assert all(r["checked_in_at"] for r in rows)


def test_phone_is_asked_privately_and_never_shown_in_a_group(bot: ChatBot) -> None:
    make_event(bot.app, need_phone=1)
    make_event(bot.app, title="第二场需手机号的培训", kind="培训", need_phone=1)
    _known(bot, ZHANG)
    text = bot.text("报名 1")
    assert "请私聊我发送「报名 1」完成报名" in text
    assert rows_for(bot.app, 1) == []
    assert "请回复您的手机号" in bot.text("报名 1", room=None)
    assert "手机号格式不对" in bot.text("12345", room=None)
    assert "报名成功" in bot.text("138 1234 5678", room=None)
    assert rows_for(bot.app, 1)[0]["phone"] == "13812345678"
    assert "报名成功" in bot.text("报名 2")  # known now: in the group, no question
    for row in bot.queued(MEMBERS_ROOM):
        assert "5678" not in str(row["text"])


def test_publish_walks_through_preview_and_confirm(bot: ChatBot) -> None:
    seed_groups(bot)
    assert "「发布活动」仅限商会工作人员使用" in bot.text("发布活动")
    assert bot.app.service(EventService).store.where() == []
    ask: dict[str, Any] = {"sender": WANG, "room": STAFF_ROOM}
    assert "请发送活动标题" in bot.text("发布活动", **ask)
    assert "请发送时间" in bot.text("民营企业融资早餐会", **ask)
    assert "没看明白" in bot.text("下周三早上", **ask)
    assert "请发送地点" in bot.text("11-25 08:00-09:30", **ask)
    assert "请发送名额人数" in bot.text("商会一楼咖啡厅", **ask)
    assert "回复「全部」或标签表达式" in bot.text("30人", **ask)
    preview = bot.text("全部", **ask)
    assert "请确认以下活动通知（将发往 2 个群）" in preview
    assert "【活动预告】早餐会｜民营企业融资早餐会" in preview
    assert "时间：11月25日(周三) 08:00–09:30" in preview
    assert bot.app.service(EventService).store.where() == []
    mark = last_id(bot)
    assert "已发布活动 1「民营企业融资早餐会」，通知已排队发往 2 个群" in bot.text("确认", **ask)
    for room in (MEMBERS_ROOM, OTHER_ROOM):
        (post,) = texts_to(bot, room, mark)
        assert post.startswith("【活动预告】早餐会｜民营企业融资早餐会")
        assert "名额：剩余30个名额（共30人）" in post
        assert "报名请发送「报名 1」" in post
    bot.say("发布活动", **ask)
    assert "已取消发布，没有保存任何内容" in bot.text("取消", **ask)
    assert len(bot.app.service(EventService).store.where()) == 1


def test_roster_shows_counts_and_names_to_staff_only(bot: ChatBot) -> None:
    make_event(bot.app, capacity=1, start=bot.clock.now() + timedelta(minutes=30))
    _known(bot, ZHANG, LI)
    bot.say("报名 1")
    bot.say("报名 1", sender=LI)
    bot.say("签到 1")
    bot.say("签到 1", sender="wxid_sun")
    text = bot.text("活动名单 1", sender=WANG, room=STAFF_ROOM)
    assert "已报名 1/1，候补 1，已签到 2（其中现场 1）" in text
    assert "1. 张总（企业1号） ✓09:00" in text
    assert "候补：\n1. 李总（企业2号）" in text
    assert "现场：\n· 孙总（企业未填）✓09:00" in text
    assert "仅限商会工作人员使用" in bot.text("活动名单 1")  # a member
    assert "请在工作群或与我私聊时使用" in bot.text("活动名单 1", sender=WANG)  # member group


def test_two_registrations_in_a_row_number_events_one_two(bot: ChatBot) -> None:
    assert [make_event(bot.app).id, make_event(bot.app).id] == [1, 2]
