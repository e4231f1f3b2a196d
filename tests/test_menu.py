"""帮助: the menu shows what the asker's role may use."""

from pathlib import Path

from bot.clock import FrozenClock
from chamberbot.root import services as build_services
from tests.conftest import STAFF_ROOM, ChatBot, demo_config


def test_member_menu_lists_member_commands_only(bot: ChatBot) -> None:
    reply = bot.text("帮助")
    assert "帮助" in reply
    assert "待办" not in reply


def test_help_keyword_in_english_and_full_width(bot: ChatBot) -> None:
    assert "查看指令菜单" in bot.text("ｈｅｌｐ")


def test_group_chatter_is_ignored(bot: ChatBot) -> None:
    assert bot.say("大家好，今天开会吗") == []


def test_unknown_text_in_private_gets_a_hint(bot: ChatBot) -> None:
    reply = bot.text("你好呀", room=None)
    assert "帮助" in reply


def test_mention_without_text_says_hello(bot: ChatBot) -> None:
    assert "商会助手" in bot.text("@商会助手", mention=True)


def test_staff_room_menu_includes_staff_commands(bot: ChatBot) -> None:
    reply = bot.text("菜单", room=STAFF_ROOM, sender="wxid_wang")
    assert "工作人员" in reply


def test_admin_menu_shows_every_keyword(bot: ChatBot) -> None:
    reply = bot.text("帮助", room=None, sender="wxid_chen")
    missing = [
        k
        for r in bot.app.router.routes
        for k in bot.app.router.aliases[r.command]
        if k not in reply
    ]
    assert missing == []


def test_menu_follows_configured_keywords(tmp_path: Path, clock: FrozenClock) -> None:
    config = demo_config(commands={"report": ["问题", "诉求"]})
    app = build_services(config, db_path=tmp_path / "k.db", clock=clock)
    reply = ChatBot(app, clock).text("帮助", room=None)
    assert "· 问题 <问题描述>" in reply
    assert "也可用：诉求" in reply
    app.db.close()
