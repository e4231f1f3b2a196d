"""Issue 20: the ledger written by sheets/ (its own XML) and the console's exports off
the event loop. Every workbook is read back with openpyxl, a reader independent of the
writer, and the 工作台账 and the odd texts also by LibreOffice (`soffice --headless
--convert-to csv`, which `make test` installs), as a secretariat opens them."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from starlette.applications import Starlette

from handlers.reports import compute
from handlers.reports.ledger import write_ledger
from sheets import Percent, Sheet, write_table, write_xlsx
from tests.conftest import TZ, ChatBot
from tests.test_reports import NOV, build
from tests.web_harness import add_accounts, http_login
from web.app import create_app


@asynccontextmanager
async def console_and_client(bot: ChatBot) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """The console's ASGI app (its worker: app.state.console.offload) and a client signed
    in as 王科长."""
    add_accounts(bot.app)
    web = create_app(bot.app)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await http_login(client, "wang")).status_code == 303
        yield web, client


async def until(check: Callable[[], bool], what: str, within: float = 10.0) -> None:
    """Poll for an effect of another thread, yielding the loop between looks."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.002)


def test_sheets_read_back_with_types_layout_and_text_kept_as_text(tmp_path: Path) -> None:
    when = datetime(2026, 11, 16, 9, 30)  # noqa: DTZ001 (Excel's times are naive)
    out = tmp_path / "t.xlsx"
    rows: list[list[object]] = [
        ["2026-0001", when, 3, Percent(0.125), None, "=1+1", "见 https://example.org/p/1"],
        ["2026-0002", None, 0, None, "", "@SUM(A1)", "+86 138"],
    ]
    write_xlsx(
        [
            Sheet("台账", ["编号", "时间", "次数", "比例", "空", "公式样", "链接样"], rows,
                  [11, 17, 9, 9, 5, 12, 30]),
            Sheet("汇总", ["项", "值"], [["甲", date(2026, 11, 10)], [], ["乙", 2]],
                  filtered="header"),
        ],
        out,
    )  # fmt: skip
    book = load_workbook(out)
    assert book.sheetnames == ["台账", "汇总"]
    ws = book["台账"]
    assert [c.value for c in ws[1]] == ["编号", "时间", "次数", "比例", "空", "公式样", "链接样"]
    assert ws["A1"].font.b
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:G3"
    assert int(ws.column_dimensions["A"].width) == 11
    assert int(ws.column_dimensions["G"].width) == 30
    got = [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]
    # a user's text that looks like a formula or holds a link stays the words it is
    assert got[0] == ["2026-0001", when, 3, 0.125, None, "=1+1", "见 https://example.org/p/1"]
    assert got[1][:4] == ["2026-0002", None, 0, None]
    assert got[1][5:] == ["@SUM(A1)", "+86 138"]
    assert ws["B2"].is_date
    assert ws["B2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["D2"].number_format == "0.0%"
    assert ws["F2"].data_type == "s"
    assert not ws["G2"].hyperlink
    summary = book["汇总"]
    assert summary.auto_filter.ref == "A1:B1"
    assert summary["B2"].number_format == "yyyy-mm-dd"  # a date is a day, no 00:00
    assert [list(r) for r in summary.iter_rows(values_only=True)] == [
        ["项", "值"], ["甲", datetime(2026, 11, 10)], [None, None], ["乙", 2],  # noqa: DTZ001
    ]  # fmt: skip


@pytest.mark.parametrize("streamed", [False, True], ids=["in_memory", "constant_memory"])
def test_text_that_reads_like_rich_text_markup_stays_text(tmp_path: Path, streamed: bool) -> None:
    """XlsxWriter writes a string in `<r>…</r>` as rich-text XML unescaped: a description
    `<r>已报</r>` came back empty and `<r>a<b</r>` made a workbook no reader opens. Rows as a
    list are written in memory (shared strings), rows as a generator row by row."""
    texts = ["<r>已报</r>", "<r><t>甲</t></r><r><t>乙</t></r>", "<r>a<b & c</r>", "<r></r>"]
    rows = [[t, "<r>"] for t in texts]
    out = tmp_path / "r.xlsx"
    write_xlsx([Sheet("台账", ["描述", "备注"], iter(rows) if streamed else rows)], out)
    ws = load_workbook(out)["台账"]
    assert [list(r) for r in ws.iter_rows(min_row=2, values_only=True)] == rows


def _libreoffice(*books: Path) -> dict[str, dict[str, list[list[str]]]]:
    """Each sheet of each workbook (by file stem, then sheet title) as LibreOffice Calc
    shows it (cells as displayed), read from the CSV files one `soffice --convert-to` run
    writes, one per sheet."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice is missing: run `make test` (it installs libreoffice-calc)"
    out = books[0].parent / "csv"
    # 44 ',', 34 '"', 76 UTF-8, from line 1, …, cells as shown, -1: every sheet to a file
    how = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"
    done = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{out.parent / 'lo-profile'}", "--headless",
         "--convert-to", how, "--outdir", str(out), *map(str, books)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    found: dict[str, dict[str, list[list[str]]]] = {book.stem: {} for book in books}
    for path in out.glob("*.csv"):
        stem, _, title = path.stem.partition("-")
        with path.open(encoding="utf-8", newline="") as text:
            found[stem][title] = list(csv.reader(text))
    return found


def test_libreoffice_opens_the_ledger_and_odd_texts_as_openpyxl_reads_them(
    bot: ChatBot, tmp_path: Path
) -> None:
    build(bot)
    bot.clock.set(datetime(2026, 12, 1, 0, 0, tzinfo=TZ))
    app = bot.app
    report = compute(app.db, app.config, NOV, bot.clock.now())
    write_ledger(app.db, app.templates.render, app.config, report, tmp_path / "台账.xlsx")
    odd = [" 前后有空格 ", "行一\n行二", "&<>\"'", "_x0041_ 不是转义", "<r>已报</r>", "=1+1"]
    write_xlsx([Sheet("文本", ["原文"], [[t] for t in odd])], tmp_path / "文本.xlsx")

    shown = _libreoffice(tmp_path / "台账.xlsx", tmp_path / "文本.xlsx")
    ledger = shown["台账"]
    assert sorted(ledger) == sorted(["汇总", "按来源", "台账", "办理记录"])
    table = load_workbook(tmp_path / "台账.xlsx")["台账"]
    rows = [list(r) for r in table.iter_rows(values_only=True)]
    assert ledger["台账"][0] == rows[0]  # the header, Chinese intact
    assert [r[0] for r in ledger["台账"][1:]] == [r[0] for r in rows[1:]]
    first = dict(zip(rows[0], ledger["台账"][1], strict=True))
    assert first["受理时间"] == "2026-11-16 09:00"  # a date cell, shown in its format
    assert first["状态"] == "已销号"
    assert first["问题描述"] == dict(zip(rows[0], rows[1], strict=True))["问题描述"]
    events = load_workbook(tmp_path / "台账.xlsx")["办理记录"].max_row
    assert len(ledger["办理记录"]) == events
    summary = {r[0]: r[1:] for r in ledger["汇总"] if r}
    assert summary["响应率"][0] == "60.0%"  # a percent cell
    assert shown["文本"] == {"文本": [["原文"], *([t] for t in odd)]}
    texts = load_workbook(tmp_path / "文本.xlsx")["文本"].iter_rows(min_row=2, values_only=True)
    assert [t for (t,) in texts] == odd


def test_a_table_of_text_as_xlsx_has_its_header_frozen(tmp_path: Path) -> None:
    out = tmp_path / "名单.xlsx"
    write_table([["姓名", "企业"], ["李总", "李记贸易"]], out, "xlsx", "活动1")
    ws = load_workbook(out).active
    assert ws is not None
    assert ws.title == "活动1"
    assert ws.freeze_panes == "A2"
    assert [list(r) for r in ws.iter_rows(values_only=True)] == [
        ["姓名", "企业"], ["李总", "李记贸易"],
    ]  # fmt: skip


async def test_the_console_export_is_the_ledger_with_dates_widths_and_filter(
    bot: ChatBot,
) -> None:
    build(bot)
    async with console_and_client(bot) as (_, client):
        got = await client.get("/cases.xlsx")
    assert got.status_code == 200
    assert got.headers["content-disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(got.content))
    ws = book["工作台账"]
    head = [c.value for c in ws[1]]
    assert head[:3] == ["编号", "受理时间", "企业"]
    assert "联系电话" not in head
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{chr(64 + len(head))}7"
    rows = {str(r[0]): dict(zip(head, r, strict=True)) for r in ws.iter_rows(2, values_only=True)}
    assert sorted(rows) == [f"2026-000{i}" for i in range(1, 7)]
    opened = datetime(2026, 11, 16, 9, 0, tzinfo=TZ).replace(tzinfo=None)  # as test_reports
    assert rows["2026-0001"]["受理时间"] == opened
    assert rows["2026-0001"]["状态"] == "已销号"
    assert head.index("问题描述") == 23  # the 24th column: no phone column
    assert int(ws.column_dimensions["X"].width) == 40


@pytest.mark.parametrize("path", ["/cases.xlsx", "/stats/ledger.xlsx?month=2026-11"])
async def test_the_console_answers_while_a_ledger_export_waits_for_its_worker(
    bot: ChatBot, path: str
) -> None:
    """Deterministic: the console's one worker thread is held by a job of the test, so the
    export, once handed to the worker, cannot finish until the test lets go; meanwhile a
    page is served on the same event loop. An export written in the loop (as /cases.xlsx
    was) never reaches the worker."""
    build(bot)
    async with console_and_client(bot) as (web, client):
        offload = web.state.console.offload
        held, release = threading.Event(), threading.Event()

        def hold(db: object) -> None:
            held.set()
            release.wait(30)

        holding = asyncio.create_task(offload.run(hold))
        assert await asyncio.to_thread(held.wait, 10)
        export = asyncio.create_task(client.get(path))
        await until(lambda: offload.pending == 2, "the export waiting for the worker")
        page = await client.get("/cases")
        assert page.status_code == 200
        assert "2026-0006" in page.text
        assert not export.done()
        release.set()
        await holding
        got = await export
    assert got.status_code == 200
    book = load_workbook(io.BytesIO(got.content), read_only=True)
    ledger = book["台账"] if "stats" in path else book["工作台账"]
    numbers = sorted(str(r[0]) for r in ledger.iter_rows(min_row=2, values_only=True))
    assert numbers == [f"2026-000{i}" for i in range(1, 7)]
