"""Reports (督查问效): a dataset built through the chat, every figure against hand counts.

The story (START = Mon 2026-11-16 09:00; 24 h first-response limit):

    0001 张 会员一群 银行抽贷    市场环境/融资信贷  claimed at once; resolved, 不满意 (reopened,
                                                  new due 12-01 14:00), resolved, 满意 → closed
    0002 李 会员二群 稳岗补贴    政务环境/惠企政策  answered 27 h later (late), resolved 11-20,
                                                  never rated → closed 未评价 by the sweep
    0003 孙 会员一群 停电        市场环境/要素保障  withdrawn after an hour
    0004 张 会员一群 路灯 (11-17) 政务环境/基础设施  nobody answers: level 1 at due 11-26,
                                                  level 2 on 12-03
    0005 李 会员二群 合同违约    法治环境/合同纠纷  claimed after 30 min, resolved, 基本满意
    0006 孙 会员一群 招工难      创新环境/人才用工  claimed after 2 h, resolved, 不满意 (open)
    0007 李, 0008 孙 (12-01)    政务环境/基础设施  路灯 again: a 共性问题 with 0004
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.clock import FrozenClock
from bot.scheduler import set_running_services
from handlers.cases.deadlines import sweep
from handlers.reports import compute
from handlers.reports.html import render_html
from handlers.reports.ledger import write_ledger
from handlers.reports.monthly import monthly_job, send_monthly
from handlers.reports.period import Period
from tests.conftest import (
    MEMBERS_ROOM,
    OTHER_ROOM,
    STAFF_ROOM,
    TZ,
    ChatBot,
    demo_config,
    make_services,
)

NOV = Period.of_month(2026, 11, TZ)
DEC = Period.of_month(2026, 12, TZ)


def _at(bot: ChatBot, when: datetime) -> None:
    """Move the clock to `when`, running the deadline sweep on the way (every hour)."""
    while bot.clock.now() < when:
        bot.clock.set(min(when, bot.clock.now() + timedelta(hours=1)))
        sweep(bot.app)


def _staff(bot: ChatBot, text: str, who: str = "wxid_wang") -> str:
    return bot.text(text, sender=who, room=STAFF_ROOM)


def build(bot: ChatBot) -> None:
    day0 = bot.clock.now()
    bot.say("诉求 银行突然抽贷，流动资金紧张，联系电话13812345678", sender="wxid_zhang")
    bot.say("张氏机械有限公司", sender="wxid_zhang")
    bot.say("诉求 去年申请的稳岗补贴到现在还没有兑现", sender="wxid_li", room=OTHER_ROOM)
    bot.say("李记贸易有限公司", sender="wxid_li", room=OTHER_ROOM)
    bot.say("诉求 开发区这周停电三次，生产线停工", sender="wxid_sun")
    bot.say("孙氏电子有限公司", sender="wxid_sun")
    _at(bot, day0 + timedelta(hours=1))
    bot.say("撤回 3", sender="wxid_sun")
    _staff(bot, "认领 1")
    _at(bot, day0 + timedelta(days=1))  # Tue 11-17 09:00
    bot.say("诉求 工业园区东门路灯坏了一个多月，晚上员工下班很不安全", sender="wxid_zhang")
    bot.say("诉求 合同对方违约不付货款，想咨询起诉流程", sender="wxid_li", room=OTHER_ROOM)
    bot.say("诉求 招工难，普工工资涨了还是招不到人", sender="wxid_sun")
    _at(bot, day0 + timedelta(days=1, minutes=30))
    _staff(bot, "认领 5", "wxid_zhao")
    _at(bot, day0 + timedelta(days=1, hours=2))
    _staff(bot, "认领 6", "wxid_qian")
    _at(bot, day0 + timedelta(days=1, hours=3))  # 12:00
    _staff(bot, "回复 2 已转人社局核查")
    _staff(bot, "办结 1 银行同意展期6个月")
    _at(bot, day0 + timedelta(days=1, hours=5))  # 14:00
    bot.say("不满意 展期太短", sender="wxid_zhang")
    _at(bot, day0 + timedelta(days=2, hours=1))  # Wed 11-18 10:00
    _staff(bot, "办结 1 银行同意展期12个月")
    bot.say("满意", sender="wxid_zhang")
    _at(bot, day0 + timedelta(days=4, hours=1))  # Fri 11-20 10:00
    _staff(bot, "办结 2 补贴已于本周发放")
    _staff(bot, "办结 5 已出具律师函", "wxid_zhao")
    bot.say("评价 5 基本满意", sender="wxid_li", room=OTHER_ROOM)
    _staff(bot, "办结 6 已推荐招聘会", "wxid_qian")
    bot.say("不满意 还是没招到", sender="wxid_sun")


def december(bot: ChatBot) -> None:
    _at(bot, datetime(2026, 12, 1, 10, 0, tzinfo=TZ))
    bot.say("诉求 园区东门的路灯坏了快一个月了，夜里员工下班出门不安全", sender="wxid_li")
    bot.say("诉求 东门路灯坏了一个月还没人修，员工晚上下班不安全", sender="wxid_sun")
    _staff(bot, "认领 7")


@pytest.fixture
def story(bot: ChatBot) -> ChatBot:
    build(bot)
    _at(bot, datetime(2026, 12, 1, 0, 0, tzinfo=TZ))
    return bot


def test_november_figures_match_the_hand_counts(story: ChatBot) -> None:
    r = compute(story.app.db, story.app.config, NOV, story.clock.now())
    t = r.totals
    assert (t.opened, t.withdrawn, t.received) == (6, 1, 5)
    assert (t.responded.num, t.responded.den) == (3, 5)  # 0002 late, 0004 never
    assert (t.on_time.num, t.on_time.den) == (1, 2)  # due in Nov: 0002 yes, 0004 no
    assert (t.resolved.num, t.resolved.den) == (3, 5)  # 0001, 0002, 0005; 0006 reopened
    assert (t.closed.num, t.closed.den) == (3, 5)
    assert (r.year.resolved.num, r.year.closed.num, r.year.received) == (3, 3, 5)
    # Last ratings: 0001 满意 (after 不满意), 0005 基本满意, 0006 不满意; 0002 未评价.
    assert t.ratings == {"satisfied": 1, "basic": 1, "unsatisfied": 1}
    assert (t.satisfaction.num, t.satisfaction.den, t.satisfaction.pct) == (2, 3, 66.7)
    assert (t.rating_rate.num, t.rating_rate.den) == (3, 4)
    # First responses 1 h, 27 h, 0.5 h, 2 h → 1.5; resolutions 2.04, 4.04, 3.04 days → 3.0.
    assert r.median_response_hours == 1.5
    assert r.median_resolution_days == 3.0
    cats = {b.name: (b.received, b.resolved, b.closed) for b in r.by_category}
    assert cats == {
        "政务环境": (2, 1, 1),
        "市场环境": (1, 1, 1),
        "法治环境": (1, 1, 1),
        "创新环境": (1, 0, 0),
    }
    assert r.by_category[0].name == "政务环境"
    aspects = {b.name: b.received for b in r.by_aspect}
    assert aspects["政务环境/基础设施"] == 1
    assert aspects["市场环境/融资信贷"] == 1
    depts = {b.name: (b.received, b.resolved) for b in r.by_department}
    assert depts == {"经济处": (3, 2), "法律处": (1, 1), "政研室": (1, 0)}
    routes = [(b.name, b.received, b.resolved) for b in r.by_route]
    assert routes == [("直接办理", 4, 3), ("部门督办", 1, 0), ("上报领导", 0, 0)]
    groups = {b.name: b.received for b in r.by_group}
    assert groups == {"会员一群": 3, "会员二群": 2}
    assert [(o.number, o.days, o.level, o.department, o.assignee) for o in r.overdue] == [
        ("2026-0004", 4, 1, "经济处", None)
    ]
    assert r.common == []


def test_december_has_level_two_overdue_and_a_common_issue(story: ChatBot) -> None:
    december(story)
    _at(story, datetime(2026, 12, 4, 9, 0, tzinfo=TZ))
    r = compute(story.app.db, story.app.config, DEC, story.clock.now())
    assert (r.totals.received, r.totals.withdrawn) == (2, 0)
    assert (r.totals.responded.num, r.totals.responded.den) == (1, 2)  # 0008 unanswered
    # 0001's due date after its reopening (12-01 14:00) falls in December; it was resolved.
    assert (r.totals.on_time.num, r.totals.on_time.den) == (1, 1)
    assert [(o.number, o.days, o.level) for o in r.overdue] == [("2026-0004", 8, 2)]
    # Past November's report does not move: events after its cut-off are ignored.
    nov = compute(story.app.db, story.app.config, NOV, story.clock.now())
    assert [(o.number, o.level) for o in nov.overdue] == [("2026-0004", 1)]
    kinds = {(c.kind, c.category): (c.enterprises, set(c.cases)) for c in r.common}
    three = {"2026-0004", "2026-0007", "2026-0008"}
    assert kinds[("aspect", "政务环境")] == (3, three)
    assert kinds[("wording", "政务环境")] == (3, three)


def test_statistics_in_the_staff_room_shows_the_summary(story: ChatBot) -> None:
    _at(story, datetime(2026, 12, 1, 9, 0, tzinfo=TZ))
    text = _staff(story, "统计 上月")
    assert "【2026年11月诉求办理通报】" in text
    assert "受理诉求 5 件（另有撤回 1 件）" in text
    assert "响应率 60.0%（3/5）" in text
    assert "按期办结率 50.0%（1/2）" in text
    assert "办结率 60.0%（3/5），销号率 60.0%（3/5）" in text
    assert "满意率 66.7%（2/3），评价率 75.0%（3/4）" in text
    assert "首次响应中位数 1.5 个工作小时；办结用时中位数 3.0 个工作日" in text
    assert "直接办理 4 件（办结 3）；部门督办 1 件（办结 0）；上报领导 0 件（办结 0）" in text
    assert "· 2026-0004 张氏机械有限公司｜经济处｜未指派｜超期 4 天｜部门督办" in text
    assert "口径说明：" in text
    assert "未评价不计为满意" in text
    assert _staff(story, "统计 2026-11") == text
    # The same in a staff member's private chat.
    assert "【2026年11月诉求办理通报】" in story.text(
        "统计 2026年11月", sender="wxid_wang", room=None
    )


def test_statistics_refusals_and_bad_months(story: ChatBot) -> None:
    member = story.text("统计", sender="wxid_zhang")
    assert "仅限商会工作人员使用" in member
    place = story.text("统计", sender="wxid_wang", room=MEMBERS_ROOM)
    assert "请在工作群或与我私聊时使用" in place
    assert "统计 [本月/上月/YYYY-MM]" in _staff(story, "统计 2026-13")
    assert "2027年3月 尚未开始" in _staff(story, "统计 2027-03")
    this_month = _staff(story, "统计")
    assert "【2026年12月诉求办理通报】" in this_month
    assert "受理诉求 0 件" in this_month


def _staff_rows(bot: ChatBot) -> list[str]:
    return [str(r["text"]) for r in bot.queued(STAFF_ROOM) if "诉求办理通报" in str(r["text"])]


def test_monthly_job_sends_last_month_once(story: ChatBot, tmp_path: Path) -> None:
    set_running_services(story.app)
    try:
        _at(story, datetime(2026, 12, 1, 8, 59, tzinfo=TZ))
        send_monthly(story.app)
        assert _staff_rows(story) == []  # not before 09:00
        _at(story, datetime(2026, 12, 1, 9, 0, tzinfo=TZ))
        import asyncio

        asyncio.run(monthly_job())
        asyncio.run(monthly_job())
        rows = _staff_rows(story)
        assert len(rows) == 1
        assert "【2026年11月诉求办理通报】（统计至12月1日(周二) 00:00）" in rows[0]
        assert "响应率 60.0%（3/5）" in rows[0]
    finally:
        set_running_services(None)
    # A restart on the same file: the month is recorded, nothing is queued again.
    again = make_services(demo_config(), Path(story.app.db_path), story.clock)
    try:
        assert send_monthly(again) == 0
    finally:
        again.close()
    assert len(_staff_rows(story)) == 1


def test_a_missed_monthly_run_is_made_up_within_the_grace_period(
    bot: ChatBot, clock: FrozenClock
) -> None:
    build(bot)
    clock.set(datetime(2026, 12, 3, 8, 0, tzinfo=TZ))  # down since 11-20; 47 h late
    assert send_monthly(bot.app) == 1
    assert send_monthly(bot.app) == 0
    clock.set(datetime(2027, 1, 4, 10, 0, tzinfo=TZ))  # 73 h late: skipped
    assert send_monthly(bot.app) == 0
    assert len(_staff_rows(bot)) == 1


def test_ledger_reads_back_with_types_and_layout(story: ChatBot, tmp_path: Path) -> None:
    app = story.app
    r = compute(app.db, app.config, NOV, story.clock.now())
    out = tmp_path / "台账.xlsx"
    assert write_ledger(app.db, app.templates.render, app.config, r, out) == 6
    wb = load_workbook(out)
    assert wb.sheetnames == ["汇总", "按来源", "台账", "办理记录"]
    summary = {row[0]: row[1:] for row in wb["汇总"].iter_rows(values_only=True) if row}
    assert summary["受理诉求（件）"][0] == 5
    assert summary["响应率"][:3] == (0.6, 3, 5)
    assert summary["满意率"][1:3] == (2, 3)
    ws = wb["台账"]
    head = [c.value for c in ws[1]]
    assert head[:6] == ["编号", "受理时间", "企业", "反映人", "联系电话", "来源群"]
    assert head[-4:] == ["是否超期", "问题描述", "最新答复", "办结说明"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:AA7"
    rows = {row[0]: dict(zip(head, row, strict=True)) for row in ws.iter_rows(2, values_only=True)}
    first = rows["2026-0001"]
    assert first["受理时间"] == datetime(2026, 11, 16, 9, 0, tzinfo=TZ).replace(tzinfo=None)
    assert isinstance(first["办结时间"], datetime)
    assert first["状态"] == "已销号"
    assert first["评价"] == "满意"
    assert first["重办次数"] == 1
    assert first["办结说明"] == "银行同意展期12个月"
    assert "13812345678" in str(first["问题描述"])  # the ledger is for the secretariat
    assert rows["2026-0002"]["最新答复"] == "已转人社局核查"
    assert rows["2026-0002"]["评价"] == "未评价"
    assert rows["2026-0003"]["状态"] == "已撤回"
    four = rows["2026-0004"]
    assert (four["是否超期"], four["督办级别"], four["承办人"]) == ("是", "部门督办", None)
    timeline = list(wb["办理记录"].iter_rows(values_only=True))
    assert timeline[0] == ("编号", "时间", "动作", "操作人", "内容")
    kinds = [row[2] for row in timeline if row[0] == "2026-0001"]
    closing = ["办结", "评价", "销号", "回访", "未回访成功"]  # the story's weeks pass unanswered
    assert kinds == ["登记", "认领", "办结", "评价", "重新办理", *closing]
    assert all(isinstance(row[1], datetime) for row in timeline[1:])


class _Figures(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cards: dict[str, tuple[str, str]] = {}
        self.cells: dict[str, str] = {}
        self.scripts: list[dict[str, str | None]] = []
        self._cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "div" and a.get("data-num") is not None:
            self.cards[str(a["data-figure"])] = (str(a["data-num"]), str(a["data-den"]))
        if tag == "td" and a.get("data-figure"):
            self._cell = a["data-figure"]
        if tag == "script":
            self.scripts.append(a)

    def handle_data(self, data: str) -> None:
        if self._cell:
            self.cells[self._cell] = data.strip()
            self._cell = None


def test_html_report_is_self_contained_with_its_numbers(story: ChatBot) -> None:
    app = story.app
    r = compute(app.db, app.config, NOV, story.clock.now(), series_months=12)
    assert [p.key for p, _ in r.series][::11] == ["2025-12", "2026-11"]
    assert [t.received for _, t in r.series] == [0] * 11 + [5]
    page = render_html(app.templates.render, app.config, r)
    found = _Figures()
    found.feed(page)
    assert found.cards["responded"] == ("3", "5")
    assert found.cards["on_time"] == ("1", "2")
    assert found.cards["satisfaction"] == ("2", "3")
    assert found.cells["received"] == "5"
    assert found.cells["withdrawn"] == "1"
    assert found.cells["median_response"] == "1.5"
    assert all("src" not in s for s in found.scripts)  # nothing fetched at view time
    assert "echarts.init" in page
    assert "Apache Software Foundation" in page
    assert "http://" not in page.split("<script>")[0]
    assert "2026-0004" in page
    assert "口径说明" in page


def test_report_command_writes_each_format(story: ChatBot, tmp_path: Path) -> None:
    from chamberbot.cli import main

    db = str(story.app.db_path)
    story.app.close()
    xlsx, page, text = tmp_path / "a.xlsx", tmp_path / "a.html", tmp_path / "a.txt"
    assert (
        main(["report", "month", "2026-11", "--db", db, "--format", "xlsx", "--out", str(xlsx)])
        == 0
    )
    assert load_workbook(xlsx).sheetnames == ["汇总", "按来源", "台账", "办理记录"]
    assert (
        main(["report", "month", "2026-11", "--db", db, "--format", "html", "--out", str(page)])
        == 0
    )
    assert "echarts.init" in page.read_text(encoding="utf-8")
    args = ["report", "range", "2026-11-16", "2026-11-17", "--db", db, "--out", str(text)]
    assert main(args) == 0
    # Opened on 11-16 and 11-17: all six, one withdrawn.
    assert "受理诉求 5 件（另有撤回 1 件）" in text.read_text(encoding="utf-8")
    assert main(["report", "month", "2026-1x", "--db", db]) == 2
    assert main(["report", "range", "2026-11-17", "2026-11-16", "--db", db]) == 2
    assert main(["report", "month", "2026-11", "--db", db, "--format", "xlsx"]) == 2


def test_the_monthly_job_is_scheduled_for_the_first_at_nine(bot: ChatBot) -> None:
    from handlers.reports import FEATURE

    assert FEATURE.jobs is not None
    specs = {spec.id: spec for spec in FEATURE.jobs(bot.app)}
    monthly = specs["reports_monthly"]
    assert monthly.func == "handlers.reports.monthly:monthly_job"
    assert monthly.keep_next_run
    first = monthly.trigger.get_next_fire_time(None, bot.clock.now())
    assert first == datetime(2026, 12, 1, 9, 0, tzinfo=TZ)
    assert monthly.misfire_grace_time == 72 * 3600
