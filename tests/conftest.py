"""The test bot: the real services on a real SQLite file, a frozen clock, the demo config,
and the test transport: what a test reads is what the transport received (after the
outbox and phone masking)."""

from __future__ import annotations

import copy
import json
import sqlite3
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TypedDict
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
import yaml
from playwright.async_api import Browser, async_playwright

from bot.clock import FrozenClock
from bot.config import Config, parse_config
from bot.dispatcher import Dispatcher
from bot.messages import Incoming, Outgoing
from bot.scheduler import set_running_services
from bot.services import Services
from bot.transport import mention_prefix
from chamberbot.root import FEATURES, sections
from channels.test import TestTransport
from handlers.cases import CaseService
from handlers.cases.service import Actor, Case
from tests.gateway_harness import Gateway, node_problem
from tests.web_harness import ARGS, CHROMIUM

# pytest keeps each test module's assertion-rewritten code as a .pyc, unless writing bytecode
# is off (PYTHONDONTWRITEBYTECODE): then every run, in every xdist worker, parses and
# rewrites all the test modules again (3 s of each worker's 6 s start). Python still reads
# .pyc files with the variable set, so `make test` compiles the sources for the subprocesses.
sys.dont_write_bytecode = False

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "bot" / "demo" / "config.yaml"
TZ = ZoneInfo("Asia/Shanghai")
# A Monday morning in an ordinary working week.
START = datetime(2026, 11, 16, 9, 0, tzinfo=TZ)

# Who is who in the demo config.
MEMBERS_ROOM = "room_members"
OTHER_ROOM = "room_members2"
STAFF_ROOM = "room_staff"
PEOPLE = {
    "wxid_zhang": "张总",
    "wxid_li": "李总",
    "wxid_sun": "孙总",
    "wxid_wang": "王科长",
    "wxid_zhao": "赵律师",
    "wxid_qian": "钱主任",
    "wxid_chen": "陈秘书长",
}
TOPICS = {MEMBERS_ROOM: "会员一群", OTHER_ROOM: "会员二群", STAFF_ROOM: "秘书处工作群"}


class Place(TypedDict):
    """Where and as whom a message is said: ChatBot.say(text, **place)."""

    sender: str
    room: str | None


WANG: Place = {"sender": "wxid_wang", "room": STAFF_ROOM}  # 王科长, 经济处, in the staff room


@cache
def _demo_settings() -> dict[str, object]:
    """The demo config file as read, once per process (hundreds of tests start from it)."""
    return dict(yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8")))


def demo_config(**overrides: object) -> Config:
    data = copy.deepcopy(_demo_settings())
    data.update(overrides)
    return parse_config(data, str(DEMO_CONFIG), sections())


def actor(contact_id: str) -> Actor:
    """Someone of the demo config as the case service records them."""
    return Actor(contact_id, PEOPLE.get(contact_id, contact_id))


def case_service(app: Services) -> CaseService:
    """The cases feature's service, as every adapter finds it."""
    return app.service(CaseService)


def open_case(
    app: Services,
    now: datetime,
    description: str = "银行突然抽贷，资金周转困难",
    *,
    reporter: str = "wxid_zhang",
    enterprise: str | None = "张氏机械",
    room: str | None = MEMBERS_ROOM,
) -> Case:
    """A case as the member-side 诉求 command opens it, from a known contact (room None: in
    a private chat)."""
    app.people.remember(reporter, name=PEOPLE.get(reporter, reporter), enterprise=enterprise)
    opened = case_service(app).open(
        actor(reporter),
        channel="wechat",
        enterprise=enterprise,
        conversation_id=room or reporter,
        is_group=room is not None,
        description=description,
        now=now,
    )
    return opened.case


@cache
def _migrated() -> bytes:
    """A new database file after every migration (core and features), made once per process
    by the real migrations: the schema is the same whatever the config or the clock."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bot.db"
        Services(demo_config(), db_path=path, features=FEATURES, clock=FrozenClock(START)).close()
        with sqlite3.connect(path) as conn:  # the WAL into the file: one file to copy
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        return path.read_bytes()


def make_services(config: Config, db_path: Path, clock: FrozenClock) -> Services:
    """The services on `db_path`; a new file starts as a copy of the migrated schema
    (_migrated) rather than running the migrations again (25 ms of CPU per test)."""
    if not db_path.exists():
        db_path.parent.mkdir(parents=True, exist_ok=True)
        db_path.write_bytes(_migrated())
    return Services(config, db_path=db_path, features=FEATURES, clock=clock)


@contextmanager
def running(app: Services) -> Iterator[Services]:
    """The services scheduled jobs reach through running_services(), for one block."""
    set_running_services(app)
    try:
        yield app
    finally:
        set_running_services(None)


class ChatBot:
    """Push a message as anyone, anywhere; get back what the transport received in reply."""

    def __init__(self, app: Services, clock: FrozenClock) -> None:
        self.app = app
        self.clock = clock
        self.dispatcher = Dispatcher(app)
        self.transport = TestTransport(app.people.name)
        self._ids = 0

    def say(
        self,
        text: str,
        *,
        sender: str = "wxid_zhang",
        room: str | None = MEMBERS_ROOM,
        mention: bool = False,
        message_id: str | None = None,
    ) -> list[Outgoing]:
        self._ids += 1
        msg = Incoming(
            message_id=message_id or f"m{self._ids}",
            conversation_id=room or sender,
            is_group=room is not None,
            sender_id=sender,
            sender_name=PEOPLE.get(sender, sender),
            text=text,
            time=self.clock.now(),
            room_topic=TOPICS.get(room) if room else None,
            mentions_bot=mention,
        )
        before = self.app.outbox.last_id()
        self.dispatcher.handle(msg)
        return self.transport.deliver(self.app.outbox, before)

    def report(
        self,
        description: str = "银行突然抽贷，资金周转困难",
        *,
        reporter: str = "wxid_zhang",
        enterprise: str | None = "张氏机械",
        room: str | None = MEMBERS_ROOM,
        now: datetime | None = None,
    ) -> Case:
        """open_case by someone the bot has seen chatting in the room first."""
        if room is not None:
            assert self.say("大家好", sender=reporter, room=room) == []  # ignored, but seen
        return open_case(
            self.app,
            now or self.clock.now(),
            description,
            reporter=reporter,
            enterprise=enterprise,
            room=room,
        )

    def deliver(self) -> list[Outgoing]:
        """Send every row that is due now (scheduled notices, after quiet hours …)."""
        return self.transport.deliver(self.app.outbox)

    def text(self, text: str, **kwargs: object) -> str:
        """The reply into the conversation the message came from, as one string."""
        room = kwargs.get("room", MEMBERS_ROOM)
        origin = room or kwargs.get("sender", "wxid_zhang")
        outs = self.say(text, **kwargs)  # type: ignore[arg-type]
        return "\n".join(o.text for o in outs if o.conversation_id == origin)

    def queued(self, conversation_id: str | None = None) -> list[dict[str, object]]:
        """Every row of the durable outbox (optionally for one conversation), in order, its
        "text" as a transport shows it (mentions rendered)."""
        where = "conversation_id = ?" if conversation_id else None
        params = [conversation_id] if conversation_id else None
        rows = list(self.app.db.table("outbox").rows_where(where, params, order_by="id"))
        for row in rows:
            mentions = tuple(json.loads(str(row["mention_ids"] or "[]")))
            out = Outgoing(str(row["conversation_id"]), str(row["text"]), mentions)
            row["text"] = mention_prefix(out, self.app.people.name) + out.text
        return rows

    def advance(self, **kwargs: float) -> None:
        self.clock.advance(timedelta(**kwargs))


def delivered(bot: ChatBot, conversation_id: str) -> list[str]:
    """What the test transport received for one place (the outbox drained through it)."""
    return [o.text for o in bot.deliver() if o.conversation_id == conversation_id]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def app(tmp_path: Path, clock: FrozenClock) -> Iterator[Services]:
    services = make_services(demo_config(), tmp_path / "bot.db", clock)
    yield services
    services.close()


@pytest.fixture
def bot(app: Services, clock: FrozenClock) -> ChatBot:
    return ChatBot(app, clock)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium for the session (per xdist worker); tests open their own contexts in it,
    and run on the session's event loop (tests.web_harness.BROWSER_LOOP)."""
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One populated Node test gateway for the session (per xdist worker; a Node start costs
    about 2 s of CPU); each test connects its own bot to it with `connected`, which resets it
    first (nothing sent, failing or held; counters at zero). A test that kills, stops or
    restarts the gateway starts its own (`running`); one that reshapes it (members, topics,
    groups) puts it back as it was when it ends."""
    problem = node_problem()
    if problem:
        pytest.fail(problem)
    shared = Gateway(tmp_path_factory.mktemp("gateway") / "gateway.log")
    try:
        shared.populate()
        yield shared
    finally:
        shared.close()


# The slowest modules first: with -n, xdist hands out whole modules (`--dist loadfile` in
# pyproject.toml: a module-scoped fixture, the wheel built and installed or the module's
# gateway, is made by one worker only) in this order as workers free up. The 25-s wait for
# a reminder in test_events_gateway overlaps the rest, no worker ends on a long module
# while the other idles, and the quick modules fill in at the end.
SLOW_FIRST = (
    # the kill -9 burst first, beside the event test that mostly waits 25 s for its
    # reminder (and, with -n 3, the gateway tests, which mostly wait on their processes):
    # the burst's bot must keep reading its stream, not share the CPU with a browser (its
    # 100 ms window assumes a bot that is not starved)
    "test_chaos.py",
    "test_events_gateway.py",
    "test_gateway.py",
    "test_web.py",
    "test_wecom_loop.py",
    "test_wheel.py",
    "test_web_stats.py",
    "test_web_events.py",
    "test_web_gateway.py",
    "test_wecom_bot.py",
    "test_demo.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return SLOW_FIRST.index(name) if name in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: the other modules, and each module's tests, keep order
