"""The bot on WeCom's AI bot, end to end: a real `chamberbot run` (WeCom only, no WeChat)
over the loopback emulator (tests/wecom). One emulator and one bot for the module; the
outage runs last; the kill -9 burst has a bot and an emulator of its own."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.messages import Outgoing
from chamberbot.root import load, services
from tests.chaos_harness import GROUPS, Report, seed, settle
from tests.chaos_harness import MEMBERS as CHAOS_MEMBERS
from tests.conftest import TZ
from tests.gateway_harness import (
    MEMBERS,
    STAFF,
    Bot,
    assert_nothing_twice,
    case_number,
    chamberbot,
    clean_env,
    wait_for,
)
from tests.wecom.emulator import WecomEmulator
from tests.wecom_harness import WecomSent, read, start_bot, wecom_config

ZHANG, LI, WANG = "zhangsan", "lisi", "wangkz"  # WeCom userids
RESPOND, SEND, WELCOME = "aibot_respond_msg", "aibot_send_msg", "aibot_respond_welcome_msg"
UPDATE = "aibot_respond_update_msg"
PACE = 0.01  # seconds between two reports of the burst (the emulator takes ~0.3 ms a say)
WINDOW = 0.5  # seconds before a kill in which a report may be lost (never doubled)


@pytest.fixture(scope="module")
def emu() -> Iterator[WecomEmulator]:
    with WecomEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wecom-loop")


@pytest.fixture(scope="module")
def bot(emu: WecomEmulator, folder: Path) -> Iterator[Bot]:
    config = wecom_config(folder, emu, sweep_interval_seconds=5)
    running = start_bot(config, folder / "bot.log")
    try:
        yield running
    finally:
        assert running.stop() == 0


def _next(
    emu: WecomEmulator, chat: str, text: str, user: str, group: bool = True
) -> dict[str, Any]:
    """What the bot says next in `chat` after `user` says `text` there."""
    seen = len(emu.sent_to(chat))
    emu.say(user, text, chat if group else None)
    return emu.wait_sent(chat, seen + 1)[seen]


def _db(folder: Path) -> Path:
    return folder / "data" / "chamberbot.db"


def test_member_reports_staff_answer_resolve_and_the_member_rates(
    emu: WecomEmulator, bot: Bot, folder: Path
) -> None:
    staff_seen = len(emu.sent_to(STAFF))
    question = _next(emu, MEMBERS, "诉求 银行突然抽贷，流动资金紧张，联系电话13812345678", ZHANG)
    assert question["cmd"] == RESPOND  # on the callback: one finished stream
    assert question["finish"] is True
    assert question["text"].startswith(f"<@{ZHANG}> ")  # WeCom's mention
    assert "企业名称" in question["text"]

    ack = _next(emu, MEMBERS, "宏达机械有限公司", ZHANG)
    number = case_number(ack["text"])
    assert ack["text"].startswith(f"<@{ZHANG}> ")
    assert "市场环境/融资信贷" in ack["text"]
    for secret in ("抽贷", "13812345678"):
        assert secret not in ack["text"]
    new = emu.wait_sent(STAFF, staff_seen + 1)[staff_seen]
    assert new["cmd"] == SEND  # nobody in the staff group asked: a message of its own
    assert new["body"]["chat_type"] == 2
    for expected in (number, "宏达机械有限公司", "13812345678"):
        assert expected in new["text"]  # the staff group may see the phone number

    members_seen = len(emu.sent_to(MEMBERS))
    relayed = _next(emu, STAFF, f"回复 {number} 已协调银行续贷，请联系客户经理", WANG)
    assert number in relayed["text"]  # the staff member hears it was relayed
    answered, *_ = emu.wait_sent(MEMBERS, members_seen + 1)[members_seen:]
    assert answered["cmd"] == SEND
    assert answered["text"].startswith(f"<@{ZHANG}> ")
    assert "已协调银行续贷" in answered["text"]

    members_seen = len(emu.sent_to(MEMBERS))
    _next(emu, STAFF, f"办结 {number} 银行同意续贷", WANG)
    resolved, card = emu.wait_sent(MEMBERS, members_seen + 2)[members_seen:]
    assert resolved["text"].startswith(f"<@{ZHANG}> ")  # the @ and the text, then the card
    assert f"{number} 已办结：银行同意续贷" in resolved["text"]
    assert "满意" in resolved["text"]  # the rating is asked for, typed or clicked
    assert (card["cmd"], card["card"]["card_type"]) == (SEND, "button_interaction")
    keys = [b["key"] for b in card["card"]["button_list"]]
    assert keys == [f"评价 {number} {r}" for r in ("满意", "基本满意", "不满意")]

    members_seen = len(emu.sent_to(MEMBERS))
    clicked = time.monotonic()
    emu.click(ZHANG, card["card"]["task_id"], keys[0])  # the rating card is clicked
    after = emu.wait_sent(MEMBERS, members_seen + 2)[members_seen:]
    (update,) = [r for r in after if r["cmd"] == UPDATE]  # the card, on the click's req_id
    (closed,) = [r for r in after if r["cmd"] == SEND]
    assert (update["cmd"], update["body"]["userids"]) == (UPDATE, [ZHANG])
    assert update["card"]["main_title"]["desc"].endswith("已选择：满意")  # who, when, what
    assert update["time"] - clicked < 5.0  # the emulator takes it within 5 s only
    assert "感谢您的评价（满意）" in closed["text"]  # the command's reply: a message
    assert "已销号" in closed["text"]
    (status,) = read(_db(folder), "select status from cases where number = ?", number)
    assert status == ("closed",)
    assert [r for r in emu.refused() if r["cmd"] != "aibot_subscribe"] == []
    assert_nothing_twice(WecomSent(emu).sent())


def test_a_message_delivered_twice_opens_one_case(
    emu: WecomEmulator, bot: Bot, folder: Path
) -> None:
    seen = len(emu.sent_to(MEMBERS))
    report = emu.say(LI, "诉求 厂区门口道路坑洼，货车进不来", MEMBERS)
    emu.wait_sent(MEMBERS, seen + 1)
    answer = emu.say(LI, "李记食品有限公司", MEMBERS)
    ack = emu.wait_sent(MEMBERS, seen + 2)[-1]
    number = case_number(ack["text"])
    emu.redeliver(report)
    emu.redeliver(answer)
    marker = _next(emu, LI, "帮助", LI, group=False)  # handled after the copies
    assert "诉求" in marker["text"]
    assert len(emu.sent_to(MEMBERS)) == seen + 2
    rows = read(_db(folder), "select number from cases where description like '%道路坑洼%'")
    assert rows == [(number,)]


def test_a_private_command_and_the_welcome_on_entering_the_chat(
    emu: WecomEmulator, bot: Bot
) -> None:
    menu = _next(emu, "zhaoliu", "帮助", "zhaoliu", group=False)
    assert menu["cmd"] == RESPOND
    assert "诉求" in menu["text"]
    assert "报名" in menu["text"]
    assert not menu["text"].startswith("<@")  # no mention in a single chat

    emu.enter_chat("sunqi")
    (welcome,) = emu.wait_sent("sunqi", 1)
    assert welcome["cmd"] == WELCOME
    assert welcome["msgtype"] == "text"
    assert "您好，我是商会助手" in welcome["text"]
    assert "帮助" in welcome["text"]


def _event_add(config: Path, start: datetime) -> str:
    done = subprocess.run(
        [*chamberbot(), "event", "add", "--title", "数字化转型大讲堂", "--capacity", "1",
         "--start", start.strftime("%Y-%m-%d %H:%M:%S"),
         "--end", (start + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S"),
         "--place", "商会大厦三楼", "--announce", "--config", str(config)],
        capture_output=True, text=True, env=clean_env(), timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[0]


def test_an_event_is_announced_and_registered_for_over_wecom(
    emu: WecomEmulator, bot: Bot, folder: Path
) -> None:
    seen = len(emu.sent_to(MEMBERS))
    event = _event_add(folder / "config.yaml", datetime.now(TZ) + timedelta(days=3))
    announced = emu.wait_sent(MEMBERS, seen + 1)[seen]  # another process queued it
    assert (announced["cmd"], announced["msgtype"]) == (SEND, "template_card")  # all in it
    card = announced["card"]
    assert card["main_title"]["title"] == "【活动预告】讲座｜数字化转型大讲堂"
    assert f"报名请发送「报名 {event}」" in card["sub_title_text"]
    assert [b["key"] for b in card["button_list"]] == [f"报名 {event}", f"取消报名 {event}"]

    # WeCom gives userids, not names: the registration (a click on 报名) asks for the name,
    # then the firm
    seen = len(emu.sent_to(MEMBERS))
    emu.click("zhouba", card["task_id"], f"报名 {event}")
    asked = [r for r in emu.wait_sent(MEMBERS, seen + 2)[seen:] if r["cmd"] == SEND]
    assert "请回复您的姓名" in asked[0]["text"]
    assert "请回复您的企业名称" in _next(emu, MEMBERS, "周八", "zhouba")["text"]
    ok = _next(emu, MEMBERS, "周氏贸易有限公司", "zhouba")
    assert ok["cmd"] == RESPOND
    assert ok["text"].startswith("<@zhouba> ")
    assert f"报名成功！「数字化转型大讲堂」（编号 {event}）" in ok["text"]
    assert "请回复您的姓名" in _next(emu, MEMBERS, f"报名 {event}", "wujiu")["text"]
    assert "请回复您的企业名称" in _next(emu, MEMBERS, "吴九", "wujiu")["text"]
    waiting = _next(emu, MEMBERS, "吴氏五金有限公司", "wujiu")
    assert "已进入候补名单第1位" in waiting["text"]
    rows = read(_db(folder), "select count(*) from registrations")
    assert rows == [(2,)]


def test_channels_lists_the_chats_for_the_config(
    emu: WecomEmulator, bot: Bot, folder: Path
) -> None:
    _next(emu, LI, "帮助", LI, group=False)
    _next(emu, MEMBERS, "帮助", ZHANG)
    done = subprocess.run(
        [*chamberbot(), "channels", "--config", str(folder / "config.yaml")],
        capture_output=True, text=True, env=clean_env(), timeout=60, check=True,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert f"wecom_bot\t{STAFF}\tstaff group" in lines
    assert f"wecom_bot\t{MEMBERS}\tmember group" in lines
    assert f"wecom_bot\t{ZHANG}\tprivate" not in lines  # 张三 wrote in the group only
    assert f"wecom_bot\t{LI}\tprivate" in lines


def test_after_an_outage_the_bot_is_back_within_5_s_and_queued_notices_go_in_order(
    emu: WecomEmulator, bot: Bot, folder: Path
) -> None:
    """Last in the module: the emulator cuts the connection for 6 s (the issue's 30 s, shorter
    to keep the suite fast; the reconnect delay is capped at 1 s whatever the outage's
    length, tests/test_wecom_bot.py shows the cap)."""
    subscribed = emu.subscribes()
    emu.drop(6.0)
    ended = time.monotonic() + 6.0
    config = load(folder / "config.yaml")
    other = services(config, db_path=_db(folder), base_dir=folder)  # another process's view
    try:
        with other.db.atomic():
            other.outbox.enqueue(
                Outgoing(MEMBERS, f"通知{i}：明日停电检修", channel="wecom_bot") for i in range(3)
            )
    finally:
        other.close()
    wait_for(lambda: emu.subscribes() > subscribed, "the bot to subscribe again", timeout=15)
    back = time.monotonic() - ended
    assert back <= 5.0, back

    def notices() -> list[str] | None:
        found = [r["text"] for r in emu.sent_to(MEMBERS) if "停电检修" in r["text"]]
        return found if len(found) >= 3 else None

    assert wait_for(notices, "the three queued notices") == [
        f"通知{i}：明日停电检修" for i in range(3)
    ]
    assert "lost WeCom" in bot.log()
    assert _next(emu, MEMBERS, "帮助", ZHANG)["cmd"] == RESPOND  # answering on callbacks again


def test_a_burst_over_wecom_survives_kill_9_with_one_case_and_one_ack_each(
    tmp_path: Path,
) -> None:
    """300 reports in three WeCom groups, the bot killed twice midway (kill -9) and started
    again: what it read has one case and one acknowledgement each, nothing twice. While it
    is down WeCom delivers nothing (nobody is connected), so the burst waits for it."""
    with WecomEmulator() as chaos:
        for group in GROUPS:
            chaos.add_chat(group)
        config = wecom_config(tmp_path, chaos)
        db = _db(tmp_path)
        seed(db)
        bots = [start_bot(config, tmp_path / "bot0.log")]
        said: list[Report] = []
        kills: list[float] = []
        try:
            reports, at_kill = 300, {100, 200}
            for i in range(reports):
                if i in at_kill:
                    kills.append(bots[-1].kill())
                    bots.append(start_bot(config, tmp_path / f"bot{len(bots)}.log"))
                sender = CHAOS_MEMBERS[i % len(CHAOS_MEMBERS)][0]
                group = GROUPS[i % len(GROUPS)]
                tag = f"R{i:04d}号"
                chaos.say(sender, f"诉求 {tag} 园区道路破损，货车进出困难", group)
                said.append(Report(tag, sender, group, time.time()))
                time.sleep(PACE)  # a burst people type, not one frame: kills land mid-work
            outcome = settle(WecomSent(chaos), db, said, kills, [])
        finally:
            for running in bots:
                running.stop()
    assert chaos.stats["undelivered"] == 0  # nothing was said while no bot was connected
    # Said more than WINDOW before a kill: read and journalled by then. What a killed process
    # had not read off its socket yet is lost with it (WeCom does not deliver a callback
    # twice unasked); under load the bot's loop reads a frame up to ~0.2 s late.
    strict = outcome.strict(WINDOW)
    assert len(strict) >= 200
    cut_off = [r.tag for r in strict if outcome.ack_status[r.tag] == "unknown"]
    assert len(cut_off) <= len(kills)  # at most the one ack in flight per kill
    for report in strict:
        assert len(outcome.cases[report.tag]) == 1, report
        expected = {0, 1} if report.tag in cut_off else {1}
        assert outcome.acks[report.tag] in expected, (report, outcome.ack_status[report.tag])
    for report in outcome.reports:  # inside the window: lost at worst, never doubled
        assert len(outcome.cases[report.tag]) <= 1
        assert outcome.acks[report.tag] <= 1
    assert outcome.doubled() == 0
    assert outcome.leftover_journal == 0
    assert outcome.failed_notices == 0  # a send cut off by a kill is no failure
    assert read(db, "pragma integrity_check") == [("ok",)]
