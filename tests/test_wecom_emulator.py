"""The WeCom AI-bot emulator (tests/wecom) at protocol level, with a raw websockets client.

One emulator for the module, a clock the tests advance for the time windows; real time only
where the network is the subject (drop, the replaced connection's cut).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.wecom import protocol as p
from tests.wecom.emulator import WecomEmulator

Frame = dict[str, Any]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


CLOCK = Clock()


@pytest.fixture(scope="module")
def emu() -> Iterator[WecomEmulator]:
    with WecomEmulator(clock=CLOCK, send_limits=((30, 60.0),)) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _clean(emu: WecomEmulator) -> None:
    emu.clear()


class Client:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.n = 0

    def send(self, cmd: str, body: Frame | None = None, req_id: str | None = None) -> str:
        self.n += 1
        req_id = req_id or f"{cmd}_{self.n}"
        frame: Frame = {"cmd": cmd, "headers": {"req_id": req_id}}
        if body is not None:
            frame["body"] = body
        self.ws.send(json.dumps(frame))
        return req_id

    def recv(self) -> Frame:
        frame: Frame = json.loads(self.ws.recv(timeout=2))
        return frame

    def call(self, cmd: str, body: Frame | None = None, req_id: str | None = None) -> int:
        """Send a frame; return the errcode of its ack (which must carry its req_id)."""
        req_id = self.send(cmd, body, req_id)
        ack = self.recv()
        assert "cmd" not in ack
        assert ack["headers"] == {"req_id": req_id}
        errcode: int = ack["errcode"]
        return errcode

    def stream(self, req_id: str, stream_id: str, content: str, finish: bool) -> int:
        body = {
            "msgtype": "stream",
            "stream": {"id": stream_id, "finish": finish, "content": content},
        }
        return self.call(p.RESPOND, body, req_id)


@contextmanager
def client(emu: WecomEmulator, *, subscribe: bool = True) -> Iterator[Client]:
    with connect(emu.url, ssl=emu.client_ssl_context()) as ws:
        c = Client(ws)
        if subscribe:
            assert c.call(p.SUBSCRIBE, {"bot_id": "aibot-test", "secret": "s3cret"}) == 0
        yield c


def closed(c: Client) -> bool:
    try:
        c.ws.recv(timeout=3)
    except ConnectionClosed:
        return True
    return False


def button_card(task_id: str) -> Frame:
    return {
        "card_type": "button_interaction",
        "task_id": task_id,
        "main_title": {"title": "活动报名", "desc": "周五 14:00"},
        "button_list": [{"text": "报名", "style": 1, "key": "join"}],
    }


def test_subscribe_is_acknowledged_with_its_req_id_and_no_cmd(emu: WecomEmulator) -> None:
    before = emu.subscribes()
    with client(emu, subscribe=False) as c:
        c.send(p.SUBSCRIBE, {"bot_id": "aibot-test", "secret": "s3cret"}, "aibot_subscribe_x")
        assert c.recv() == {
            "headers": {"req_id": "aibot_subscribe_x"},
            "errcode": 0,
            "errmsg": "ok",
        }
        assert emu.connections() == 1
        assert emu.subscribes() == before + 1


def test_a_wrong_secret_is_refused_with_853000_and_closed(emu: WecomEmulator) -> None:
    before = emu.subscribes()
    with client(emu, subscribe=False) as c:
        assert c.call(p.SUBSCRIBE, {"bot_id": "aibot-test", "secret": "nope"}) == 853000
        assert closed(c)
    assert emu.refused()[-1]["errcode"] == p.ERR_INVALID_CREDENTIALS
    assert emu.subscribes() == before


def test_a_frame_before_subscribe_is_refused_and_closed(emu: WecomEmulator) -> None:
    with client(emu, subscribe=False) as c:
        assert c.call(p.PING) == p.ERR_NOT_SUBSCRIBED
        assert closed(c)


def test_ping_is_acknowledged(emu: WecomEmulator) -> None:
    with client(emu) as c:
        before = emu.stats["pings"]
        assert c.call(p.PING) == 0
        assert emu.stats["pings"] == before + 1


def test_a_single_chat_message_arrives_as_a_callback(emu: WecomEmulator) -> None:
    with client(emu) as c:
        msgid = emu.say("zhang", "你好")
        frame = c.recv()
    assert frame["cmd"] == p.MSG_CALLBACK
    assert frame["headers"]["req_id"]
    body = frame["body"]
    assert isinstance(body.pop("create_time"), int)
    assert body == {
        "msgid": msgid,
        "aibotid": "aibot-test",
        "chattype": "single",
        "from": {"userid": "zhang"},
        "msgtype": "text",
        "text": {"content": "你好"},
    }


def test_a_group_message_is_an_at_message_with_the_chatid(emu: WecomEmulator) -> None:
    with client(emu) as c:
        emu.say("li", "报名 3", "grp-a", msgid="m-grp-1")
        body = c.recv()["body"]
    assert (body["msgid"], body["chatid"], body["chattype"]) == ("m-grp-1", "grp-a", "group")
    assert body["text"] == {"content": "@商会助手 报名 3"}


def test_a_reply_on_the_callbacks_req_id_lands_in_its_chat(emu: WecomEmulator) -> None:
    with client(emu) as c:
        emu.say("zhang", "在吗")
        single = c.recv()["headers"]["req_id"]
        emu.say("zhang", "在吗", "grp-a")
        group = c.recv()["headers"]["req_id"]
        assert c.stream(single, "s-1", "正在", finish=False) == 0
        assert c.stream(single, "s-1", "正在处理", finish=True) == 0
        assert (
            c.call(p.RESPOND, {"msgtype": "markdown", "markdown": {"content": "**好**"}}, group)
            == 0
        )
    assert [(r["text"], r["finish"], r["req_id"]) for r in emu.sent_to("zhang")] == [
        ("正在", False, single),
        ("正在处理", True, single),
    ]
    [record] = emu.sent_to("grp-a")
    assert (record["cmd"], record["msgtype"], record["text"]) == (p.RESPOND, "markdown", "**好**")


def test_send_msg_reaches_a_known_group_and_refuses_unknown_chats(emu: WecomEmulator) -> None:
    with client(emu) as c:
        emu.say("li", "hi", "grp-b")
        c.recv()
        markdown = {"msgtype": "markdown", "markdown": {"content": "通知"}}
        assert c.call(p.SEND, {"chatid": "grp-b", "chat_type": 2, **markdown}) == 0
        assert c.call(p.SEND, {"chatid": "nowhere", "chat_type": 2, **markdown}) == 990004
        assert c.call(p.SEND, {"chatid": "grp-b", "chat_type": 1, **markdown}) == 990004
        text = {"msgtype": "text", "text": {"content": "通知"}}
        assert c.call(p.SEND, {"chatid": "grp-b", "chat_type": 2, **text}) == 40008
    [record] = emu.sent_to("grp-b")
    assert (record["cmd"], record["text"], record["finish"]) == (p.SEND, "通知", None)
    assert [r["errcode"] for r in emu.refused()] == [990004, 990004, 40008]


def test_a_reply_on_an_old_req_id_after_a_reconnect_is_refused_with_846605(
    emu: WecomEmulator,
) -> None:
    with client(emu) as first:
        emu.say("zhang", "问题")
        old = first.recv()["headers"]["req_id"]
    with client(emu) as second:
        emu.wait_connected()
        assert second.stream(old, "s-old", "答复", finish=True) == 846605
        assert second.stream("never-issued", "s-x", "答复", finish=True) == 846605
    assert emu.sent() == []


def test_a_users_fourth_message_is_dropped_while_three_streams_are_unfinished(
    emu: WecomEmulator,
) -> None:
    dropped = emu.stats["dropped_messages"]
    with client(emu) as c:
        req_ids = []
        for n in range(3):
            emu.say("sun", f"问题{n}")
            req_ids.append(c.recv()["headers"]["req_id"])
            assert c.stream(req_ids[-1], f"sun-{n}", "处理中", finish=False) == 0
        emu.say("sun", "问题3", msgid="m-fourth")
        emu.say("li", "别人")
        assert c.recv()["body"]["from"] == {"userid": "li"}  # not sun's fourth
        assert emu.stats["dropped_messages"] == dropped + 1
        assert c.stream(req_ids[0], "sun-0", "好了", finish=True) == 0
        emu.redeliver("m-fourth")
        assert c.recv()["body"]["msgid"] == "m-fourth"


def test_stream_content_over_20480_bytes_is_refused(emu: WecomEmulator) -> None:
    exactly = "政" * 6826 + "ab"  # 3 bytes a character: 20480 bytes
    with client(emu) as c:
        emu.say("zhao", "长文")
        req_id = c.recv()["headers"]["req_id"]
        assert c.stream(req_id, "long", exactly + "c", finish=False) == 990002
        assert c.stream(req_id, "long", exactly, finish=True) == 0
    assert emu.sent_to("zhao")[0]["text"] == exactly


def test_a_stream_cannot_be_refreshed_after_six_minutes(emu: WecomEmulator) -> None:
    with client(emu) as c:
        emu.say("qian", "慢")
        req_id = c.recv()["headers"]["req_id"]
        assert c.stream(req_id, "slow", "处理中", finish=False) == 0
        CLOCK.now += 6 * 60 + 1
        assert c.stream(req_id, "slow", "好了", finish=True) == 990003
        assert c.stream(req_id, "slow-2", "好了", finish=True) == 0  # a new stream is fine


def test_a_second_connection_replaces_the_first(emu: WecomEmulator) -> None:
    before = emu.subscribes()
    with client(emu) as first, client(emu) as second:
        event = first.recv()
        assert event["cmd"] == p.EVENT_CALLBACK
        assert event["body"]["event"] == {"eventtype": "disconnected_event"}
        assert event["body"]["aibotid"] == "aibot-test"
        started = time.monotonic()
        assert closed(first)
        assert 0.4 < time.monotonic() - started < 2.0
        assert emu.connections() == 1
        assert emu.subscribes() == before + 2
        emu.say("zhang", "还在吗")
        assert second.recv()["body"]["text"] == {"content": "还在吗"}


def test_a_welcome_answers_enter_chat_once_within_five_seconds(emu: WecomEmulator) -> None:
    welcome = {"msgtype": "text", "text": {"content": "欢迎"}}
    with client(emu) as c:
        req_id = emu.enter_chat("wang")
        frame = c.recv()
        assert frame["headers"]["req_id"] == req_id
        assert frame["body"]["event"] == {"eventtype": "enter_chat"}
        assert frame["body"]["msgtype"] == "event"
        assert c.stream(req_id, "w", "欢迎", finish=True) == 846605  # as measured
        assert c.call(p.RESPOND_WELCOME, welcome, req_id) == 0
        assert c.call(p.RESPOND_WELCOME, welcome, req_id) == 846605
        late = emu.enter_chat("wang")
        c.recv()
        CLOCK.now += 5.1
        assert c.call(p.RESPOND_WELCOME, welcome, late) == 846605
    [record] = emu.sent_to("wang")
    assert (record["cmd"], record["text"]) == (p.RESPOND_WELCOME, "欢迎")


def test_a_click_arrives_and_the_card_can_be_updated(emu: WecomEmulator) -> None:
    with client(emu) as c:
        emu.say("li", "活动", "grp-c")
        req_id = c.recv()["headers"]["req_id"]
        card = {"msgtype": "template_card", "template_card": button_card("evt_1")}
        assert c.call(p.RESPOND, card, req_id) == 0
        assert c.call(p.RESPOND, card, req_id) == 990006  # task_id must be new
        with pytest.raises(ValueError, match="evt_1"):
            emu.click("li", "evt_1", "leave")
        click = emu.click("li", "evt_1", "join")
        body = c.recv()["body"]
        assert (body["chatid"], body["from"]) == ("grp-c", {"userid": "li"})
        assert body["event"] == {
            "eventtype": "template_card_event",
            "template_card_event": {
                "card_type": "button_interaction",
                "event_key": "join",
                "task_id": "evt_1",
            },
        }
        updated = button_card("evt_1") | {"main_title": {"title": "已报名"}}
        update = {"response_type": "update_template_card", "template_card": updated}
        assert c.call(p.RESPOND_UPDATE, update, click) == 0
        other = update | {"template_card": button_card("evt_2")}
        assert c.call(p.RESPOND_UPDATE, other, click) == 990005
    assert [(r["cmd"], r["text"]) for r in emu.sent_to("grp-c")] == [
        (p.RESPOND, "活动报名\n周五 14:00"),
        (p.RESPOND_UPDATE, "已报名"),
    ]


def test_send_msg_is_limited_per_chat_when_a_limit_is_set(emu: WecomEmulator) -> None:
    emu.add_chat("grp-busy")
    emu.add_chat("grp-quiet")
    body = {"chat_type": 2, "msgtype": "markdown", "markdown": {"content": "x"}}
    with client(emu) as c:
        assert [c.call(p.SEND, {"chatid": "grp-busy", **body}) for _ in range(30)] == [0] * 30
        assert c.call(p.SEND, {"chatid": "grp-busy", **body}) == 45009
        assert c.call(p.SEND, {"chatid": "grp-quiet", **body}) == 0
        CLOCK.now += 60
        assert c.call(p.SEND, {"chatid": "grp-busy", **body}) == 0


def test_a_conflict_is_answered_with_6000_and_the_retry_goes_through(emu: WecomEmulator) -> None:
    emu.add_chat("grp-d")
    body = {"chatid": "grp-d", "msgtype": "markdown", "markdown": {"content": "重试"}}
    with client(emu) as c:
        emu.conflict()
        assert c.call(p.SEND, body) == 6000
        assert c.call(p.SEND, body) == 0
    assert len(emu.sent_to("grp-d")) == 1


def test_drop_refuses_handshakes_then_accepts(emu: WecomEmulator) -> None:
    with client(emu) as c:
        emu.drop(1.0)
        assert closed(c)
    assert emu.connections() == 0
    with pytest.raises(InvalidStatus) as refused:
        connect(emu.url, ssl=emu.client_ssl_context()).close()
    assert refused.value.response.status_code == 503
    deadline = time.monotonic() + 3
    while True:
        try:
            with client(emu):
                assert emu.connections() == 1
            break
        except InvalidStatus:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    emu.say("zhang", "丢了吗")  # nobody connected now: not delivered, counted
    assert emu.stats["undelivered"] >= 1


def test_frames_it_cannot_read_are_refused_without_closing(emu: WecomEmulator) -> None:
    with client(emu) as c:
        c.ws.send("not json")
        assert c.recv() == {
            "headers": {"req_id": ""},
            "errcode": 990008,
            "errmsg": "invalid frame",
        }
        assert c.call("aibot_frobnicate", {}) == 990007
        assert c.call(p.PING) == 0


def test_unfinished_streams_stop_blocking_after_six_minutes(emu: WecomEmulator) -> None:
    dropped = emu.stats["dropped_messages"]
    with client(emu) as c:
        for n in range(3):
            emu.say("zhou", f"问{n}")
            assert c.stream(c.recv()["headers"]["req_id"], f"zhou-{n}", "…", finish=False) == 0
        emu.say("zhou", "第四个")
        assert emu.stats["dropped_messages"] == dropped + 1
        CLOCK.now += 6 * 60 + 1
        emu.say("zhou", "第五个")
        assert c.recv()["body"]["text"] == {"content": "第五个"}


def test_cards_are_checked_and_a_vote_click_carries_the_selection(emu: WecomEmulator) -> None:
    vote = {
        "card_type": "vote_interaction",
        "task_id": "vote_1",
        "main_title": {"title": "满意度"},
        "checkbox": {"question_key": "q", "option_list": [{"id": "1", "text": "满意"}]},
        "submit_button": {"text": "提交", "key": "submit"},
    }
    notice = {
        "card_type": "text_notice",
        "main_title": {"title": "通知"},
        "card_action": {"type": 0},
    }
    no_buttons = {"card_type": "button_interaction", "task_id": "b_0", "main_title": {}}
    with client(emu) as c:
        emu.say("wu", "评价")
        req_id = c.recv()["headers"]["req_id"]
        for card, code in [({"card_type": "poster"}, 990005), (no_buttons, 990005), (notice, 0)]:
            body = {"msgtype": "template_card", "template_card": card}
            assert c.call(p.RESPOND, body, req_id) == code
        assert (
            c.call(p.SEND, {"chatid": "wu", "msgtype": "template_card", "template_card": vote})
            == 0
        )
        selected = {"selected_item": [{"question_key": "q", "option_ids": {"option_id": ["1"]}}]}
        emu.click("wu", "vote_1", "submit", selected=selected)
        event = c.recv()["body"]["event"]["template_card_event"]
    assert event == {
        "card_type": "vote_interaction",
        "event_key": "submit",
        "task_id": "vote_1",
        "selected_items": selected,
    }
    assert [(r["cmd"], r["text"]) for r in emu.sent_to("wu")] == [
        (p.RESPOND, "通知"),
        (p.SEND, "满意度"),
    ]


def test_a_card_update_after_five_seconds_is_refused(emu: WecomEmulator) -> None:
    emu.add_chat("grp-e")
    card = button_card("late_1")
    update = {"response_type": "update_template_card", "template_card": card}
    with client(emu) as c:
        body = {
            "chatid": "grp-e",
            "chat_type": 2,
            "msgtype": "template_card",
            "template_card": card,
        }
        assert c.call(p.SEND, body) == 0
        click = emu.click("ma", "late_1", "join")
        assert c.recv()["body"]["chatid"] == "grp-e"
        CLOCK.now += 5.1
        assert c.call(p.RESPOND_UPDATE, update, click) == 846605


def test_stall_leaves_the_connection_open_but_answers_nothing(emu: WecomEmulator) -> None:
    with client(emu) as c:
        ignored, undelivered = emu.stats["ignored_frames"], emu.stats["undelivered"]
        emu.stall(0.3)
        c.send(p.PING)
        emu.say("zhang", "有人吗")
        with pytest.raises(TimeoutError):
            c.ws.recv(timeout=0.5)
        assert emu.stats["ignored_frames"] == ignored + 1
        assert emu.stats["undelivered"] == undelivered + 1
        assert emu.connections() == 1
        assert c.call(p.PING) == 0


def test_close_ends_connected_clients(emu: WecomEmulator) -> None:
    other = WecomEmulator().start()
    try:
        with connect(other.url, ssl=other.client_ssl_context()) as ws:
            c = Client(ws)
            assert c.call(p.SUBSCRIBE, {"bot_id": "aibot-test", "secret": "s3cret"}) == 0
            other.close()
            assert closed(c)
    finally:
        other.close()
    with pytest.raises(RuntimeError, match="not started"):
        other.say("zhang", "喂")
