"""Buttons on WeCom: a message with choices is a `button_interaction` card, a click is the
button's command said by the one who clicked, and the card then shows who chose what, when.

In this process: the real services (SQLite file, frozen clock, the demo chamber with a WeCom
staff group and member group), the WeCom transport as `chamberbot run` builds it
(channels/wecom_bot_app.wecom_transport), the dispatcher, and the outbox drained through the
transport, against the loopback emulator (tests/wecom, one for the module). What is asserted
is what the emulator accepted."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FrozenClock
from bot.config import WecomBot
from bot.dispatcher import Dispatcher
from bot.messages import Choice, Incoming, Outgoing
from bot.sender import Sender
from bot.services import Services
from channels.wecom_bot import WecomBotTransport
from channels.wecom_bot_app import WecomSettings, wecom_transport
from channels.wecom_bot_cards import MAX_BUTTONS, CardBook, card_for
from handlers.cases import CaseService
from handlers.cases.service import Case
from handlers.events.notices import announce
from handlers.events.service import EventService
from tests.conftest import START, TZ, demo_config, make_services
from tests.events_helpers import make_event, rows_for
from tests.wecom.emulator import WecomEmulator

GROUP, STAFF = "wc-members", "wc-staff"
ZHANG, LI, WANG, ZHAO = "wxid_zhang", "wxid_li", "wxid_wang", "wxid_zhao"
RESPOND, SEND, UPDATE = "aibot_respond_msg", "aibot_send_msg", "aibot_respond_update_msg"
RATINGS = ("满意", "基本满意", "不满意")
TASK_ID = re.compile(r"c[0-9a-f]{16}_\d+_\d+")


@pytest.fixture(scope="module")
def emu() -> Iterator[WecomEmulator]:
    with WecomEmulator() as emulator:
        for chat in (GROUP, STAFF):
            emulator.add_chat(chat)
        yield emulator


class Chamber:
    """The bot on WeCom in this process: people speak and click in the emulator; `settle`
    hands the outbox to the transport."""

    def __init__(self, emu: WecomEmulator, app: Services, transport: WecomBotTransport) -> None:
        self.emu, self.app, self.transport = emu, app, transport
        self.dispatcher = Dispatcher(app)
        self.sender = Sender(app.outbox, transport, app.config.pacing_for("wecom_bot"))
        self.handled: list[str] = []

    async def on_message(self, msg: Incoming) -> None:
        self.dispatcher.handle(msg)
        self.handled.append(msg.message_id)

    async def settle(self, msgid: str | None = None) -> list[dict[str, Any]]:
        """Once `msgid` is handled, send what is due; what the emulator accepted since."""
        seen = len(self.emu.sent())
        if msgid is not None:
            await until(lambda: msgid in self.handled, f"message {msgid} to be handled")
        await self.sender.drain_once(paced=False)
        return self.emu.sent()[seen:]

    async def say(self, user: str, text: str, chat: str | None = None) -> list[dict[str, Any]]:
        return await self.settle(await asyncio.to_thread(self.emu.say, user, text, chat))

    async def click(
        self, user: str, card: dict[str, Any], key: str, msgid: str | None = None
    ) -> list[dict[str, Any]]:
        """`user` presses the button `key` of `card`; what the bot sent in reply."""
        msgid = msgid or f"click-{time.monotonic_ns()}"
        await asyncio.to_thread(self.emu.click, user, card["task_id"], key, msgid=msgid)
        return await self.settle(msgid)

    async def updated(self, card: dict[str, Any], user: str) -> dict[str, Any]:
        """The card as updated for `user` (the update on their click)."""

        def found() -> dict[str, Any] | None:
            for r in self.emu.sent():
                body = r["body"]
                ours = body.get("template_card", {}).get("task_id") == card["task_id"]
                if r["cmd"] == UPDATE and ours and body.get("userids") in ([user], None):
                    return dict(body)
            return None

        return await until(found, f"the card {card['task_id']} updated for {user}")

    def case(self) -> Case:
        return self.app.service(CaseService).get(1)


async def until(check: Callable[[], Any], what: str, within: float = 5.0) -> Any:
    deadline = time.monotonic() + within
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(0.005)
    return found


@pytest.fixture
async def chamber(emu: WecomEmulator, tmp_path: Path) -> AsyncIterator[Chamber]:
    wecom = {"bot_id": emu.bot_id, "url": emu.url, "staff_groups": [STAFF],
             "member_groups": [GROUP]}  # fmt: skip
    app = make_services(demo_config(channels={"wecom_bot": wecom}), tmp_path / "bot.db",
                        FrozenClock(START))  # fmt: skip
    section = app.config.channels.wecom_bot
    assert isinstance(section, WecomBot)
    for user, name in ((ZHANG, "张总"), (LI, "李总")):
        app.people.remember(user, name=name, enterprise=f"{name[0]}氏机械")
    transport = wecom_transport(app, WecomSettings(section, "s3cret", emu.ca_file))
    bot = Chamber(emu, app, transport)
    await transport.start(bot.on_message)
    try:
        yield bot
    finally:
        await transport.stop()
        app.close()
        emu.clear()


def cards(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r["card"] for r in records if r["card"] is not None and r["cmd"] != UPDATE]


def texts(records: list[dict[str, Any]], chat: str) -> str:
    return "\n".join(r["text"] for r in records if r["chatid"] == chat and r["card"] is None)


def pressed(name: str, label: str, before: datetime, after: datetime) -> set[str]:
    """The line of a card clicked between `before` and `after` (the minute may turn)."""
    return {f"{name} {t:%H:%M} 已选择：{label}" for t in (before, after)}


async def reported(bot: Chamber) -> list[dict[str, Any]]:
    """张总 reports in the member group; what the bot sent (the staff group's card too)."""
    return await bot.say(ZHANG, "诉求 银行突然抽贷，资金周转困难", GROUP)


# -- the cards ------------------------------------------------------------------------------


def test_a_short_message_is_the_card_a_long_one_or_a_mention_goes_before_it() -> None:
    choices = (*(Choice(f"选项{i}", f"选 {i}") for i in range(8)), Choice("重复", "选 0"))
    made = card_for(Outgoing("u1", "请选择时段\n上午或下午", choices=choices), "t_1")
    assert made is not None
    card, whole = made
    assert whole
    assert card.card == {
        "card_type": "button_interaction",
        "main_title": {"title": "请选择时段"},
        "sub_title_text": "上午或下午",
        "button_list": [
            {"text": f"选项{i}", "style": 1 if i == 0 else 2, "key": f"选 {i}"}
            for i in range(MAX_BUTTONS)
        ],
        "task_id": "t_1",
    }
    long = Outgoing("u1", "【新诉求】" + "很长的标题" * 6 + "\n" + "说明" * 60, choices=choices)
    card, whole = card_for(long, "t_2") or pytest.fail("no card")
    assert not whole
    assert card.card["main_title"] == {"title": ("【新诉求】" + "很长的标题" * 6)[:25] + "…"}
    assert "sub_title_text" not in card.card  # the text went before it
    made = card_for(Outgoing("g1", "请评价", ("u1",), choices=choices[:1]), "t_3")
    assert made is not None
    assert not made[1]  # a card cannot @: the text with the mention goes first
    assert card_for(Outgoing("u1", "无按钮", choices=(Choice("太长", "x" * 1025),)), "t") is None
    # a card sent before a restart is not remembered: its update shows the line and the key
    unknown = CardBook().pressed(
        "t_9", "评价 2026-0001 满意", "张总 12:03 已选择：评价 2026-0001 满意"
    )
    assert unknown["main_title"] == {"title": "张总 12:03 已选择：评价 2026-0001…"}
    assert unknown["button_list"] == [
        {"text": "评价 2026-…", "style": 4, "key": "评价 2026-0001 满意"}
    ]


async def test_a_card_answers_on_its_callback_when_it_is_fresh(chamber: Chamber) -> None:
    emu = chamber.emu
    msgid = await asyncio.to_thread(emu.say, ZHANG, "你好")
    await until(lambda: msgid in chamber.handled, "the message")  # its answer stays queued
    ask = Outgoing(ZHANG, "请选择\n上午或下午", (), "wecom_bot",
                   (Choice("上午", "上午"), Choice("下午", "下午")), reply_to=msgid)  # fmt: skip
    await chamber.transport.send(ask)
    await chamber.transport.send(ask)  # the callback was answered: a message of its own
    first, second = emu.sent_to(ZHANG)
    assert (first["cmd"], first["msgtype"], second["cmd"]) == (RESPOND, "template_card", SEND)
    assert TASK_ID.fullmatch(first["card"]["task_id"])
    assert first["card"]["task_id"] != second["card"]["task_id"]  # never reused
    assert emu.refused() == []


# -- clicks ---------------------------------------------------------------------------------


async def test_claim_on_the_staff_groups_card_is_the_claim_command(
    chamber: Chamber,
) -> None:
    sent = await reported(chamber)
    to_staff = [r for r in sent if r["chatid"] == STAFF]
    assert [r["msgtype"] for r in to_staff] == ["markdown", "template_card"]
    assert to_staff[0]["text"].startswith("【新诉求】2026-0001")  # the whole notice first
    (card,) = cards(to_staff)
    assert card["main_title"] == {"title": "【新诉求】2026-0001"}
    assert card["button_list"] == [{"text": "认领", "style": 1, "key": "认领 2026-0001"}]

    before = datetime.now(TZ)
    reply = await chamber.click(WANG, card, "认领 2026-0001")
    after = datetime.now(TZ)
    assert "已认领诉求 2026-0001" in texts(reply, STAFF)
    assert chamber.case().assignee_id == WANG
    update = await chamber.updated(card, WANG)
    assert update["userids"] == [WANG]  # in a group, the card changes for the clicker
    shown = update["template_card"]
    assert shown["main_title"]["title"] == "【新诉求】2026-0001"
    assert shown["main_title"]["desc"] in pressed("王科长", "认领", before, after)
    assert shown["button_list"] == [{"text": "认领", "style": 4, "key": "认领 2026-0001"}]

    # 赵律师's card still has the button: pressing it is typing 认领, which takes a case over
    again = await chamber.click(ZHAO, card, "认领 2026-0001")
    assert "原负责人：王科长" in texts(again, STAFF)
    assert chamber.case().assignee_id == ZHAO
    assert chamber.emu.refused() == []


async def test_the_rating_card_closes_the_case_on_a_click_and_is_refused_to_others(
    chamber: Chamber,
) -> None:
    await reported(chamber)
    sent = await chamber.say(WANG, "办结 2026-0001 银行同意展期", STAFF)
    to_group = [r for r in sent if r["chatid"] == GROUP]
    assert [(r["cmd"], r["msgtype"]) for r in to_group] == [
        (SEND, "markdown"),  # the @ and the whole text: a card cannot @
        (SEND, "template_card"),
    ]
    assert to_group[0]["text"].startswith(f"<@{ZHANG}> 您的诉求 2026-0001 已办结")
    (card,) = cards(to_group)
    assert card["card_type"] == "button_interaction"
    assert card["main_title"] == {"title": "您的诉求 2026-0001 已办结：银行同意展期"}
    assert [(b["text"], b["key"], b["style"]) for b in card["button_list"]] == [
        (r, f"评价 2026-0001 {r}", 1 if r == "满意" else 2) for r in RATINGS
    ]

    refused = await chamber.click(LI, card, "评价 2026-0001 满意")
    assert "没有找到诉求 2026-0001" in texts(refused, GROUP)
    assert chamber.case().status == "resolved"

    before = datetime.now(TZ)
    closed = await chamber.click(ZHANG, card, "评价 2026-0001 满意")
    after = datetime.now(TZ)
    assert "感谢您的评价（满意）" in texts(closed, GROUP)
    assert "已销号" in texts(closed, GROUP)
    assert (chamber.case().status, chamber.case().rating) == ("closed", "satisfied")
    update = await chamber.updated(card, ZHANG)
    shown = update["template_card"]
    assert shown["main_title"]["desc"] in pressed("张总", "满意", before, after)
    assert shown["button_list"] == [{"text": "满意", "style": 4, "key": "评价 2026-0001 满意"}]
    with pytest.raises(ValueError, match="不满意"):  # his card has no other button now
        chamber.emu.click(ZHANG, card["task_id"], "评价 2026-0001 不满意")

    events = chamber.app.db.execute("select count(*) from case_events").fetchone()[0]
    stale = await chamber.click(ZHANG, card, "评价 2026-0001 满意")  # the grey button
    assert "已销号" in texts(stale, GROUP)  # the current state
    assert chamber.app.db.execute("select count(*) from case_events").fetchone()[0] == events
    assert [r["cmd"] for r in stale] == [SEND]  # his card is not updated twice
    assert chamber.case().rating == "satisfied"
    assert chamber.emu.refused() == []


async def _announced(chamber: Chamber) -> dict[str, Any]:
    app = chamber.app
    event = make_event(app, capacity=1, announced=False)
    announce(app, app.service(EventService).store.get(event.id), app.clock.now())
    (card,) = cards([r for r in await chamber.settle() if r["chatid"] == GROUP])
    return card


async def test_register_on_the_event_card_and_the_next_one_waits(chamber: Chamber) -> None:
    card = await _announced(chamber)
    assert card["main_title"]["title"].startswith("【活动预告】讲座｜数字化转型大讲堂")
    assert [(b["text"], b["key"]) for b in card["button_list"]] == [
        ("报名", "报名 1"),
        ("取消报名", "取消报名 1"),
    ]
    assert "报名成功" in texts(await chamber.click(ZHANG, card, "报名 1"), GROUP)
    assert "候补" in texts(await chamber.click(LI, card, "报名 1"), GROUP)  # the seat is gone
    assert [(r["contact_id"], r["status"]) for r in rows_for(chamber.app, 1)] == [
        (ZHANG, "registered"),
        (LI, "waiting"),
    ]
    await chamber.updated(card, LI)


async def test_a_click_delivered_twice_is_acted_on_once(chamber: Chamber) -> None:
    card = await _announced(chamber)
    first = await chamber.click(ZHANG, card, "报名 1", msgid="click-twice")
    await asyncio.to_thread(chamber.emu.redeliver, "click-twice")
    marker = await chamber.say(LI, "帮助")  # handled after the copy
    assert [r["chatid"] for r in marker] == [LI]
    assert "报名成功" in texts(first, GROUP)
    assert len(rows_for(chamber.app, 1)) == 1
    await chamber.updated(card, ZHANG)
    assert sum(r["cmd"] == UPDATE for r in chamber.emu.sent()) == 1
    journal = chamber.app.db.execute(
        "select status from journal where message_id = 'click-twice'"
    ).fetchall()
    assert [tuple(r) for r in journal] == [("handled",)]


async def test_a_broadcast_is_confirmed_or_cancelled_on_its_card(chamber: Chamber) -> None:
    asked = await chamber.say("wxid_chen", "广播 周五下午商会大厦停电检修", STAFF)
    assert [(r["cmd"], r["msgtype"]) for r in asked] == [
        (RESPOND, "stream"),  # the whole question on the admin's message
        (SEND, "template_card"),
    ]
    (card,) = cards(asked)
    assert [(b["text"], b["key"]) for b in card["button_list"]] == [
        ("确认", "确认"),
        ("取消", "取消"),
    ]
    cancelled = await chamber.click("wxid_chen", card, "取消")
    assert "已取消" in texts(cancelled, STAFF)
    assert [r for r in chamber.emu.sent() if r["chatid"] == GROUP] == []  # nothing went out
