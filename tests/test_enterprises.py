"""企业画像: the profile service's rules (a real SQLite file, the demo config)."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.clock import FrozenClock
from bot.services import Services
from chamberbot.cli import main
from handlers.enterprises.fields import credit_code_ok
from handlers.enterprises.service import (
    EnterpriseService,
    ProfileContact,
    ProfileError,
    ProfileFilter,
)
from tests.conftest import START, ChatBot, actor, demo_config, make_services
from tests.web_harness import csrf_in, http_console, http_login, text_at

# Real-format codes with a fitting check character (GB 32100-2015)
GOOD_CODE = "91350100M000100Y43"
OTHER_CODE = "91110000600037341L"


def service(app: Services) -> EnterpriseService:
    return app.service(EnterpriseService)


def test_the_credit_code_check_character_is_verified() -> None:
    assert credit_code_ok(GOOD_CODE)
    assert credit_code_ok(OTHER_CODE)
    assert not credit_code_ok(GOOD_CODE[:-1] + "2")  # one character off
    assert not credit_code_ok("91350100M000100Y4")  # 17 characters
    assert not credit_code_ok("91350100M000100I43")  # I is not in the alphabet


def test_a_profile_is_written_all_or_nothing(app: Services) -> None:
    svc = service(app)
    zhang = actor("wxid_zhang")
    with pytest.raises(ProfileError) as bad:
        svc.save(
            {"name": "张氏机械", "industry": "制造业", "credit_code": GOOD_CODE[:-1] + "2"},
            zhang,
            source="chat",
        )
    assert bad.value.field == "credit_code"
    assert "校验位" in bad.value.reason
    assert svc.all() == []

    saved = svc.save(
        {"name": "张氏机械", "industry": "C", "size": "小", "qualifications": "高新、专精特新"},
        zhang,
        contact_id="wxid_zhang",
        source="chat",
    )
    assert (saved.industry, saved.size) == ("制造业", "小型")
    assert saved.qualifications == ("高新技术企业", "专精特新")
    assert svc.of_contact("wxid_zhang") == saved
    assert saved.reachable == ["wxid_zhang"]
    assert saved.missing == ["credit_code", "region"]
    # the change log says who changed what from where
    logged = {(c["field"], c["new"], c["source"]) for c in svc.changes(saved.id)}
    assert ("qualifications", "高新技术企业、专精特新", "chat") in logged


def test_unknown_values_are_refused_with_the_choices(app: Services) -> None:
    svc = service(app)
    with pytest.raises(ProfileError) as bad:
        svc.save({"name": "李氏贸易", "size": "巨型"}, actor("wxid_li"), source="chat")
    assert bad.value.reason.startswith("没有「巨型」这个规模，可选：大型、中型、小型、微型")
    with pytest.raises(ProfileError) as ambiguous:
        svc.save(
            {"name": "李氏贸易", "qualifications": "中小企业"}, actor("wxid_li"), source="chat"
        )
    assert "科技型中小企业、创新型中小企业" in ambiguous.value.reason


def test_a_credit_code_belongs_to_one_enterprise(app: Services) -> None:
    svc = service(app)
    svc.save({"name": "张氏机械", "credit_code": GOOD_CODE}, actor("wxid_zhang"), source="console")
    with pytest.raises(ProfileError) as taken:
        svc.save(
            {"name": "李氏贸易", "credit_code": GOOD_CODE}, actor("wxid_li"), source="console"
        )
    assert taken.value.reason == "这个统一社会信用代码已登记为「张氏机械」"
    assert [p.name for p in svc.all()] == ["张氏机械"]


def test_a_survey_answer_fills_the_enterprise_named_in_chat(bot: ChatBot) -> None:
    """A member the bot knows from a 诉求 (its enterprise named) gets a profile made from it."""
    bot.report(reporter="wxid_zhang", enterprise="张氏机械")
    svc = service(bot.app)
    profile = svc.set_field("wxid_zhang", "size", "中型企业", actor("wxid_zhang"), "survey:1")
    assert (profile.name, profile.size) == ("张氏机械", "中型")
    assert svc.matching(ProfileFilter(sizes=("中型",))) == [profile]
    assert svc.matching(ProfileFilter(sizes=("小型",), industries=("制造业",))) == []
    with pytest.raises(ProfileError):
        svc.set_field("wxid_stranger", "size", "中型", actor("wxid_stranger"), "survey:1")


def test_a_member_fills_the_profile_item_by_item_in_a_private_chat(bot: ChatBot) -> None:
    """完善资料: asked one item at a time, answered by name or number, bad values asked
    again with the reason, `跳过` keeps an item, and the summary shows what was stored."""

    def say(text: str) -> str:
        return bot.text(text, sender="wxid_li", room=None)

    assert "请私聊我发送「完善资料」" in bot.text("完善资料", sender="wxid_li")
    first = say("完善资料")
    assert first.startswith("（1/6）请回复贵企业的企业名称")
    assert "统一社会信用代码" in say("李氏贸易有限公司")
    wrong = say(GOOD_CODE[:-1] + "2")
    assert wrong.startswith("统一社会信用代码的校验位不对，请核对后再填。\n（2/6）")
    industry = say(GOOD_CODE)
    assert "（3/6）请回复贵企业的行业，回复序号或名称" in industry
    assert "6. 批发和零售业" in industry
    size = bot.say("6", sender="wxid_li", room=None)
    assert [c.label for c in size[0].choices] == ["大型", "中型", "小型", "微型"]
    assert "（5/6）请回复贵企业的所在地区" in say("小型企业")
    assert "（6/6）请回复贵企业的资质（可多选" in say("跳过")
    done = say("1、5")
    head = f"谢谢，企业资料已保存：\n李氏贸易有限公司\n统一社会信用代码：{GOOD_CODE}"
    assert done.startswith(head)
    assert "行业：批发和零售业\n规模：小型\n所在地区：未填\n资质：高新技术企业、外贸" in done

    # one item at once; a bad one changes nothing
    assert "规模：中型" in say("完善资料 规模 中型")
    again = say("完善资料 规模 巨型")
    assert again.startswith("没有「巨型」这个规模")
    assert "回复「取消」不作修改" in again
    assert "规模：中型" in say("取消")
    profile = service(bot.app).of_contact("wxid_li")
    assert profile is not None
    assert profile.size == "中型"
    assert (profile.industry, profile.qualifications) == ("批发和零售业", ("高新技术企业", "外贸"))


def _sheet(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["企业名称", "统一社会信用代码", "行业", "规模", "资质", "联系人", "联系电话"])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_a_sheet_of_profiles_is_imported_whole_or_not_at_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "bot.db"
    good: list[list[object]] = [
        ["宏达机械", GOOD_CODE, "C", "中型", "高新技术企业、专精特新", "刘经理", "13912345678"],
        ["华丰纺织", None, "制造业", "小型", None, None, None],
    ]
    bad: list[list[object]] = [
        *good,
        [None, None, None, None, None, None, None],  # blank: skipped
        ["顺达物流", OTHER_CODE[:-1] + "X", "交通运输", "小型", None, None, None],
        ["顺达物流", None, "物流", "小型", None, None, None],
        ["顺达物流", None, None, None, None, "周经理", "call me"],
        [None, None, "建筑业", None, None, None, None],
    ]
    args = ["enterprises", "import", "--db", str(db)]
    assert main([*args, str(_sheet(tmp_path / "bad.xlsx", bad))]) == 1
    err = capsys.readouterr().err
    assert "有 4 行需要更正，未导入任何企业" in err
    assert "第5行：统一社会信用代码的校验位不对" in err
    assert "第6行：没有「物流」这个行业" in err
    assert "第7行：联系电话：「call me」不像电话号码" in err
    assert "第8行：缺少企业名称" in err
    app = make_services(demo_config(), db, FrozenClock(START))
    assert app.db.table("enterprises").count == 0
    assert app.db.table("enterprise_contacts").count == 0
    app.close()

    assert main([*args, str(_sheet(tmp_path / "good.xlsx", good))]) == 0
    out = capsys.readouterr().out
    assert "导入 2 家企业的资料" in out
    assert "宏达机械　制造业　中型　未填　资质：高新技术企业、专精特新" in out
    # a second sheet updates: an empty cell keeps what is on file
    again: list[list[object]] = [["宏达机械", None, None, "大型", None, "刘经理", "13912345678"]]
    assert main([*args, str(_sheet(tmp_path / "again.xlsx", again))]) == 0
    app = make_services(demo_config(), db, FrozenClock(START))
    profile = app.service(EnterpriseService).named("宏达机械")
    assert profile is not None
    assert (profile.credit_code, profile.size) == (GOOD_CODE, "大型")
    assert profile.contacts == (ProfileContact(None, "刘经理", "13912345678"),)
    app.close()


async def test_staff_keep_profiles_on_the_console_and_see_one_on_the_case_page(
    bot: ChatBot,
) -> None:
    case = bot.report("厂房租金上涨，想了解减免政策", reporter="wxid_zhang", enterprise="张氏机械")
    async with http_console(bot.app) as client:
        await http_login(client, "wang")
        page = await client.get(f"/cases/{case.number}")
        hint = text_at(page.text, "//*[@id='profile']")
        assert hint.startswith("「张氏机械」还没有企业画像")

        listing = await client.get("/enterprises")
        assert text_at(listing.text, "//nav//a[@href='/enterprises']") == "企业"
        csrf = csrf_in(listing.text)
        created = await client.post("/enterprises/new", data={"csrf": csrf, "name": "张氏机械"})
        assert created.status_code == 303
        url = created.headers["location"]
        form = {
            "csrf": csrf,
            "name": "张氏机械",
            "credit_code": GOOD_CODE[:-1] + "2",
            "industry": "制造业",
            "size": "中型",
            "region": "鼓楼区",
            "qualifications": ["高新技术企业", "专精特新"],
        }
        refused = await client.post(url, data=form)
        shown = await client.get(refused.headers["location"])
        assert "统一社会信用代码的校验位不对，请核对后再填，未保存。" in text_at(
            shown.text, "//article[contains(@class, 'flash')]"
        )
        assert service(bot.app).named("张氏机械").industry is None  # type: ignore[union-attr]

        await client.post(url, data={**form, "credit_code": GOOD_CODE})
        await client.post(f"{url}/contacts", data={"csrf": csrf, "name": "刘经理", "phone": "bad"})
        await client.post(
            f"{url}/contacts", data={"csrf": csrf, "name": "刘经理", "phone": "0591-87654321"}
        )
        profile_page = await client.get(url)
        contacts = text_at(profile_page.text, "//table[@id='contacts']/tbody")
        # a phone that is not one was refused; the second form was stored
        assert contacts == "刘经理0591-87654321未联系（进展由工作人员转告） 张总已联系过助手"
        assert "王科长工作台规模中型" in text_at(profile_page.text, "//table[@id='changes']")

        filtered = await client.get("/enterprises", params={"qualification": "专精特新"})
        assert "张氏机械" in text_at(filtered.text, "//table[@id='enterprises']/tbody")
        other = await client.get("/enterprises", params={"size": "小型"})
        assert text_at(other.text, "//table[@id='enterprises']/tbody") == "没有符合条件的企业"

        page = await client.get(f"/cases/{case.number}")
        profile = text_at(page.text, "//details[@id='profile']")
        assert profile == (
            "企业画像：张氏机械 行业制造业 规模中型 地区鼓楼区 资质高新技术企业、专精特新"
            f" 信用代码{GOOD_CODE} 联系人刘经理 0591-87654321；张总"
        )


def test_naming_an_enterprise_does_not_take_over_its_profile(bot: ChatBot) -> None:
    """Once a member keeps an enterprise's profile, another who claims the same name in chat
    cannot change it (staff can, and can link them)."""
    svc = service(bot.app)
    svc.save(
        {"name": "张氏机械", "size": "中型"},
        actor("wxid_zhang"),
        contact_id="wxid_zhang",
        source="chat",
    )
    refused = bot.text("完善资料 规模 微型", sender="wxid_sun", room=None)
    assert "请回复贵企业的企业名称" in refused  # not known: asked for the name first
    claimed = bot.text("完善资料", sender="wxid_sun", room=None)
    assert claimed.startswith("（1/6）")
    answer = bot.text("张氏机械", sender="wxid_sun", room=None)
    assert answer.startswith(
        "「张氏机械」的资料由该企业的其他联系人维护，如需修改请联系商会工作人员。"
    )
    profile = svc.named("张氏机械")
    assert profile is not None
    assert (profile.size, profile.reachable) == ("中型", ["wxid_zhang"])
