"""活动 on the web: create (and announce) and edit an event with chat's rules, in a browser.

A bad form is shown again with a Chinese message at each bad field, what was typed kept,
and nothing written or sent; a good one goes through the events service, so the group
gets the same 【活动预告】 as after 发布活动, and more seats promote the waiting list with
the same notices as `chamberbot event edit`.
"""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Browser, expect

from handlers.events.service import EventService
from tests.conftest import MEMBERS_ROOM, OTHER_ROOM, STAFF_ROOM, ChatBot, delivered
from tests.events_helpers import make_event, seed_groups
from tests.web_harness import BROWSER_LOOP, first_row_cells, web_console

pytestmark = BROWSER_LOOP

START_AT = "2026-11-20T14:00"  # Friday; the test clock is Monday 2026-11-16 09:00


async def test_an_event_is_created_checked_announced_and_edited(
    bot: ChatBot, browser: Browser
) -> None:
    seed_groups(bot)
    async with web_console(bot.app, browser) as web:
        page = web.page
        await web.login("wang")
        await page.goto("/events")
        await page.get_by_role("button", name="新建活动").click()
        await page.get_by_label("活动标题").fill("")
        await page.get_by_label("开始时间", exact=True).fill(START_AT)
        await page.get_by_label("结束时间").fill("2026-11-20T13:00")
        await page.get_by_label("地点").fill("商会大厦三楼报告厅")
        await page.get_by_label("名额").fill("很多")
        await page.get_by_label("目标群").fill("制造业 &")
        await page.get_by_role("button", name="保存活动").click()
        alert = page.get_by_role("alert")
        await expect(alert).to_contain_text("活动未保存：请修改下面标红的 4 项")
        form = page.locator("form.event-form")
        for text in (
            "请填写活动标题",
            "结束时间须晚于开始时间",
            "名额请填写 0（不限）到 100000 之间的整数",
            "目标群请填写「全部」或标签表达式",
        ):
            await expect(form).to_contain_text(text)
        await expect(page.get_by_label("地点")).to_have_value("商会大厦三楼报告厅")
        await expect(page.get_by_label("目标群")).to_have_attribute("aria-invalid", "true")
        await web.shot("event-form-problems")
        assert bot.app.service(EventService).store.where() == []

        await page.get_by_label("活动标题").fill("数字化转型沙龙")
        await page.get_by_label("开始时间", exact=True).fill("2026-11-15T14:00")  # yesterday
        await page.get_by_label("结束时间").fill("2026-11-15T16:00")
        await page.get_by_label("名额").fill("1")
        await page.get_by_label("目标群").fill("全部")
        await page.get_by_role("button", name="保存活动").click()
        await expect(page.locator("form.event-form")).to_contain_text("开始时间须晚于现在")
        assert bot.app.service(EventService).store.where() == []

        await page.get_by_label("类型").select_option("沙龙")
        await page.get_by_label("开始时间", exact=True).fill(START_AT)
        await page.get_by_label("结束时间").fill("2026-11-20T16:00")
        await page.get_by_label("保存后立即发布到群").check()
        await page.get_by_role("button", name="保存活动").click()
        await expect(page.locator(".flash.good")).to_contain_text(
            "已保存活动 1「数字化转型沙龙」，已发布到 2 个群"
        )
        when = "沙龙 · 11月20日(周五) 14:00 – 16:00"
        await expect(page.locator("hgroup")).to_contain_text(when)
        await expect(page.locator("dl.fields")).to_contain_text("1（已报名 0")
        sent = bot.deliver()
        for room in (MEMBERS_ROOM, OTHER_ROOM):
            (notice,) = [o.text for o in sent if o.conversation_id == room]
            assert notice.startswith("【活动预告】沙龙｜数字化转型沙龙")
            assert "报名请发送「报名 1」" in notice

        members = (("wxid_li", "李总", "李记贸易"), ("wxid_sun", "孙总", "孙氏电子"))
        for contact, name, firm in members:
            bot.app.people.remember(contact, name=name, enterprise=firm)
            bot.say("报名 1", sender=contact)
        assert [r.status for r in bot.app.service(EventService).store.registrations(1)] == [
            "registered",
            "waiting",
        ]
        delivered(bot, MEMBERS_ROOM)

        await page.reload()
        await page.get_by_role("button", name="修改").click()
        await expect(page.get_by_label("名额")).to_have_value("1")
        await expect(page.get_by_label("开始时间", exact=True)).to_have_value(START_AT)
        await page.get_by_label("结束时间").fill("2026-11-20T12:00")
        await page.get_by_label("名额").fill("2")
        await page.get_by_role("button", name="保存修改").click()
        await expect(page.locator("form.event-form")).to_contain_text("结束时间须晚于开始时间")
        assert bot.app.service(EventService).store.get(1).capacity == 1

        await page.get_by_label("结束时间").fill("2026-11-20T17:00")
        await page.get_by_label("地点").fill("商会大厦五楼会议室")
        await page.get_by_role("button", name="保存修改").click()
        await expect(page.locator(".flash.good")).to_contain_text(
            "「数字化转型沙龙」已保存，名额增加，1 位候补者已转为报名并将收到通知"
        )
        await expect(page.locator("hgroup")).to_contain_text("商会大厦五楼会议室")
        await expect(page.locator("table")).to_contain_text("孙氏电子")
        await web.shot("event-edited")
    event = bot.app.service(EventService).store.get(1)
    assert (event.capacity, event.place, event.kind) == (2, "商会大厦五楼会议室", "沙龙")
    assert event.end - event.start == timedelta(hours=3)
    sent = bot.deliver()
    promoted, moved = [o.text for o in sent if o.conversation_id == MEMBERS_ROOM]
    assert "@孙总" in promoted
    assert "您已从候补转为正式报名「数字化转型沙龙」" in promoted
    assert "地点：商会大厦五楼会议室" in promoted
    # the place moved: the others holding a seat are told, the promoted one not twice
    assert moved.startswith(
        "@李总\u2005【活动变更】「数字化转型沙龙」地点改为：商会大厦五楼会议室。"
    )
    assert any("孙总" in o.text for o in sent if o.conversation_id == STAFF_ROOM)


async def test_the_event_form_on_a_phone(bot: ChatBot, browser: Browser) -> None:
    async with web_console(bot.app, browser, mobile=True) as web:
        await web.login("chen")
        await web.page.goto("/events/new")
        await expect(web.page.get_by_label("活动标题")).to_be_visible()
        await web.shot("event-form-phone", full=False)


async def test_the_events_page_on_a_phone_reads_one_event_per_card(
    bot: ChatBot, browser: Browser
) -> None:
    """Regression: on a phone the 活动 table was squeezed into one character per line."""
    make_event(
        bot.app, title="数字化转型大讲堂（第二期）", place="商会大厦三楼报告厅", capacity=80
    )
    async with web_console(bot.app, browser, mobile=True) as web:
        await web.login("chen")
        await web.page.goto("/events")
        cells = await first_row_cells(web.page, "main table")
        assert len(cells) == 7
        for cell in cells:  # each on the screen, the width of the screen, under its label
            assert cell["left"] >= 0, cell
            assert cell["right"] <= cell["view"], cell
            assert cell["width"] > cell["view"] * 0.8, cell
        title = web.page.get_by_role("link", name="数字化转型大讲堂（第二期）")
        box = await title.bounding_box()
        assert box is not None
        assert box["height"] < 30  # one line, not a character a line
        await web.shot("events-phone", full=False)
