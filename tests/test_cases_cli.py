"""`chamberbot cases list | show | export`: the ledger for people without the web console."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.clock import FrozenClock
from chamberbot.cli import main
from tests.conftest import STAFF_ROOM, START, ChatBot, demo_config, make_services

PHONE = "13812345678"


@pytest.fixture
def db(tmp_path: Path) -> list[str]:
    """Two cases reported through the real bot, one claimed; the CLI's --db argument."""
    path = tmp_path / "bot.db"
    services = make_services(demo_config(), path, FrozenClock(START))
    services.people.remember("wxid_zhang", name="张总", enterprise="宏达机械", phone=PHONE)
    bot = ChatBot(services, FrozenClock(START))
    bot.say("诉求 银行抽贷，资金周转困难")
    bot.say("诉求 办证审批太慢")
    bot.say("认领 1", sender="wxid_wang", room=STAFF_ROOM)
    services.close()
    return ["--db", str(path)]


def test_list_shows_open_cases_newest_first(
    db: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cases", "list", *db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2026-0002｜待受理｜政务环境/审批服务｜经济处｜宏达机械")
    assert lines[1].startswith("2026-0001｜已受理｜市场环境/融资信贷｜经济处·王科长｜宏达机械")
    assert lines[2] == "共 2 件。"

    assert main(["cases", "list", "--limit", "1", *db]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "共 2 件，显示最新 1 件（--limit 调整）。"


def test_show_prints_the_case_as_details_does_and_refuses_an_unknown_number(
    db: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cases", "show", "1", *db]) == 0
    out = capsys.readouterr().out
    assert "2026-0001" in out
    assert "银行抽贷" in out
    assert "认领" in out  # the timeline

    assert main(["cases", "show", "99", *db]) == 1
    assert "没有找到诉求 2026-0099" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_writes_the_ledger_without_phones_unless_asked(
    db: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    out = tmp_path / f"ledger.{fmt}"
    assert main(["cases", "export", "--out", str(out), "--format", fmt, *db]) == 0
    assert capsys.readouterr().out.strip() == f"已导出 2 件诉求到 {out}。"

    if fmt == "csv":
        with out.open(encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    else:
        sheet = load_workbook(out).active
        assert sheet is not None
        rows = [[str(c or "") for c in row] for row in sheet.iter_rows(values_only=True)]
    # the one ledger's columns (handlers/cases/ledger.py, the report's 台账)
    assert rows[0][:4] == ["编号", "受理时间", "企业", "反映人"]
    assert "联系电话" not in rows[0]
    assert rows[1][:4] == ["2026-0001", "2026-11-16 09:00", "宏达机械", "张总"]
    assert rows[1][rows[0].index("状态")] == "已受理"
    assert not any(PHONE in str(cell) for row in rows for cell in row)

    assert main(["cases", "export", "--out", str(out), "--format", fmt, "--phone", *db]) == 0
    capsys.readouterr()
    if fmt == "csv":
        with out.open(encoding="utf-8-sig") as handle:
            with_phones = list(csv.reader(handle))
        assert with_phones[1][with_phones[0].index("联系电话")] == PHONE
