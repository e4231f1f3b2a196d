"""The reports by where cases came from (the Dalian table: 群聊, 私聊, 接待日, …) and the
回访 rates, as the chat's 统计, the HTML report and the XLSX 工作台账 show them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook

from handlers.cases.deadlines import sweep
from handlers.cases.service import Registration
from handlers.reports import compute
from handlers.reports.html import render_html
from handlers.reports.ledger import write_ledger
from handlers.reports.period import Period
from tests.conftest import (
    OTHER_ROOM,
    STAFF_ROOM,
    TZ,
    WANG,
    ChatBot,
    actor,
    case_service,
)
from tests.test_ledger_export import console_and_client

NOV = Period.of_month(2026, 11, TZ)


def _until(bot: ChatBot, when: datetime) -> None:
    """Move the clock to `when`, running the deadline sweep every hour on the way."""
    while bot.clock.now() < when:
        bot.clock.set(min(when, bot.clock.now() + timedelta(hours=1)))
        sweep(bot.app)


@pytest.fixture
def story(bot: ChatBot) -> ChatBot:
    """November from Monday 16th: two group cases closed and rated, one 接待日 case 代录 in
    chat and resolved, one 走访调研 case registered and left open past its due date, one
    private-chat case withdrawn; the open one is in 专题 1. At 回访 the first answers 已解决,
    the others stay silent."""
    a = bot.report("审批窗口办证太慢，跑了三趟")
    b = bot.report(
        "稳岗补贴一直没有兑现", reporter="wxid_li", enterprise="李记贸易", room=OTHER_ROOM
    )
    w = bot.report("开发区这周停电三次", reporter="wxid_sun", enterprise="孙氏电子", room=None)
    bot.say(f"撤回 {w.number}", sender="wxid_sun", room=None)
    bot.say("代录 华丰纺织有限公司 厂区周边供电不稳定，一周停电三次", **WANG)
    bot.say("1", **WANG)  # 接待日
    (c,) = case_service(bot.app).where("enterprise = ?", ["华丰纺织有限公司"])
    reg = Registration("宏达建材", "物流园道路坑洼，货车进出困难", "走访调研", date(2026, 11, 13))
    d = case_service(bot.app).register(actor("wxid_wang"), reg, bot.clock.now()).case
    assert "专题 1「物流园道路」" in bot.text(f"专题 新建 物流园道路 {d.number}", **WANG)
    bot.say(f"办结 {a.number} 已协调窗口当天办结", **WANG)
    bot.say(f"满意 {a.number}")
    bot.say(f"办结 {b.number} 补贴已于本周发放", **WANG)
    bot.say(f"评价 {b.number} 基本满意", sender="wxid_li", room=OTHER_ROOM)
    bot.say(f"办结 {c.number} 已协调供电公司检修线路", **WANG)
    _until(bot, datetime(2026, 11, 23, 10, 0, tzinfo=TZ))  # 回访 asked
    bot.say("已解决")
    _until(bot, datetime(2026, 12, 1, 9, 0, tzinfo=TZ))
    return bot


class _Table(HTMLParser):
    """The cells of the table with `id`, row by row."""

    def __init__(self, id_: str) -> None:
        super().__init__()
        self.id, self.inside, self.rows = id_, False, list[list[str]]()
        self.cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("id", self.id) in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell += data


def _table(page: str, id_: str) -> list[list[str]]:
    found = _Table(id_)
    found.feed(page)
    return found.rows


def test_statistics_shows_the_table_by_route_and_the_follow_up_rates(story: ChatBot) -> None:
    text = story.text("统计 上月", sender="wxid_wang", room=STAFF_ROOM)
    assert "受理诉求 4 件（另有撤回 1 件）" in text
    # 私聊 had only a withdrawn case: left out; the configured order, not by size
    assert (
        "按来源（受理/办结/按期办结率/满意率）：\n"
        "· 群聊 2/2/100.0%/100.0%\n"
        "· 接待日 1/1/100.0%/—\n"
        "· 走访调研 1/0/0.0%/—\n"
    ) in text
    # asked in November: the two group cases, the withdrawn one and the 接待日 case (a
    # phone task for staff, not yet done); only 张总 answered, 已解决
    assert "回访率 25.0%（1/4），回访满意率 100.0%（1/1）" in text
    assert "回访率：统计期内发起回访的诉求中" in text


def test_cases_staff_registered_are_by_their_route_among_the_groups(story: ChatBot) -> None:
    """按来源群: a 代录 case came from no group nor private chat (it was 私聊 before)."""
    report = compute(story.app.db, story.app.config, NOV, story.clock.now())
    groups = {b.name: b.received for b in report.by_group}
    assert groups == {"会员一群": 1, "会员二群": 1, "接待日（代录）": 1, "走访调研（代录）": 1}


def test_html_report_has_the_table_by_route_and_the_follow_up_cards(story: ChatBot) -> None:
    app = story.app
    page = render_html(
        app.templates.render, app.config, compute(app.db, app.config, NOV, story.clock.now())
    )
    assert _table(page, "by-source") == [
        ["来源", "受理", "办结", "按期办结率", "满意率"],
        ["群聊", "2", "2", "100.0%", "100.0%"],
        ["接待日", "1", "1", "100.0%", "—"],
        ["走访调研", "1", "0", "0.0%", "—"],
    ]
    assert 'data-figure="follow_up_rate" data-num="1" data-den="4"' in page
    assert 'data-figure="follow_up_satisfaction" data-num="1" data-den="1"' in page


async def test_the_statistics_page_has_the_table_by_route_and_the_follow_up_cards(
    story: ChatBot,
) -> None:
    async with console_and_client(story) as (_, client):
        got = await client.get("/stats?month=2026-11")
    assert got.status_code == 200
    assert _table(got.text, "by-source") == [
        ["来源", "受理", "办结", "按期办结率", "满意率"],
        ["群聊", "2", "2", "100.0%", "100.0%"],
        ["接待日", "1", "1", "100.0%", "—"],
        ["走访调研", "1", "0", "0.0%", "—"],
    ]
    cards = _Cards()
    cards.feed(got.text)
    assert cards.found["follow_up_rate"] == ["回访率", "25.0%", "1 / 4"]
    assert cards.found["follow_up_satisfaction"] == ["回访满意率", "100.0%", "1 / 1"]


class _Cards(HTMLParser):
    """The 统计 page's rate cards: data-figure → their texts."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, list[str]] = {}
        self.card: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        figure = dict(attrs).get("data-figure")
        if tag == "div" and figure:
            self.card = figure
            self.found[figure] = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            self.card = None

    def handle_data(self, data: str) -> None:
        if self.card and data.strip():
            self.found[self.card].append(data.strip())


def test_ledger_has_the_sheet_by_route(story: ChatBot, tmp_path: Path) -> None:
    app = story.app
    report = compute(app.db, app.config, NOV, story.clock.now())
    out = tmp_path / "台账.xlsx"
    write_ledger(app.db, app.templates.render, app.config, report, out)
    wb = load_workbook(out)
    rows = list(wb["按来源"].iter_rows(values_only=True))
    assert rows == [
        ("来源", "受理", "办结", "按期办结率", "满意率"),
        ("群聊", 2, 2, 1, 1),
        ("接待日", 1, 1, 1, None),
        ("走访调研", 1, 0, 0, None),
    ]
    assert wb["按来源"]["D2"].number_format == "0.0%"
    summary = {row[0]: row[1:] for row in wb["汇总"].iter_rows(values_only=True) if row}
    assert summary["回访率"][:3] == (0.25, 1, 4)
    assert summary["回访满意率"][:3] == (1, 1, 1)


def _day(day: int) -> datetime:
    """A November date as the XLSX reads back (a naive datetime)."""
    return datetime(2026, 11, day, tzinfo=TZ).replace(tzinfo=None)


def test_ledger_cases_have_route_collection_date_registrar_and_follow_up(
    story: ChatBot, tmp_path: Path
) -> None:
    app = story.app
    report = compute(app.db, app.config, NOV, story.clock.now())
    out = tmp_path / "台账.xlsx"
    write_ledger(app.db, app.templates.render, app.config, report, out)
    ws = load_workbook(out)["台账"]
    head = [c.value for c in ws[1]]
    assert head[5:9] == ["来源群", "来源", "收集日期", "代录人"]
    assert head[-7:-4] == ["重办次数", "回访结果", "专题"]
    keys = ("来源", "收集日期", "代录人", "回访结果", "专题")
    rows = {
        row[2]: tuple(dict(zip(head, row, strict=True))[k] for k in keys)
        for row in ws.iter_rows(2, values_only=True)
    }
    assert rows == {
        "张氏机械": ("群聊", None, None, "已解决", None),  # chat cases: no collection date
        "李记贸易": ("群聊", None, None, "未回访成功", None),
        "孙氏电子": ("私聊", None, None, "未回访成功", None),
        "华丰纺织有限公司": ("接待日", _day(16), "王科长", "—", None),  # phone task, not done
        "宏达建材": ("走访调研", _day(13), "王科长", "—", "1「物流园道路」"),
    }
