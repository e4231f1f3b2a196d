"""`chamberbot event …` and the attendee export (CSV with BOM, XLSX read back with openpyxl).

LibreOffice is not installed on the build machine (and too large to install for one test),
so the XLSX is proven valid by reading it back with openpyxl, cell by cell.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from bot.clock import FrozenClock
from bot.services import Services
from chamberbot.cli import main
from chamberbot.root import FEATURES
from handlers.events.export import export_rows, write_export
from handlers.events.service import EventService
from tests.conftest import DEMO_CONFIG, MEMBERS_ROOM, TZ, ChatBot, demo_config
from tests.events_helpers import make_event

HEADER = ["活动编号", "序号", "姓名", "企业", "手机号", "报名时间", "状态", "签到时间", "来源群"]


def _attendees(bot: ChatBot) -> None:
    """张总 registered privately with a phone and checks in; 李总 waits; 孙总 walks in."""
    app = bot.app
    make_event(app, capacity=1, need_phone=1, start=bot.clock.now() + timedelta(minutes=30))
    app.people.remember("wxid_zhang", enterprise="张氏机械", phone="13812345678")
    app.people.remember("wxid_li", enterprise="李记食品", phone="13900001111")
    bot.say("报名 1", room=None)
    bot.say("报名 1", sender="wxid_li")
    bot.say("签到 1")
    bot.say("签到 1", sender="wxid_sun")


def test_csv_has_a_bom_the_columns_and_the_statuses(bot: ChatBot, tmp_path: Path) -> None:
    _attendees(bot)
    event = bot.app.service(EventService).store.get(1)
    out = tmp_path / "名单.csv"
    assert write_export(bot.app, event, out, "csv", staff=True, now=bot.clock.now()) == 3
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == HEADER
    assert rows[1] == ["1", "1", "张总", "张氏机械", "13812345678", "2026-11-16 09:00", "已签到",
                       "2026-11-16 09:00", "私聊"]  # fmt: skip
    assert rows[2][2:8] == ["李总", "李记食品", "13900001111", "2026-11-16 09:00", "候补", ""]
    assert rows[3][2] == "孙总"
    assert rows[3][6] == "现场"
    assert rows[3][8] == "会员一群"


def test_member_facing_export_has_no_phone_column(bot: ChatBot) -> None:
    _attendees(bot)
    rows = export_rows(
        bot.app, bot.app.service(EventService).store.get(1), staff=False, now=bot.clock.now()
    )
    assert "手机号" not in rows[0]
    assert len(rows[0]) == len(HEADER) - 1
    assert not any("1381234" in cell for row in rows for cell in row)


def test_xlsx_reads_back_with_the_same_rows(bot: ChatBot, tmp_path: Path) -> None:
    _attendees(bot)
    event = bot.app.service(EventService).store.get(1)
    out = tmp_path / "名单.xlsx"
    write_export(bot.app, event, out, "xlsx", staff=True, now=bot.clock.now())
    sheet = load_workbook(out).active
    assert sheet is not None
    assert sheet.title == "活动1"
    cells = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert cells == export_rows(bot.app, event, staff=True, now=bot.clock.now())


def test_promoted_and_no_show_statuses(bot: ChatBot) -> None:
    make_event(bot.app, capacity=1)
    for who in ("wxid_zhang", "wxid_li"):
        bot.app.people.remember(who, enterprise="某公司")
        bot.say("报名 1", sender=who)
    bot.say("取消报名 1")
    event = bot.app.service(EventService).store.get(1)
    now = bot.clock.now()
    assert [r[6] for r in export_rows(bot.app, event, staff=True, now=now)[1:]] == [
        "已取消", "候补转正"
    ]  # fmt: skip
    later = event.end + timedelta(minutes=1)
    assert export_rows(bot.app, event, staff=True, now=later)[2][6] == "未到场"


# -- the command line ---------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> Path:
    data = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    data.update(data_dir=str(tmp_path / "data"), database="bot.db")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str]:
    code = main(["event", *args, "--config", str(config)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _live_app(config: Path) -> Services:
    """The running bot's app on the same file (system clock, like the CLI)."""
    return Services(demo_config(), db_path=config.parent / "data" / "bot.db", features=FEATURES)


def test_event_commands_from_add_to_checkins(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    start = (datetime.now(TZ) + timedelta(days=3)).replace(hour=14, minute=0, second=0)
    times = ["--start", f"{start:%Y-%m-%d %H:%M}", "--end", f"{start:%Y-%m-%d} 16:00"]
    code, out = _cli(
        capsys, config, "add", "--title", "数字化转型大讲堂", *times, "--capacity", "1"
    )
    assert code == 0
    assert out.splitlines()[0] == "1"
    app = _live_app(config)
    bot = ChatBot(app, FrozenClock(datetime.now(TZ)))
    bot.say("帮助", sender="wxid_chen")  # the bot knows 会员一群
    assert _cli(capsys, config, "announce", "1")[1].startswith(
        "活动 1「数字化转型大讲堂」已发布：目标 1 个群"
    )
    assert "新排队 0 条" in _cli(capsys, config, "announce", "1")[1]
    for who in ("wxid_zhang", "wxid_li"):
        app.people.remember(who, enterprise="某公司")
        bot.say("报名 1", sender=who)
    code, out = _cli(capsys, config, "edit", "1", "--capacity", "2", "--code", "66")
    assert code == 0
    assert "1 人由候补转为正式报名，已通知" in out
    assert any("已从候补转为正式报名" in str(r["text"]) for r in bot.queued(MEMBERS_ROOM))
    assert not any("【活动变更】" in str(r["text"]) for r in bot.queued(MEMBERS_ROOM))
    later = start + timedelta(hours=1)
    code, _ = _cli(capsys, config, "edit", "1", "--start", f"{later:%Y-%m-%d %H:%M}")
    assert code == 0
    (changed,) = [r for r in bot.queued(MEMBERS_ROOM) if "【活动变更】" in str(r["text"])]
    day = f"{start.month}月{start.day}日"
    assert f"」时间调整为 {day}" in str(changed["text"])
    assert f"15:00（原定 {day}" in str(changed["text"])
    assert "如不能参加，请发送「取消报名 1」取消" in str(changed["text"])
    assert sorted(json.loads(str(changed["mention_ids"]))) == ["wxid_li", "wxid_zhang"]
    assert "1｜已发布｜讲座｜数字化转型大讲堂" in _cli(capsys, config, "list")[1]
    shown = _cli(capsys, config, "show", "1")[1]
    assert "签到码：66" in shown
    assert "报名 2，候补 0" in shown
    code, out = _cli(
        capsys, config, "export", "1", "--format", "csv", "--out", str(tmp_path / "a.csv")
    )
    assert code == 0
    assert "名单 2 行" in out
    assert "签到 0 人" in _cli(capsys, config, "checkins", "1")[1]
    assert "已通知 1 条" in _cli(capsys, config, "cancel", "1")[1]
    app.db.close()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--start", "明天", "--end", "2030-01-01 10:00"], "--start 无效"),
        (["--start", "2030-01-01 10:00", "--end", "2030-01-01 09:00"], "--end 无效"),
        (
            ["--start", "2030-01-01 10:00", "--end", "2030-01-01 12:00", "--kind", "酒会"],
            "--kind 无效",
        ),
        (
            ["--start", "2030-01-01 10:00", "--end", "2030-01-01 12:00", "--target", "a &"],
            "--target 无效",
        ),
    ],
)
def test_bad_options_exit_2_and_add_nothing(
    capsys: pytest.CaptureFixture[str], config: Path, args: list[str], expected: str
) -> None:
    code, out = _cli(capsys, config, "add", "--title", "讲座", *args)
    assert (code, expected in out) == (2, True)
    assert "还没有活动" in _cli(capsys, config, "list")[1]


def test_unknown_event_exits_1(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out = _cli(capsys, config, "show", "9")
    assert (code, "没有编号为 9 的活动" in out) == (1, True)
