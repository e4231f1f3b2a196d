"""进度, 我的诉求, rating and 撤回: what the reporter (and nobody else) can see and do."""

from __future__ import annotations

import pytest

from bot.db import to_db
from bot.services import Services
from handlers.cases.service import Case
from tests.conftest import MEMBERS_ROOM, OTHER_ROOM, STAFF_ROOM, ChatBot, actor, case_service

LOAN = "银行突然抽贷，流动资金紧张，联系电话13812345678"


@pytest.fixture(autouse=True)
def known(app: Services) -> None:
    """Everyone has told us their enterprise before, so 诉求 opens a case at once."""
    for contact, name in (("wxid_zhang", "张总"), ("wxid_li", "李总"), ("wxid_sun", "孙总")):
        app.people.remember(contact, name=name, enterprise=f"{name[0]}氏实业有限公司")


def case(app: Services, number: str) -> Case:
    return case_service(app).find(number, app.clock.now(), "wxid_wang", staff=True)


def resolve(app: Services, number: str, summary: str = "已协调银行续贷") -> Case:
    """What the staff 办结 command does (its contract)."""
    return (
        case_service(app)
        .resolve(case(app, number), actor("wxid_wang"), summary, app.clock.now())
        .case
    )


def staff_texts(bot: ChatBot) -> list[str]:
    return [str(row["text"]) for row in bot.queued(STAFF_ROOM)]


# -- 进度 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["进度 2026-0001", "进度 0001", "进度 1", "进度 #1", "进度 ＃１", "查询 1", "进度1"]
)
def test_reporter_sees_progress_by_any_form_of_the_number(bot: ChatBot, text: str) -> None:
    bot.say("诉求 " + LOAN)

    reply = bot.text(text)

    assert reply.startswith("@张总")
    for expected in ("诉求 2026-0001：待受理", "市场环境/融资信贷", "经济处", "11月30日(周一)"):
        assert expected in reply
    assert "抽贷" not in reply  # a group: no description


def test_progress_in_private_shows_the_description(bot: ChatBot) -> None:
    bot.say("诉求 " + LOAN)
    reply = bot.text("进度 1", room=None)
    assert "银行突然抽贷" in reply
    (row,) = bot.queued("wxid_zhang")
    assert "138****5678" in str(row["text"])


@pytest.mark.parametrize(
    ("room", "text"),
    [(MEMBERS_ROOM, "进度 1"), (MEMBERS_ROOM, "进度 2026-0001"), (OTHER_ROOM, "进度 2026-0001")],
)
def test_progress_of_someone_elses_case_reveals_nothing(
    bot: ChatBot, room: str, text: str
) -> None:
    bot.say("诉求 " + LOAN)

    reply = bot.text(text, sender="wxid_li", room=room)
    unknown = bot.text(text.replace("1", "7"), sender="wxid_li", room=room)

    assert reply.startswith("@李总")
    for secret in ("待受理", "市场环境", "经济处", "抽贷", "张总", "11月30日(周一)"):
        assert secret not in reply
    assert reply == unknown.replace("7", "1")  # exactly what a number nobody has gets


def test_staff_see_progress_with_reporter_and_description(bot: ChatBot) -> None:
    bot.say("诉求 " + LOAN)
    reply = bot.text("进度 1", room=STAFF_ROOM, sender="wxid_zhao")
    for expected in ("待受理", "张总", "张氏实业有限公司", LOAN):
        assert expected in reply


def test_progress_shows_answers_but_never_internal_notes(bot: ChatBot, app: Services) -> None:
    bot.say("诉求 " + LOAN)
    now = app.clock.now()
    case_service(app).answer(case(app, "1"), actor("wxid_wang"), "已约银行下周面谈", now)
    case_service(app).note(case(app, "1"), actor("wxid_wang"), "内部：该企业征信有逾期记录", now)

    for reply in (
        bot.text("进度 1"),
        bot.text("进度 1", room=None),
        bot.text("进度 1", room=STAFF_ROOM, sender="wxid_wang"),
    ):
        assert "已约银行下周面谈" in reply
        assert "征信" not in reply


def test_answer_is_not_repeated_into_another_group(bot: ChatBot, app: Services) -> None:
    bot.say("诉求 " + LOAN)
    case_service(app).answer(
        case(app, "1"), actor("wxid_wang"), "已约银行下周面谈", app.clock.now()
    )
    reply = bot.text("进度 1", room=OTHER_ROOM)
    assert "办理中" in reply
    assert "面谈" not in reply


def test_progress_without_number(bot: ChatBot) -> None:
    assert "格式：进度 <编号>" in bot.text("进度")
    bot.say("诉求 " + LOAN)
    assert "诉求 2026-0001：待受理" in bot.text("进度")
    assert "格式：进度 <编号>" in bot.text("进度 贷款的事")


# -- 我的诉求 -------------------------------------------------------------------------------


def test_my_cases_open_first_newest_first(bot: ChatBot) -> None:
    bot.say("诉求 " + LOAN)
    bot.say("诉求 合同对方违约拖欠货款")
    bot.say("诉求 厂区门口路灯坏了")
    bot.say("撤回 2")
    bot.say("诉求 想了解会费", sender="wxid_li")

    group = bot.text("我的诉求")
    private = bot.text("我的诉求", room=None)

    assert "共3件" in group
    assert "2026-0004" not in group
    lines = [line for line in group.splitlines() if line.startswith("·")]
    assert [line.split()[1] for line in lines] == ["2026-0003", "2026-0001", "2026-0002"]
    assert "已撤回" in lines[2]
    assert "政务环境" in lines[0]
    assert "路灯" not in group
    assert "抽贷" not in group
    assert "厂区门口路灯坏了" in private
    assert "银行突然抽贷，流动资金紧张，联系电话…" in private  # trimmed before the phone


def test_my_cases_shows_at_most_ten(bot: ChatBot) -> None:
    for i in range(12):
        bot.say(f"诉求 第{i + 1}件事")
    reply = bot.text("我的诉求")
    assert "共12件，显示最近10件" in reply
    assert len([line for line in reply.splitlines() if line.startswith("·")]) == 10
    assert "2026-0012" in reply
    assert "2026-0002 " not in reply


def test_my_cases_when_there_are_none(bot: ChatBot) -> None:
    assert "还没有反映过诉求" in bot.text("我的诉求", sender="wxid_sun")


# -- rating -------------------------------------------------------------------------------


def test_satisfied_closes_the_case(bot: ChatBot, app: Services) -> None:
    bot.say("诉求 " + LOAN)
    resolve(app, "1")

    outs = bot.say("满意")

    (reply,) = [o for o in outs if o.conversation_id == MEMBERS_ROOM]
    assert reply.mention_ids == ("wxid_zhang",)
    assert "感谢您的评价（满意），诉求 2026-0001 已销号" in reply.text
    assert "2026-0001" in staff_texts(bot)[-1]
    assert "评价：满意" in staff_texts(bot)[-1]
    after = bot.text("进度 1")
    assert "已销号" in after
    assert "评价：满意" in after
    closed = case(app, "1")
    assert (closed.rating, closed.close_reason, closed.closed_at) == (
        "satisfied",
        "rated",
        to_db(app.clock.now()),
    )


def test_basic_satisfied_closes_the_case(bot: ChatBot, app: Services) -> None:
    bot.say("诉求 " + LOAN)
    resolve(app, "1")

    reply = bot.text("基本满意")

    assert "感谢您的评价（基本满意）" in reply
    assert "评价：基本满意" in staff_texts(bot)[-1]
    assert "评价：基本满意" in bot.text("进度 1")


def test_unsatisfied_reopens_with_fresh_deadline_each_time(bot: ChatBot, app: Services) -> None:
    bot.say("诉求 " + LOAN)
    bot.advance(days=7)  # Monday 11-23
    resolve(app, "1")

    outs = bot.say("不满意 利率比原来高了一倍")

    (reply,) = [o for o in outs if o.conversation_id == MEMBERS_ROOM]
    assert reply.mention_ids == ("wxid_zhang",)
    assert "已重新办理（第1次）" in reply.text
    staff = staff_texts(bot)[-1]
    assert "利率比原来高了一倍" in staff
    assert "12月7日(周一)" in staff  # ten working days from 11-23
    progress = bot.text("进度 1")
    assert "办理中" in progress
    assert "重新办理：第1次" in progress
    assert "12月7日(周一)" in progress
    assert "已协调银行续贷" not in progress  # the old resolution no longer stands
    reopened = case(app, "1")
    assert (reopened.rating, reopened.rating_reason) == ("unsatisfied", "利率比原来高了一倍")
    assert [e.kind for e in case_service(app).timeline(reopened)][-2:] == [
        "rated",
        "reopened",
    ]

    resolve(app, "1", "已协调降低利率")
    assert "（第2次）" in bot.text("不满意 还是太高")
    assert case(app, "1").reopen_count == 2

    resolve(app, "1", "利率已按基准执行")
    assert "已销号" in bot.text("满意")
    assert "评价：满意" in bot.text("进度 1")


def test_rating_from_private_chat_also_updates_the_group(bot: ChatBot, app: Services) -> None:
    bot.say("诉求 " + LOAN)
    resolve(app, "1")

    outs = bot.say("满意", room=None)

    private = [o for o in outs if o.conversation_id == "wxid_zhang"]
    group = [o for o in outs if o.conversation_id == MEMBERS_ROOM]
    assert len(private) == 1
    assert "已销号" in private[0].text
    assert len(group) == 1
    assert group[0].mention_ids == ("wxid_zhang",)


def test_several_waiting_asks_which(bot: ChatBot, app: Services) -> None:
    bot.say("诉求 " + LOAN)
    bot.say("诉求 厂区门口路灯坏了")
    resolve(app, "1")
    resolve(app, "2")

    reply = bot.text("满意")

    assert "2026-0001" in reply
    assert "2026-0002" in reply
    assert "评价 2026-0002 满意" in reply
    assert "路灯" not in reply
    assert case(app, "1").status == case(app, "2").status == "resolved"

    assert "诉求 2026-0002 已销号" in bot.text("评价 2026-0002 满意")
    assert "诉求 2026-0001 已销号" in bot.text("满意")


def test_nothing_to_rate(bot: ChatBot, app: Services) -> None:
    bot.say("诉求 " + LOAN)
    resolve(app, "1")

    assert bot.say("满意", sender="wxid_li") == []  # group chatter, not for us
    assert "没有待评价的诉求" in bot.text("@商会助手 满意", sender="wxid_li", mention=True)
    assert "没有待评价的诉求" in bot.text("不满意", sender="wxid_li", room=None)
    assert case(app, "1").status == "resolved"


def test_rating_an_unresolved_or_someone_elses_case_is_refused(
    bot: ChatBot, app: Services
) -> None:
    bot.say("诉求 " + LOAN)

    assert "办结后才能评价" in bot.text("评价 1 满意")
    resolve(app, "1")
    other = bot.text("评价 2026-0001 不满意 太慢", sender="wxid_li")
    assert "没有找到诉求 2026-0001" in other
    staff = bot.text("评价 2026-0001 满意", room=STAFF_ROOM, sender="wxid_wang")
    assert "只有反映人本人" in staff
    assert case(app, "1").status == "resolved"
    assert "格式：评价 <编号>" in bot.text("评价 1 很好")


# -- 撤回 ---------------------------------------------------------------------------------


def test_withdraw(bot: ChatBot, app: Services) -> None:
    bot.say("诉求 " + LOAN)

    reply = bot.text("撤回 1 银行已经续贷了")

    assert reply.startswith("@张总")
    assert "诉求 2026-0001 已撤回" in reply
    staff = staff_texts(bot)[-1]
    assert "2026-0001" in staff
    assert "银行已经续贷了" in staff
    assert "已撤回" in bot.text("进度 1")
    assert "无需撤回" in bot.text("撤回 1")
    withdrawn = case(app, "1")
    assert (withdrawn.close_reason, withdrawn.closed_at) == ("withdrawn", to_db(app.clock.now()))


def test_only_the_reporter_can_withdraw(bot: ChatBot) -> None:
    bot.say("诉求 " + LOAN)
    before = len(staff_texts(bot))

    member = bot.text("撤回 1", sender="wxid_li")
    staff = bot.text("撤回 1", room=STAFF_ROOM, sender="wxid_chen")

    assert "没有找到诉求 2026-0001" in member
    assert "待受理" not in member
    assert "只有反映人本人可以撤回" in staff
    assert "待受理" in bot.text("进度 1")
    assert len(staff_texts(bot)) == before + 1  # only the reply to 陈秘书长


def test_withdraw_without_number_shows_the_form(bot: ChatBot) -> None:
    assert "格式：撤回 <编号>" in bot.text("撤回")
