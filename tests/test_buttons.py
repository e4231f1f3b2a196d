"""Buttons where a choice is asked: the rating after 办结, 认领 on the staff room's new-case
notice, 报名 / 取消报名 on an event announcement, 确认 / 取消 for a 广播. A message carries
its choices (from its template) through the durable outbox to the transport; a press says
the choice's command as if typed, so it does exactly what typing it does. The console shows
them as numbered choices (/1, /2 …); the WeCom adapter as a card."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.messages import Choice, Outgoing
from chamberbot.cli import main
from handlers.events.notices import announce
from handlers.events.service import EventService
from tests.conftest import (
    MEMBERS_ROOM,
    STAFF_ROOM,
    WANG,
    ChatBot,
    Place,
    case_service,
    make_services,
)
from tests.events_helpers import make_event, seed_groups

RATINGS = ("满意", "基本满意", "不满意")


def _with_choices(outs: list[Outgoing], conversation_id: str) -> Outgoing:
    (found,) = [o for o in outs if o.conversation_id == conversation_id and o.choices]
    return found


def test_the_staff_notice_offers_claim_and_the_resolution_offers_the_ratings(
    bot: ChatBot,
) -> None:
    bot.say("大家好")
    bot.say("诉求 银行突然抽贷，资金周转困难", mention=True)
    opened = bot.say("张氏机械", mention=True)
    notice = _with_choices(opened, STAFF_ROOM)
    assert notice.text.startswith("【新诉求】2026-0001")
    assert notice.choices == (Choice("认领", "认领 2026-0001"),)
    assert not _plain(opened, MEMBERS_ROOM).choices  # the acknowledgement asks nothing

    (claim,) = notice.choices
    assert "已认领诉求 2026-0001" in bot.text(claim.command, **WANG)
    resolved = _with_choices(bot.say("办结 2026-0001 银行同意展期", **WANG), MEMBERS_ROOM)
    assert "请对办理结果进行评价" in resolved.text  # the text still says what to type
    assert [c.label for c in resolved.choices] == list(RATINGS)
    assert [c.command for c in resolved.choices] == [f"评价 2026-0001 {r}" for r in RATINGS]

    # someone else pressing the reporter's card is refused, as if they had typed it
    assert "没有找到诉求 2026-0001" in bot.text(resolved.choices[0].command, sender="wxid_li")
    assert "已销号" in bot.text(resolved.choices[0].command)
    # a stale card answers with the current state and changes nothing
    assert "已销号" in bot.text(resolved.choices[2].command)
    assert case_service(bot.app).get(1).rating == "satisfied"


def _plain(outs: list[Outgoing], conversation_id: str) -> Outgoing:
    (found,) = [o for o in outs if o.conversation_id == conversation_id]
    return found


def test_an_announcement_offers_register_and_cancel(bot: ChatBot) -> None:
    seed_groups(bot)
    event = make_event(bot.app, capacity=1, announced=False)
    announce(bot.app, bot.app.service(EventService).store.get(event.id), bot.clock.now())
    card = _with_choices(bot.deliver(), MEMBERS_ROOM)
    assert card.text.startswith("【活动预告】")
    assert card.choices == (Choice("报名", "报名 1"), Choice("取消报名", "取消报名 1"))
    bot.app.people.remember("wxid_zhang", enterprise="张氏机械")
    assert "报名成功" in bot.text(card.choices[0].command)
    bot.app.people.remember("wxid_li", enterprise="李记食品")
    assert "候补" in bot.text(card.choices[0].command, sender="wxid_li")  # the seat is gone


def test_a_broadcast_asks_with_confirm_and_cancel(bot: ChatBot) -> None:
    seed_groups(bot)
    chen: Place = {"sender": "wxid_chen", "room": STAFF_ROOM}
    ask = _with_choices(bot.say("广播 周五下午商会大厦停电检修", **chen), STAFF_ROOM)
    assert ask.choices == (Choice("确认", "确认"), Choice("取消", "取消"))
    assert "已取消" in bot.text(ask.choices[1].command, **chen)
    assert bot.deliver() == []  # nothing went to the member groups


def test_choices_survive_a_restart_in_the_outbox(bot: ChatBot, tmp_path: Path) -> None:
    offered = (Choice("满意", "评价 2026-0001 满意"), Choice("不满意", "评价 2026-0001 不满意"))
    bot.app.outbox.enqueue([Outgoing(MEMBERS_ROOM, "请评价", ("wxid_zhang",), "wechat", offered)])
    bot.app.close()
    again = make_services(bot.app.config, tmp_path / "bot.db", bot.clock)
    try:
        (head,) = again.outbox.heads(bot.clock.now())
        assert head.out == Outgoing(MEMBERS_ROOM, "请评价", ("wxid_zhang",), "wechat", offered)
    finally:
        again.close()


def test_the_console_numbers_the_buttons_and_presses_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "tour.txt"
    script.write_text(
        "/1\n诉求 银行突然抽贷\n张氏机械有限公司\n/as 王科长 @秘书处工作群\n/2\n/1\n",
        encoding="utf-8",
    )
    assert main(["demo", "--script", str(script), "--start", "2026-11-16T09:00"]) == 0
    out = capsys.readouterr().out
    assert "张总@会员一群> /1\n这里还没有带按钮的卡片可点。" in out
    assert "    认领请发送「认领 2026-0001」。\n    ［按钮］1. 认领（输入 /1 点按）" in out
    assert "王科长@秘书处工作群> /2\n这里最近的卡片只有 1 个按钮，没有第 2 个。" in out
    assert "@王科长\u2005已认领诉求 2026-0001" in out
