"""统计 and the 工作台's rates in a real browser, over the reports' hand-counted story.

The story is tests/test_reports.py's (six cases in November 2026 built through the chat):
its November figures are counted by hand there — 响应率 3/5, 按期办结率 1/2, 满意率 2/3,
受理 5, one overdue case (2026-0004). Here the page must show exactly those, draw the
charts with the locally served ECharts, and hand out the same HTML report and XLSX ledger.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from openpyxl import load_workbook
from playwright.async_api import Browser, expect

from handlers.cases.deadlines import sweep
from handlers.reports.figures import totals
from handlers.reports.period import month_of
from tests.conftest import TZ, ChatBot
from tests.test_reports import build
from tests.web_harness import BROWSER_LOOP, web_console

pytestmark = BROWSER_LOOP


def _at(bot: ChatBot, when: datetime) -> None:
    """Move the clock to `when`, running the deadline sweep every hour on the way."""
    while bot.clock.now() < when:
        bot.clock.set(min(when, bot.clock.now() + timedelta(hours=1)))
        sweep(bot.app)


async def test_the_monthly_report_with_charts_and_downloads(
    bot: ChatBot, browser: Browser
) -> None:
    build(bot)
    _at(bot, datetime(2026, 12, 1, 0, 0, tzinfo=TZ))
    requested: list[str] = []
    async with web_console(bot.app, browser) as web:
        page = web.page
        page.on("request", lambda r: requested.append(r.url))
        await web.login("wang")
        await page.get_by_role("link", name="统计", exact=True).click()
        await expect(page.locator("h2")).to_contain_text("2026年12月诉求办理情况报告")
        await page.get_by_role("button", name="上月").click()
        await expect(page.locator("h2")).to_contain_text("2026年11月诉求办理情况报告")
        cards = page.locator("#figures")
        for figure, shown in (
            ("responded", "响应率60.0%3 / 5"),
            ("on_time", "按期办结率50.0%1 / 2"),
            ("satisfaction", "满意率66.7%2 / 3"),
        ):
            await expect(cards.locator(f"[data-figure={figure}]")).to_contain_text(shown)
        await expect(page.locator("td[data-figure=received]")).to_have_text("5")
        await expect(page.locator("td[data-figure=withdrawn]")).to_have_text("1")
        await expect(page.locator("#overdue")).to_contain_text("2026-0004")
        await expect(page.locator("#by-category")).to_contain_text("政务环境")
        await expect(page.locator("#by-route tbody tr").first).to_contain_text("直接办理")
        await expect(page.locator("#definitions")).to_contain_text("未评价不计为满意")
        for chart in ("#chart-trend", "#chart-rates", "#chart-category"):
            await expect(page.locator(f"{chart} canvas")).to_have_count(1)
        await expect(page.locator("body")).to_have_attribute("data-charts", "3")
        await web.shot("stats")
        await web.shot("stats-charts", ".charts")

        async with page.expect_download() as info:
            await page.locator("#download-html").click()
        download = await info.value
        assert download.suggested_filename == "report-2026-11.html"
        html = (await (await page.request.get(download.url)).body()).decode("utf-8")
        async with page.expect_download() as info:
            await page.locator("#download-xlsx").click()
        download = await info.value
        assert download.suggested_filename == "report-2026-11.xlsx"
        data = await (await page.request.get(download.url)).body()

        await page.get_by_label("月份").fill("2026-10")
        await page.get_by_role("button", name="按月查看").click()
        await expect(page.locator("h2")).to_contain_text("2026年10月")
        await expect(cards.locator("[data-figure=responded]")).to_contain_text("—")

        await page.goto("/stats?month=2026-13")
        await expect(page.get_by_role("alert")).to_contain_text("看不懂月份「2026-13」")
        await page.goto("/stats?month=2027-01")
        await expect(page.get_by_role("alert")).to_contain_text("尚未开始")

        await page.get_by_text("自定义时间段").click()
        await page.get_by_label("起始日期").fill("2026-11-16")
        await page.get_by_label("截止日期").fill("2026-11-17")
        await page.get_by_role("button", name="按时间段查看").click()
        title = "2026年11月16日(周一)至2026年11月17日(周二)"  # one date style, with the year
        await expect(page.locator("h2")).to_contain_text(title)
        await expect(page.locator("td[data-figure=received]")).to_have_text("5")
        await page.get_by_label("截止日期").fill("2026-11-01")
        await page.get_by_role("button", name="按时间段查看").click()
        await expect(page.get_by_role("alert")).to_contain_text("起止日期有误")
    assert "2026年11月诉求办理情况报告" in html
    assert 'data-figure="responded" data-num="3" data-den="5"' in html
    book = load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames == ["汇总", "按来源", "台账", "办理记录"]
    ledger = [r[0] for r in book["台账"].iter_rows(min_row=2, values_only=True)]
    assert ledger == [f"2026-000{i}" for i in range(1, 7)]
    assert any(u.endswith("/vendor/echarts.min.js") for u in requested)
    assert all(u.startswith("http://127.0.0.1:") for u in requested)  # nothing from a CDN


async def test_the_dashboard_shows_this_months_three_rates(bot: ChatBot, browser: Browser) -> None:
    build(bot)  # ends on Fri 2026-11-20 10:00
    now = bot.clock.now()
    t = totals(bot.app.db, month_of(now), now)
    # 0001 满意, 0005 基本满意, 0006 不满意
    assert (t.satisfaction.num, t.satisfaction.den) == (2, 3)
    async with web_console(bot.app, browser, mobile=True) as web:
        page = web.page
        await web.login("wang")
        rates = page.locator("#rates")
        await expect(rates).to_contain_text("2026年11月")
        responded = f"{t.responded.pct:.1f}%" if t.responded.den else "—"
        await expect(rates.locator("[data-figure=responded]")).to_contain_text(responded)
        await expect(rates.locator("[data-figure=on_time]")).to_contain_text("—")  # none due yet
        await expect(rates.locator("[data-figure=satisfaction]")).to_contain_text("66.7%2 / 3")
        await expect(page.locator("a.card[href='#today'] strong")).to_have_text("0")
        await expect(page.locator("a.card[href='#waiting'] strong")).to_have_text("1")  # 0004
        # 0002 (0005 was rated 基本满意: closed)
        await expect(page.locator("a.card[href='#rating'] strong")).to_have_text("1")
        await web.shot("dashboard-rates-phone", full=False)
        await page.locator("#rates a").click()
        await expect(page.locator("h2")).to_contain_text("2026年11月诉求办理情况报告")
        await web.shot("stats-phone", full=False)
        await page.locator("#chart-rates").scroll_into_view_if_needed()
        await web.shot("stats-phone-charts", full=False)
