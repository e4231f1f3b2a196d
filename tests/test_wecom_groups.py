"""Digests to WeCom customer groups as mass-send tasks, over a loopback emulator of the
vendor's 企业群发 API (tests/wecom_groups/emulator.py): one task per digest with the right
chat ids and text, never twice across a restart, 待确认 then the result on the console (read
by the real APScheduler job), the monthly quota, outages retried, the config checked.

What is asserted is what the emulator received; time is the frozen clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.clock import FrozenClock
from bot.config import Config
from bot.messages import Incoming
from bot.runtime import Runtime
from bot.scheduler import build_scheduler
from bot.sender import Sender
from bot.services import Services
from chamberbot.cli import main
from channels.wecom_groups import CHANNEL, GroupsTransport, groups_settings, groups_transport
from handlers.policies import mass_send
from handlers.policies.broadcast_schedule import broadcast_job
from handlers.policies.broadcasts import run_broadcast
from policy_feeds.model import Item
from policy_feeds.store import PolicyStore
from tests.conftest import DEMO_CONFIG, STAFF_ROOM, TZ, demo_config, make_services, running
from tests.web_harness import http_console, http_login, text_at
from tests.wecom_groups.emulator import CREATE, RESULTS, GroupsEmulator

TRADE_1, TRADE_2, FOOD = "wrTrade0001", "wrTrade0002", "wrFood0003"
OWNERS = {TRADE_1: "liwei", TRADE_2: "liwei", FOOD: "zhaoyun"}
ENV = {"WECOM_CORP_ID": "ww-chamber", "WECOM_CONTACT_SECRET": "contact-secret"}


@pytest.fixture(scope="module")
def server() -> Iterator[GroupsEmulator]:
    clock = {"now": datetime(2026, 11, 16, 9, 0, tzinfo=TZ)}
    emu = GroupsEmulator(lambda: clock["now"], OWNERS)
    yield emu
    emu.close()


@pytest.fixture
def emu(server: GroupsEmulator, clock: FrozenClock) -> GroupsEmulator:
    server.clock = clock.now
    server.owners = dict(OWNERS)
    server.reset()
    return server


def config(emu: GroupsEmulator, **section: Any) -> Config:
    groups = {
        "外贸一群": {"chat_id": TRADE_1, "tags": ["外贸"]},
        "外贸二群": {"chat_id": TRADE_2, "tags": ["外贸", "跨境"]},
        "餐饮群": {"chat_id": FOOD, "tags": ["餐饮"], "owner": "zhaoyun"},
    }
    channel = {"sender": "liwei", "groups": groups, "api_url": emu.url, **section}
    broadcast = {"id": "trade", "cron": "0 9 * * 1", "target": "外贸", "max_items": 8}
    return demo_config(channels={CHANNEL: channel}, broadcasts=[broadcast])


def add_policies(app: Services, first: int, count: int = 3) -> None:
    with app.db.atomic():
        for n in range(first, first + count):
            item = Item(
                title=f"第{n}号 外贸企业出口信用保险补贴",
                url=f"https://gov.example/trade/{n}",
                issuer="商务厅",
                published_at=app.clock.now() - timedelta(hours=n),
                summary="对出口信用保险保费给予补贴。",
                tags=("外贸",),
            )
            PolicyStore(app.db).upsert(item, "manual", app.clock.now())


def start(app: Services) -> None:
    """What the bot's start does for the feature: seed the groups, sync the broadcasts."""
    build_scheduler(app)


async def channel(app: Services) -> GroupsTransport:
    settings = groups_settings(app.config, "config.yaml", ENV)
    assert settings is not None
    transport = groups_transport(app, settings)

    async def ignore(msg: Incoming) -> None:  # nothing arrives on this channel
        raise AssertionError(msg)

    await transport.start(ignore)
    return transport


@asynccontextmanager
async def digest_queued(
    tmp_path: Path, clock: FrozenClock, emu: GroupsEmulator
) -> AsyncIterator[tuple[Services, GroupsTransport]]:
    """The 外贸 digest fired once (a mass-send task queued) and the channel started, while
    the scheduled jobs reach the services; the channel stops at the end, the services stay
    open for the test's last looks."""
    app = make_services(config(emu), tmp_path / "bot.db", clock)
    start(app)
    add_policies(app, 1)
    with running(app):
        await broadcast_job("trade")  # Monday 09:00
        transport = await channel(app)
        try:
            yield app, transport
        finally:
            await transport.stop()


def sender(app: Services, transport: GroupsTransport) -> Sender:
    """The channel's outbox sender as `chamberbot run` has it (staff told of failures)."""
    return Runtime(app, [transport]).sender


def tasks(app: Services) -> list[tuple[str, str]]:
    rows = app.db.execute("select status, sender from mass_tasks order by id").fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def staff_texts(app: Services) -> list[str]:
    rows = app.db.table("outbox").rows_where("conversation_id = ?", [STAFF_ROOM], order_by="id")
    return [str(r["text"]) for r in rows]


async def until(done: Callable[[], bool], within: float = 5.0) -> None:
    end = time.monotonic() + within
    while not done():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.01)


# -- one task per digest, 待确认, the result ---------------------------------------------------


async def test_a_digest_to_tagged_groups_is_one_task_shown_pending_then_sent(
    tmp_path: Path, clock: FrozenClock, emu: GroupsEmulator
) -> None:
    async with digest_queued(tmp_path, clock, emu) as (app, transport):
        assert await sender(app, transport).drain_once(paced=False) == 1

        (task,) = emu.tasks
        assert (task.sender, task.chat_ids) == ("liwei", [TRADE_1, TRADE_2])  # not 餐饮群
        assert all(f"第{n}号 外贸企业出口信用保险补贴" in task.text for n in (1, 2, 3))
        assert "查找更多政策" not in task.text  # nobody can answer the bot in a customer group
        assert emu.calls.count(CREATE) == 1
        assert tasks(app) == [("pending", "liwei")]

        async with http_console(app) as client:
            await http_login(client, "wang")
            page = (await client.get("/broadcasts")).text
            assert "待确认（请 liwei 在企业微信中确认发送）" in text_at(page, '//tr[@id="mass-1"]')
            assert "外贸一群 1/30" in text_at(page, "//p")  # November: 30 a month

            emu.confirm(task.msgid)  # the owner presses 发送 in WeCom
            scheduler = build_scheduler(app, resume=False)
            scheduler.start()
            try:
                scheduler.modify_job("mass_send:results", next_run_time=datetime.now(TZ))
                await until(lambda: tasks(app) == [("sent", "liwei")])
            finally:
                scheduler.shutdown(wait=False)
                await transport.stop()
            row = text_at((await client.get("/broadcasts")).text, '//tr[@id="mass-1"]')
            assert "外贸一群（已发送）、外贸二群（已发送）" in row
            assert "已发送" in row
            assert "待确认" not in row
    app.close()


async def test_a_group_the_sender_does_not_own_is_refused_and_shown_so(
    tmp_path: Path, clock: FrozenClock, emu: GroupsEmulator
) -> None:
    emu.owners = {**OWNERS, TRADE_2: "zhaoyun"}  # 外贸二群 changed hands in WeCom
    async with digest_queued(tmp_path, clock, emu) as (app, transport):
        await sender(app, transport).drain_once(paced=False)
        (task,) = emu.tasks
        assert task.chat_ids == [TRADE_1]
        emu.confirm(task.msgid)
        await mass_send.poll_job()
    assert tasks(app) == [("sent", "liwei")]  # waits for no result of the refused group
    async with http_console(app) as client:
        await http_login(client, "wang")
        page = (await client.get("/broadcasts")).text
    row = text_at(page, '//tr[@id="mass-1"]')
    assert "外贸一群（已发送）、外贸二群（未创建：liwei 不是该群群主）" in row
    assert "外贸一群 1/30，外贸二群 0/30" in text_at(page, "//p")  # refused: no quota used
    app.close()


# -- never twice -------------------------------------------------------------------------------


async def test_a_restart_never_creates_a_task_twice_and_a_lost_answer_is_not_resent(
    tmp_path: Path, clock: FrozenClock, emu: GroupsEmulator
) -> None:
    cfg = config(emu)
    first = make_services(cfg, tmp_path / "bot.db", clock)
    start(first)
    add_policies(first, 1)
    with running(first):
        await broadcast_job("trade")
    first.db.close()  # the process dies: the task is queued and committed, never created

    second = make_services(cfg, tmp_path / "bot.db", clock)
    start(second)  # resumes the run: nothing to do
    with running(second):
        await broadcast_job("trade")  # the same firing again
        transport = await channel(second)
        emu.drop_next()  # WeCom creates it, the answer is lost
        assert await sender(second, transport).drain_once(paced=False) == 0
        clock.advance(hours=1)
        assert await sender(second, transport).drain_once(paced=False) == 0
        await transport.stop()

    assert len(emu.tasks) == 1  # created once, never again
    assert emu.calls.count(CREATE) == 1
    assert tasks(second) == [("unknown", "liwei")]
    assert any("群发#1" in t for t in staff_texts(second))  # staff told to look in WeCom
    second.close()


# -- the monthly quota --------------------------------------------------------------------------


async def test_the_quota_holds_the_digest_over_the_limit_and_tells_staff_once(
    tmp_path: Path, clock: FrozenClock, emu: GroupsEmulator
) -> None:
    app = make_services(config(emu, monthly_limit=4), tmp_path / "bot.db", clock)
    start(app)
    with running(app):
        transport = await channel(app)
        for week in range(6):
            add_policies(app, 10 * week + 1)
            run_broadcast(app, "trade", clock.now() + timedelta(days=week, minutes=week))
            await sender(app, transport).drain_once(paced=False)
        await transport.stop()

    assert len(emu.tasks) == 4  # the 5th and 6th digests were held
    assert [s for s, _ in tasks(app)] == ["pending"] * 4 + ["held"] * 4  # 2 groups × 2
    (held,) = [t for t in staff_texts(app) if "群发额度" in t]  # once, not once per digest
    assert "客户群「外贸一群、外贸二群」本月的群发额度（每群4条）已用完（11月16日(周一)）" in held
    sent = app.db.execute(
        "select count(*) from policy_sent where policy_id in"
        " (select id from policies where title like '第41号%')"
    ).fetchone()
    assert sent[0] == 0  # a held digest's policies wait for the next one
    app.close()


def test_the_default_quota_is_the_days_of_the_month(emu: GroupsEmulator) -> None:
    section = config(emu).channels.wecom_customer_groups
    assert section is not None
    assert mass_send.monthly_limit(section, datetime(2026, 11, 16, tzinfo=TZ)) == 30
    assert mass_send.monthly_limit(section, datetime(2027, 2, 1, tzinfo=TZ)) == 28
    assert mass_send.monthly_limit(section, datetime(2026, 12, 31, tzinfo=TZ)) == 31


# -- outages -----------------------------------------------------------------------------------


async def test_outages_are_retried_and_the_task_created_once(
    tmp_path: Path, clock: FrozenClock, emu: GroupsEmulator
) -> None:
    async with digest_queued(tmp_path, clock, emu) as (app, transport):
        emu.fail(1, status=503, path=CREATE)
        emu.fail(1, errcode=-1, path=CREATE)
        for _ in range(3):
            await sender(app, transport).drain_once(paced=False)
            clock.advance(minutes=2)
        assert len(emu.tasks) == 1
        assert emu.calls.count(CREATE) == 3
        assert tasks(app) == [("pending", "liwei")]

        emu.confirm(emu.tasks[0].msgid)
        emu.fail(1, status=503, path=RESULTS)
        await mass_send.poll_job()  # the outage: left for the next poll
        assert tasks(app) == [("pending", "liwei")]
        await mass_send.poll_job()
        assert tasks(app) == [("sent", "liwei")]
    assert not [t for t in staff_texts(app) if "失败" in t]
    app.close()


async def test_an_answer_that_is_not_the_vendors_is_of_unknown_fate_and_never_sent_again(
    tmp_path: Path, clock: FrozenClock, emu: GroupsEmulator
) -> None:
    """A JSON answer without the vendor's errcode (a proxy's, say) may hide a task WeCom
    made: the row is of unknown fate, staff are told, and it is never created again."""
    async with digest_queued(tmp_path, clock, emu) as (app, transport):
        emu.fail(1, path=CREATE, body={"status": "ok"})
        for _ in range(2):
            assert await sender(app, transport).drain_once(paced=False) == 0
            clock.advance(hours=1)
    assert emu.calls.count(CREATE) == 1
    assert tasks(app) == [("unknown", "liwei")]
    assert any("群发#1" in t for t in staff_texts(app))
    app.close()


# -- the config --------------------------------------------------------------------------------


def _config_file(tmp_path: Path, groups: dict[str, Any]) -> Path:
    data = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    data.pop("policies", None)
    data.update(
        data_dir=str(tmp_path / "data"),
        wechat={"endpoint": "127.0.0.1:8788", "token": "secret"},
        channels={CHANNEL: {"sender": "liwei", "groups": groups}},
    )
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_check_refuses_a_missing_secret_and_a_chat_id_listed_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("WECHATY_PUPPET_SERVICE_ENDPOINT", "WECHATY_PUPPET_SERVICE_TOKEN", *ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WECOM_CORP_ID", "ww-chamber")
    path = _config_file(tmp_path, {"外贸一群": {"chat_id": TRADE_1}})
    assert main(["check", "--config", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"{path}: channels.{CHANNEL}.secret_env:"
        " environment variable WECOM_CONTACT_SECRET is not set\n"
    )
    monkeypatch.setenv("WECOM_CONTACT_SECRET", "contact-secret")
    assert main(["check", "--config", str(path)]) == 0
    capsys.readouterr()
    twice = {"外贸一群": {"chat_id": TRADE_1}, "外贸群": {"chat_id": TRADE_1}}
    path = _config_file(tmp_path, twice)
    assert main(["check", "--config", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"{path}: channels.{CHANNEL}.groups.外贸群.chat_id:"
        f" chat_id {TRADE_1} is also group '外贸一群'\n"
    )
