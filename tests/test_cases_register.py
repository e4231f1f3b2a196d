"""代录: staff register cases for enterprises, from chat, the console and a sheet; a case of
an enterprise the bot cannot reach is relayed through the staff member who registered it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.clock import FrozenClock
from bot.db import from_db
from bot.refusal import Refusal
from bot.services import Services
from chamberbot.cli import main
from handlers.cases.service import CaseService, Registration, Status
from tests.conftest import (
    MEMBERS_ROOM,
    STAFF_ROOM,
    START,
    WANG,
    ChatBot,
    actor,
    case_service,
    delivered,
    demo_config,
    make_services,
)
from tests.web_harness import csrf_in, http_console, http_login, text_at


def test_a_case_registered_in_chat_for_an_enterprise_without_chat_is_relayed_to_staff(
    bot: ChatBot,
) -> None:
    asked = bot.text("代录 华丰纺织有限公司 厂区周边供电不稳定，一周停电三次", **WANG)
    assert "这件诉求是从哪里收集的？请回复序号或名称：" in asked
    assert "1. 接待日" in asked
    assert "4. 12345转办" in asked
    (question,) = [o for o in bot.say("不知道", **WANG) if o.conversation_id == STAFF_ROOM]
    assert "没有「不知道」这个来源" in question.text
    assert [c.label for c in question.choices][:2] == ["接待日", "走访调研"]

    outs = bot.say("1", **WANG)
    reply = next(o.text for o in outs if o.conversation_id == STAFF_ROOM and "已代录" in o.text)
    assert "华丰纺织有限公司，来源：接待日" in reply
    assert "办理进展和评价邀请将发给您，请转告企业" in reply
    case = case_service(bot.app).where("enterprise = ?", ["华丰纺织有限公司"])[0]
    assert (case.route, case.registered_by_name, case.reporter_id) == (
        "接待日",
        "王科长",
        "wxid_wang",
    )
    assert case.relayed
    assert case.collected_on == bot.clock.now().date().isoformat()
    assert any("来源：接待日（王科长代录）" in o.text for o in outs)

    # the answer to the enterprise reaches 王科长 privately, headed 请转告企业
    outs = bot.say(f"回复 {case.number} 已联系供电公司排查线路", **WANG)
    relayed = [o.text for o in outs if o.conversation_id == "wxid_wang"]
    assert relayed
    assert relayed[0].startswith("【请转告企业】华丰纺织有限公司，诉求 ")
    assert "已联系供电公司排查线路" in relayed[0]

    # resolved: the rating invitation too; 王科长 passes on the enterprise's 满意 → 已销号
    outs = bot.say(f"办结 {case.number} 线路已改造", **WANG)
    (invite,) = [o for o in outs if o.conversation_id == "wxid_wang"]
    assert invite.text.startswith("【请转告企业】")
    assert len(invite.choices) == 3
    thanked = bot.text(invite.choices[0].command, sender="wxid_wang", room=None)
    assert "诉求 " + case.number + " 已销号" in thanked
    assert case_service(bot.app).get(case.id).status == Status.CLOSED


def test_a_registered_case_of_a_known_member_reaches_the_member(bot: ChatBot) -> None:
    bot.app.people.remember("wxid_li", name="李总", enterprise="李记食品有限公司")
    reg = Registration("李记食品有限公司", "社保缴费基数上调，企业负担加重", "走访调研",
                       bot.clock.now().date() - timedelta(days=3))  # fmt: skip
    before = bot.app.outbox.last_id()
    outcome = case_service(bot.app).register(actor("wxid_wang"), reg, bot.clock.now())
    bot.app.outbox.enqueue(outcome.notices)
    case = outcome.case
    assert (case.reporter_id, case.conversation_id, case.relayed) == ("wxid_li", "wxid_li", False)
    told = [o.text for o in bot.transport.deliver(bot.app.outbox, before)
            if o.conversation_id == "wxid_li"]  # fmt: skip
    assert "商会工作人员王科长已登记为诉求" in told[0]
    # the clocks started on the day it was collected (Friday 09:00), not today: 24 h on is
    # a Saturday, so the first answer was due this Monday 09:00 — now
    assert from_db(case.response_due_at) == bot.clock.now()
    today = case_service(bot.app).plan(bot.clock.now(), case.category).due
    assert from_db(case.due_at) < today


def test_registration_refuses_a_bad_route_a_future_date_and_changes_nothing(
    app: Services,
) -> None:
    now = app.clock.now()
    for reg, template in (
        (Registration("某企业", "问题", "电话", now.date()), "register_bad_route"),
        (
            Registration("某企业", "问题", "接待日", now.date() + timedelta(days=1)),
            "register_future",
        ),
        (Registration("某企业", " ", "接待日", now.date()), "register_missing"),
    ):
        with pytest.raises(Refusal) as refused:
            case_service(app).register(actor("wxid_wang"), reg, now)
        assert refused.value.template == template
    assert app.db.table("cases").count == 0


def test_chat_cases_get_their_route_by_themselves(bot: ChatBot) -> None:
    in_group = bot.report()
    private = bot.report("厂房漏水", room=None, reporter="wxid_li", enterprise="李记食品")
    assert (in_group.route, private.route) == ("群聊", "私聊")
    assert in_group.status == Status.NEW
    assert in_group.conversation_id == MEMBERS_ROOM
    assert date.fromisoformat(in_group.created_at[:10]) == bot.clock.now().date()


def _sheet(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["企业名称", "联系人", "联系电话", "问题描述", "来源", "收集日期"])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_a_reception_days_sheet_is_imported_whole_or_not_at_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "bot.db"
    app = make_services(demo_config(), db, FrozenClock(START))
    app.people.remember("wxid_zhang", name="张总", enterprise="宏达机械")
    app.close()
    good: list[list[object]] = [
        ["宏达机械", "张总", "", "电费偏高，峰谷电价政策不清楚", "接待日", date(2026, 11, 10)],
        ["华丰纺织", "刘经理", "13912345678", "消防验收排队两个月", "接待日", "2026-11-10"],
    ]
    bad: list[list[object]] = [
        *good,
        [None, None, None, None, None, None],  # blank: skipped
        ["顺达物流", "", "", "", "接待日", "2026-11-10"],
        ["顺达物流", "", "", "货车通行证难办", "电话", "2026/11/10"],
        ["顺达物流", "", "call me", "货车通行证难办", "接待日", "上周"],
        ["顺达物流", "", "call me", "货车通行证难办", "接待日", "2026-11-10"],
    ]
    args = ["cases", "import", "--db", str(db), "--by", "王科长"]
    assert main([*args, str(_sheet(tmp_path / "bad.xlsx", bad))]) == 1
    err = capsys.readouterr().err
    assert "有 4 行需要更正，未导入任何诉求" in err
    assert "第5行：请填写问题描述。" in err
    assert "第6行：没有「电话」这个来源。" in err
    assert "第7行：收集日期「上周」无法识别" in err
    assert "第8行：联系电话「call me」不像电话号码。" in err

    app = make_services(demo_config(), db, FrozenClock(START))
    assert app.db.table("cases").count == 0
    assert app.db.table("outbox").count == 0
    app.close()

    assert main([*args, str(_sheet(tmp_path / "good.xlsx", good))]) == 0
    out = capsys.readouterr().out
    assert "导入 2 件诉求" in out
    assert "华丰纺织　接待日　" in out
    assert "（进展发给登记人转告）" in out.splitlines()[2]
    app = make_services(demo_config(), db, FrozenClock(START))
    first, second = app.service(CaseService).where("1", [])
    assert (first.reporter_id, first.relayed) == ("wxid_zhang", False)  # a known member
    assert (second.reporter_id, second.contact_phone) == ("wxid_wang", "13912345678")
    assert second.collected_on == "2026-11-10"
    told = app.db.execute("select text from outbox where conversation_id = 'wxid_zhang'")
    assert "已登记为诉求" in told.fetchone()[0]
    app.close()


async def test_the_console_registers_a_case_or_keeps_the_form_and_says_why(
    bot: ChatBot,
) -> None:
    async with http_console(bot.app) as client:
        await http_login(client, "wang")
        ledger = await client.get("/cases")
        assert text_at(ledger.text, "//a[@href='/cases/new']") == "代录诉求"
        form = await client.get("/cases/new")
        assert form.status_code == 200
        assert text_at(form.text, "//h2") == "代录诉求"
        assert "12345转办" in text_at(form.text, "//select[@name='route']")
        fields = {
            "csrf": csrf_in(form.text),
            "enterprise": "华丰纺织有限公司",
            "contact_name": "刘经理",
            "contact_phone": "13912345678",
            "description": "消防验收排队两个月，新车间迟迟不能投产",
            "route": "走访调研",
            "collected_on": "2026-11-20",  # after today (Monday 16 November)
        }
        refused = await client.post("/cases/new", data=fields)
        assert refused.status_code == 400
        problem = text_at(refused.text, "//*[@role='alert']")
        assert problem == "诉求未登记：收集日期 2026-11-20 还没到，请填写问题实际收集的日期。"
        assert "消防验收排队两个月" in text_at(refused.text, "//textarea")  # kept
        assert bot.app.db.table("cases").count == 0

        done = await client.post("/cases/new", data={**fields, "collected_on": "2026-11-13"})
        assert (done.status_code, done.headers["location"]) == (303, "/cases/2026-0001")
        page = await client.get("/cases/2026-0001")
        assert "已登记诉求 2026-0001。该企业还没有联系过助手" in page.text
        heading = text_at(page.text, "//hgroup/p")
        assert heading == "华丰纺织有限公司 · 刘经理 · 走访调研，王科长代录"
        answer_to = text_at(page.text, "//form[contains(@action, '/answer')]//label")
        assert answer_to.startswith("回复企业（将发到「王科长，由其转告企业」）"), answer_to
    case = case_service(bot.app).get(1)
    assert (case.route, case.collected_on, case.contact_name) == (
        "走访调研",
        "2026-11-13",
        "刘经理",
    )
    assert (case.reporter_id, case.registered_by_name) == ("wxid_wang", "王科长")
    staff = delivered(bot, STAFF_ROOM)
    assert any("来源：走访调研（王科长代录）" in text for text in staff)
