"""帮助: the menu shows what the asker's role may use."""

from tests.conftest import STAFF_ROOM, ChatBot


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
