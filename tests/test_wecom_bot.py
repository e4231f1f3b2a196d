"""The WeCom AI-bot adapter against the loopback emulator (tests/wecom), in this process:
answers on callbacks or as messages, mentions, long texts, conflicts, reconnects and their
capped delay, a second instance taking over; its settings; and where notices go when the
bot runs on two channels. One emulator for the module (the end-to-end tests with a real
`chamberbot run` are in tests/test_wecom_loop.py)."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FrozenClock
from bot.messages import Incoming, Outgoing
from bot.runtime import Runtime
from bot.services import Services
from bot.transport import TransportError
from chamberbot.cli import main
from channels.test import TestTransport
from channels.wecom_bot import WecomBotTransport
from channels.wecom_bot_client import MAX_BACKOFF
from channels.wecom_bot_frames import MAX_BYTES, callback, split_bytes
from tests.conftest import START, demo_config, make_services
from tests.gateway_harness import chamberbot, clean_env, write_config
from tests.wecom.emulator import WecomEmulator
from tests.wecom_harness import SECRET_ENV, read, wecom_config

GROUP, ZHANG = "grp-members", "zhangsan"
RESPOND, SEND = "aibot_respond_msg", "aibot_send_msg"


@pytest.fixture(scope="module")
def emu() -> Iterator[WecomEmulator]:
    with WecomEmulator() as emulator:
        yield emulator


Got = list[Incoming]


@pytest.fixture
async def bot(emu: WecomEmulator) -> AsyncIterator[tuple[WecomBotTransport, Got]]:
    """A connected transport that records what it hands to the core."""
    transport, got = await _connected(emu)
    try:
        yield transport, got
    finally:
        await transport.stop()
        emu.clear()


async def _connected(emu: WecomEmulator, **options: Any) -> tuple[WecomBotTransport, Got]:
    got: Got = []

    async def on_message(msg: Incoming) -> None:
        got.append(msg)

    transport = WecomBotTransport(
        emu.url, emu.bot_id, "s3cret", names=["商会助手"], ssl_context=emu.client_ssl_context(),
        **{"max_backoff": 0.2, **options},
    )  # fmt: skip
    await transport.start(on_message)
    return transport, got


async def _until(check: Callable[[], Any], what: str, within: float = 10.0) -> Any:
    """Poll `check` in the event loop until it is truthy."""
    deadline = time.monotonic() + within
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(0.01)
    return found


async def _read(emu: WecomEmulator, got: Got, user: str, text: str, chat: str | None) -> str:
    """`user` says `text`; the transport has handed it to the core. Returns the msgid."""
    seen = len(got)
    msgid = await asyncio.to_thread(emu.say, user, text, chat)
    await _until(lambda: len(got) > seen, "the message to arrive")
    return msgid


def _blocking(call: Callable[..., Any], *args: Any) -> Awaitable[Any]:
    return asyncio.to_thread(call, *args)


# -- frames ---------------------------------------------------------------------------------


def test_a_group_message_is_addressed_to_the_bot_without_its_name() -> None:
    body = {"msgid": "m1", "chatid": GROUP, "chattype": "group", "from": {"userid": ZHANG},
            "create_time": 1_790_000_000, "msgtype": "text",
            "text": {"content": "@商会助手 回复 12 已联系"}}  # fmt: skip
    frame = {"cmd": "aibot_msg_callback", "headers": {"req_id": "r1"}, "body": body}
    found = callback(frame, ("商会助手",))
    assert found is not None
    msg = found.incoming
    assert msg is not None
    assert (msg.conversation_id, msg.is_group, msg.mentions_bot) == (GROUP, True, True)
    assert (msg.sender_id, msg.text, msg.channel) == (ZHANG, "回复 12 已联系", "wecom_bot")
    single = {**body, "chattype": "single", "text": {"content": "@商会助手 帮助"}}
    del single["chatid"]
    msg = callback({**frame, "body": single}, ("商会助手",)).incoming  # type: ignore[union-attr]
    assert msg is not None
    assert (msg.conversation_id, msg.is_group, msg.text) == (ZHANG, False, "@商会助手 帮助")
    picture = {**single, "msgtype": "image", "image": {"url": "https://example.invalid/x"}}
    assert callback({**frame, "body": picture}, ()).incoming is None  # type: ignore[union-attr]


def test_a_long_text_is_cut_between_lines_within_the_byte_limit() -> None:
    line = "政策速递：" + "稳" * 300 + "\n"  # ~915 bytes
    parts = split_bytes(line * 50)
    assert len(parts) == 3
    assert all(len(p.encode()) <= MAX_BYTES for p in parts)
    assert "".join(p + "\n" for p in parts) == line * 50
    assert [len(p.encode()) for p in split_bytes("字" * 10_000)] == [20_478, 9_522]


# -- answers and messages -------------------------------------------------------------------


async def test_an_answer_goes_on_its_callback_everything_else_as_a_message(
    emu: WecomEmulator, bot: tuple[WecomBotTransport, Got]
) -> None:
    transport, got = bot
    msgid = await _read(emu, got, ZHANG, "诉求 路灯坏了", GROUP)
    assert got[-1].text == "诉求 路灯坏了"
    await transport.send(Outgoing(GROUP, "已收到", (ZHANG,), "wecom_bot", reply_to=msgid))
    await transport.send(Outgoing(GROUP, "补充说明", (ZHANG,), "wecom_bot", reply_to=msgid))
    await transport.send(Outgoing(GROUP, "政策速递", (), "wecom_bot"))
    long = "政策速递：" + "稳" * 300 + "\n"
    await transport.send(Outgoing(GROUP, long * 30, (), "wecom_bot"))
    first, second, notice, *parts = emu.sent_to(GROUP)
    assert (first["cmd"], first["msgtype"], first["finish"]) == (RESPOND, "stream", True)
    assert first["text"] == f"<@{ZHANG}> 已收到"
    assert (second["cmd"], second["text"]) == (SEND, f"<@{ZHANG}> 补充说明")  # answered once
    assert notice["body"] == {"chatid": GROUP, "chat_type": 2, "msgtype": "markdown",
                              "markdown": {"content": "政策速递"}}  # fmt: skip
    assert len(parts) == 2
    assert all(len(p["text"].encode()) <= MAX_BYTES for p in parts)
    assert emu.refused() == []


async def test_a_command_conflict_is_sent_again(
    emu: WecomEmulator, bot: tuple[WecomBotTransport, Got]
) -> None:
    transport, got = bot
    await _read(emu, got, ZHANG, "帮助", None)
    await _blocking(emu.conflict, 2)
    await transport.send(Outgoing(ZHANG, "您好", (), "wecom_bot"))
    assert [r["text"] for r in emu.sent_to(ZHANG)] == ["您好"]
    assert [r["errcode"] for r in emu.refused()] == [6000, 6000]


async def test_an_answer_to_a_message_read_before_a_reconnect_goes_as_a_message(
    emu: WecomEmulator, bot: tuple[WecomBotTransport, Got]
) -> None:
    transport, got = bot
    msgid = await _read(emu, got, ZHANG, "进度 12", GROUP)
    generation = transport.client.generation
    await _blocking(emu.drop, 0.3)
    await _until(lambda: transport.client.generation > generation, "a new session")
    await transport.send(
        Outgoing(GROUP, "诉求 2026-0012 办理中", (ZHANG,), "wecom_bot", reply_to=msgid)
    )
    (sent,) = emu.sent_to(GROUP)
    assert sent["cmd"] == SEND
    assert emu.refused() == []  # the old req_id was never tried


async def test_an_answer_refused_on_its_callback_is_sent_as_a_message(
    emu: WecomEmulator, bot: tuple[WecomBotTransport, Got]
) -> None:
    transport, got = bot
    msgid = await _read(emu, got, ZHANG, "进度 12", GROUP)
    generation = transport.client.generation
    await _blocking(emu.drop, 0.3)
    await _until(lambda: transport.client.generation > generation, "a new session")
    transport.asked[msgid].generation = transport.client.generation  # looks fresh; is not
    await transport.send(
        Outgoing(GROUP, "诉求 2026-0012 办理中", (ZHANG,), "wecom_bot", reply_to=msgid)
    )
    assert [(r["cmd"], r["errcode"]) for r in emu.refused()] == [(RESPOND, 846605)]
    assert [(r["cmd"], r["text"]) for r in emu.sent_to(GROUP)] == [
        (SEND, f"<@{ZHANG}> 诉求 2026-0012 办理中")
    ]


# -- connections ----------------------------------------------------------------------------


async def test_the_reconnect_delay_is_capped_so_the_bot_is_back_soon_after_an_outage(
    emu: WecomEmulator,
) -> None:
    """4 s of refused handshakes: with the delay doubling from 0.2 s and capped at 0.5 s the
    bot tries ~8 times and is back within 0.5 s of the end (uncapped it would try 4 times
    and come back at 6.2 s). The default cap is 1 s: back within ~1 s of any outage."""
    assert MAX_BACKOFF == 1.0
    transport, _ = await _connected(emu, max_backoff=0.5)
    try:
        before = emu.stats["refused_handshakes"]
        subscribed = emu.subscribes()
        await _blocking(emu.drop, 4.0)
        ended = time.monotonic() + 4.0
        await _until(lambda: emu.subscribes() > subscribed, "the bot to subscribe again", 10)
        back = time.monotonic() - ended
        tries = emu.stats["refused_handshakes"] - before
        assert back <= 0.5 + 0.5, back  # the cap, and a TLS handshake on a busy machine
        assert tries >= 6, tries
        # the subscribe was counted when it arrived; the client is online once its ack is read
        await _until(transport.client.online.is_set, "the bot to read the subscribe ack", 5)
    finally:
        await transport.stop()


async def test_the_heartbeat_pings_on_its_interval(emu: WecomEmulator) -> None:
    before = emu.stats["pings"]
    transport, _ = await _connected(emu, heartbeat=0.1)
    try:
        await _until(lambda: emu.stats["pings"] >= before + 3, "three pings")
        assert transport.client.online.is_set()
    finally:
        await transport.stop()


async def test_the_newest_connection_wins_and_the_replaced_instance_stays_off(
    emu: WecomEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    first, _ = await _connected(emu)
    second, got = await _connected(emu)
    try:
        await _until(lambda: first.client.replaced, "the first instance to be told")
        subscribed = emu.subscribes()
        held = asyncio.create_task(first.send(Outgoing(ZHANG, "held", (), "wecom_bot")))
        await asyncio.sleep(1.0)  # five reconnect delays of the first: it does not try
        assert emu.subscribes() == subscribed
        assert emu.connections() == 1
        assert not held.done()  # its sends wait (in the outbox, for a restart)
        assert "took over the connection (disconnected_event)" in caplog.text
        await _read(emu, got, ZHANG, "帮助", None)  # the second one serves
    finally:
        await first.stop()
        await second.stop()
    with pytest.raises(TransportError) as stopped:
        await held
    assert not stopped.value.permanent  # the row goes back to the queue
    assert emu.sent() == []


# -- settings -------------------------------------------------------------------------------


@pytest.fixture
def _own_logging() -> Iterator[None]:
    """`main` puts a handler on the root logger writing to this test's captured stderr;
    take it away afterwards, or the emulator's thread would log into a closed file."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)


def _check(config: Path) -> int:
    return main(["check", "--config", str(config)])


@pytest.mark.usefixtures("_own_logging")
def test_bad_wecom_settings_exit_2_with_file_key_and_reason(
    emu: WecomEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    config = wecom_config(tmp_path, emu)
    assert _check(config) == 2
    assert capsys.readouterr().err.strip() == (
        f"{config}: channels.wecom_bot.secret_env: environment variable {SECRET_ENV} is not set"
    )
    assert main(["run", "--config", str(config)]) == 2
    assert "channels.wecom_bot.secret_env" in capsys.readouterr().err
    monkeypatch.setenv(SECRET_ENV, "s3cret")
    assert _check(config) == 0
    capsys.readouterr()
    for wecom, key in [
        ({"ca_file": "missing.pem"}, "channels.wecom_bot.ca_file: cannot read a PEM"),
        ({"url": "http://127.0.0.1:1"}, "channels.wecom_bot.url: expected a wss:// URL"),
        ({"bot_id": ""}, "channels.wecom_bot.bot_id: String should have at least 1 character"),
        ({"member_groups": [GROUP], "staff_groups": [GROUP]}, "member_groups[0]: 'grp-members'"),
        ({"heartbeat": 5}, "channels.wecom_bot.heartbeat: unknown setting"),
    ]:
        assert _check(wecom_config(tmp_path, emu, wecom=wecom)) == 2
        assert key in capsys.readouterr().err


def test_a_wrong_secret_exits_1_with_the_reason_and_without_the_secret(
    emu: WecomEmulator, tmp_path: Path
) -> None:
    config = wecom_config(tmp_path, emu)
    run = subprocess.run(
        [*chamberbot(), "run", "--config", str(config)],
        env={**clean_env(), SECRET_ENV: "not-the-secret"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 1
    assert f"WeCom at {emu.url} refused robot {emu.bot_id} (errcode 853000" in run.stderr
    assert "not-the-secret" not in run.stderr + run.stdout


# -- where notices go -----------------------------------------------------------------------


def test_notices_go_out_on_the_channel_their_conversation_belongs_to(tmp_path: Path) -> None:
    """Staff notices reach the WeChat staff room and the WeCom staff group, each on its own
    channel; a contact last seen on WeCom is written to there; anything unknown is WeChat's."""
    wecom = {"bot_id": "aibot-x", "staff_groups": ["wc-staff"], "member_groups": [GROUP]}
    config = demo_config(channels={"wecom_bot": wecom})
    app = make_services(config, tmp_path / "bot.db", FrozenClock(START))
    try:
        staff = app.notices.to_staff("hello")
        assert [(o.conversation_id, o.channel) for o in staff] == [
            ("room_staff", "wechat"),
            ("wc-staff", "wecom_bot"),
        ]
        assert app.people.is_staff_room("wc-staff")
        assert app.notices.to(GROUP, "hello").channel == "wecom_bot"  # never written to yet
        assert app.notices.to_contact("lisi", "hello").channel == "wechat"
        with app.db.atomic():
            app.people.remember("lisi", channel="wecom_bot")
        assert app.notices.to_contact("lisi", "hello").channel == "wecom_bot"
        groups = {g.id for g in app.places.member_groups()}
        assert GROUP in groups  # a digest reaches it before anyone has written there
        assert "wc-staff" not in groups
    finally:
        app.close()


@asynccontextmanager
async def _beside_wechat(
    emu: WecomEmulator, tmp_path: Path
) -> AsyncIterator[tuple[Services, asyncio.Task[None]]]:
    """The bot on WeChat (the test transport) and WeCom (over the emulator) in one
    `Runtime`, serving until the block ends; yields the services and the serving task,
    which the block's end stops (and the test may look at)."""
    wecom = {"bot_id": emu.bot_id, "staff_groups": [], "member_groups": [GROUP],
             "pacing": {"min_gap_seconds": 0, "jitter_seconds": 0}}  # fmt: skip
    app = make_services(
        demo_config(channels={"wecom_bot": wecom}), tmp_path / "bot.db", FrozenClock(START)
    )
    transport = WecomBotTransport(
        emu.url, emu.bot_id, "s3cret", names=["商会助手"], ssl_context=emu.client_ssl_context()
    )
    stop = asyncio.Event()
    serving = asyncio.create_task(
        Runtime(app, [TestTransport(app.people.name), transport]).serve(stop)
    )
    try:
        await _blocking(emu.wait_connected)
        yield app, serving
    finally:
        stop.set()
        await asyncio.wait({serving}, timeout=10)
        emu.stall(0)
        emu.clear()
        app.close()


async def test_beside_wechat_every_wecom_reply_goes_out_at_once(
    emu: WecomEmulator, tmp_path: Path
) -> None:
    """Both channels in one process, a sender each on one outbox. WeChat's sender, idle,
    also wakes when a WeCom reply is queued, and must not take the wakeup WeCom's sender
    needs: once it did, and the reply waited for WeCom's next poll, up to a minute."""
    users = [f"member{i}" for i in range(6)]
    async with _beside_wechat(emu, tmp_path):
        for user in users:
            await asyncio.sleep(0.05)  # both senders back to waiting
            await _blocking(emu.say, user, "帮助")
            await _until(lambda: emu.sent_to(user), "the reply", within=3)  # noqa: B023
        replies = [r["text"] for user in users for r in emu.sent_to(user)]
    assert len(replies) == len(users)
    assert all(text.startswith("商会助手能为您做这些") for text in replies)


async def test_a_stop_while_wecom_has_not_answered_a_send_ends_at_once(
    emu: WecomEmulator, tmp_path: Path
) -> None:
    """Ctrl-C (or systemd) while WeCom has not yet answered a send: the send is of unknown
    fate and the bot stops. Python 3.11's `wait_for` swallowed the sender's cancellation
    when the connection's end and the stop came together, and the bot never stopped."""
    async with _beside_wechat(emu, tmp_path) as (app, serving):
        await _blocking(emu.stall, 30)  # frames are taken and never answered
        app.outbox.enqueue([Outgoing(GROUP, "活动通知", channel="wecom_bot")])
        await _until(lambda: emu.stats["ignored_frames"], "the send in flight")
        began = time.monotonic()
    assert serving.done()
    assert time.monotonic() - began < 5
    sql = "select status from outbox where text = ?"
    assert read(tmp_path / "bot.db", sql, "活动通知") == [("unknown",)]


@pytest.mark.usefixtures("_own_logging")
def test_without_a_channel_run_asks_for_the_wechat_gateway_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("WECHATY_PUPPET_SERVICE_ENDPOINT", "WECHATY_PUPPET_SERVICE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    config = write_config(tmp_path, None, None)
    assert main(["run", "--config", str(config)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"{config}: wechat.endpoint: required (or set WECHATY_PUPPET_SERVICE_ENDPOINT)"
    )
