"""One person, several channels: 绑定 with a one-time code, the person's cases from any
linked channel, a held status push rerouted, 解绑 (handlers/identity)."""

from __future__ import annotations

import asyncio
from itertools import count

import pytest

from bot.journal import Journal
from bot.messages import Incoming
from bot.sender import Sender
from bot.services import Services
from channels.test import TestTransport
from channels.wecom_kf import KfTransport
from channels.wecom_kf_api import KfApi
from channels.wecom_kf_store import KfStore
from handlers.cases.service import CaseService
from handlers.enterprises.service import EnterpriseService
from handlers.identity.reroute import reroute_held
from handlers.identity.service import IdentityService, Link
from tests.conftest import WANG, ChatBot
from tests.events_helpers import make_event
from tests.web_harness import csrf_in, http_console, http_login, text_at

WX, KF = "wxid_zhang", "wm_kf_zhang"  # 张总 on personal WeChat and on 微信客服
_ids = count(1)


def say(bot: ChatBot, text: str, *, channel: str = "wechat", sender: str = WX) -> str:
    """A private message on `channel`; the replies that channel's transport received."""
    msg = Incoming(
        message_id=f"id{next(_ids)}",
        conversation_id=sender,
        is_group=False,
        sender_id=sender,
        sender_name="张总",
        text=text,
        time=bot.clock.now(),
        channel=channel,
    )
    before = bot.app.outbox.last_id()
    bot.dispatcher.handle(msg)
    sent = TestTransport(bot.app.people.name, channel=channel).deliver(bot.app.outbox, before)
    return "\n".join(o.text for o in sent if o.conversation_id == sender)


def report(bot: ChatBot, text: str, *, channel: str = "wechat", sender: str = WX) -> str:
    """诉求 in a private chat, answering the question for the enterprise."""
    asked = say(bot, f"诉求 {text}", channel=channel, sender=sender)
    return say(bot, "张氏机械", channel=channel, sender=sender) if "企业名称" in asked else asked


def code_from(reply: str) -> str:
    return reply.split("验证码：")[1][:6]


def link(bot: ChatBot) -> None:
    code = code_from(say(bot, "绑定"))
    reply = say(bot, f"绑定 {code}", channel="wecom_kf", sender=KF)
    assert "绑定成功" in reply
    assert "个人微信" in reply
    assert "微信客服" in reply


def test_linked_channels_list_each_others_cases_and_act_on_them(bot: ChatBot) -> None:
    report(bot, "银行突然抽贷，资金周转困难")
    report(bot, "厂房租金上涨太快", channel="wecom_kf", sender=KF)
    assert "2026-0001" not in say(bot, "我的诉求", channel="wecom_kf", sender=KF)

    code = code_from(say(bot, "绑定"))
    assert "10分钟" in say(bot, "绑定")  # a second code: the first dies
    assert "已失效" in say(bot, f"绑定 {code}", channel="wecom_kf", sender=KF)
    code = code_from(say(bot, "绑定"))
    before = bot.app.outbox.last_id()
    assert "绑定成功" in say(bot, f"绑定 {code}", channel="wecom_kf", sender=KF)
    told = TestTransport(bot.app.people.name).deliver(bot.app.outbox, before)
    assert any("微信客服绑定" in o.text and o.conversation_id == WX for o in told)

    for channel, sender in (("wechat", WX), ("wecom_kf", KF)):
        mine = say(bot, "我的诉求", channel=channel, sender=sender)
        assert "共2件" in mine
        assert "2026-0001" in mine
        assert "2026-0002" in mine
    assert "抽贷" in say(bot, "进度 1", channel="wecom_kf", sender=KF)
    assert "已记入诉求 2026-0001" in say(bot, "补充 1 附上银行通知", channel="wecom_kf", sender=KF)
    assert "2026-0002 已撤回" in say(bot, "撤回 2 已自行解决", channel="wechat", sender=WX)
    assert "无需重复绑定" in say(
        bot, f"绑定 {code_from(say(bot, '绑定'))}", channel="wecom_kf", sender=KF
    )

    # someone else (not linked) sees none of it
    assert "2026-0001" not in say(bot, "我的诉求", sender="wxid_li")
    assert "没有找到诉求 2026-0001" in say(bot, "进度 1", sender="wxid_li")


def test_a_held_status_push_goes_to_the_linked_channel_and_the_timeline_says_so(
    bot: ChatBot, app: Services
) -> None:
    report(bot, "厂房租金上涨太快", channel="wecom_kf", sender=KF)
    link(bot)
    bot.text("办结 2026-0001 已协调园区降低租金", **WANG)

    # the 客服 channel cannot deliver (no customer message in 48 hours: the window is shut)
    api = KfApi("http://127.0.0.1:9", "corp", "secret", app.clock)  # never called
    kf = KfTransport(
        api,
        KfStore(app.db),
        Journal(app.db, "wecom_kf"),
        app.outbox,
        open_kfid="wk1",
        render=app.templates.render,
        clock=app.clock,
        servicers=[],
    )
    sender = Sender(app.outbox, kf, app.config.pacing, clock=app.clock)
    assert asyncio.run(sender.drain_once(paced=False)) == 0
    [held] = app.outbox.held_for(KF)
    assert "2026-0001" in held.out.text

    assert reroute_held(app) == 1
    assert app.outbox.held_for(KF) == []
    [pushed] = [o for o in bot.deliver() if "已协调园区降低租金" in o.text]
    assert pushed.conversation_id == WX
    assert pushed.channel == "wechat"
    assert pushed.text.startswith("（原渠道微信客服暂时无法送达，改发到这里）")
    assert reroute_held(app) == 0  # once
    before = app.outbox.last_id()
    kf.release(KF)  # the member writes on 客服 again: nothing left to send twice
    assert app.outbox.last_id() == before

    details = bot.text("详情 2026-0001", **WANG)
    assert "改送其他渠道" in details
    assert "个人微信" in details


def test_five_wrong_codes_and_the_contact_is_refused_even_the_right_code(
    bot: ChatBot, app: Services
) -> None:
    code = code_from(say(bot, "绑定"))
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    replies = [say(bot, f"绑定 {wrong}", channel="wecom_kf", sender=KF) for _ in range(5)]
    assert all("验证码不正确" in r for r in replies)
    assert "还可以再试4次" in replies[0]
    assert "10分钟后再试" in replies[4]
    refused = say(bot, f"绑定 {code}", channel="wecom_kf", sender=KF)
    assert "输错次数过多" in refused
    assert app.service(IdentityService).same_person(KF) == [KF]
    assert "共1件" not in say(bot, "我的诉求", channel="wecom_kf", sender=KF)


def test_a_code_dies_after_five_wrong_tries_by_anyone(bot: ChatBot, app: Services) -> None:
    code = code_from(say(bot, "绑定"))
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for n in range(5):  # five different strangers, one guess each
        say(bot, f"绑定 {wrong}", channel="wecom_kf", sender=f"wm_guess{n}")
    assert "已失效" in say(bot, f"绑定 {code}", channel="wecom_kf", sender=KF)
    assert app.service(IdentityService).same_person(WX) == [WX]


def test_an_expired_or_used_code_is_refused_and_links_nobody(bot: ChatBot, app: Services) -> None:
    code = code_from(say(bot, "绑定"))
    bot.advance(minutes=10, seconds=1)
    assert "已失效" in say(bot, f"绑定 {code}", channel="wecom_kf", sender=KF)
    assert app.service(IdentityService).same_person(KF) == [KF]

    code = code_from(say(bot, "绑定"))
    assert "绑定成功" in say(bot, f"绑定 {code}", channel="wecom_kf", sender=KF)
    assert "已失效" in say(bot, f"绑定 {code}", channel="wecom_kf", sender="wm_other")
    assert app.service(IdentityService).same_person("wm_other") == ["wm_other"]


@pytest.mark.parametrize("text", ["绑定 12345", "绑定 abcdef", "绑定 1234567"])
def test_bad_input_is_answered_politely_and_counts_nothing(
    bot: ChatBot, app: Services, text: str
) -> None:
    assert "验证码是6位数字" in say(bot, text, channel="wecom_kf", sender=KF)
    assert app.service(IdentityService).failures(KF, app.clock.now()) == 0


def test_own_code_and_group_are_refused(bot: ChatBot) -> None:
    code = code_from(say(bot, "绑定"))
    assert "另一个渠道" in say(bot, f"绑定 {code}")
    assert "私聊" in bot.text("绑定")


def test_unlink_leaves_each_channel_its_own_cases(bot: ChatBot, app: Services) -> None:
    report(bot, "银行突然抽贷，资金周转困难")
    report(bot, "厂房租金上涨太快", channel="wecom_kf", sender=KF)
    link(bot)
    assert "共2件" in say(bot, "我的诉求", channel="wecom_kf", sender=KF)

    before = app.outbox.last_id()
    assert "已解除本渠道与个人微信的绑定" in say(bot, "解绑", channel="wecom_kf", sender=KF)
    told = TestTransport(app.people.name).deliver(app.outbox, before)
    assert any("已解除" in o.text and o.conversation_id == WX for o in told)
    mine = say(bot, "我的诉求", channel="wecom_kf", sender=KF)
    assert "2026-0002" in mine
    assert "2026-0001" not in mine
    assert "2026-0002" not in say(bot, "我的诉求")
    assert "没有与其他渠道绑定" in say(bot, "解绑")


def test_links_merge_three_channels_into_one_person(app: Services) -> None:
    identity, now = app.service(IdentityService), app.clock.now()
    a, b, c = (
        Link(i, ch, i) for i, ch in (("a", "wechat"), ("b", "wecom_kf"), ("c", "wecom_bot"))
    )
    assert identity.link(a, b, now, "staff")
    assert identity.link(c, b, now, "staff")
    assert not identity.link(a, c, now, "staff")
    assert identity.same_person("c") == ["c", "a", "b"]
    assert app.people.same_person("a") == ["a", "b", "c"]
    identity.unlink("b")
    assert identity.same_person("a") == ["a", "c"]


def test_registrations_profile_and_enterprise_are_the_persons(bot: ChatBot, app: Services) -> None:
    report(bot, "银行突然抽贷，资金周转困难")  # the enterprise is asked once, on WeChat
    event = make_event(app)
    signed = say(bot, f"报名 {event.id}")
    if "企业名称" in signed or "姓名" in signed or "电话" in signed:
        signed = say(bot, "张氏机械")
    assert "报名成功" in signed
    link(bot)

    again = say(bot, f"报名 {event.id}", channel="wecom_kf", sender=KF)
    assert "无需重复报名" in again
    assert "已取消" in say(bot, f"取消报名 {event.id}", channel="wecom_kf", sender=KF)
    opened = report(bot, "厂房租金上涨太快", channel="wecom_kf", sender=KF)
    assert "已收到您的诉求" in opened  # the enterprise known from WeChat: not asked again
    case = app.service(CaseService).find("2", app.clock.now(), KF, staff=False)
    assert case.enterprise == "张氏机械"
    assert app.service(EnterpriseService).of_contact(KF) == app.service(
        EnterpriseService
    ).of_contact(WX)


async def test_staff_show_a_code_link_and_unlink_on_the_console(bot: ChatBot) -> None:
    report(bot, "厂房租金上涨太快", channel="wecom_kf", sender=KF)
    async with http_console(bot.app) as client:
        await http_login(client, "wang")
        page = await client.get("/identity", params={"contact": KF})
        assert "没有绑定其他渠道" in text_at(page.text, "//table[@id='links']")
        csrf = csrf_in(page.text)

        done = await client.post("/identity", data={"csrf": csrf, "action": "code", "a": KF})
        shown = await client.get(done.headers["location"])
        flash = text_at(shown.text, "//article[contains(@class, 'flash')]")
        code = flash.split("验证码：")[1][:6]
        assert "绑定成功" in say(bot, f"绑定 {code}")  # the member, on personal WeChat
        assert "共1件" in say(bot, "我的诉求")

        await client.post("/identity", data={"csrf": csrf, "action": "unlink", "a": KF})
        assert "2026-0001" not in say(bot, "我的诉求")
        await client.post("/identity", data={"csrf": csrf, "action": "link", "a": KF, "b": WX})
        page = await client.get("/identity", params={"contact": WX})
        assert "个人微信" in text_at(page.text, "//table[@id='links']")
        assert "微信客服" in text_at(page.text, "//table[@id='links']")
        refused = await client.post("/identity", data={"csrf": csrf, "action": "link", "a": WX})
        shown = await client.get(refused.headers["location"])
        assert "未作改动" in text_at(shown.text, "//article[contains(@class, 'flash')]")
