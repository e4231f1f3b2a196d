"""The test bot: a real App on a real SQLite file, a frozen clock, the demo config."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.app import App
from bot.clock import FrozenClock
from bot.config import Config, parse_config
from bot.dispatcher import Dispatcher
from bot.messages import Incoming, Outgoing
from bot.scheduler import set_running_app

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


def demo_config(**overrides: object) -> Config:
    data = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    data.update(overrides)
    return parse_config(data, str(DEMO_CONFIG))


@contextmanager
def running(app: App) -> Iterator[App]:
    """The app scheduled jobs reach through bot.scheduler.running_app(), for one block."""
    set_running_app(app)
    try:
        yield app
    finally:
        set_running_app(None)


class ChatBot:
    """Push a message as anyone, anywhere; get back what the bot queued in reply."""

    def __init__(self, app: App, clock: FrozenClock) -> None:
        self.app = app
        self.clock = clock
        self.dispatcher = Dispatcher(app)
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
        return self.dispatcher.handle(msg)

    def text(self, text: str, **kwargs: object) -> str:
        """The reply into the conversation the message came from, as one string."""
        room = kwargs.get("room", MEMBERS_ROOM)
        origin = room or kwargs.get("sender", "wxid_zhang")
        outs = self.say(text, **kwargs)  # type: ignore[arg-type]
        return "\n".join(o.text for o in outs if o.conversation_id == origin)

    def queued(self, conversation_id: str | None = None) -> list[dict[str, object]]:
        """Every row of the durable outbox (optionally for one conversation), in order."""
        where = "conversation_id = ?" if conversation_id else None
        params = [conversation_id] if conversation_id else None
        return list(self.app.db.table("outbox").rows_where(where, params, order_by="id"))

    def advance(self, **kwargs: float) -> None:
        self.clock.advance(timedelta(**kwargs))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def app(tmp_path: Path, clock: FrozenClock) -> Iterator[App]:
    application = App(demo_config(), db_path=tmp_path / "bot.db", clock=clock)
    yield application
    application.db.close()


@pytest.fixture
def bot(app: App, clock: FrozenClock) -> ChatBot:
    return ChatBot(app, clock)
