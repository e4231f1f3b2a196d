"""The web console in a real browser (Debian's Chromium through Playwright).

Each test runs the console in-process on 127.0.0.1 (a free port) over the `bot` fixture's
App: the same SQLite file, templates, outbox and frozen clock as the chat. What a member
group receives is asserted after draining the outbox through the test transport.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

from openpyxl import load_workbook
from playwright.async_api import Browser, Dialog, Page, expect

from handlers.cases.service import Case
from policy_feeds.manual import add_manual
from policy_feeds.model import Item
from tests.conftest import MEMBERS_ROOM, OTHER_ROOM, ChatBot, case_service, delivered
from tests.events_helpers import make_event, seed_groups
from tests.web_harness import (
    BROWSER_LOOP,
    PASSWORD,
    csrf_in,
    first_row_cells,
    http_console,
    http_login,
    login_form,
    text_at,
    web_console,
)
from web.store import Accounts

pytestmark = BROWSER_LOOP


async def opened_in_chat(bot: ChatBot, text: str, room: str = MEMBERS_ROOM) -> Case:
    """A member reports a problem in a group; the case the bot opened."""
    bot.app.people.remember("wxid_zhang", name="张总", enterprise="张氏机械")
    reply = bot.text(f"诉求 {text}", room=room)
    number = re.search(r"\d{4}-\d{4}", reply)
    assert number, reply
    delivered(bot, room)  # the intake replies are out of the way
    return case_service(bot.app).where("number = ?", [number.group()])[0]


async def test_a_case_from_chat_is_answered_and_resolved_on_the_web(
    bot: ChatBot, browser: Browser
) -> None:
    case = await opened_in_chat(bot, "银行突然抽贷，资金周转困难")
    async with web_console(bot.app, browser) as web:
        page = web.page
        await web.login("wang")
        await expect(page.get_by_role("link", name="工作台", exact=True)).to_be_visible()
        await expect(page.locator("#today")).to_contain_text(case.number)
        await web.shot("dashboard")
        await page.get_by_role("link", name="诉求台账").click()
        await page.get_by_role("link", name=case.number).first.click()
        await expect(page.locator("h2")).to_contain_text(case.number)
        await web.shot("case")

        await page.locator("form.answer textarea").fill("已联系开户行，下周一前给出续贷方案。")
        await page.get_by_role("button", name="回复企业").click()
        await expect(page.locator(".flash.good")).to_contain_text(case.number)
        group = delivered(bot, MEMBERS_ROOM)
        assert len(group) == 1
        assert "王科长答复如下" in group[0]
        assert "已联系开户行，下周一前给出续贷方案。" in group[0]
        await expect(page.locator(".timeline")).to_contain_text("答复企业 · 王科长")

        await page.locator("form.resolve textarea").fill("续贷已办妥")
        await page.get_by_role("button", name="办结并请企业评价").click()
        await expect(page.locator("h2 .status")).to_have_text("已办结待评价")
        group = delivered(bot, MEMBERS_ROOM)
        assert len(group) == 1
        assert "已办结：续贷已办妥" in group[0]
        assert "满意 / 基本满意 / 不满意" in group[0]
    events = [e.actor_name for e in case_service(bot.app).timeline(case)]
    assert events == ["张总", "王科长", "王科长"]


async def test_an_empty_answer_is_refused_and_changes_nothing(
    bot: ChatBot, browser: Browser
) -> None:
    case = await opened_in_chat(bot, "工程款被拖欠半年")
    async with web_console(bot.app, browser) as web:
        await web.login("wang")
        await web.page.goto(f"/cases/{case.number}")
        await web.page.locator("form.answer textarea").evaluate("t => t.required = false")
        await web.page.get_by_role("button", name="回复企业").click()
        await expect(web.page.locator(".flash.bad")).to_contain_text("请填写「回复企业」的内容")
    assert len(case_service(bot.app).timeline(case)) == 1
    assert delivered(bot, MEMBERS_ROOM) == []


async def test_the_ledger_filters_and_exports_the_filtered_view(
    bot: ChatBot, browser: Browser
) -> None:
    loan = await opened_in_chat(bot, "银行抽贷，融资困难")
    contract = await opened_in_chat(bot, "合同纠纷，对方违约", room=OTHER_ROOM)
    async with web_console(bot.app, browser) as web:
        page = web.page
        await web.login("wang")
        await page.goto("/cases")
        await expect(page.locator("#rows")).to_contain_text(contract.number)
        await page.get_by_label("分类").select_option("法治环境")
        await expect(page.locator("#rows")).not_to_contain_text(loan.number)
        await expect(page.locator("#rows")).to_contain_text(contract.number)
        await web.shot("ledger")
        async with page.expect_download() as info:
            await page.locator("#export").click()
        download = await info.value
        data = await (await page.request.get(download.url)).body()
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = [list(r) for r in book["工作台账"].iter_rows(values_only=True)]
    # the one ledger's columns (handlers/cases/ledger.py, the report's 台账) without phones
    assert rows[0][:3] == ["编号", "受理时间", "企业"]
    assert "联系电话" not in rows[0]
    assert len(rows) == 2
    assert rows[1][0] == contract.number
    assert rows[1][4] == "会员二群"
    assert rows[1][rows[0].index("分类")] == "法治环境"
    assert rows[1][rows[0].index("状态")] == "待受理"


async def test_a_broadcast_is_added_edited_and_previewed(bot: ChatBot, browser: Browser) -> None:
    bot.say("大家好")  # the bot has seen the member group
    add_manual(bot.app, Item(title="小微企业融资担保降费通知", url="https://example.org/p/1"))
    async with web_console(bot.app, browser) as web:
        page = web.page
        await web.login("chen")
        await page.goto("/broadcasts")
        await page.get_by_label("编号").fill("friday")
        await page.get_by_label("时间").fill("0 16 * * 5")
        await page.get_by_role("button", name="保存").click()
        await expect(page.locator(".flash.good")).to_contain_text("推送「friday」已保存")
        await page.locator("#b-friday").get_by_role("button", name="修改").click()
        await page.get_by_label("最多条数").fill("3")
        await page.get_by_role("button", name="保存").click()
        await expect(page.locator("#b-friday")).to_contain_text("0 16 * * 5")
        await page.locator("#b-friday").get_by_role("button", name="预览").click()
        await expect(page.locator("#preview")).to_contain_text("小微企业融资担保降费通知")
        await expect(page.locator("#preview")).to_contain_text("会员一群")
        await web.shot("broadcasts")
        await page.get_by_label("时间").fill("every monday")
        await page.get_by_label("编号").fill("bad")
        await page.get_by_role("button", name="保存").click()
        await expect(page.locator(".flash.bad")).to_contain_text("时间（cron）")
    row = bot.app.db.execute("select max_items, cron from broadcasts where id = 'friday'")
    assert tuple(row.fetchone()) == (3, "0 16 * * 5")
    assert (
        bot.app.db.execute("select count(*) from broadcasts where id = 'bad'").fetchone()[0] == 0
    )
    assert delivered(bot, MEMBERS_ROOM) == []  # a preview sends nothing


async def test_wrong_passwords_lock_the_account_for_fifteen_minutes(bot: ChatBot) -> None:
    async with http_console(bot.app) as client:
        wrong = await http_login(client, "wang", "wrong")
        assert wrong.status_code == 401
        assert "账号或密码不正确" in text_at(wrong.text, "//*[@role='alert']")
        for _ in range(3):
            assert (await http_login(client, "wang", "wrong")).status_code == 401
        locked = await http_login(client, "wang", "wrong")  # the fifth
        assert locked.status_code == 423
        assert "账号已锁定，请 15 分钟后再试" in text_at(locked.text, "//*[@role='alert']")
        still = await http_login(client, "wang")  # the right password, but locked
        assert still.status_code == 423
        assert "账号已锁定" in text_at(still.text, "//*[@role='alert']")
        bot.advance(minutes=14)
        almost = await http_login(client, "wang")
        assert almost.status_code == 423
        assert "请 1 分钟后再试" in text_at(almost.text, "//*[@role='alert']")
        bot.advance(minutes=1, seconds=1)
        ok = await http_login(client, "wang")
        assert (ok.status_code, ok.headers["location"]) == (303, "/")
        home = await client.get("/")
        assert home.status_code == 200
        assert text_at(home.text, "//nav//a[@href='/cases']") == "诉求台账"


async def test_no_page_without_login_and_no_post_without_csrf(bot: ChatBot) -> None:
    case = await opened_in_chat(bot, "审批窗口办证太慢")
    async with http_console(bot.app) as client:
        away = await client.get("/cases")
        assert (away.status_code, away.headers["location"]) == (303, "/login?next=/cases")
        form = await client.get(away.headers["location"])
        assert 'name="next" value="/cases"' in form.text
        back = await client.post(
            "/login",
            data={"csrf": csrf_in(form.text), "next": "/cases", "username": "wang",
                  "password": PASSWORD},
        )  # fmt: skip
        assert (back.status_code, back.headers["location"]) == (303, "/cases")  # where it was
        ledger = await client.get("/cases")
        assert text_at(ledger.text, "//h2") == "诉求台账"
        answer = f"/cases/{case.number}/answer"
        refused = await client.post(answer, data={"text": "伪造的答复"})
        assert refused.status_code == 403
        assert "缺少安全令牌" in refused.text
        forged = await client.post(answer, data={"text": "伪造的答复", "csrf": "x" * 32})
        assert forged.status_code == 403
        assert "缺少安全令牌" in forged.text
    assert len(case_service(bot.app).timeline(case)) == 1
    assert delivered(bot, MEMBERS_ROOM) == []


async def test_the_reclassify_list_shows_the_default_category_for_a_case_in_it(
    bot: ChatBot,
) -> None:
    """Regression: for a case in 其他 the 改为分类 list showed 「选择分类 / 方面」, as if the
    case had no category, because 其他 was not one of its options."""
    case = await opened_in_chat(bot, "想了解一下商会年会的安排")
    assert case.category == "其他"
    chosen = "//select[@name='category']//option[@selected]"
    async with http_console(bot.app) as client:
        await http_login(client, "wang")
        page = await client.get(f"/cases/{case.number}")
        assert text_at(page.text, chosen) == "其他"
        moved = await client.post(
            f"/cases/{case.number}/reclassify",
            data={"csrf": csrf_in(page.text), "category": "市场环境/融资信贷"},
        )
        assert moved.status_code == 303
        page = await client.get(f"/cases/{case.number}")
        assert text_at(page.text, chosen) == "市场环境 / 融资信贷"
        back = await client.post(
            f"/cases/{case.number}/reclassify",
            data={"csrf": csrf_in(page.text), "category": "其他"},
        )
        assert back.status_code == 303  # staff may move a case back to 其他
        page = await client.get(f"/cases/{case.number}")
        assert text_at(page.text, chosen) == "其他"
    assert case_service(bot.app).get(case.id).category == "其他"


async def test_a_form_field_over_the_limit_is_refused_in_chinese(bot: ChatBot) -> None:
    """Regression: a form field over the server's 1 MB limit was answered in English
    (`Field exceeded maximum size of 1024KB.`)."""
    case = await opened_in_chat(bot, "审批窗口办证太慢")
    async with http_console(bot.app) as client:
        await http_login(client, "wang")
        page = await client.get(f"/cases/{case.number}")
        refused = await client.post(
            f"/cases/{case.number}/answer",
            data={"csrf": csrf_in(page.text)},
            files={"text": (None, "很长的答复" * 250_000)},  # multipart, 3.75 MB
        )
        assert refused.status_code == 400
        assert "提交的内容无法处理" in text_at(refused.text, "//main")
        assert "每一项最多 1 MB" in refused.text
        assert "exceeded" not in refused.text
    assert len(case_service(bot.app).timeline(case)) == 1  # nothing changed
    assert delivered(bot, MEMBERS_ROOM) == []


async def test_a_long_answer_reaches_the_group_whole_or_is_refused_never_cut(
    bot: ChatBot,
) -> None:
    """Regression: an answer over 2,000 characters typed on the console was cut to 2,000 in
    the group while staff saw 「已回复企业」."""
    case = await opened_in_chat(bot, "审批窗口办证太慢")
    answer = "经与市场监管局沟通，" + "办理流程说明。" * 400  # 2,810 characters
    async with http_console(bot.app) as client:
        await http_login(client, "wang")
        page = await client.get(f"/cases/{case.number}")
        csrf = csrf_in(page.text)
        sent = await client.post(
            f"/cases/{case.number}/answer", data={"csrf": csrf, "text": answer}
        )
        assert sent.status_code == 303
        await client.get(f"/cases/{case.number}")  # its message shown
        (relayed,) = delivered(bot, MEMBERS_ROOM)
        assert relayed.endswith(answer)  # all of it, not its first 2,000 characters
        events = len(case_service(bot.app).timeline(case))
        too_long = "办理流程说明。" * 715  # 5,005 characters
        refused = await client.post(
            f"/cases/{case.number}/answer", data={"csrf": csrf, "text": too_long}
        )
        assert refused.status_code == 303
        shown = await client.get(f"/cases/{case.number}")
        assert "」的内容有 5005 字，超过 5000 字的上限，诉求未作任何改动" in text_at(
            shown.text, "//*[@role='status']"
        )
    assert len(case_service(bot.app).timeline(case)) == events  # nothing changed
    assert delivered(bot, MEMBERS_ROOM) == []


async def test_logging_out_ends_the_session_on_the_server(bot: ChatBot) -> None:
    """Regression: after 退出登录 the old session cookie still opened every page until it
    expired. Logging out, a new password and a lock-out end logins on the server."""
    cookie = "chamberbot_session"
    async with http_console(bot.app) as client:

        async def logged_in() -> bool:
            return (await client.get("/cases")).status_code == 200

        await http_login(client, "wang")
        copied = client.cookies[cookie]
        home = await client.get("/")
        out = await client.post("/logout", data={"csrf": csrf_in(home.text)})
        assert (out.status_code, out.headers["location"]) == (303, "/login")
        client.cookies.clear()
        client.cookies.set(cookie, copied)  # the cookie from before, copied back
        gone = await client.get("/cases")
        assert (gone.status_code, gone.headers["location"]) == (303, "/login?next=/cases")

        client.cookies.clear()
        await http_login(client, "wang")
        assert await logged_in()
        Accounts(bot.app.db).set_password("wang", "a-new-password-2026", bot.clock.now())
        assert not await logged_in()  # `chamberbot web user passwd` ends every login

        client.cookies.clear()
        await http_login(client, "chen")
        assert await logged_in()
        kept = client.cookies[cookie]
        for _ in range(5):  # someone else guesses chen's password: the account locks
            client.cookies.clear()
            await http_login(client, "chen", "wrong")
        client.cookies.clear()
        client.cookies.set(cookie, kept)
        assert not await logged_in()


async def test_staff_cannot_open_admin_pages(bot: ChatBot) -> None:
    async with http_console(bot.app) as client:
        await http_login(client, "wang")
        home = await client.get("/")
        assert text_at(home.text, "//a[normalize-space()='账号']") == ""
        refused = await client.get("/accounts")
        assert refused.status_code == 403
        assert "仅限管理员" in text_at(refused.text, "//main")
        out = await client.post("/logout", data={"csrf": csrf_in(home.text)})
        assert (out.status_code, out.headers["location"]) == (303, "/login")
        gone = await client.get("/")
        assert (gone.status_code, gone.headers["location"]) == (303, "/login?next=/")
        await http_login(client, "chen")
        accounts = await client.get("/accounts")
        assert accounts.status_code == 200
        assert "王科长" in text_at(accounts.text, "//table")


async def test_login_accounts_and_logout_in_the_browser(bot: ChatBot, browser: Browser) -> None:
    async with web_console(bot.app, browser) as web:
        page = web.page
        await login_form(page, "chen", "wrong")
        await expect(page.get_by_role("alert")).to_contain_text("账号或密码不正确")
        await web.shot("login")
        await login_form(page, "chen")
        await page.get_by_role("link", name="账号", exact=True).click()
        await expect(page.locator("table")).to_contain_text("王科长")
        await web.shot("accounts")
        await page.get_by_role("button", name="退出").click()
        await expect(page).to_have_url(re.compile(r"/login$"))
        await page.goto("/accounts")
        await expect(page).to_have_url(re.compile(r"/login\?next=/accounts$"))


async def test_markup_in_a_description_is_shown_as_text(bot: ChatBot, browser: Browser) -> None:
    text = "<script>alert(1)</script> {{ 7*7 }} <b>加粗</b>"
    case = await opened_in_chat(bot, text)
    dialogs: list[str] = []
    async with web_console(bot.app, browser) as web:
        page = web.page

        def seen(dialog: Dialog) -> None:
            dialogs.append(dialog.message)

        page.on("dialog", seen)
        await web.login("wang")
        for path in ("/", "/cases", f"/cases/{case.number}"):
            await page.goto(path)
            await expect(page.locator("main")).to_contain_text("{{ 7*7 }}")
            # the tables print pre-escaped rows (cases/web_ledger.py): the markup is text there too
            await expect(page.locator("main")).to_contain_text("<script>alert(1)</script>")
            assert await page.locator("main b, main script").count() == 0
        await expect(page.locator(".description")).to_have_text(text)
        assert await page.locator("main b").count() == 0
        assert "49" not in await page.locator(".description").inner_text()
    assert dialogs == []


async def test_policies_groups_and_a_phone_layout(bot: ChatBot, browser: Browser) -> None:
    """Also a regression: on a phone only three columns of 工作台 and 诉求台账 were visible;
    each row is now a card with every column under its label."""
    bot.say("大家好")
    await opened_in_chat(bot, "银行突然抽贷，资金周转困难，希望商会协调续贷")
    async with web_console(bot.app, browser, mobile=True) as web:
        page = web.page
        await web.login("chen")
        for path in ("/", "/cases"):
            await page.goto(path)
            cells = await first_row_cells(page, "table.cases")
            assert len(cells) == 7
            for cell in cells:
                assert cell["left"] >= 0, (path, cell)
                assert cell["right"] <= cell["view"], (path, cell)
        await expect(page.locator("table.cases")).to_contain_text("希望商会协调续贷")
        await page.goto("/")
        await web.shot("dashboard-phone")
        await page.goto("/policies")
        await page.get_by_text("添加政策").click()
        await page.get_by_label("标题").fill("短")
        await page.get_by_role("button", name="保存").click()
        await expect(page.locator(".flash.bad")).to_contain_text("至少 6 个字")
        await page.get_by_text("添加政策").click()
        await page.get_by_label("标题").fill("关于进一步支持小微企业融资贴息的通知")
        await page.get_by_label("发文机关").fill("财政部")
        await page.get_by_role("button", name="保存").click()
        await expect(page.locator(".flash.good")).to_contain_text("已添加")
        await page.get_by_role("button", name="立即抓取").click()
        await expect(page.locator(".flash.good").first).to_contain_text("folder")
        await page.get_by_placeholder("关键词").fill("贴息")
        await page.get_by_role("button", name="搜索").click()
        await expect(page.locator("table").first).to_contain_text("财政部")
        await web.shot("policies")
        await page.goto("/groups")
        await page.get_by_label("会员一群 的标签").fill("融资 制造业")
        await page.get_by_role("button", name="保存").click()
        await expect(page.locator(".flash.good")).to_contain_text("融资、制造业")
        await web.shot("groups")
    row = bot.app.db.execute("select tags from conversations where id = ?", [MEMBERS_ROOM])
    assert row.fetchone()[0] == '["融资", "制造业"]'
    assert PASSWORD  # the harness's password is what the accounts use
    assert timedelta(minutes=15)


async def test_an_event_is_announced_on_the_web_and_reaches_the_group(
    bot: ChatBot, browser: Browser
) -> None:
    seed_groups(bot)
    event = make_event(bot.app, announced=False, capacity=30)
    async with web_console(bot.app, browser) as web:
        page = web.page
        await web.login("wang")
        await page.get_by_role("link", name="活动", exact=True).click()
        await page.get_by_role("link", name="数字化转型大讲堂").click()
        await page.get_by_role("button", name="发布到群").click()
        await expect(page.locator(".flash.good")).to_contain_text("已发布到 2 个群")
        group = delivered(bot, MEMBERS_ROOM)
        assert len(group) == 1
        assert "【活动预告】讲座｜数字化转型大讲堂" in group[0]
        bot.app.people.remember("wxid_li", name="李总", enterprise="李记贸易", phone="13900001111")
        bot.say(f"报名 {event.id}", sender="wxid_li")
        await page.reload()
        await expect(page.locator("table")).to_contain_text("李记贸易")
        await web.shot("event")
        async with page.expect_download() as info:
            await page.get_by_role("button", name="导出 Excel").click()
        data = await (await page.request.get((await info.value).url)).body()
    book = load_workbook(io.BytesIO(data), read_only=True)
    sheet = book.worksheets[0]
    assert any("李记贸易" in [str(c) for c in row] for row in sheet.iter_rows(values_only=True))


async def test_a_case_is_recategorised_on_the_web_with_the_user_on_the_timeline(
    bot: ChatBot, browser: Browser
) -> None:
    case = await opened_in_chat(bot, "银行突然抽贷，资金周转困难")
    assert (case.category, case.aspect) == ("市场环境", "融资信贷")
    when = bot.app.templates.env.filters["datetime"]
    async with web_console(bot.app, browser) as web:
        page = web.page
        await web.login("wang")
        await page.goto(f"/cases/{case.number}")
        form = page.locator("form.reclassify")
        await expect(form.get_by_label("改为分类")).to_have_value("市场环境/融资信贷")
        await form.get_by_label("改为分类").select_option("法治环境/合同纠纷")
        await form.get_by_label("办结期限按新分类的时限重新计算").check()
        await web.shot("case-reclassify", "form.reclassify")
        await form.get_by_role("button", name="改类").click()
        moved = case_service(bot.app).get(case.id)
        assert (moved.category, moved.aspect) == ("法治环境", "合同纠纷")
        assert moved.due_at > case.due_at  # 15 days instead of 10
        await expect(page.locator(".flash.good")).to_have_text(
            f"诉求 {case.number} 已改为「法治环境/合同纠纷」（原为「市场环境/融资信贷」）。"
            f"办结期限按新分类重新计算：{when(moved.due_at)} 前。"
        )
        await expect(page.locator("dl.fields")).to_contain_text("法治环境/合同纠纷")
        last = page.locator(".timeline li").last
        await expect(last).to_contain_text("改分类 · 王科长")
        await expect(last).to_contain_text(
            "市场环境/融资信贷 → 法治环境/合同纠纷（办结期限已重算）"
        )
        await web.shot("case-reclassified")

        await page.locator("form.reclassify").get_by_label("改为分类").select_option("政务环境")
        await page.locator("form.reclassify").get_by_role("button", name="改类").click()
        await expect(page.locator(".flash.good")).to_contain_text(
            f"办结期限不变：{when(moved.due_at)} 前"
        )
        kept = case_service(bot.app).get(case.id)
        assert (kept.category, kept.aspect, kept.due_at) == ("政务环境", "", moved.due_at)

        forged = await page.request.post(
            f"/cases/{case.number}/reclassify",
            form={"category": "不存在/没有", "csrf": await csrf_of(page)},
        )
        assert forged.ok  # followed the redirect back to the case page, with the refusal
        assert "没有「不存在」这个分类" in await forged.text()
    after = case_service(bot.app).get(case.id)
    assert (after.category, after.aspect) == ("政务环境", "")
    events = case_service(bot.app).timeline(case)
    assert [(e.kind, e.actor_name) for e in events[1:]] == [
        ("reclassified", "王科长"),
        ("reclassified", "王科长"),
    ]
    assert delivered(bot, MEMBERS_ROOM) == []  # a category is the secretariat's business


async def csrf_of(page: Page) -> str:
    token = await page.locator("meta[name=csrf-token]").get_attribute("content")
    assert token
    return token
