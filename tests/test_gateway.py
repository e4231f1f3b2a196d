"""WeChat through a real Wechaty gateway: the Node gateway + mock WeChat, the real bot process.

Every test here talks as WeChat users through the gateway's control channel and asserts
on what the gateway received from `chamberbot run`. Node.js and tests/gateway/node_modules
are required (`make test` installs the latter): without them these tests fail, not skip.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError
from bot.messages import Incoming, Outgoing
from bot.services import Services
from bot.transport import TransportError, mention_prefix
from channels.wechaty import WechatyTransport
from channels.wechaty_app import WechatEvents, wechat_settings
from channels.wechaty_events import (
    Contact,
    message_time,
    parse_endpoint,
    strip_mentions,
)
from tests.conftest import MEMBERS_ROOM, STAFF_ROOM, demo_config
from tests.gateway_harness import (
    BOT_ID,
    BOT_NAME,
    MEMBERS,
    STAFF,
    TOPICS,
    Bot,
    Gateway,
    assert_nothing_twice,
    case_number,
    chamberbot,
    clean_env,
    connected,
    node_problem,
    open_case,
    running,
    wait_for,
    write_config,
)

ZHANG, LI, WANG = "wxid_zhang", "wxid_li", "wxid_wang"
Chat = tuple[Gateway, Bot]


@pytest.fixture
def chat(gateway: Gateway, tmp_path: Path) -> Iterator[Chat]:
    """A bot of this test's own on the module's gateway."""
    with connected(gateway, tmp_path) as bot:
        yield gateway, bot


@pytest.fixture
def own_chat(tmp_path: Path) -> Iterator[Chat]:
    """A gateway and a bot of this test's own: it kills or restarts the gateway."""
    problem = node_problem()
    if problem:
        pytest.fail(problem)
    with running(tmp_path) as pair:
        yield pair


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages]


# -- the whole loop ------------------------------------------------------------------------


def test_member_reports_staff_handle_member_rates(chat: Chat, tmp_path: Path) -> None:
    gw, _bot = chat
    gw.say(ZHANG, "诉求 银行突然抽贷，流动资金紧张，联系电话13812345678", MEMBERS, True)
    (question,) = gw.wait_sent(MEMBERS, 1)
    assert question["mention_ids"] == [ZHANG]
    assert question["text"].startswith("@张总\u2005")
    assert "企业名称" in question["text"]

    gw.say(ZHANG, "宏达机械有限公司", MEMBERS)
    ack = gw.wait_sent(MEMBERS, 2)[1]
    number = case_number(ack["text"])
    assert ack["mention_ids"] == [ZHANG]
    assert "市场环境/融资信贷" in ack["text"]
    for secret in ("抽贷", "13812345678"):
        assert secret not in ack["text"]
    (new,) = gw.wait_sent(STAFF, 1)
    assert new["mention_ids"] == []
    for expected in (number, "张总（宏达机械有限公司）", "会员一群", "13812345678"):
        assert expected in new["text"]  # sender name and room topic come from WeChat

    gw.say(WANG, f"认领 {number}", STAFF)
    assert f"已认领诉求 {number}" in gw.wait_sent(STAFF, 2)[1]["text"]
    accepted = gw.wait_sent(MEMBERS, 3)[2]
    assert accepted["mention_ids"] == [ZHANG]
    assert accepted["text"].startswith(f"@张总\u2005您的诉求 {number} 已受理")

    gw.say(WANG, f"回复 {number} 已协调银行续贷，请联系客户经理", STAFF)
    answered = gw.wait_sent(MEMBERS, 4)[3]
    assert "王科长答复如下" in answered["text"]
    assert "已协调银行续贷" in answered["text"]

    gw.say(WANG, f"办结 {number} 银行同意续贷", STAFF)
    resolved = gw.wait_sent(MEMBERS, 5)[4]
    assert f"{number} 已办结：银行同意续贷" in resolved["text"]

    gw.say(ZHANG, "满意", MEMBERS)
    closed = gw.wait_sent(MEMBERS, 6)[5]
    assert closed["mention_ids"] == [ZHANG]
    assert "感谢您的评价（满意）" in closed["text"]
    assert "已销号" in closed["text"]
    assert_nothing_twice(gw.sent())
    # the bot ran in tmp_path: it wrote nothing but its data folder (logs, config ours)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bot.log", "calendar.yaml", "config.yaml", "data"
    ]  # fmt: skip


# -- delivery: duplicates, restarts, failures ----------------------------------------------------


def test_replies_wait_while_wechat_is_logged_out(chat: Chat) -> None:
    gw, bot = chat
    gw.post("/logout")
    bot.wait_log("logged out of WeChat")
    gw.say(LI, "帮助")
    bot.wait_log("first message from a new private chat: conversation wxid_li, sender wxid_li")
    assert gw.sent_to(LI) == []
    gw.post("/login")
    assert "诉求" in gw.wait_sent(LI, 1)[0]["text"]
    assert bot.log().count("logged in to WeChat as wxid_chamberbot") == 2


def test_the_same_message_delivered_twice_opens_one_case(chat: Chat, tmp_path: Path) -> None:
    gw, bot = chat
    report = gw.say(ZHANG, "诉求 厂区门口道路坑洼，货车进不来", MEMBERS, True)
    gw.wait_sent(MEMBERS, 1)
    answer = gw.say(ZHANG, "宏达机械有限公司", MEMBERS)
    gw.wait_sent(MEMBERS, 2)
    gw.wait_sent(STAFF, 1)

    def redeliver_then_ask(marker_count: int) -> None:
        gw.post("/redeliver", message_id=report)
        gw.post("/redeliver", message_id=answer)
        gw.say(LI, "帮助")  # handled after the copies: its answer means they were seen
        gw.wait_sent(LI, marker_count)

    redeliver_then_ask(1)
    bot.stop()  # a restarted bot has forgotten what it saw in memory; the database has not
    restarted = Bot(tmp_path / "config.yaml", tmp_path / "bot2.log")
    try:
        restarted.wait_log("logged in to WeChat as", timeout=30)  # as connected() waits
        redeliver_then_ask(2)
    finally:
        assert restarted.stop() == 0
    assert len(gw.sent_to(MEMBERS)) == 2
    assert len(gw.sent_to(STAFF)) == 1


def test_gateway_killed_and_restarted_mid_conversation(own_chat: Chat, tmp_path: Path) -> None:
    gw, bot = own_chat
    number = open_case(gw, ZHANG, "银行突然抽贷", "宏达机械有限公司")
    gw.wait_sent(STAFF, 1)
    gw.post("/fail", conversation_id=MEMBERS, code=14, message="network hiccup")  # UNAVAILABLE
    gw.say(WANG, f"认领 {number}", STAFF)
    gw.wait_sent(STAFF, 2)
    wait_for(lambda: gw.get("/stats")["failed_sends"] >= 1, "a failed send to the group")
    gw.say(LI, "诉求 厂房漏水，物业不处理")  # private; the bot asks for the enterprise
    assert "企业名称" in gw.wait_sent(LI, 1)[0]["text"]
    before = gw.sent()

    gw.kill()
    back = Gateway(tmp_path / "gateway.log", grpc_port=gw.grpc_port, control_port=gw.control_port)
    try:
        back.populate()
        accepted = back.wait_sent(MEMBERS, 1, timeout=15)[0]  # queued while down: delivered
        assert f"{number} 已受理" in accepted["text"]
        assert accepted["mention_ids"] == [ZHANG]
        back.say(LI, "李氏食品有限公司")  # the conversation goes on where it was
        second = case_number(back.wait_sent(LI, 1)[0]["text"])
        assert second != number
        (notice,) = back.wait_sent(STAFF, 1)
        assert second in notice["text"]
        after = back.sent()
    finally:
        back.close()
    assert bot.log().count("connected to the gateway") >= 2
    assert not any(f"{number} 已受理" in m["text"] for m in before)
    assert_nothing_twice(before + after)


def test_wrong_token_unreachable_gateway_and_missing_settings_exit_clearly(
    gateway: Gateway, tmp_path: Path
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{s.getsockname()[1]}"
    configs = {}
    for name, endpoint, token in (
        ("wrong", gateway.endpoint, "not-the-token"),
        ("nobody", closed, "token"),
        ("no_token", closed, None),
    ):
        (tmp_path / name).mkdir()
        configs[name] = write_config(tmp_path / name, endpoint, token)
    # the three at once: each is mostly a Python start-up
    procs = {
        name: subprocess.Popen(
            [*chamberbot(), "run", "--config", str(config)],
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, config in configs.items()
    }
    try:
        runs = {name: (proc, *proc.communicate(timeout=30)) for name, proc in procs.items()}
    finally:  # none left running (and collected in a later test) when one times out
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

    proc, out, err = runs["wrong"]
    assert proc.returncode == 1
    assert f"the Wechaty gateway at {gateway.endpoint} refused the token" in err
    assert "not-the-token" not in err + out

    proc, out, err = runs["nobody"]
    assert proc.returncode == 1
    assert f"cannot reach the Wechaty gateway at {closed}" in err

    proc, out, err = runs["no_token"]
    no_token, fresh = configs["no_token"], tmp_path / "no_token"
    assert proc.returncode == 2
    assert err.strip() == (
        f"{no_token}: wechat.token: required (or set WECHATY_PUPPET_SERVICE_TOKEN)"
    )
    assert not (fresh / "data").exists()  # nothing written before the settings are right


async def test_an_unanswered_send_counts_if_echoed_and_is_never_repeated(tmp_path: Path) -> None:
    """A hung gateway may deliver a send it did not answer: the echo decides, no retry."""
    problem = node_problem()
    if problem:
        pytest.fail(problem)
    gw = Gateway(tmp_path / "gateway.log")
    # the send gives up at 0.5 s and waits 2 s more for an echo: a gateway woken at 0.8 s
    # has 1.7 s to deliver (a loaded machine needs them), one woken at 3.5 s is too late
    transport = WechatyTransport(gw.endpoint, gw.token, rpc_timeout=0.5, echo_grace=2.0)
    try:
        gw.populate()
        await transport.start(ignore)
        assert await transport.wait_logged_in(5)
        gw.proc.send_signal(signal.SIGSTOP)
        wake_up(gw, after=0.8)
        await transport.send(Outgoing(LI, "woke up in time"))  # no answer, but the echo came

        gw.proc.send_signal(signal.SIGSTOP)
        wake_up(gw, after=3.5)
        with pytest.raises(TransportError, match=r"^delivery unknown, not sent again") as failed:
            await transport.send(Outgoing(LI, "woke up too late"))
        assert failed.value.permanent  # the outbox reports it instead of sending it again
        for _ in range(250):
            if len(gw.sent_to(LI)) == 2:
                break
            await asyncio.sleep(0.02)
        assert texts(gw.sent_to(LI)) == ["woke up in time", "woke up too late"]
    finally:
        gw.proc.send_signal(signal.SIGCONT)
        await transport.stop()
        gw.close()


async def ignore(_msg: Incoming) -> None:
    return None


def wake_up(gw: Gateway, after: float) -> None:
    """SIGCONT from a timer thread: the test's event loop may be blocked by then."""
    timer = threading.Timer(after, gw.proc.send_signal, [signal.SIGCONT])
    timer.daemon = True
    timer.start()


# -- rooms --------------------------------------------------------------------------------


def test_topic_change_and_new_groups_are_picked_up(chat: Chat, tmp_path: Path) -> None:
    gw, bot = chat
    try:
        _rename_and_add_a_group(gw, bot, tmp_path)
    finally:  # the session's gateway as it was for the next test
        gw.post("/room-topic", room=MEMBERS, topic=TOPICS[MEMBERS])
        gw.post("/room-remove", room="new@chatroom", contact=BOT_ID)


def _rename_and_add_a_group(gw: Gateway, bot: Bot, tmp_path: Path) -> None:
    gw.post("/room-topic", room=MEMBERS, topic="会员一群（2027）")
    open_case(gw, LI, "招工难，缺技术工人", "李氏食品有限公司")
    assert "来源：会员一群（2027）" in gw.wait_sent(STAFF, 1)[0]["text"]

    gw.post("/rooms", id="new@chatroom", topic="新会员群", member_ids=["wxid_sun"],
            include_bot=False)  # fmt: skip
    gw.post("/room-add", room="new@chatroom", contact=BOT_ID, by="wxid_chen")
    bot.wait_log("joined group new@chatroom 「新会员群」")
    with sqlite3.connect(tmp_path / "data" / "chamberbot.db") as db:
        rows = db.execute("select id, topic, kind from conversations order by id").fetchall()
    assert ("new@chatroom", "新会员群", "member") in rows
    assert (MEMBERS, "会员一群（2027）", "member") in rows

    listing = subprocess.run(
        [*chamberbot(), "rooms", "--config", str(tmp_path / "config.yaml"), "--members"],
        env=clean_env(), capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    lines = listing.stdout.splitlines()
    assert "new@chatroom\t新会员群\t2" in lines
    assert f"{STAFF}\t秘书处工作群\t4\tstaff_rooms" in lines
    assert "\twxid_wang\t王科长" in lines


# -- the runtime's answers to gateway events, without a gateway ---------------------------------


@pytest.fixture
def runtime(app: Services) -> WechatEvents:
    return WechatEvents(app)


def queued(app: Services, conversation_id: str) -> list[dict[str, Any]]:
    """The queued rows, their text as the WeChat transport will send it."""
    rows = list(app.db.table("outbox").rows_where("conversation_id = ?", [conversation_id]))
    for row in rows:
        out = Outgoing(conversation_id, row["text"], tuple(json.loads(row["mention_ids"])))
        row["text"] = mention_prefix(out, app.people.name) + out.text
    return rows


def test_welcome_once_per_join_even_if_the_event_comes_twice(
    runtime: WechatEvents, app: Services
) -> None:
    people = [Contact("wxid_a", "甲总"), Contact("wxid_b", "乙总")]
    for _ in range(2):
        runtime.members_joined(MEMBERS_ROOM, "会员一群", people, "wxid_chen", "k1")
    (row,) = queued(app, MEMBERS_ROOM)
    assert row["text"].startswith("@甲总\u2005@乙总\u2005欢迎2位新朋友加入「会员一群」")
    assert row["mention_ids"] == '["wxid_a", "wxid_b"]'
    runtime.members_joined(STAFF_ROOM, "秘书处工作群", people, "wxid_chen", "k2")
    assert queued(app, STAFF_ROOM) == []


def test_room_invitations_only_from_admins(runtime: WechatEvents) -> None:
    assert runtime.accept_room_invitation("wxid_chen", "新会员群")  # admin in the demo config
    assert not runtime.accept_room_invitation("wxid_wang", "新会员群")  # staff, not admin
    assert not runtime.accept_room_invitation("wxid_zhang", "新会员群")


def test_friend_requests_are_accepted_with_one_greeting(
    runtime: WechatEvents, app: Services
) -> None:
    assert runtime.accept_friend_request("wxid_new", "我是新华纺织厂的")
    for _ in range(2):
        runtime.friend_added(Contact("wxid_new", "吴总"), "friend:f1")
    (row,) = queued(app, "wxid_new")
    assert row["text"].startswith("吴总您好，我是商会助手，已通过您的好友申请。")
    assert row["mention_ids"] == "[]"
    assert app.people.contact("wxid_new")["name"] == "吴总"


def test_joining_and_renaming_groups_is_recorded(runtime: WechatEvents, app: Services) -> None:
    runtime.bot_joined_room("g@chatroom", "新会员群", "wxid_chen")
    runtime.room_topic_changed("g@chatroom", "新会员群（改）")
    row = app.db.table("conversations").get("g@chatroom")
    assert (row["topic"], row["kind"], row["is_group"]) == ("新会员群（改）", "member", 1)


# -- settings and small helpers -------------------------------------------------------------


def test_environment_wins_over_the_config_file() -> None:
    config = demo_config(wechat={"endpoint": "127.0.0.1:1", "token": "from-file"})
    assert wechat_settings(config, "c.yaml", {}) == ("127.0.0.1:1", "from-file")
    env = {"WECHATY_PUPPET_SERVICE_ENDPOINT": "127.0.0.1:2", "WECHATY_PUPPET_SERVICE_TOKEN": "t"}
    assert wechat_settings(config, "c.yaml", env) == ("127.0.0.1:2", "t")
    with pytest.raises(ConfigError, match=r"c.yaml: wechat.endpoint: required"):
        wechat_settings(demo_config(), "c.yaml", {})
    with pytest.raises(ConfigError, match=r"wechat.endpoint: expected host:port, got 'gw'"):
        wechat_settings(demo_config(wechat={"endpoint": "gw", "token": "t"}), "c.yaml", {})


def test_mentions_of_the_bot_are_stripped_wherever_they_stand() -> None:
    names = ["商会助手", "小助手"]
    assert strip_mentions("@商会助手\u2005诉求 停电", names) == "诉求 停电"
    assert strip_mentions("诉求 停电 @小助手", names) == "诉求 停电"
    assert strip_mentions("@商会助手会员 你好", names) == "@商会助手会员 你好"  # someone else
    assert parse_endpoint("[::1]:8788") == ("::1", 8788)
    assert message_time(1795242037392) == message_time(1795242037.392)


# -- one bot for several tests ----------------------------------------------------------------
# A `chamberbot run` start costs about 2 s of CPU. These tests need a bot on the session's
# gateway but not a new one: they share one, in this order, last in the module (no other
# bot may be connected to the session's gateway while it runs), the gateway reset before
# each (nothing sent, failing or held). The removed-from-a-group test goes last: its group
# fails for good.


@pytest.fixture(scope="module")
def _one_bot(gateway: Gateway, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chat]:
    with connected(gateway, tmp_path_factory.mktemp("shared_bot")) as bot:
        yield gateway, bot


@pytest.fixture
def shared_chat(_one_bot: Chat) -> Chat:
    """The module's shared bot, on the session's gateway reset for this test."""
    gw, _bot = _one_bot
    gw.post("/reset")
    return _one_bot


def test_chatter_in_a_group_gets_no_answer_but_a_mention_does(shared_chat: Chat) -> None:
    gw, _bot = shared_chat
    gw.say(LI, "大家好，今天开会吗", MEMBERS)
    gw.say(LI, "", MEMBERS, mention_bot=True)  # only the mention: a greeting
    (hello,) = gw.wait_sent(MEMBERS, 1)
    assert hello["mention_ids"] == [LI]
    assert hello["text"] == "@李总\u2005您好，我是商会助手。发送「帮助」查看我能做什么。"
    gw.post("/say", **{"from": LI, "room": MEMBERS, "text": f"今天开会吗 @{BOT_NAME}",
                       "mention_ids": [BOT_ID]})  # fmt: skip
    assert "「今天开会吗」" in gw.wait_sent(MEMBERS, 2)[1]["text"]  # the mention is not text
    gw.say(LI, "帮助")  # private: every message is for the bot
    assert "诉求" in gw.wait_sent(LI, 1)[0]["text"]
    assert len(gw.sent_to(MEMBERS)) == 2


def test_new_members_are_welcomed_by_name_in_member_groups_only(shared_chat: Chat) -> None:
    gw, _bot = shared_chat
    gw.post("/contacts", id="wxid_zhou", name="周总")
    try:
        gw.post("/room-add", room=MEMBERS, contact="wxid_zhou", by="wxid_chen")
        (welcome,) = gw.wait_sent(MEMBERS, 1)
        assert welcome["mention_ids"] == ["wxid_zhou"]
        assert welcome["text"].startswith("@周总\u2005欢迎加入「会员一群」")
        assert "诉求" in welcome["text"]

        gw.post("/room-add", room=STAFF, contact="wxid_zhou")
        gw.say(LI, "帮助")  # handled after the join
        gw.wait_sent(LI, 1)
        assert gw.sent_to(STAFF) == []
    finally:  # the session's gateway as it was for the next test
        for room in (MEMBERS, STAFF):
            gw.post("/room-remove", room=room, contact="wxid_zhou")


def test_bot_removed_from_a_group_fails_once_and_the_staff_room_is_told(shared_chat: Chat) -> None:
    """A push-back that cannot be delivered any more is failed, reported, never retried."""
    gw, _bot = shared_chat
    number = open_case(gw, ZHANG, "园区道路年久失修", "宏达机械有限公司")
    gw.wait_sent(STAFF, 1)
    gw.post("/fail", conversation_id=MEMBERS, code=9, message="bot is not a member")
    tries = gw.get("/stats")["failed_sends"]

    gw.say(WANG, f"认领 {number}", STAFF)

    notice = gw.wait_sent(STAFF, 3)[-1]["text"]  # the 认领 reply, then the report
    assert "未能送达" in notice
    assert "不会自动重发" in notice
    assert f"{number} 已受理" in notice
    assert gw.get("/stats")["failed_sends"] == tries + 1
    assert not any(f"{number} 已受理" in m["text"] for m in gw.sent_to(MEMBERS))
