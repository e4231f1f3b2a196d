"""The member page in Chromium at a phone's width (390 px, as WeChat's built-in browser on
an ordinary phone): opened from the link sent in chat, every page fits the screen — no
sideways scrolling; the case list's table becomes stacked cards. Screenshots go to
tests/screenshots/portal_*.png."""

from __future__ import annotations

from playwright.async_api import Browser

from handlers.cases.service import Actor
from handlers.events.service import EventService
from tests.conftest import ChatBot, actor, case_service
from tests.events_helpers import make_event
from tests.test_portal import ZHANG, link_for
from tests.test_surveys import sent_survey
from tests.web_harness import BROWSER_LOOP, web_console

pytestmark = BROWSER_LOOP

WIDTH_JS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def seed(bot: ChatBot) -> tuple[str, int]:
    """Three cases of 张总 (one waiting for a rating), an event and a survey; his link's
    path and the survey's number."""
    survey_id = sent_survey(bot)
    app, now = bot.app, bot.clock.now()
    app.people.remember(ZHANG, name="张总", enterprise="浙江张氏精密机械制造有限公司")
    cases = case_service(app)
    texts = [
        "银行突然抽贷，资金周转困难，希望协调续贷，账号6222020200112233445566等材料已备好",
        "厂区门口路灯坏了一个月，晚上员工下班不安全",
        "出口退税迟迟未到账，已经超过三个月，影响了流动资金",
    ]
    opened = [
        cases.open(
            Actor(ZHANG, "张总"),
            enterprise="浙江张氏精密机械制造有限公司",
            channel="wechat",
            conversation_id=ZHANG,
            is_group=False,
            description=text,
            now=now,
        ).case
        for text in texts
    ]
    claimed = cases.claim(opened[0], actor("wxid_wang"), now).case
    cases.answer(claimed, actor("wxid_wang"), "已联系开户行，正在协调续贷方案。", now)
    cases.resolve(cases.get(claimed.id), actor("wxid_wang"), "银行同意续贷一年。", now)
    make_event(app, title="数字化转型大讲堂：中小制造企业如何上云用数赋智", need_phone=1)
    salon = make_event(app, title="民营企业家沙龙：出口转内销", capacity=20)
    app.service(EventService).register(
        salon.id,
        now,
        contact_id=ZHANG,
        name="张总",
        enterprise="浙江张氏精密机械制造有限公司",
        phone=None,
        conversation_id=ZHANG,
        is_group=False,
    )  # fmt: skip  (registered: the page offers 取消报名)
    return link_for(bot), survey_id


async def test_the_member_page_fits_a_390_px_phone(bot: ChatBot, browser: Browser) -> None:
    path, survey_id = seed(bot)
    async with web_console(bot.app, browser, mobile=True) as run:
        page = run.page
        await page.goto(path)
        assert page.url.endswith("/m/")
        number = case_service(bot.app).where("status = 'resolved'", [])[0].number
        pages = ["/m/", "/m/cases", f"/m/cases/{number}", "/m/report", "/m/events"]
        for where in [*pages, "/m/profile", f"/m/surveys/{survey_id}"]:
            await page.goto(where)
            scroll, width = await page.evaluate(WIDTH_JS)
            assert width == 390
            assert scroll <= width, f"{where}: {scroll} px wide"
            if where == "/m/cases":
                await run.shot("portal_cases")
                # stacked: each row a card as wide as the screen's column, not a squeezed cell
                cell = await page.locator("table.stack tbody tr").first.bounding_box()
                assert cell is not None
                assert cell["width"] > 300
            elif where.startswith("/m/cases/"):
                await run.shot("portal_case")
            elif where.startswith("/m/surveys/"):
                await run.shot("portal_survey")
            elif where == "/m/events":
                await run.shot("portal_events")
                await page.get_by_role("button", name="取消报名").click()  # asks once more
                await page.get_by_role("button", name="确定取消报名").wait_for()
                scroll, width = await page.evaluate(WIDTH_JS)
                assert scroll <= width
                await run.shot("portal_withdraw")
