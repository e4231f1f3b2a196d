"""问卷 on the staff console, over HTTP (the ASGI client): the builder adds and removes
questions and saves through the definition's checks; the send form reaches a tagged group;
the results page shows the counts, a chart's data and a table per question; the XLSX
export has one row per enterprise; a POST without the CSRF token changes nothing."""

from __future__ import annotations

import io
import json
from typing import Any

import lxml.html  # type: ignore[import-untyped]
from openpyxl import load_workbook

from handlers.surveys import SurveyService
from tests.conftest import MEMBERS_ROOM, ChatBot
from tests.web_harness import csrf_in, http_console, http_login, text_at


def fields(
    html: str, form_xpath: str = "//form[contains(@class, 'survey-form')]"
) -> dict[str, Any]:
    """A form's fields as a browser would post them (checked boxes only, no buttons)."""
    (form,) = lxml.html.fromstring(html).xpath(form_xpath)
    data: dict[str, Any] = {}
    for el in form.xpath(".//input|.//textarea|.//select"):
        name = el.get("name")
        if not name:
            continue
        if el.tag == "input" and el.get("type") == "checkbox":
            if el.get("checked") is not None:
                data[name] = el.get("value")
        elif el.tag == "select":
            chosen = el.xpath("./option[@selected]") or el.xpath("./option")
            data[name] = chosen[0].get("value", chosen[0].text)
        elif el.tag == "textarea":
            data[name] = el.text or ""
        else:
            data[name] = el.get("value", "")
    return data


async def test_build_send_answer_and_read_the_results_on_the_console(bot: ChatBot) -> None:
    app = bot.app
    bot.say("大家好", room=MEMBERS_ROOM)
    app.places.set_tags(MEMBERS_ROOM, ["制造业"])
    async with http_console(app) as client:
        await http_login(client, "wang")
        page = await client.get("/surveys/new")
        assert page.status_code == 200
        form = fields(page.text)
        form.update({"title": "用工情况快报", "deadline": "2026-11-27T18:00",
                     "q-0-section": "用工", "q-0-text": "目前用工是否紧张", "q-0-kind": "single",
                     "q-0-options": "充足\n普工短缺\n技工短缺"})  # fmt: skip
        added = await client.post("/surveys/new", data={**form, "action": "add"})
        assert added.status_code == 200
        assert text_at(added.text, "//article[@class='question']/h4") == "第 1 题 第 2 题"
        assert app.service(SurveyService).all() == []  # adding a question saves nothing
        form = fields(added.text)
        assert form["q-1-section"] == "用工"  # a new question stays in the section
        form.update({"q-1-text": "在岗人数", "q-1-kind": "number", "q-1-options": ""})
        added = await client.post("/surveys/new", data={**form, "action": "add"})
        form = fields(added.text)
        form.update({"q-2-text": "满意度", "q-2-kind": "scale"})
        removed = await client.post("/surveys/new", data={**form, "action": "remove:1"})
        form = fields(removed.text)
        assert [form[f"q-{i}-text"] for i in range(int(form["count"]))] == [
            "目前用工是否紧张", "满意度",
        ]  # fmt: skip

        bad = await client.post("/surveys/new", data={**form, "q-0-options": "充足",
                                                      "action": "save"})  # fmt: skip
        assert bad.status_code == 400
        assert "单选和多选题至少要有 2 个选项" in text_at(bad.text, "//small[@class='problem']")
        assert app.service(SurveyService).all() == []
        forged = await client.post("/surveys/new", data={**form, "csrf": "x", "action": "save"})
        assert forged.status_code == 403
        saved = await client.post("/surveys/new", data={**form, "action": "save"})
        assert (saved.status_code, saved.headers["location"]) == (303, "/surveys/1")
        (survey,) = app.service(SurveyService).all()
        assert [q.kind for q in survey.definition.questions] == ["single", "scale"]
        assert survey.definition.sections[0].title == "用工"

        page = await client.get("/surveys/1")
        assert "已保存问卷 1「用工情况快报」" in page.text
        token = csrf_in(page.text)
        nobody = await client.post("/surveys/1/send", data={"csrf": token})
        assert nobody.status_code == 303
        assert "请至少选择一种发送对象" in (await client.get("/surveys/1")).text
        sent = await client.post(
            "/surveys/1/send", data={"csrf": token, "to_groups": "1", "groups": "制造业"}
        )
        assert sent.status_code == 303
        assert "已发送：1 个群（会员一群）" in (await client.get("/surveys/1")).text
        notice = [o.text for o in bot.deliver() if o.conversation_id == MEMBERS_ROOM]
        assert "用工情况快报" in notice[0]

        for who, choice, mood in (("wxid_zhang", "2", "4"), ("wxid_li", "2", "5")):
            app.people.remember(who, enterprise={"wxid_zhang": "张氏机械"}.get(who, "李记食品"))
            for text in ("问卷", choice, mood, "提交"):
                bot.say(text, sender=who, room=None)
        page = await client.get("/surveys/1")
        assert text_at(page.text, "//strong[@id='count-submitted']") == "2"
        who = text_at(page.text, "//table[@id='respondents']//tbody//td[position() <= 3]")
        assert who == "张氏机械 张总 已提交 李记食品 李总 已提交"
        charts = json.loads(text_at(page.text, "//script[@id='chart-data']"))
        assert charts[0]["labels"] == ["充足", "普工短缺", "技工短缺"]
        assert charts[0]["counts"] == [0, 2, 0]
        table = text_at(page.text, "//section[@id='result-q1']//tbody//td")
        assert table == "充足 0 0% 普工短缺 2 100% 技工短缺 0 0%"
        assert "平均 4.5" in text_at(page.text, "//section[@id='result-q2']")
        assert '<script src="/vendor/echarts.min.js">' in page.text

        export = await client.get("/surveys/1/export.xlsx")
        assert export.status_code == 200
        book = load_workbook(io.BytesIO(export.content), read_only=True)
        rows = [list(r) for r in book["回答"].iter_rows(values_only=True)]
        assert rows[0][3:] == ["1. 目前用工是否紧张", "2. 满意度"]
        assert [(r[0], r[3], r[4]) for r in rows[1:]] == [
            ("张氏机械", "普工短缺", 4), ("李记食品", "普工短缺", 5),
        ]  # fmt: skip

        closed = await client.post("/surveys/1/close", data={"csrf": token})
        assert closed.status_code == 303
        page = await client.get("/surveys/1")
        assert text_at(page.text, "//strong[@id='survey-status']") == "已结束"
        assert "没有需要您填写的问卷" in bot.text("问卷", sender="wxid_sun", room=None)
        assert (await client.get("/surveys/9")).status_code == 404
        listing = await client.get("/surveys")
        assert "用工情况快报" in text_at(listing.text, "//table")


async def test_the_builder_starts_from_the_quarterly_example(bot: ChatBot) -> None:
    async with http_console(bot.app) as client:
        await http_login(client, "wang")
        page = await client.get("/surveys/new?example=quarterly")
        form = fields(page.text)
        assert form["title"] == "季度企业经营状况调查"
        assert form["count"] == "12"
        assert form["q-0-profile"] == "industry"
        saved = await client.post("/surveys/new", data={**form, "action": "save"})
        assert saved.status_code == 303
        (survey,) = bot.app.service(SurveyService).all()
        assert [s.title for s in survey.definition.sections] == [
            "企业基本情况", "经营状况", "用工情况", "融资情况", "政策需求",
        ]  # fmt: skip
        edit = await client.get(f"/surveys/{survey.id}/edit")
        assert fields(edit.text)["q-11-text"] == "其他困难和建议（选填）"
