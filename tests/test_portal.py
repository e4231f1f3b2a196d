"""企业服务页 over HTTP, in-process (the console's ASGI app, real SQLite, real templates):
the personal link (valid, tampered, expired, revoked, replaced), the member session, CSRF,
another member's case, photos (type, size, who may see them), and report / rate / register
/ profile through the features' services."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.clock import FrozenClock
from chamberbot.cli import main
from handlers.cases.service import Actor, Case
from handlers.enterprises.service import EnterpriseService
from handlers.events.service import EventService
from handlers.portal import PortalService
from handlers.portal.member import COOKIE
from policy_feeds.manual import add_manual
from policy_feeds.model import Item as PolicyItem
from tests.conftest import (
    MEMBERS_ROOM,
    STAFF_ROOM,
    ChatBot,
    actor,
    case_service,
    demo_config,
    make_services,
)
from tests.events_helpers import make_event
from tests.test_surveys import answers_of, sent_survey
from tests.web_harness import add_accounts, http_login, text_at
from web.app import create_app
from web.store import Accounts

ZHANG, LI = "wxid_zhang", "wxid_li"


def png(width: int = 2) -> bytes:
    """A real, tiny PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(width))
    header = struct.pack(">IIBBBBB", width, width, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def link_for(bot: ChatBot, sender: str = ZHANG) -> str:
    """我的主页 in a private chat: the path of the link the bot sent."""
    bot.app.people.remember(sender, name={ZHANG: "张总", LI: "李总"}[sender])
    reply = bot.text("我的主页", sender=sender, room=None)
    found = re.search(r"http://[^/\s]+(/m/open\?t=\S+)", reply)
    assert found, reply
    return found[1]


@asynccontextmanager
async def client_of(bot: ChatBot) -> AsyncIterator[httpx.AsyncClient]:
    if not Accounts(bot.app.db).find("wang"):
        add_accounts(bot.app)
    transport = httpx.ASGITransport(app=create_app(bot.app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def opened(client: httpx.AsyncClient, path: str) -> httpx.Response:
    answer = await client.get(path)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/m/"
    return answer


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found[1]


async def page_csrf(client: httpx.AsyncClient, path: str = "/m/report") -> str:
    answer = await client.get(path)
    assert answer.status_code == 200, answer.text
    return csrf(answer.text)


def photo_files(app_dir: Path) -> list[Path]:
    folder = app_dir / "portal_uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


# -- the link -----------------------------------------------------------------------------


async def test_my_page_sends_a_link_privately_that_opens_a_member_session(bot: ChatBot) -> None:
    in_group = bot.text("我的主页", sender=ZHANG, room=MEMBERS_ROOM)
    assert "私聊" in in_group
    assert "/m/open" not in in_group
    path = link_for(bot)
    async with client_of(bot) as client:
        answer = await opened(client, path)
        cookie = answer.headers["set-cookie"]
        assert f"{COOKIE}=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Path=/m" in cookie
        home = await client.get("/m/")
        assert home.status_code == 200
        assert "您好，张总" in home.text
        assert "待填问卷" in home.text
        assert "为您匹配的政策" in home.text
        for name, value in [
            ("x-frame-options", "DENY"),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            ("cache-control", "no-store"),
        ]:
            assert home.headers[name] == value
        assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
        assert "秘书处工作台" not in home.text  # nothing of the staff console


def test_no_link_when_the_web_server_is_off(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_services(demo_config(web={"enabled": False}), tmp_path / "b.db", clock)
    try:
        reply = ChatBot(app, clock).text("我的主页", sender=ZHANG, room=None)
        assert "暂未开放" in reply
        assert "/m/open" not in reply
    finally:
        app.close()


async def test_no_member_page_without_a_session_not_even_for_staff(bot: ChatBot) -> None:
    async with client_of(bot) as client:
        for path in ("/m/", "/m/cases", "/m/report", "/m/events", "/m/profile"):
            answer = await client.get(path)
            assert answer.status_code == 401, path
            assert "请从专属链接进入" in answer.text
        assert (await http_login(client, "wang")).status_code == 303  # a staff login …
        answer = await client.get("/m/cases")
        assert answer.status_code == 401  # … opens no member page


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # the signature
        lambda t: t.replace(t.split(".")[1], "x" * len(t.split(".")[1])),  # the nonce
        lambda t: str(int(t.split(".")[0]) + 1) + t[t.index(".") :],  # another link's id
        lambda t: "nonsense",
        lambda t: "",
    ],
)
async def test_a_tampered_link_is_refused(bot: ChatBot, tamper: object) -> None:
    path = link_for(bot)
    link_for(bot, LI)  # a real link with the next id exists
    token = path.split("t=", 1)[1]
    forged = tamper(token)  # type: ignore[operator]
    async with client_of(bot) as client:
        answer = await client.get("/m/open", params={"t": forged})
        assert answer.status_code == 403
        assert "链接无效" in answer.text
        assert COOKIE not in answer.headers.get("set-cookie", "")
        assert (await client.get("/m/")).status_code == 401


async def test_an_expired_link_is_refused_and_ends_its_session(
    bot: ChatBot, clock: FrozenClock
) -> None:
    path = link_for(bot)
    async with client_of(bot) as client:
        await opened(client, path)
        clock.advance(timedelta(days=7, seconds=-1))
        assert (await client.get("/m/cases")).status_code == 200
        clock.advance(timedelta(seconds=1))
        assert (await client.get("/m/cases")).status_code == 401
    async with client_of(bot) as fresh:
        answer = await fresh.get(path)
        assert answer.status_code == 403
        assert "链接已过期" in answer.text


async def test_a_fresh_link_revokes_the_old_one_and_its_session(bot: ChatBot) -> None:
    old = link_for(bot)
    async with client_of(bot) as phone, client_of(bot) as other:
        await opened(phone, old)
        assert (await phone.get("/m/")).status_code == 200
        new = link_for(bot)
        assert (await phone.get("/m/")).status_code == 401  # the old link's session ended
        refused = await other.get(old)
        assert refused.status_code == 403
        assert "链接已失效" in refused.text
        await opened(other, new)
        assert (await other.get("/m/")).status_code == 200


async def test_staff_revoke_a_members_links_from_the_command_line(
    bot: ChatBot, capsys: pytest.CaptureFixture[str]
) -> None:
    path = link_for(bot)
    async with client_of(bot) as client:
        await opened(client, path)
        assert main(["portal", "revoke", ZHANG, "--db", str(bot.app.db_path)]) == 0
        assert "1个企业服务页链接失效" in capsys.readouterr().out
        assert (await client.get("/m/")).status_code == 401
        assert (await client.get(path)).status_code == 403


async def test_logging_out_ends_the_member_session_on_the_server(bot: ChatBot) -> None:
    async with client_of(bot) as client:
        answer = await opened(client, link_for(bot))
        stolen = answer.cookies[COOKIE]
        token = await page_csrf(client, "/m/")
        assert (await client.post("/m/logout", data={"csrf": token})).status_code == 200
    async with client_of(bot) as thief:
        thief.cookies.set(COOKIE, stolen, domain="testserver", path="/m")
        assert (await thief.get("/m/")).status_code == 401


# -- CSRF and other members ---------------------------------------------------------------


async def test_a_form_without_the_csrf_token_is_refused(bot: ChatBot) -> None:
    async with client_of(bot) as client:
        await opened(client, link_for(bot))
        for data in ({"description": "路灯坏了"}, {"description": "路灯坏了", "csrf": "x"}):
            answer = await client.post("/m/report", data=data)
            assert answer.status_code == 403
            assert "页面已过期" in answer.text
        answer = await client.post("/m/profile", data={"name": "张氏机械"})
        assert answer.status_code == 403
    assert case_service(bot.app).count("1 = 1", []) == 0


async def test_a_member_never_sees_another_members_case(bot: ChatBot) -> None:
    async with client_of(bot) as zhang:
        await opened(zhang, link_for(bot))
        token = await page_csrf(zhang)
        files = [("photos", ("a.png", png(), "image/png"))]
        sent = await zhang.post(
            "/m/report", data={"csrf": token, "description": "厂区门口路灯坏了"}, files=files
        )
        assert sent.status_code == 303
        case = case_service(bot.app).where("reporter_id = ?", [ZHANG])[0]
        photo = bot.app.service(PortalService).store.photos(case.id)[0]
        assert (await zhang.get(f"/m/photos/{photo.name}")).status_code == 200
    finish(bot, case)
    async with client_of(bot) as li:
        await opened(li, link_for(bot, LI))
        mine = await li.get("/m/cases")
        assert case.number not in mine.text
        assert "厂区门口路灯" not in mine.text
        for ref in (case.number, str(case.seq), f"{case.seq:04d}"):
            answer = await li.get(f"/m/cases/{ref}")
            assert answer.status_code == 404
            assert "厂区门口路灯" not in answer.text
        token = await page_csrf(li)
        rated = await li.post(
            f"/m/cases/{case.number}/rate", data={"csrf": token, "rating": "satisfied"}
        )
        assert rated.status_code == 404
        assert (await li.get(f"/m/photos/{photo.name}")).status_code == 404
    assert case_service(bot.app).get(case.id).status == "resolved"  # not rated by 李总


def finish(bot: ChatBot, case: Case) -> Case:
    """Staff claim and resolve the case (办结): it waits for the reporter's rating."""
    cases, now = case_service(bot.app), bot.clock.now()
    claimed = cases.claim(case_service(bot.app).get(case.id), actor("wxid_wang"), now).case
    return cases.resolve(claimed, actor("wxid_wang"), "已联系供电所修复", now).case


# -- 反映问题 -------------------------------------------------------------------------------


async def test_a_report_with_photos_becomes_a_case_staff_see(bot: ChatBot) -> None:
    bot.say("大家好", sender="wxid_wang", room=STAFF_ROOM)  # the staff room is known
    async with client_of(bot) as client:
        await opened(client, link_for(bot))
        token = await page_csrf(client)
        files = [
            ("photos", ("门口.png", png(), "image/png")),
            ("photos", ("IMG_0001.jpg", JPEG, "image/jpeg")),
        ]
        data = {"csrf": token, "description": "厂区门口路灯坏了一个月", "enterprise": "张氏机械"}
        answer = await client.post("/m/report", data=data, files=files)
        assert answer.status_code == 303
        assert re.fullmatch(r"/m/cases/2026-\d{4}\?done=reported", answer.headers["location"])
        page = await client.get(answer.headers["location"])
        assert "诉求已提交" in page.text
        assert "厂区门口路灯坏了一个月" in page.text
        case = case_service(bot.app).where("reporter_id = ?", [ZHANG])[0]
        assert (case.channel, case.conversation_id, case.route) == ("wechat", ZHANG, "私聊")
        photos = bot.app.service(PortalService).store.photos(case.id)
        assert [p.mime for p in photos] == ["image/png", "image/jpeg"]
        names = [p.name for p in photos]
        assert all(len(n) > 30 and "门口" not in n and "IMG" not in n for n in names)
        served = await client.get(f"/m/photos/{names[0]}")
        assert served.content == png()
        assert served.headers["content-type"] == "image/png"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert "内部备注" not in page.text  # the staff note stays with staff
        # staff: the case in the ledger and on its page, with the note and the photos
        assert (await client.get(f"/portal/photos/{names[0]}")).status_code == 303  # login
        assert (await http_login(client, "wang")).status_code == 303
        ledger = await client.get("/cases")
        assert case.number in ledger.text
        detail = await client.get(f"/cases/{case.number}")
        assert f"/portal/cases/{case.number}/photos" in detail.text
        gallery = await client.get(f"/portal/cases/{case.number}/photos")
        assert all(n in gallery.text for n in names)
        assert (await client.get(f"/portal/photos/{names[1]}")).content == JPEG
    staff_told = [str(r["text"]) for r in bot.queued(STAFF_ROOM)]
    assert any(case.number in t for t in staff_told)
    files_on_disk = photo_files(Path(str(bot.app.db_path)).parent)
    assert sorted(p.name for p in files_on_disk) == sorted(names)


@pytest.mark.parametrize(
    ("upload", "said"),
    [
        (("a.jpg", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/jpeg"), "不是JPEG、PNG或WebP"),
        (("a.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png"), "不是JPEG"),
        (("big.png", png() + b"\x00" * 20_000, "image/png"), "太大了，每张照片不超过"),
    ],
)
async def test_a_photo_of_the_wrong_type_or_size_is_refused(
    tmp_path: Path, clock: FrozenClock, upload: tuple[str, bytes, str], said: str
) -> None:
    app = make_services(demo_config(portal={"photo_max_bytes": 16384}), tmp_path / "b.db", clock)
    try:
        bot = ChatBot(app, clock)
        async with client_of(bot) as client:
            await opened(client, link_for(bot))
            token = await page_csrf(client)
            data = {"csrf": token, "description": "路灯坏了"}
            answer = await client.post("/m/report", data=data, files=[("photos", upload)])
            assert answer.status_code == 400
            assert said in answer.text
            assert "路灯坏了" in answer.text  # the description is kept for another try
        assert case_service(app).count("1 = 1", []) == 0
        assert photo_files(tmp_path) == []
    finally:
        app.close()


async def test_more_photos_than_allowed_are_refused(bot: ChatBot) -> None:
    async with client_of(bot) as client:
        await opened(client, link_for(bot))
        token = await page_csrf(client)
        files = [("photos", (f"{i}.png", png(), "image/png")) for i in range(7)]
        data = {"csrf": token, "description": "路灯坏了"}
        answer = await client.post("/m/report", data=data, files=files)
        assert answer.status_code == 400
    assert case_service(bot.app).count("1 = 1", []) == 0


# -- rating, events, profile --------------------------------------------------------------


async def test_a_resolved_case_is_rated_on_the_page(bot: ChatBot) -> None:
    bot.app.people.remember(ZHANG, name="张总", enterprise="张氏机械")
    opened_case = (
        case_service(bot.app)
        .open(
            Actor(ZHANG, "张总"),
            enterprise="张氏机械",
            channel="wechat",
            conversation_id=ZHANG,
            is_group=False,
            description="银行突然抽贷",
            now=bot.clock.now(),
        )
        .case
    )
    case = finish(bot, opened_case)
    async with client_of(bot) as client:
        await opened(client, link_for(bot))
        listing = await client.get("/m/cases")
        assert "去评价" in listing.text
        page = await client.get(f"/m/cases/{case.number}")
        assert "请评价办理结果" in page.text
        assert "已联系供电所修复" in page.text  # the resolution's summary on the timeline
        rated = await client.post(
            f"/m/cases/{case.number}/rate",
            data={"csrf": csrf(page.text), "rating": "satisfied", "reason": "很及时"},
        )
        assert rated.headers["location"].endswith("?done=rated")
        after = await client.get(rated.headers["location"])
        assert "感谢您的评价" in after.text
        assert "请评价办理结果" not in after.text
    assert case_service(bot.app).get(case.id).status == "closed"
    assert any(case.number in str(r["text"]) for r in bot.queued(ZHANG))  # told in chat


async def test_an_event_is_registered_for_on_the_page(bot: ChatBot) -> None:
    event = make_event(bot.app, need_phone=1)
    draft = make_event(bot.app, title="尚未发布的沙龙", announced=False)
    async with client_of(bot) as client:
        await opened(client, link_for(bot))
        page = await client.get("/m/events")
        assert event.title in page.text
        assert "手机号" in page.text
        assert draft.title not in page.text
        path = f"/m/events/{event.id}/register"
        token = csrf(page.text)
        hidden = await client.post(f"/m/events/{draft.id}/register", data={"csrf": token})
        assert hidden.status_code == 404
        details = {"csrf": token, "enterprise": "张氏机械"}
        bad = await client.post(path, data={**details, "phone": "12"})
        assert bad.headers["location"].startswith("/m/events?done=need_phone")
        good = await client.post(path, data={**details, "phone": "138 0013 8000"})
        assert good.headers["location"].startswith("/m/events?done=signup_registered")
        after = await client.get(good.headers["location"])
        assert "报名成功" in after.text
        assert "您已报名" in after.text
    assert bot.app.people.contact(ZHANG)["phone"] == "13800138000"


async def test_a_registration_is_withdrawn_on_the_page_and_the_seat_goes_to_the_waiting(
    bot: ChatBot,
) -> None:
    """取消报名 on the page is chat's: the seat goes to the first waiting, who is told (and
    the staff rooms); a second press changes nothing and says so."""
    event = make_event(bot.app, capacity=1)
    events = bot.app.service(EventService)
    bot.app.people.remember(ZHANG, enterprise="张氏机械")

    def status_of(contact_id: str) -> str | None:
        reg = events.store.registration(event.id, [contact_id])
        return reg.status if reg else None

    async with client_of(bot) as client:
        await opened(client, link_for(bot))
        page = await client.get("/m/events")
        signed = await client.post(
            f"/m/events/{event.id}/register", data={"csrf": csrf(page.text)}
        )
        assert signed.headers["location"].startswith("/m/events?done=signup_registered")
        waiting = events.register(
            event.id, bot.clock.now(), contact_id=LI, name="李总", enterprise="李记",
            phone=None, conversation_id=LI, is_group=False,
        )  # fmt: skip
        assert waiting.outcome == "waiting"
        page = await client.get("/m/events")
        assert "取消报名" in text_at(page.text, f"//section[@id='event-{event.id}']//button")
        path = f"/m/events/{event.id}/withdraw"
        asked = await client.get(path)  # the button asks once more, changing nothing
        assert "确定取消这个活动的报名吗" in asked.text
        assert status_of(LI) == "waiting"
        withdrawn = await client.post(path, data={"csrf": csrf(asked.text)})
        assert withdrawn.headers["location"].startswith("/m/events?done=withdraw_cancelled")
        after = await client.get(withdrawn.headers["location"])
        assert "已取消报名，名额已释放。" in after.text
        assert "您已报名" not in after.text
        again = await client.post(path, data={"csrf": csrf(after.text)})
        assert again.headers["location"].startswith("/m/events?done=withdraw_not_registered")
    told = [str(r["text"]) for r in bot.queued(LI)]
    assert any("您已从候补转为正式报名" in t and event.title in t for t in told)
    staff = [str(r["text"]) for r in bot.queued(STAFF_ROOM)]
    assert any("【候补递补】" in t and "李总" in t for t in staff)
    assert status_of(LI) == "registered"


async def test_the_profile_is_saved_through_the_enterprise_service(bot: ChatBot) -> None:
    bot.app.people.remember(ZHANG, enterprise="张氏机械")
    async with client_of(bot) as client:
        await opened(client, link_for(bot))
        page = await client.get("/m/profile")
        assert 'value="张氏机械"' in page.text
        data = {
            "csrf": csrf(page.text),
            "name": "张氏机械",
            "credit_code": "91350100M000100Y44",  # a wrong check character
            "industry": "制造业",
            "size": "小型",
            "region": "鼓楼区",
            "qualifications": ["专精特新", "外贸"],
        }
        bad = await client.post("/m/profile", data=data)
        assert bad.status_code == 400
        assert "校验位" in text_at(bad.text, "//p[@class='error']")
        assert bot.app.service(EnterpriseService).of_contact(ZHANG) is None
        data["credit_code"] = ""
        good = await client.post("/m/profile", data=data)
        assert good.headers["location"] == "/m/profile?done=saved"
        shown = await client.get(good.headers["location"])
        assert "企业资料已保存" in shown.text
    profile = bot.app.service(EnterpriseService).of_contact(ZHANG)
    assert profile is not None
    assert (profile.industry, profile.size, profile.qualifications) == (
        "制造业",
        "小型",
        ("专精特新", "外贸"),
    )
    sources = {c["source"] for c in bot.app.service(EnterpriseService).changes(profile.id)}
    assert sources == {"page"}


async def test_the_home_page_lists_the_policies_matched_to_the_members_enterprise(
    bot: ChatBot,
) -> None:
    enterprises = bot.app.service(EnterpriseService)
    for contact, name, quals in ((ZHANG, "张氏机械", "高新技术企业"), (LI, "李氏贸易", "外贸")):
        enterprises.save(
            {"name": name, "industry": "制造业", "qualifications": quals},
            actor(contact),
            contact_id=contact,
            source="console",
        )
    title = "关于开展2026年度高新技术企业研发费用补助申报工作的通知"
    text = "对经认定的高新技术企业给予研发费用补助。截止日期：2026年11月30日，逾期不予受理。"
    published = bot.clock.now()
    add_manual(
        bot.app, PolicyItem(title=title, summary=text, issuer="科技局", published_at=published)
    )
    async with client_of(bot) as zhang:
        await opened(zhang, link_for(bot))
        home = await zhang.get("/m/")
        listed = text_at(home.text, "//section[@id='policies']")
        assert title in listed
        assert "科技局 · 申报截止 11月30日(周一)" in listed
    async with client_of(bot) as li:
        await opened(li, link_for(bot, LI))
        home = await li.get("/m/")
        assert title not in home.text
        assert "暂时没有匹配到新的政策" in home.text


async def test_a_survey_is_answered_on_the_page(bot: ChatBot) -> None:
    survey_id = sent_survey(bot)
    bot.say("问卷", sender=ZHANG, room=None)  # begun in chat: the first answer is kept
    bot.say("1", sender=ZHANG, room=None)
    async with client_of(bot) as client:
        await opened(client, link_for(bot))
        home = await client.get("/m/")
        listed = text_at(home.text, "//section[@id='surveys']")
        assert "四季度经营情况快报" in listed
        assert "11月20日(周五) 18:00截止" in listed
        page = await client.get(f"/m/surveys/{survey_id}")
        assert 'value="增长" checked' in page.text  # what chat had, on the form
        answers = {"trend": "增长", "staff": "很多", "needs": ["融资", "用工"], "mood": "4"}
        bad = await client.post(
            f"/m/surveys/{survey_id}", data={"csrf": csrf(page.text), **answers}
        )
        assert bad.status_code == 400
        assert "「很多」不是一个数字" in text_at(bad.text, "//p[@class='error']")
        assert 'value="用工" checked' in bad.text  # the form as it was sent
        status, _, _ = answers_of(bot, survey_id, ZHANG)
        assert status != "submitted"
        good = await client.post(
            f"/m/surveys/{survey_id}", data={"csrf": csrf(page.text), **answers, "staff": "35"}
        )
        assert good.headers["location"] == "/m/?done=survey_submitted#surveys"
        after = await client.get("/m/?done=survey_submitted")
        assert "问卷已提交" in after.text
        assert "四季度经营情况快报" not in after.text
        assert (await client.get(f"/m/surveys/{survey_id}")).status_code == 404
    status, _, stored = answers_of(bot, survey_id, ZHANG)
    assert status == "submitted"
    assert stored["staff"] == 35
    assert stored["needs"] == ["融资", "用工"]
