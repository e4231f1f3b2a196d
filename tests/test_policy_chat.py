"""政策 / 绑定本群 / 广播 / 预览 in chat: what members and the secretariat see."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.clock import FrozenClock
from bot.db import to_db
from bot.services import Services
from chamberbot.root import services as build_services
from policy_feeds.model import Item
from policy_feeds.store import PolicyStore
from tests.conftest import MEMBERS_ROOM, OTHER_ROOM, STAFF_ROOM, TZ, ChatBot, demo_config

ADMIN, MEMBER, STAFF = "wxid_chen", "wxid_zhang", "wxid_wang"


def add_policy(
    app: Services,
    title: str,
    *,
    day: int,
    tags: tuple[str, ...] = (),
    issuer: str = "浙江省财政厅",
    summary: str = "",
) -> None:
    item = Item(
        title=title,
        url=f"https://gov.example/{day}/{len(title)}",
        issuer=issuer,
        published_at=datetime(2026, 11, day, 10, 0, tzinfo=TZ),
        summary=summary,
        tags=tags,
    )
    with app.db.atomic():
        PolicyStore(app.db).upsert(item, "manual", app.clock.now())


def meet_groups(bot: ChatBot) -> None:
    """The bot has heard from both member groups and the staff room."""
    bot.say("大家好", room=MEMBERS_ROOM, sender="wxid_zhang")
    bot.say("大家好", room=OTHER_ROOM, sender="wxid_li")
    bot.say("收到", room=STAFF_ROOM, sender=STAFF)


def group_tags(app: Services, room: str) -> str:
    return str(app.db.execute("select tags from conversations where id = ?", [room]).fetchone()[0])


def texts(bot: ChatBot, room: str) -> list[str]:
    return [str(r["text"]) for r in bot.queued(room)]


# -- 政策 -----------------------------------------------------------------------------------


def test_search_lists_the_newest_matches_with_issuer_date_and_link(bot: ChatBot) -> None:
    add_policy(bot.app, "关于中小企业融资担保降费的通知", day=3, tags=("融资",))
    add_policy(bot.app, "外贸企业出口退税办理指引", day=5, tags=("外贸",))
    add_policy(
        bot.app, "制造业企业贷款贴息实施细则", day=9, summary="支持企业融资", tags=("融资",)
    )

    reply = bot.text("政策 融资")

    assert reply.startswith("@张总\u2005与「融资」相关的最新政策：")
    assert reply.index("制造业企业贷款贴息实施细则") < reply.index(
        "关于中小企业融资担保降费的通知"
    )
    assert "外贸企业出口退税办理指引" not in reply
    assert "浙江省财政厅｜11月9日(周一)" in reply
    assert "https://gov.example/9/" in reply


def test_search_shows_at_most_the_configured_number(tmp_path: Path, clock: FrozenClock) -> None:
    app = build_services(
        demo_config(policies={"search_limit": 2}), db_path=tmp_path / "s.db", clock=clock
    )
    for day in range(1, 6):
        add_policy(app, f"第{day}批专精特新企业融资支持名单公示", day=day)

    reply = ChatBot(app, clock).text("查政策 融资", room=None)

    assert "第5批" in reply
    assert "第4批" in reply
    assert "第3批" not in reply
    app.db.close()


def test_search_without_results_says_so_and_suggests_a_keyword(bot: ChatBot) -> None:
    add_policy(bot.app, "外贸企业出口退税办理指引", day=5)
    reply = bot.text("政策 火星探测")
    assert "暂未找到与「火星探测」相关的政策" in reply
    assert "政策 融资" in reply


def test_traditional_and_full_width_input_finds_simplified_policies(bot: ChatBot) -> None:
    add_policy(bot.app, "中小企业融资贷款贴息办法", day=5)
    assert "中小企业融资贷款贴息办法" in bot.text("政策：融資　貸款")
    assert "中小企业融资贷款贴息办法" in bot.text("＃查政策 貸款")


def test_search_without_keywords_lists_the_newest_policies(bot: ChatBot) -> None:
    add_policy(bot.app, "外贸企业出口退税办理指引", day=5)
    reply = bot.text("政策", room=None)
    assert reply.startswith("最新政策")
    assert "外贸企业出口退税办理指引" in reply


# -- 绑定本群 ---------------------------------------------------------------------------------


def test_admin_binds_tags_to_the_group_it_is_typed_in(bot: ChatBot) -> None:
    reply = bot.text("绑定本群 融资、制造业 融資", sender=ADMIN)

    assert reply == (
        "@陈秘书长\u2005已将本群（会员一群）的标签设为：融资、制造业。"
        "之后的政策推送只挑选与这些标签相关的政策。"
    )
    assert group_tags(bot.app, MEMBERS_ROOM) == '["融资", "制造业"]'
    assert "当前标签：融资、制造业" in bot.text("绑定本群", sender=ADMIN)
    assert "已清除本群（会员一群）的标签" in bot.text("绑定本群 不限", sender=ADMIN)
    assert group_tags(bot.app, MEMBERS_ROOM) == "[]"


def test_member_cannot_bind_tags(bot: ChatBot) -> None:
    reply = bot.text("绑定本群 餐饮", sender=MEMBER)
    assert "仅限秘书处管理员使用" in reply
    assert group_tags(bot.app, MEMBERS_ROOM) == "[]"


def test_binding_in_a_private_chat_explains_it_must_be_done_in_the_group(bot: ChatBot) -> None:
    reply = bot.text("绑定本群 融资", room=None, sender=ADMIN)
    assert reply == "请在要设置标签的会员群里发送「绑定本群 <标签…>」，标签会绑定到发送的那个群。"


def test_binding_in_the_staff_room_is_refused(bot: ChatBot) -> None:
    reply = bot.text("绑定本群 融资", room=STAFF_ROOM, sender=ADMIN)
    assert "工作群不接收政策推送" in reply
    assert group_tags(bot.app, STAFF_ROOM) == "[]"


# -- 广播 -----------------------------------------------------------------------------------


def test_broadcast_asks_first_and_confirm_posts_to_every_member_group(bot: ChatBot) -> None:
    meet_groups(bot)

    ask = bot.text("广播 本周五下午三点召开会员大会，请准时参加", room=None, sender=ADMIN)
    assert ask.startswith("将向以下 2 个会员群发送：会员一群、会员二群")
    assert "本周五下午三点召开会员大会" in ask
    assert "回复「确认」立即发送" in ask
    assert texts(bot, MEMBERS_ROOM) == []  # nothing before the 确认

    done = bot.text("确认", room=None, sender=ADMIN)

    assert done.startswith("已安排发送到 2 个会员群：会员一群、会员二群。")
    assert texts(bot, MEMBERS_ROOM) == ["本周五下午三点召开会员大会，请准时参加"]
    assert texts(bot, OTHER_ROOM) == ["本周五下午三点召开会员大会，请准时参加"]
    assert texts(bot, STAFF_ROOM) == []
    row = bot.queued(OTHER_ROOM)[0]
    assert row["not_before"] == to_db(bot.clock.now())  # daytime: it may go at once


def test_broadcast_answered_with_anything_else_is_cancelled(bot: ChatBot) -> None:
    meet_groups(bot)
    bot.say("广播 明天停电，请做好准备", room=STAFF_ROOM, sender=ADMIN)

    reply = bot.text("算了，先不发", room=STAFF_ROOM, sender=ADMIN)

    assert "已取消，这条广播没有发送" in reply
    assert texts(bot, MEMBERS_ROOM) == []
    assert texts(bot, OTHER_ROOM) == []
    bot.say("确认", room=STAFF_ROOM, sender=ADMIN)  # a late 确认 is just chatter now
    assert texts(bot, MEMBERS_ROOM) == []


def test_an_expired_confirmation_sends_nothing(bot: ChatBot) -> None:
    meet_groups(bot)
    bot.say("广播 明天停电，请做好准备", room=None, sender=ADMIN)
    bot.advance(minutes=bot.app.config.prompt_minutes + 1)

    reply = bot.text("确认", room=None, sender=ADMIN)

    assert "已超时" in reply
    assert texts(bot, MEMBERS_ROOM) == []
    assert texts(bot, OTHER_ROOM) == []


def test_broadcast_confirmed_at_night_waits_for_the_morning(
    bot: ChatBot, clock: FrozenClock
) -> None:
    meet_groups(bot)
    clock.set(datetime(2026, 11, 16, 23, 0, tzinfo=TZ))
    bot.say("广播 明早八点起园区停水两小时", room=None, sender=ADMIN)

    reply = bot.text("确认", room=None, sender=ADMIN)

    assert "将于 11月17日(周二) 08:00 起发出" in reply
    morning = to_db(datetime(2026, 11, 17, 8, 0, tzinfo=TZ))
    assert [r["not_before"] for r in bot.queued(MEMBERS_ROOM)] == [morning]


def test_broadcast_is_for_admins_in_a_staff_place(bot: ChatBot) -> None:
    meet_groups(bot)
    assert "仅限秘书处管理员使用" in bot.text("广播 大家好", room=None, sender=MEMBER)
    assert "请在工作群或与我私聊时使用" in bot.text("广播 大家好", sender=ADMIN)
    assert "仅限秘书处管理员使用" in bot.text("广播 大家好", room=STAFF_ROOM, sender=STAFF)
    assert texts(bot, OTHER_ROOM) == []


# -- 预览 -----------------------------------------------------------------------------------


def test_preview_shows_a_groups_digest_and_sends_it_nowhere(bot: ChatBot) -> None:
    meet_groups(bot)
    bot.say("绑定本群 外贸", room=OTHER_ROOM, sender=ADMIN)
    add_policy(bot.app, "外贸企业出口退税办理指引", day=5, tags=("外贸",))
    add_policy(bot.app, "中小企业融资贷款贴息办法", day=6, tags=("融资",))

    outs = bot.say("预览 weekly 会员二群", room=None, sender=ADMIN)

    assert {o.conversation_id for o in outs} == {ADMIN}
    header, digest = (o.text for o in outs)
    assert header.startswith("【预览·不会发送】广播 weekly")
    assert "现在运行将发送 1 条政策，共 1 条消息" in header
    assert "外贸企业出口退税办理指引" in digest
    assert "中小企业融资贷款贴息办法" not in digest
    assert not any("政策速递" in text for text in texts(bot, OTHER_ROOM))
    assert bot.app.db.table("policy_sent").count == 0


def test_preview_of_an_unknown_broadcast_lists_the_known_ones(bot: ChatBot) -> None:
    reply = bot.text("预览 monthly", room=None, sender=ADMIN)
    assert "没有编号为「monthly」的广播。现有广播：weekly。" in reply


def test_preview_for_an_unknown_group_lists_the_groups(bot: ChatBot) -> None:
    meet_groups(bot)
    reply = bot.text("预览 weekly 会员三群", room=None, sender=ADMIN)
    assert "没有找到名为「会员三群」的会员群。现有会员群：会员一群、会员二群。" in reply


def test_preview_when_nothing_is_new_says_nothing_would_be_sent(bot: ChatBot) -> None:
    meet_groups(bot)
    outs = bot.say("预览 weekly", room=None, sender=ADMIN)
    assert len(outs) == 1
    assert "会员一群目前没有未推送过的匹配政策" in outs[0].text


def test_confirmation_just_inside_the_prompt_time_still_sends(bot: ChatBot) -> None:
    meet_groups(bot)
    bot.say("广播 通知", room=None, sender=ADMIN)
    bot.advance(minutes=bot.app.config.prompt_minutes - 1)
    bot.say("确认", room=None, sender=ADMIN)
    assert texts(bot, MEMBERS_ROOM) == ["通知"]
