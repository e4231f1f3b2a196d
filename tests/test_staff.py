"""Staff side of cases: 待办, 详情, 认领, 指派, 转办, 回复, 办结, 升级, 备注."""

from __future__ import annotations

from datetime import datetime

from bot.clock import FrozenClock
from bot.db import to_db
from bot.messages import Outgoing
from bot.services import Services
from handlers.cases.service import Status
from tests.conftest import MEMBERS_ROOM, STAFF_ROOM, TZ, WANG, ChatBot, Place, actor, case_service

NEW, ACCEPTED, IN_PROGRESS = Status.NEW, Status.ACCEPTED, Status.IN_PROGRESS
RESOLVED, CLOSED, WITHDRAWN = Status.RESOLVED, Status.CLOSED, Status.WITHDRAWN


ZHAO: Place = {"sender": "wxid_zhao", "room": None}  # 赵律师, 法律处, in a private chat
PHONE = "13812345678"


def to(outs: list[Outgoing], conversation_id: str) -> list[Outgoing]:
    return [o for o in outs if o.conversation_id == conversation_id]


def one(outs: list[Outgoing], conversation_id: str) -> Outgoing:
    found = to(outs, conversation_id)
    assert len(found) == 1, outs
    return found[0]


def queued_texts(bot: ChatBot, conversation_id: str) -> list[str]:
    return [str(row["text"]) for row in bot.queued(conversation_id)]


# -- who may use staff commands, and where ------------------------------------------------


def test_members_are_refused_staff_commands(bot: ChatBot, app: Services) -> None:
    case = bot.report()
    for text in ("待办", f"详情 {case.number}", f"认领 {case.number}"):
        reply = bot.text(text)
        assert "仅限商会工作人员" in reply
        assert "银行" not in reply
        assert "仅限商会工作人员" in bot.text(text, room=None)
    assert case_service(app).get(case.id).assignee_id is None


def test_staff_typing_todo_in_a_member_group_is_sent_to_a_staff_place(bot: ChatBot) -> None:
    bot.report()
    outs = bot.say("待办", sender="wxid_wang", room=MEMBERS_ROOM)
    reply = one(outs, MEMBERS_ROOM)
    assert "请在工作群或与我私聊时使用" in reply.text
    assert "张氏机械" not in reply.text
    assert reply.mention_ids == ("wxid_wang",)


# -- 待办 ---------------------------------------------------------------------------------


def test_todo_lists_open_cases_by_due_date(
    bot: ChatBot, app: Services, clock: FrozenClock
) -> None:
    market = bot.report("银行抽贷")  # 市场环境: 10 working days
    gov = bot.report("审批窗口办证太慢", reporter="wxid_li")  # 7 days
    done = bot.report("合同纠纷")
    case_service(app).withdraw(done, actor("wxid_zhang"), "", clock.now())

    reply = bot.text("待办", **WANG)

    assert "共 2 件" in reply
    assert reply.index(gov.number) < reply.index(market.number)
    assert done.number not in reply
    gov_line = next(line for line in reply.splitlines() if gov.number in line)
    assert "政务环境" in gov_line
    assert "待受理" in gov_line
    assert "经济处" in gov_line
    assert "11月25日(周三)前" in gov_line
    assert "⚠" not in gov_line


def test_todo_filters_overdue_unassigned_and_mine(bot: ChatBot) -> None:
    market = bot.report("银行抽贷")  # due 2026-11-30
    gov = bot.report("审批窗口办证太慢", reporter="wxid_li")  # 11-25
    bot.say(f"认领 {gov.number}", **ZHAO)
    bot.say(f"升级 {gov.number} 久拖不决", **WANG)
    assert "暂无超期诉求" in bot.text("待办 超期", **WANG)

    bot.advance(days=10)  # Thursday 2026-11-26: the 政务 case is past due, the 市场 one not

    overdue = bot.text("待办 超期", **WANG)
    assert gov.number in overdue
    market_line = next(line for line in overdue.splitlines() if market.number in line)
    assert "⚠超时未响应" in market_line  # not past due, but never answered
    gov_line = next(line for line in overdue.splitlines() if gov.number in line)
    assert "⚠超期" in gov_line
    assert "赵律师" in gov_line
    assert "已升级至部门负责人" in gov_line

    unassigned = bot.text("待办 未分配", **WANG)
    assert market.number in unassigned
    assert gov.number not in unassigned

    mine = bot.text("待办 我的", **ZHAO)
    assert gov.number in mine
    assert market.number not in mine
    assert "暂无我负责的诉求" in bot.text("待办 我的", **WANG)

    bot.advance(days=5)  # past the 市场 deadline too
    assert market.number in bot.text("待办 逾期", **WANG)


def test_todo_overdue_includes_cases_late_on_their_first_response(bot: ChatBot) -> None:
    """Bug: 待办 超期 listed only cases past their resolution deadline."""
    case = bot.report("审批窗口办证太慢")
    assert "暂无超期诉求" in bot.text("待办 超期", **WANG)
    bot.advance(hours=25)  # first-response limit is 24 h
    overdue = bot.text("待办 超期", **WANG)
    assert case.number in overdue
    assert "⚠超时未响应" in overdue
    bot.say(f"认领 {case.number}", **WANG)
    assert "暂无超期诉求" in bot.text("待办 超期", **WANG)


def test_todo_reads_each_filter_in_due_order_from_an_index(bot: ChatBot, app: Services) -> None:
    """Bug: a feature's (status, id) index made every 待办 sort all open cases (176 ms at
    100,000 open instead of 2 ms, bench/scale.py)."""
    bot.report("银行抽贷")
    for text in ("待办", "待办 超期", "待办 未分配", "待办 我的"):
        seen: list[str] = []
        app.db.conn.set_trace_callback(seen.append)
        try:
            bot.say(text, **WANG)
        finally:
            app.db.conn.set_trace_callback(None)
        reads = [sql for sql in seen if sql.startswith("select") and " from cases" in sql]
        assert reads, text
        for sql in reads:
            plan = " / ".join(row[3] for row in app.db.execute(f"explain query plan {sql}"))
            assert "TEMP B-TREE" not in plan, (text, plan)
            # the open cases' partial indexes; 待办's 回访 phone tasks read their own
            assert "cases_open_" in plan or "cases_follow_up_pending" in plan, (text, plan)


def test_todo_with_nothing_open_and_with_an_unknown_filter(bot: ChatBot) -> None:
    assert "暂无未办结诉求" in bot.text("待办", **WANG)
    assert "格式：待办 [超期/未分配/我的]" in bot.text("待办 明天", **WANG)


# -- 详情 ---------------------------------------------------------------------------------


def test_details_show_everything_and_the_whole_timeline_with_notes(
    bot: ChatBot, app: Services
) -> None:
    case = bot.report(f"欠款三个月未付，联系人电话 {PHONE}")
    app.people.remember("wxid_zhang", phone="13900001111")
    bot.say(f"认领 {case.number}", **WANG)
    bot.advance(hours=2)
    bot.say(f"备注 {case.number} 已电话联系对方财务", **WANG)
    bot.say(f"转办 {case.number} 法律处 涉及合同", **WANG)

    reply = bot.text(f"详情 {case.number}", **ZHAO)

    for expected in (
        f"诉求 {case.number}｜已受理",
        "市场环境/拖欠账款",  # the one spelling of 分类/方面 (Case.classified)
        "承办：法律处（未分配）",
        "张氏机械",
        "张总",
        "13900001111",
        "来源：会员一群",
        PHONE,  # staff see the description in full
        "首次响应：11月16日(周一) 09:00",
    ):
        assert expected in reply
    timeline = reply.split("办理记录：")[1].splitlines()
    assert timeline[1:] == [
        f"· 11月16日(周一) 09:00 张总 登记：欠款三个月未付，联系人电话 {PHONE}",
        "· 11月16日(周一) 09:00 王科长 认领",
        "· 11月16日(周一) 11:00 王科长 内部备注：已电话联系对方财务",
        "· 11月16日(周一) 11:00 王科长 转办 → 法律处：涉及合同",
    ]
    assert PHONE in queued_texts(bot, "wxid_zhao")[-1]


def test_details_of_a_private_case_and_in_traditional_full_width_input(bot: ChatBot) -> None:
    case = bot.report("招工难", reporter="wxid_li", room=None)
    reply = bot.text("詳情 ＃１", **WANG)
    assert f"诉求 {case.number}" in reply
    assert "来源：私聊" in reply
    assert "首次响应：尚未响应" in reply


def test_unknown_malformed_and_ambiguous_numbers(bot: ChatBot) -> None:
    assert "格式：详情 <编号>" in bot.text("详情", **WANG)
    assert "格式：认领 <编号>" in bot.text("认领 昨天那件", **WANG)
    assert "没有找到诉求 2026-0042" in bot.text("详情 42", **WANG)

    old = bot.report("银行抽贷", now=datetime(2025, 3, 3, 9, 0, tzinfo=TZ))
    new = bot.report("审批太慢")
    assert old.seq == new.seq == 1
    reply = bot.text("认领 1", **WANG)
    assert "2025-0001" in reply
    assert "2026-0001" in reply
    assert "完整编号" in reply
    assert "2025-0001" in bot.text("详情 2025-0001", **WANG)


# -- 认领 / 指派 / 转办 --------------------------------------------------------------------


def test_claim_accepts_the_case_and_tells_the_reporter_once(
    bot: ChatBot, app: Services, clock: FrozenClock
) -> None:
    case = bot.report()
    bot.advance(hours=1)

    outs = bot.say(f"认领 {case.number}", **WANG)

    reply = one(outs, STAFF_ROOM)
    assert "已认领" in reply.text
    assert "经济处王科长" in reply.text
    assert reply.mention_ids == ("wxid_wang",)
    told = one(outs, MEMBERS_ROOM)
    assert told.mention_ids == ("wxid_zhang",)
    assert told.text.startswith("@张总\u2005您的诉求 2026-0001 已受理")
    assert "王科长" in told.text
    row = case_service(app).get(case.id)
    assert row.status == ACCEPTED
    assert row.first_response_at == to_db(clock.now())

    assert "无需重复认领" in bot.text(f"认领 {case.number}", **WANG)
    again = bot.say(f"认领 {case.number}", **ZHAO)  # 赵律师 takes over: no second notice
    assert to(again, MEMBERS_ROOM) == []
    assert "原负责人：王科长" in one(again, "wxid_zhao").text
    after = case_service(app).get(case.id)
    assert (after.assignee_name, after.department) == ("赵律师", "法律处")
    assert after.first_response_at == row.first_response_at


def test_claim_after_an_answer_keeps_the_case_in_progress(bot: ChatBot) -> None:
    case = bot.report()
    bot.say(f"回复 {case.number} 我们先了解一下情况", **WANG)
    outs = bot.say(f"认领 {case.number}", **ZHAO)
    assert to(outs, MEMBERS_ROOM) == []
    assert "办理中" in bot.text(f"详情 {case.number}", **ZHAO)


def test_assign_by_name_tells_the_assignee_privately_and_the_reporter(
    bot: ChatBot, app: Services
) -> None:
    case = bot.report(f"合同纠纷，对方电话 {PHONE}")

    outs = bot.say(f"指派 {case.number} ＠赵律师\u2005请今天联系企业", **WANG)

    assert "指派给法律处赵律师" in one(outs, STAFF_ROOM).text
    private = one(outs, "wxid_zhao")
    assert private.mention_ids == ()
    assert "王科长将诉求 2026-0001 指派给您办理" in private.text
    assert "附言：请今天联系企业" in private.text
    assert PHONE in queued_texts(bot, "wxid_zhao")[0]  # a staff private chat: in full
    told = one(outs, MEMBERS_ROOM)
    assert told.mention_ids == ("wxid_zhang",)
    assert "已受理，由法律处赵律师负责办理" in told.text
    row = case_service(app).get(case.id)
    assert (row.assignee_id, row.department, row.status) == ("wxid_zhao", "法律处", ACCEPTED)
    assert row.first_response_at is not None
    assert "指派 → 赵律师：请今天联系企业" in bot.text(f"详情 {case.number}", **WANG)


def test_assign_by_contact_id_from_a_private_chat(bot: ChatBot) -> None:
    case = bot.report()
    outs = bot.say(f"指派 {case.number} wxid_qian", **ZHAO)
    assert "指派给政研室钱主任" in one(outs, "wxid_zhao").text
    assert "指派给您办理" in one(outs, "wxid_qian").text
    assert "无需重复指派" in bot.text(f"指派 {case.number} @钱主任", **ZHAO)


def test_assign_to_an_unknown_person_lists_the_staff(bot: ChatBot, app: Services) -> None:
    case = bot.report()
    outs = bot.say(f"指派 {case.number} @刘经理", **WANG)
    assert len(outs) == 1
    assert "没有找到工作人员「刘经理」" in outs[0].text
    assert "王科长、赵律师、钱主任" in outs[0].text
    assert "格式：指派 <编号> @某人" in bot.text(f"指派 {case.number}", **WANG)
    assert case_service(app).get(case.id).assignee_id is None


def test_transfer_clears_the_assignee_and_tells_the_staff_room(
    bot: ChatBot, app: Services
) -> None:
    case = bot.report()
    bot.say(f"认领 {case.number}", **WANG)

    outs = bot.say(f"转办 {case.number} 政研室 属于人才政策", **ZHAO)

    assert "由经济处转办至政研室" in one(outs, "wxid_zhao").text
    notice = one(outs, STAFF_ROOM)
    assert "赵律师已将诉求 2026-0001" in notice.text
    assert "原因：属于人才政策" in notice.text
    assert to(outs, MEMBERS_ROOM) == []
    row = case_service(app).get(case.id)
    assert (row.department, row.assignee_id) == ("政研室", None)
    assert case.number in bot.text("待办 未分配", **WANG)


def test_transfer_from_the_staff_room_is_said_there_once(bot: ChatBot, app: Services) -> None:
    case = bot.report()
    outs = bot.say(f"转办 {case.number} 法律", **WANG)
    assert len(outs) == 1
    assert "转办至法律处" in one(outs, STAFF_ROOM).text
    assert case_service(app).get(case.id).first_response_at is not None


def test_transfer_to_an_unknown_department_lists_them(bot: ChatBot, app: Services) -> None:
    case = bot.report()
    reply = bot.text(f"转办 {case.number} 外交部", **WANG)
    assert "没有「外交部」这个部门" in reply
    assert "秘书处、经济处、法律处、会员处、政研室" in reply
    assert case_service(app).get(case.id).department == "经济处"


# -- 回复 / 办结 / 升级 / 备注 --------------------------------------------------------------


def test_answer_is_relayed_into_the_origin_group_at_the_reporter(
    bot: ChatBot, app: Services, clock: FrozenClock
) -> None:
    case = bot.report()

    outs = bot.say(f"回复 {case.number}：已约银行面谈，经办人电话 {PHONE}", **ZHAO)

    assert "已将答复转达张总" in one(outs, "wxid_zhao").text
    relay = one(outs, MEMBERS_ROOM)
    assert relay.mention_ids == ("wxid_zhang",)
    assert relay.text.startswith("@张总\u2005关于您的诉求 2026-0001，赵律师答复如下：")
    sent = queued_texts(bot, MEMBERS_ROOM)
    assert sent == [
        "@张总\u2005关于您的诉求 2026-0001，赵律师答复如下：\n已约银行面谈，经办人电话 138****5678"
    ]
    row = case_service(app).get(case.id)
    assert row.status == IN_PROGRESS
    assert row.first_response_at == to_db(clock.now())
    assert "格式：回复 <编号> <内容>" in bot.text(f"回复 {case.number}", **ZHAO)


def test_answer_to_a_private_case_goes_to_the_private_chat(bot: ChatBot) -> None:
    case = bot.report("招工难", reporter="wxid_li", room=None)
    outs = bot.say(f"回复 {case.number} 下周有招聘会", **WANG)
    relay = one(outs, "wxid_li")
    assert relay.mention_ids == ()
    assert "下周有招聘会" in relay.text


def test_resolve_asks_the_reporter_to_rate(
    bot: ChatBot, app: Services, clock: FrozenClock
) -> None:
    case = bot.report()
    bot.say(f"认领 {case.number}", **WANG)
    bot.advance(days=2)

    outs = bot.say(f"办结 {case.number} 银行同意续贷一年", **WANG)

    assert "已请张总评价" in one(outs, STAFF_ROOM).text
    told = one(outs, MEMBERS_ROOM)
    assert told.mention_ids == ("wxid_zhang",)
    assert "已办结：银行同意续贷一年" in told.text
    assert "满意 / 基本满意 / 不满意" in told.text
    assert "如7天内未收到您的评价，本诉求将视为办理完毕" in told.text
    assert "记为未评价" not in told.text  # internal bookkeeping, for staff only
    assert "销号" not in told.text
    row = case_service(app).get(case.id)
    assert row.status == RESOLVED
    assert row.resolved_at == to_db(clock.now())
    assert row.rate_due_at == "2026-11-25T01:00:00+00:00"
    assert case.number not in bot.text("待办", **WANG)

    again = bot.say(f"办结 {case.number} 再次办结", **WANG)
    assert "等待企业评价" in one(again, STAFF_ROOM).text
    assert to(again, MEMBERS_ROOM) == []
    assert "格式：办结 <编号> <结果说明>" in bot.text(f"办结 {case.number}", **WANG)


def test_resolving_straight_away_is_the_first_response(
    bot: ChatBot, app: Services, clock: FrozenClock
) -> None:
    case = bot.report()
    bot.say(f"办结 {case.number} 已告知政策口径", **ZHAO)
    assert case_service(app).get(case.id).first_response_at == to_db(clock.now())


def test_escalate_twice_then_it_is_at_the_top(bot: ChatBot, app: Services) -> None:
    case = bot.report()

    first = bot.say(f"升级 {case.number} 银行拒不配合", **ZHAO)

    assert "已升级至部门负责人" in one(first, "wxid_zhao").text
    notice = one(first, STAFF_ROOM)
    assert "原因：银行拒不配合" in notice.text
    told = one(first, MEMBERS_ROOM)
    assert told.mention_ids == ("wxid_zhang",)
    assert "已升级至部门负责人，我们将加快办理" in told.text
    assert "银行拒不配合" not in told.text

    second = bot.say(f"升级 {case.number}", **WANG)
    assert len(to(second, STAFF_ROOM)) == 1
    assert "已提请领导督办" in one(second, MEMBERS_ROOM).text

    top = bot.say(f"升级 {case.number}", **WANG)
    assert len(top) == 1
    assert "已是最高督办级别" in top[0].text
    row = case_service(app).get(case.id)
    assert row.escalation == 2
    assert row.first_response_at is None  # escalating is not answering the enterprise


def test_a_note_never_reaches_the_member_group(bot: ChatBot, app: Services) -> None:
    case = bot.report()

    outs = bot.say(f"备注 {case.number} 企业法人与银行行长有旧怨，谨慎处理", **WANG)

    assert [o.conversation_id for o in outs] == [STAFF_ROOM]
    assert "内部备注" in outs[0].text
    assert bot.queued(MEMBERS_ROOM) == []
    assert "有旧怨" in bot.text(f"详情 {case.number}", **ZHAO)
    assert case_service(app).get(case.id).first_response_at is None
    assert "格式：备注 <编号> <内容>" in bot.text(f"备注 {case.number}", **WANG)


# -- closed and withdrawn cases ------------------------------------------------------------


def test_closed_and_withdrawn_cases_only_allow_details_and_notes(
    bot: ChatBot, app: Services, clock: FrozenClock
) -> None:
    closed = bot.report()
    closed = case_service(app).resolve(closed, actor("wxid_wang"), "已处理", clock.now()).case
    case_service(app).rate(closed, actor("wxid_zhang"), "satisfied", "", clock.now())
    withdrawn = bot.report("审批太慢")
    case_service(app).withdraw(withdrawn, actor("wxid_zhang"), "", clock.now())

    for number, label in ((closed.number, "已销号"), (withdrawn.number, "已撤回")):
        for command in (
            f"认领 {number}",
            f"指派 {number} @赵律师",
            f"转办 {number} 法律处",
            f"回复 {number} 好的",
            f"办结 {number} 已处理",
            f"升级 {number}",
        ):
            outs = bot.say(command, **WANG)
            assert [o.conversation_id for o in outs] == [STAFF_ROOM], command
            assert f"诉求 {number} {label}，不能再办理" in outs[0].text
        assert label in bot.text(f"详情 {number}", **WANG)
        assert "添加内部备注" in bot.text(f"备注 {number} 企业已另行解决", **WANG)

    assert bot.queued(MEMBERS_ROOM) == []
    assert case_service(app).get(closed.id).assignee_id is None
