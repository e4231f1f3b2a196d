"""Digests into internal WeCom groups by group robot (群机器人 webhook), over a loopback
emulator of the vendor's webhook (tests/wecom/webhook_server.py): split within the byte
limit, paced, the rate limit waited out, a bad key reported, nothing lost, nothing twice.

Time is the frozen clock: the sender's sleep and the emulator's rate window both read it,
so the minute-long waits take no time. What is asserted is what the emulator accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import socket
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.clock import FrozenClock
from bot.config import Config
from bot.messages import Outgoing
from bot.runtime import Runtime
from bot.sender import Sender
from bot.services import Services
from chamberbot.cli import main
from channels.wecom_webhook import CHANNEL, WebhookTransport, webhook_transport
from handlers.policies.broadcast_schedule import broadcast_job
from policy_feeds.model import Item
from policy_feeds.store import PolicyStore
from tests.conftest import DEMO_CONFIG, STAFF_ROOM, TZ, demo_config, make_services, running
from tests.wecom.webhook_server import WebhookServer

ROBOT, KEY, KEY_ENV = "秘书处", "key-secretariat-0001", "CHAMBERBOT_TEST_HOOK_KEY"
STEADY: dict[str, Any] = {"min_gap_seconds": 0, "global_per_minute": 1000, "jitter_seconds": 0}
SUMMARY = "对年度研发投入增长的制造业企业按增量部分给予补助，单家企业最高不超过五十万元。" * 3


@pytest.fixture(scope="module")
def server() -> Iterator[WebhookServer]:
    with WebhookServer() as running_server:
        yield running_server


@pytest.fixture
def hook(server: WebhookServer, clock: FrozenClock) -> WebhookServer:
    server.reset({KEY}, clock.now)
    return server


def config(hook: WebhookServer, pacing: dict[str, Any] | None = None, **robots: Any) -> Config:
    robots = robots or {ROBOT: {"key_env": KEY_ENV, "url": hook.url}}
    channel: dict[str, Any] = {"robots": robots}
    if pacing is not None:
        channel["pacing"] = pacing
    broadcast = {"id": "robot", "cron": "0 9 * * 1", "target": f"{CHANNEL}:{ROBOT}"}
    return demo_config(channels={CHANNEL: channel}, broadcasts=[{**broadcast, "max_items": 30}])


def transport(cfg: Config, key: str = KEY) -> WebhookTransport:
    built = webhook_transport(cfg, "config.yaml", {KEY_ENV: key})
    assert built is not None
    return built


class Sleep:
    """The sender's sleep: moves the frozen clock instead of waiting."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock

    async def __call__(self, seconds: float) -> None:
        self.clock.advance(seconds=seconds)
        await asyncio.sleep(0)


class Reports(list[tuple[Outgoing, str]]):
    def __call__(self, out: Outgoing, reason: str) -> None:
        self.append((out, reason))


def sender(
    app: Services,
    hook_transport: WebhookTransport,
    clock: FrozenClock,
    reports: Reports | None = None,
) -> Sender:
    pacing = app.config.pacing_for(CHANNEL)
    return Sender(
        app.outbox, hook_transport, pacing, reports, sleep=Sleep(clock), rng=random.Random(1)
    )


async def run_until(sending: Sender, done: Callable[[], bool]) -> None:
    """The sender's loop until `done()` (real HTTP on loopback; virtual waits), for at
    most three seconds."""
    task = asyncio.create_task(sending.run())
    try:
        for _ in range(1500):
            if done():
                return
            await asyncio.sleep(0.002)
        raise AssertionError("the sender never finished")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def add_policies(app: Services, count: int) -> None:
    with app.db.atomic():
        for n in range(1, count + 1):
            item = Item(
                title=f"第{n}号 研发费用补助申报通知",
                url=f"https://gov.example/p/{n}",
                issuer="浙江省财政厅",
                published_at=datetime(2026, 11, 15, 10, 0, tzinfo=TZ) - timedelta(hours=n),
                summary=SUMMARY,
                tags=(),
            )
            PolicyStore(app.db).upsert(item, "manual", app.clock.now())


def robot_rows(app: Services) -> list[dict[str, Any]]:
    return list(app.db.table("outbox").rows_where("channel = ?", [CHANNEL], order_by="id"))


def settled(app: Services) -> Callable[[], bool]:
    """Every robot row went out (and the sender wrote so)."""
    return lambda: {r["status"] for r in robot_rows(app)} == {"sent"}


# -- the digest ---------------------------------------------------------------------------------


async def test_a_scheduled_digest_reaches_the_robot_in_numbered_parts_within_4096_bytes(
    tmp_path: Path, clock: FrozenClock, hook: WebhookServer
) -> None:
    app = make_services(config(hook), tmp_path / "bot.db", clock)
    add_policies(app, 24)
    with running(app):
        await broadcast_job("robot")  # what the cron trigger fires on Monday 09:00
    queued = len(robot_rows(app))
    assert queued >= 3

    await run_until(sender(app, transport(app.config), clock), settled(app))

    got = hook.received
    assert [m.msgtype for m in got] == ["markdown"] * queued
    assert all(len(m.content.encode("utf-8")) <= 4096 for m in got)
    assert [m.content.splitlines()[0] for m in got] == [
        f"**【政策速递】11月16日(周一)（{i}/{queued}）**" for i in range(1, queued + 1)
    ]
    for n in range(1, 25):  # every policy whole in exactly one part, numbered in order
        (holder,) = [m.content for m in got if f"第{n}号" in m.content]
        assert f"{n}. **第{n}号 研发费用补助申报通知**" in holder
        assert f"[查看原文](https://gov.example/p/{n})" in holder
    numbers = [line.split(".")[0] for m in got for line in m.content.splitlines() if "第" in line]
    assert numbers == [str(n) for n in range(1, 25)]
    assert ["商会秘书处" in m.content for m in got] == [False] * (queued - 1) + [True]
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(got)]
    assert min(gaps) >= 3  # the default pacing: never more than 20 a minute for a robot
    assert 45009 not in hook.codes()
    assert {r["status"] for r in robot_rows(app)} == {"sent"}
    app.close()


# -- the rate limit -----------------------------------------------------------------------------


async def test_the_21st_message_in_a_minute_is_refused_then_sent_once_a_minute_later(
    tmp_path: Path, clock: FrozenClock, hook: WebhookServer
) -> None:
    app = make_services(config(hook, STEADY), tmp_path / "bot.db", clock)
    texts = [f"第{n}条通知" for n in range(1, 23)]
    app.outbox.enqueue(Outgoing(ROBOT, text, channel=CHANNEL) for text in texts)
    reports = Reports()
    sending = sender(app, transport(app.config), clock, reports)

    assert await sending.drain_once() == 20  # pacing let them all go; the vendor does not
    assert hook.codes() == [0] * 20 + [45009]
    waiting = robot_rows(app)[20]
    assert (waiting["status"], waiting["attempts"]) == ("pending", 1)
    assert "45009" in waiting["error"]
    assert robot_rows(app)[21]["attempts"] == 0  # the 22nd waits behind it, in order

    clock.advance(seconds=59)
    assert await sending.drain_once() == 0
    clock.advance(seconds=1)
    assert await sending.drain_once() == 2

    assert [m.content for m in hook.received] == texts  # each exactly once, in order
    assert hook.codes().count(45009) == 1
    assert {r["status"] for r in robot_rows(app)} == {"sent"}
    assert reports == []  # a rate limit is neither a failure nor a delivery
    app.close()


# -- failures ------------------------------------------------------------------------------------


async def test_an_invalid_key_93000_is_permanent_reported_to_staff_and_not_retried(
    tmp_path: Path, clock: FrozenClock, hook: WebhookServer, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_services(config(hook, STEADY), tmp_path / "bot.db", clock)
    runtime = Runtime(app, [transport(app.config, key="a-key-wecom-never-issued")])
    app.outbox.enqueue([Outgoing(ROBOT, "本周政策速递", channel=CHANNEL)])

    with caplog.at_level(logging.ERROR, logger="channels.wecom_webhook"):
        assert await runtime.sender.drain_once() == 0
    clock.advance(hours=1)
    assert await runtime.sender.drain_once() == 0

    assert hook.codes() == [93000]  # tried once, never again
    assert hook.received == []
    (row,) = robot_rows(app)
    assert row["status"] == "failed"
    assert "93000" in row["error"]
    assert KEY_ENV in caplog.text
    assert "a-key-wecom-never-issued" not in caplog.text
    (notice,) = app.db.table("outbox").rows_where("conversation_id = ?", [STAFF_ROOM])
    assert notice["channel"] == "wechat"
    assert ROBOT in notice["text"]
    assert "93000" in notice["text"]
    assert "或与企业微信群机器人的连接中断、机器人密钥已失效" in notice["text"]  # not 微信网关
    app.close()


async def test_an_unreachable_webhook_is_retried_and_a_lost_answer_never_resent(
    tmp_path: Path, clock: FrozenClock, hook: WebhookServer
) -> None:
    with socket.socket() as spare:  # a port nobody listens on
        spare.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{spare.getsockname()[1]}/cgi-bin/webhook/send"
    robots = {
        "离线": {"key_env": KEY_ENV, "url": closed},
        ROBOT: {"key_env": KEY_ENV, "url": hook.url},
    }
    app = make_services(config(hook, STEADY, **robots), tmp_path / "bot.db", clock)
    app.outbox.enqueue(
        [Outgoing("离线", "连不上", channel=CHANNEL), Outgoing(ROBOT, "没回音", channel=CHANNEL)]
    )
    hook.drop_next()
    reports = Reports()
    sending = sender(app, transport(app.config), clock, reports)

    assert await sending.drain_once() == 0
    clock.advance(minutes=5)
    await sending.drain_once()

    offline, dropped = robot_rows(app)
    assert (offline["status"], offline["attempts"]) == ("pending", 2)  # retried, kept
    assert "cannot connect" in offline["error"]
    assert dropped["status"] == "unknown"  # it may have been posted: reported, not resent
    assert (hook.dropped, hook.answers, hook.received) == (1, [], [])  # dropped, not resent
    assert [reason for _, reason in reports] == [dropped["error"]]
    app.close()


async def test_mentions_go_as_text_with_mentioned_list_and_a_stopped_channel_keeps_rows(
    tmp_path: Path, clock: FrozenClock, hook: WebhookServer
) -> None:
    app = make_services(config(hook, STEADY), tmp_path / "bot.db", clock)
    robots = transport(app.config)
    app.outbox.enqueue([Outgoing(ROBOT, "请查收本周政策", ("wangqing",), CHANNEL)])

    assert await sender(app, robots, clock).drain_once() == 1
    await robots.stop()
    app.outbox.enqueue([Outgoing(ROBOT, "停机后排队", channel=CHANNEL)])
    assert await sender(app, robots, clock).drain_once() == 0

    (got,) = hook.received
    assert (got.msgtype, got.mentioned_list) == ("text", ("wangqing",))
    assert got.content == "请查收本周政策"
    assert robot_rows(app)[1]["status"] == "pending"  # for the next start, not failed
    app.close()


# -- a crash ------------------------------------------------------------------------------------


async def test_a_crash_between_queue_and_send_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, clock: FrozenClock, hook: WebhookServer
) -> None:
    cfg = config(hook, STEADY)
    first = make_services(cfg, tmp_path / "bot.db", clock)
    add_policies(first, 3)
    with running(first):
        await broadcast_job("robot")
    first.db.close()  # the process dies here: queued, committed, never sent

    second = make_services(cfg, tmp_path / "bot.db", clock)
    with running(second):
        await broadcast_job("robot")  # the same firing again after the restart: no-op
    await run_until(sender(second, transport(cfg), clock), settled(second))
    third = sender(second, transport(cfg), clock)  # and once more, a restarted sender
    assert await third.drain_once() == 0

    (digest,) = hook.received
    assert all(f"第{n}号" in digest.content for n in (1, 2, 3))
    assert [r["status"] for r in robot_rows(second)] == ["sent"]
    second.close()


# -- the config ----------------------------------------------------------------------------------


def _config_file(tmp_path: Path, target: str) -> Path:
    data = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    data.pop("policies", None)  # its folder and feeds are relative to the demo's file
    data.update(
        data_dir=str(tmp_path / "data"),
        wechat={"endpoint": "127.0.0.1:8788", "token": "secret"},
        channels={CHANNEL: {"robots": {ROBOT: {"key_env": KEY_ENV}}}},
        broadcasts=[{"id": "robot", "cron": "0 9 * * 1", "target": target}],
    )
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_missing_key_or_an_unknown_robot_is_refused_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("WECHATY_PUPPET_SERVICE_ENDPOINT", "WECHATY_PUPPET_SERVICE_TOKEN", KEY_ENV):
        monkeypatch.delenv(name, raising=False)
    path = _config_file(tmp_path, f"{CHANNEL}:{ROBOT}")

    assert main(["check", "--config", str(path)]) == 2
    checked = capsys.readouterr().err
    assert main(["run", "--config", str(path)]) == 2
    assert capsys.readouterr().err == checked
    assert checked == (
        f"{path}: channels.{CHANNEL}.robots.{ROBOT}.key_env:"
        f" environment variable {KEY_ENV} is not set\n"
    )
    assert not (tmp_path / "data").exists()  # refused before anything was opened

    monkeypatch.setenv(KEY_ENV, KEY)
    assert main(["check", "--config", str(path)]) == 0
    capsys.readouterr()
    path = _config_file(tmp_path, f"{CHANNEL}:会员一群")
    assert main(["check", "--config", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"{path}: broadcasts[0].target: no robot '会员一群' in"
        f" channels.{CHANNEL}.robots (configured: {ROBOT})\n"
    )


async def test_the_emulator_speaks_the_vendors_codes(hook: WebhookServer) -> None:
    import httpx

    async with httpx.AsyncClient() as client:

        async def post(key: str, body: dict[str, Any]) -> int:
            answer = await client.post(hook.url, params={"key": key}, json=body)
            return int(answer.json()["errcode"])

        long_md = {"msgtype": "markdown", "markdown": {"content": "政" * 1366}}  # 4,098 bytes
        assert await post("nobody", {"msgtype": "text", "text": {"content": "x"}}) == 93000
        assert await post(KEY, long_md) == 40058
        assert await post(KEY, {"msgtype": "voice", "voice": {}}) == 40008
        assert await post(KEY, {"msgtype": "text", "text": {"content": "好" * 682}}) == 0
