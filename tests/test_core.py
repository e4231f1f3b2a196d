"""The core's own promises: the case service's rules, feature manifests, channels, and the
bugs found while reshaping it (each test named after its bug)."""

from __future__ import annotations

import glob
import re
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.feature import Feature
from bot.messages import Outgoing, Role
from bot.refusal import Refusal
from bot.router import Context, Route
from bot.services import Services
from chamberbot.root import FEATURES
from handlers.cases.rules import ALLOWED
from handlers.cases.service import Actor, Case, EventKind, Status
from tests.conftest import (
    MEMBERS_ROOM,
    STAFF_ROOM,
    ChatBot,
    actor,
    case_service,
    demo_config,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "bot" / "templates"


def _boom(ctx: Context) -> list[Outgoing]:
    ctx.people.remember(ctx.msg.sender_id, enterprise="写到一半的企业")
    raise RuntimeError("a bug in a handler")


BOOM = Feature(name="boom", routes=[Route("boom", ("爆炸",), _boom, "爆炸", "测试用")])


def test_error_reply_promises_staff_are_told_and_they_are(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Bug: error.j2 said 已记录并通知工作人员, but nothing was sent to staff."""
    app = Services(
        demo_config(), db_path=tmp_path / "b.db", features=[*FEATURES, BOOM], clock=clock
    )
    bot = ChatBot(app, clock)
    outs = bot.say("爆炸", sender="wxid_li")
    assert [o.conversation_id for o in outs] == [MEMBERS_ROOM, STAFF_ROOM]
    assert "已记录并通知工作人员" in outs[0].text
    assert outs[1].text.startswith("【系统提示】处理「会员一群」中李总的消息时出错")
    assert app.people.contact("wxid_li")["enterprise"] is None  # the handler's write rolled back
    app.close()


def test_usage_and_refusals_use_the_configured_keywords(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Bug: 帮助 / 诉求 were written into usage.j2, refuse_staff.j2 … whatever the config said."""
    config = demo_config(commands={"menu": ["菜单"], "report": ["反映"]})
    app = Services(config, db_path=tmp_path / "k.db", features=FEATURES, clock=clock)
    bot = ChatBot(app, clock)
    usage = bot.text("进度 abc", room=None)
    assert "发送「菜单」查看全部指令" in usage
    assert "帮助" not in usage
    refused = bot.text("待办", room=None)
    assert "「反映 问题描述」" in refused
    assert "菜单" in bot.text("菜单", room=None)
    app.close()


def test_no_template_writes_a_default_keyword_in_quotes() -> None:
    """Every keyword a template shows comes from kw(), so a chamber's own keywords show."""
    keywords = {k for f in FEATURES for r in f.routes for k in r.keywords}
    found = []
    for path in glob.glob(str(TEMPLATES / "*.j2")):
        text = Path(path).read_text(encoding="utf-8")
        found += [(Path(path).name, k) for k in keywords if re.search(f"「{k}[ 」]", text)]
    assert found == []


def test_the_menu_lists_one_command_per_line(bot: ChatBot) -> None:
    """Bug: trim_blocks ate the newline after {% endif %}: the menu came as one long line."""
    (menu,) = bot.say("帮助", room=None)
    lines = [line for line in menu.text.splitlines() if line.startswith("· ")]
    assert len(lines) == len(bot.app.router.visible(Role.MEMBER))
    assert all(line.count(" —— ") == 1 for line in lines)
    assert lines[0].startswith("· 帮助 —— 查看指令菜单（也可用：菜单、help）")


def test_a_known_conversation_is_not_looked_up_again_per_message(app: Services) -> None:
    """Bug: the runtime ran a query per message only to write a log line."""
    bot = ChatBot(app, app.clock)  # type: ignore[arg-type]
    bot.say("大家好")
    statements: list[str] = []
    app.db.conn.set_trace_callback(statements.append)
    bot.say("今天开会吗")
    app.db.conn.set_trace_callback(None)
    assert not [s for s in statements if "from conversations" in s]


# -- the case service ----------------------------------------------------------------------


def _open(app: Services) -> Case:
    return (
        case_service(app)
        .open(
            actor("wxid_zhang"),
            enterprise="张氏机械",
            channel="wechat",
            conversation_id=MEMBERS_ROOM,
            is_group=True,
            description="银行抽贷",
            now=app.clock.now(),
        )
        .case
    )


def test_every_intent_writes_exactly_one_event_of_its_kind(app: Services) -> None:
    now = app.clock.now()
    wang = Actor("wxid_wang", "王科长", STAFF_ROOM)
    case = _open(app)
    steps = [
        (lambda c: case_service(app).claim(c, wang, now), EventKind.CLAIMED),
        (lambda c: case_service(app).answer(c, wang, "在办", now), EventKind.ANSWERED),
        (lambda c: case_service(app).note(c, wang, "内部", now), EventKind.NOTED),
        (lambda c: case_service(app).escalate(c, wang, "", now), EventKind.ESCALATED),
        (
            lambda c: case_service(app).reclassify(c, wang, "法治环境", "", now),
            EventKind.RECLASSIFIED,
        ),
        (lambda c: case_service(app).resolve(c, wang, "已办", now), EventKind.RESOLVED),
    ]
    for step, kind in steps:
        before = len(case_service(app).timeline(case))
        case = step(case).case
        events = case_service(app).timeline(case)
        assert len(events) == before + 1
        assert events[-1].kind == kind
    assert case.status == Status.RESOLVED


def test_an_intent_not_allowed_in_the_state_is_refused_and_changes_nothing(app: Services) -> None:
    now = app.clock.now()
    case = _open(app)
    closed = case_service(app).withdraw(case, actor("wxid_zhang"), "", now).case
    with pytest.raises(Refusal) as refused:
        case_service(app).answer(closed, actor("wxid_wang"), "好的", now)
    assert refused.value.template == "staff_state"
    assert case_service(app).get(closed.id) == closed
    assert Status.WITHDRAWN not in ALLOWED[EventKind.ANSWERED]


def test_case_status_is_written_only_by_the_case_service() -> None:
    root = Path(__file__).resolve().parent.parent
    writers = []
    service = {"core.py", "store.py", "staff_intents.py", "reporter_intents.py"}
    folders = ("bot", "channels", "chamberbot", "handlers", "web")
    for path in [p for folder in folders for p in root.glob(f"{folder}/**/*.py")]:
        if path.parent.name == "cases" and path.name in service:
            continue
        migrations = (root / "bot" / "db.py", root / "handlers" / "cases" / "migrations.py")
        if path in migrations:  # frozen SQL (m011's next_action_at, the routes' backfill)
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"update cases set|status=(Status\.|\"|')", text):
            writers.append(str(path.relative_to(root)))
    assert writers == []


def test_messages_and_stored_rows_carry_their_channel(bot: ChatBot, app: Services) -> None:
    app.people.remember("wxid_zhang", enterprise="张氏机械")
    bot.say("诉求 银行抽贷")
    assert {r["channel"] for r in bot.queued()} == {"wechat"}
    case = case_service(app).where("1 = 1", [])[0]
    assert case.channel == "wechat"
    (row,) = app.db.execute("select channel from inbound").fetchall()
    assert row[0] == "wechat"


def test_a_prompt_state_declared_twice_is_a_config_error(
    tmp_path: Path, clock: FrozenClock
) -> None:
    twice = Feature(name="twice", prompts={"report_description": _boom})
    from bot.router import RouterError

    with pytest.raises(RouterError, match="report_description"):
        Services(demo_config(), db_path=tmp_path / "p.db", features=[*FEATURES, twice])


def test_wechat_short_form_and_channels_are_one_setting() -> None:
    config = demo_config(channels={"wechat": {"endpoint": "127.0.0.1:9", "token": "t"}})
    assert config.channel("wechat").endpoint == "127.0.0.1:9"
    short = demo_config(wechat={"endpoint": "127.0.0.1:8", "token": "t"})
    assert short.channel("wechat").endpoint == "127.0.0.1:8"
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="short form"):
        demo_config(wechat={"endpoint": "x:1"}, channels={"wechat": {}})
