"""诉求 and 补充: what members and the staff room see when a problem is reported."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.messages import Outgoing
from bot.services import Services
from chamberbot.root import services as build_services
from handlers.cases.service import Actor
from tests.conftest import MEMBERS_ROOM, STAFF_ROOM, TZ, ChatBot, case_service, demo_config

LOAN = "银行突然抽贷，流动资金紧张，联系电话13812345678"
PHONE = "13812345678"
DUE = "11月30日(周一)"  # ten working days after Monday 2026-11-16


@pytest.fixture
def known(app: Services) -> Services:
    """张总 and 李总 have told us their enterprise before."""
    app.people.remember("wxid_zhang", name="张总", enterprise="宏达机械有限公司")
    app.people.remember("wxid_li", name="李总", enterprise="李氏食品有限公司")
    return app


def only(outs: list[Outgoing], conversation_id: str) -> Outgoing:
    found = [o for o in outs if o.conversation_id == conversation_id]
    assert len(found) == 1, outs
    return found[0]


def queued_texts(bot: ChatBot, conversation_id: str) -> list[str]:
    return [str(row["text"]) for row in bot.queued(conversation_id)]


# -- opening a case ----------------------------------------------------------------------


@pytest.mark.usefixtures("known")
def test_group_report_mentions_reporter_without_description_or_phone(bot: ChatBot) -> None:
    outs = bot.say("诉求 " + LOAN)

    ack = only(outs, MEMBERS_ROOM)
    assert ack.mention_ids == ("wxid_zhang",)
    assert ack.text.startswith("@张总")
    for expected in ("2026-0001", "市场环境/融资信贷", "经济处", "24小时", DUE):
        assert expected in ack.text
    (row,) = queued_texts(bot, MEMBERS_ROOM)
    for secret in ("抽贷", "流动资金", PHONE, "138****5678"):
        assert secret not in ack.text
        assert secret not in row


@pytest.mark.usefixtures("known")
def test_staff_room_gets_everything_including_the_phone(bot: ChatBot) -> None:
    bot.say("诉求 " + LOAN)

    (staff,) = queued_texts(bot, STAFF_ROOM)
    for expected in (
        "2026-0001",
        "张总",
        "宏达机械有限公司",
        "会员一群",
        "市场环境/融资信贷",
        "经济处",
        DUE,
        LOAN,
        "认领 2026-0001",
    ):
        assert expected in staff


@pytest.mark.usefixtures("known")
def test_private_report_echoes_description_with_phone_masked(bot: ChatBot) -> None:
    outs = bot.say("诉求 " + LOAN, room=None)

    ack = only(outs, "wxid_zhang")
    assert ack.mention_ids == ()
    assert "2026-0001" in ack.text
    (row,) = queued_texts(bot, "wxid_zhang")
    assert "银行突然抽贷" in row
    assert "138****5678" in row
    assert PHONE not in row
    (staff,) = queued_texts(bot, STAFF_ROOM)
    assert "私聊" in staff
    assert LOAN in staff


def test_group_echo_when_configured(tmp_path: Path, clock: FrozenClock) -> None:
    config = demo_config(privacy={"echo_description_in_group": True})
    app = build_services(config, db_path=tmp_path / "echo.db", clock=clock)
    try:
        app.people.remember("wxid_zhang", enterprise="宏达机械有限公司")
        bot = ChatBot(app, clock)
        bot.say("诉求 " + LOAN)
        (row,) = queued_texts(bot, MEMBERS_ROOM)
        assert "银行突然抽贷" in row
        assert "138****5678" in row
        assert PHONE not in row
    finally:
        app.db.close()


@pytest.mark.usefixtures("known")
@pytest.mark.parametrize(
    ("text", "mention"),
    [
        ("诉求 我们公司贷款被抽贷", False),
        ("反映问题：我们公司贷款被抽贷", False),
        ("反映 我们公司贷款被抽贷", False),
        ("求助 我们公司贷款被抽贷", False),
        ("#诉求 我们公司贷款被抽贷", False),
        ("诉求：我们公司贷款被抽贷", False),
        ("訴求 我們公司貸款被抽貸", False),
        ("@商会助手 诉求 我们公司贷款被抽贷", True),
    ],
)
def test_every_way_of_saying_it_opens_a_case(bot: ChatBot, text: str, mention: bool) -> None:
    ack = bot.text(text, mention=mention)
    assert "2026-0001" in ack
    assert "市场环境/融资信贷" in ack
    staff = queued_texts(bot, STAFF_ROOM)
    assert len(staff) == 1
    assert "抽" in staff[0]


@pytest.mark.usefixtures("known")
def test_numbers_are_sequential_and_unmatched_text_goes_to_the_secretariat(bot: ChatBot) -> None:
    first = bot.text("诉求 贷款到期银行不续贷")
    second = bot.text("诉求 想了解一下会费怎么交", sender="wxid_li")

    assert "2026-0001" in first
    assert "市场环境/融资信贷，由经济处办理" in first
    assert "2026-0002" in second
    assert "分类：其他，由秘书处办理" in second
    assert second.startswith("@李总")


@pytest.mark.usefixtures("known")
def test_group_chatter_mentioning_the_word_opens_nothing(bot: ChatBot) -> None:
    assert bot.say("我想诉求一下这个事") == []
    assert bot.queued(STAFF_ROOM) == []


# -- asking for what is missing ------------------------------------------------------------


@pytest.mark.usefixtures("known")
def test_empty_description_is_asked_for_and_the_answer_opens_the_case(bot: ChatBot) -> None:
    prompt = bot.text("诉求")
    assert "描述" in prompt
    assert bot.queued(STAFF_ROOM) == []

    ack = bot.text("厂区门口道路坑洼，货车进不来")  # no keyword: it answers the prompt

    assert "2026-0001" in ack
    assert "政务环境/基础设施" in ack
    (staff,) = queued_texts(bot, STAFF_ROOM)
    assert "厂区门口道路坑洼，货车进不来" in staff


def test_enterprise_is_asked_once_and_remembered(bot: ChatBot) -> None:
    question = bot.text("诉求 " + LOAN)
    assert "企业名称" in question
    assert "2026-" not in question
    assert bot.queued(STAFF_ROOM) == []

    ack = bot.text("宏达机械有限公司")
    assert "2026-0001" in ack
    (staff,) = queued_texts(bot, STAFF_ROOM)
    assert "宏达机械有限公司" in staff
    assert LOAN in staff

    again = bot.text("诉求 合同对方违约不付款")
    assert "企业名称" not in again
    assert "2026-0002" in again
    assert "法治环境/合同纠纷" in again
    assert "宏达机械有限公司" in queued_texts(bot, STAFF_ROOM)[1]


def test_whole_conversation_without_anything_known(bot: ChatBot) -> None:
    assert "描述" in bot.text("求助", room=None)
    assert "企业名称" in bot.text("招工难，缺技术工人", room=None)
    ack = bot.text("新华纺织厂", room=None)
    assert "2026-0001" in ack
    assert "创新环境/人才用工" in ack
    assert "招工难，缺技术工人" in ack


def test_late_answer_gets_the_expired_message_and_opens_nothing(
    bot: ChatBot, app: Services
) -> None:
    bot.text("诉求", room=None)
    bot.advance(minutes=app.config.prompt_minutes + 1)

    late = bot.text("银行抽贷了", room=None)

    assert "超时" in late
    assert "2026-" not in late
    assert bot.queued(STAFF_ROOM) == []
    assert "没有反映过" in bot.text("我的诉求", room=None)


def test_late_answer_in_a_group_is_told_once_then_chatter_is_ignored(
    bot: ChatBot, app: Services
) -> None:
    assert "描述" in bot.text("诉求")
    bot.advance(minutes=app.config.prompt_minutes + 1)

    late = bot.say("银行抽贷了")

    assert [o.mention_ids for o in late] == [("wxid_zhang",)]
    assert "超时" in late[0].text
    assert bot.say("好的，谢谢") == []
    assert bot.queued(STAFF_ROOM) == []


@pytest.mark.usefixtures("known")
def test_answer_within_the_time_still_counts(bot: ChatBot, app: Services) -> None:
    bot.text("诉求", room=None)
    bot.advance(minutes=app.config.prompt_minutes - 1)
    assert "2026-0001" in bot.text("银行抽贷了", room=None)


@pytest.mark.usefixtures("known")
def test_duplicate_message_opens_one_case_and_one_ack(bot: ChatBot) -> None:
    first = bot.say("诉求 " + LOAN, message_id="wx-42")
    second = bot.say("诉求 " + LOAN, message_id="wx-42")

    assert len(first) == 2
    assert second == []
    assert len(bot.queued(MEMBERS_ROOM)) == 1
    assert len(bot.queued(STAFF_ROOM)) == 1
    assert "共1件" in bot.text("我的诉求")


# -- 补充 ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("known")
def test_reporter_supplements_and_staff_are_told(bot: ChatBot, app: Services) -> None:
    bot.say("诉求 " + LOAN)

    outs = bot.say("补充 2026-0001 银行是工商银行城东支行，电话13900001111")

    reply = only(outs, MEMBERS_ROOM)
    assert reply.mention_ids == ("wxid_zhang",)
    assert "2026-0001" in reply.text
    assert "工商银行" not in reply.text
    staff = queued_texts(bot, STAFF_ROOM)[-1]
    assert "2026-0001" in staff
    assert "银行是工商银行城东支行，电话13900001111" in staff
    case = case_service(app).find("2026-0001", app.clock.now(), "wxid_zhang", staff=False)
    assert case is not None
    assert case_service(app).timeline(case)[-1].kind == "supplemented"


@pytest.mark.usefixtures("known")
def test_another_member_cannot_supplement(bot: ChatBot) -> None:
    bot.say("诉求 " + LOAN)
    before = len(bot.queued(STAFF_ROOM))

    reply = bot.text("补充 1 我也被抽贷了", sender="wxid_li")

    assert reply.startswith("@李总")
    assert "没有找到诉求 2026-0001" in reply
    for secret in ("市场环境", "经济处", "抽贷", "张总"):
        assert secret not in reply
    assert len(bot.queued(STAFF_ROOM)) == before


@pytest.mark.usefixtures("known")
def test_staff_are_pointed_to_notes_and_answers(bot: ChatBot) -> None:
    bot.say("诉求 " + LOAN)

    reply = bot.text("补充 1 已电话联系", room=STAFF_ROOM, sender="wxid_wang")

    assert "备注 2026-0001" in reply
    assert "回复 2026-0001" in reply
    assert len(bot.queued(STAFF_ROOM)) == 2  # the new-case notice and this reply only


@pytest.mark.usefixtures("known")
@pytest.mark.parametrize("text", ["补充", "补充 2026-0001", "补充 关于贷款的事"])
def test_supplement_without_number_or_text_shows_the_form(bot: ChatBot, text: str) -> None:
    bot.say("诉求 " + LOAN)
    assert "格式：补充 <编号> <内容>" in bot.text(text)


@pytest.mark.usefixtures("known")
def test_supplement_to_unknown_number(bot: ChatBot) -> None:
    assert "没有找到诉求 2026-0099" in bot.text("补充 2026-0099 材料")
    assert "没有找到诉求 2026-0099" in bot.text(
        "补充 99 材料", room=STAFF_ROOM, sender="wxid_wang"
    )


@pytest.mark.usefixtures("known")
def test_supplement_to_a_withdrawn_case_is_refused(bot: ChatBot) -> None:
    bot.say("诉求 " + LOAN)
    bot.say("撤回 1")
    before = len(bot.queued(STAFF_ROOM))

    reply = bot.text("补充 1 还有一件事")

    assert "已撤回" in reply
    assert "不能再补充" in reply
    assert len(bot.queued(STAFF_ROOM)) == before


@pytest.mark.usefixtures("known")
def test_ambiguous_short_number_asks_for_the_full_one(bot: ChatBot, app: Services) -> None:
    last_year = datetime(2025, 3, 2, 10, 0, tzinfo=TZ)
    case_service(app).open(
        Actor("wxid_zhang", "张总"),
        channel="wechat",
        enterprise="宏达机械有限公司",
        conversation_id=MEMBERS_ROOM,
        is_group=True,
        description="去年的用电问题",
        now=last_year,
    )
    bot.say("诉求 " + LOAN)
    before = len(bot.queued(STAFF_ROOM))

    reply = bot.text("补充 1 材料")

    assert "2025-0001" in reply
    assert "2026-0001" in reply
    assert "完整编号" in reply
    assert len(bot.queued(STAFF_ROOM)) == before
    assert "补充内容已记入诉求 2026-0001" in bot.text("补充 2026-0001 材料")
    assert "材料" in queued_texts(bot, STAFF_ROOM)[-1]
