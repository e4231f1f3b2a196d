"""The chamber's calendar file, the Monday–Friday fallback and what happens when a year
arrives: deadlines recounted with a timeline event and no message to the enterprise, and
the weekly notice to the staff room while next year is missing.

The 2027 schedule used here is the shipped sample (calendar.example.yaml), not an
official one: 2027-01-01..03 off (Fri–Sun), 2027-02-05..13 Spring Festival, 2027-02-20 worked.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.calendar_file import load_calendar, parse_calendar
from bot.clock import FrozenClock
from bot.config import ConfigError
from bot.db import from_db
from bot.services import Services
from bot.workdays import FALLBACK, FILE, PACKAGE_AND_FILE
from chamberbot.cli import main
from chamberbot.root import FEATURES
from handlers.cases import CaseService
from handlers.cases.calendar_watch import check_calendar, recompute, warn
from handlers.cases.service import Case
from tests.conftest import MEMBERS_ROOM, STAFF_ROOM, TZ, ChatBot, case_service, demo_config

SAMPLE = Path(__file__).resolve().parent.parent / "calendar.example.yaml"
# Monday 28 December 2026, 10:00: 诉求 for 政务环境 (审批) get 7 working days.
DEC_28 = datetime(2026, 12, 28, 10, 0, tzinfo=TZ)
PERMIT = "诉求 办证审批太慢，跑了三趟窗口还没办下来"


def test_the_sample_file_makes_2027_known_with_holidays_and_make_up_days() -> None:
    calendar = load_calendar(SAMPLE)

    assert calendar.source(2027) == FILE
    assert not calendar.is_workday(date(2027, 1, 1))  # 元旦, a Friday
    assert not calendar.is_workday(date(2027, 2, 8))  # 春节, a Monday
    assert calendar.is_workday(date(2027, 2, 20))  # Saturday worked (调休)
    assert calendar.is_workday(date(2027, 1, 4))
    # Thursday 2026-12-31 + 1 working day: not the holiday, Monday 2027-01-04.
    due, fallback = calendar.add(datetime(2026, 12, 31, 9, 0, tzinfo=TZ), 1)
    assert due == datetime(2027, 1, 4, 9, 0, tzinfo=TZ)
    assert fallback == frozenset()


def test_the_file_overrides_a_year_the_package_knows_date_by_date() -> None:
    calendar = load_calendar(None)
    data = {2026: {"holidays": [{"name": "市庆日", "date": date(2026, 12, 30)}]}}
    from bot.workdays import WorkCalendar

    patched = WorkCalendar(parse_calendar(data, "cal.yaml"))

    assert calendar.is_workday(date(2026, 12, 30))
    assert not patched.is_workday(date(2026, 12, 30))
    assert not patched.is_workday(date(2026, 10, 1))  # the package's 国庆节 still holds
    assert patched.source(2026) == PACKAGE_AND_FILE


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        (
            "2027:\n  holidays:\n    - {name: 元旦, date: 2028-01-01}\n",
            "2027.holidays[0]",
            "not in 2027",
        ),
        (
            "2027:\n  holidays: [{name: a, date: 2027-02-20}]\n"
            "  workdays: [{name: b, date: 2027-02-20}]\n",
            "2027",
            "both a holiday and a workday",
        ),
        ("2027:\n  holidays: []\n2027:\n  workdays: []\n", "line 3", "duplicate key"),
        ("27:\n  holidays: []\n", "27", "expected a year"),
        ("2027:\n  holiday: []\n", "2027.holiday", "unknown setting"),
        (
            "2027:\n  holidays: [{name: 春节, from: 2027-02-13, to: 2027-02-05}]\n",
            "2027.holidays[0]",
            "before",
        ),
    ],
)
def test_a_bad_calendar_file_is_a_config_error_with_file_and_key(
    tmp_path: Path, text: str, where: str, reason: str
) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_calendar(path)

    assert caught.value.file == str(path)
    assert caught.value.key == where
    assert reason in caught.value.reason


def _app(tmp_path: Path, clock: FrozenClock, **calendar: object) -> Services:
    config = demo_config(calendar=calendar) if calendar else demo_config()
    app = Services(
        config, db_path=tmp_path / "bot.db", features=FEATURES, clock=clock, base_dir=tmp_path
    )
    app.people.remember("wxid_zhang", name="张总", enterprise="宏达机械有限公司")
    return app


def test_a_missing_calendar_file_stops_the_start_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("calendar:\n  file: holidays.yaml\n", encoding="utf-8")

    assert main(["check", "--config", str(config)]) == 2
    assert "holidays.yaml: (file):" in capsys.readouterr().err


def _reported_before_2027_is_known(
    tmp_path: Path, clock: FrozenClock
) -> tuple[Services, ChatBot, Path, Case]:
    """A member's case opened while the chamber's holiday file has no 2027 yet."""
    holidays = tmp_path / "holidays.yaml"
    holidays.write_text("# 2027 还没公布\n", encoding="utf-8")
    app = _app(tmp_path, clock, file="holidays.yaml")
    bot = ChatBot(app, clock)
    bot.say(PERMIT)
    (case,) = case_service(app).where("1", [])
    return app, bot, holidays, case


def test_a_deadline_across_an_unknown_new_year_is_recounted_when_the_year_arrives(
    tmp_path: Path,
) -> None:
    clock = FrozenClock(DEC_28)
    app, bot, holidays, case = _reported_before_2027_is_known(tmp_path, clock)

    # Mon–Fri through 元旦: 12-29, 12-30, 12-31, 01-01, 01-04, 01-05, 01-06.
    assert from_db(case.due_at) == datetime(2027, 1, 6, 10, 0, tzinfo=TZ)
    assert app.db.table("fallback_deadlines").count == 1
    member_rows = len(bot.queued(MEMBERS_ROOM))

    clock.advance(timedelta(days=2))
    shutil.copy(SAMPLE, holidays)
    check_calendar(app, clock.now())

    case = case_service(app).get(case.id)
    # 12-29, 12-30, 12-31, 01-04, 01-05, 01-06, 01-07 on the 2027 schedule.
    assert from_db(case.due_at) == datetime(2027, 1, 7, 10, 0, tzinfo=TZ)
    assert from_db(case.level2_due_at) == datetime(2027, 1, 14, 10, 0, tzinfo=TZ)
    (event,) = [e for e in case_service(app).timeline(case) if e.kind == "deadlines_recomputed"]
    assert "2027年1月6日(周三) 10:00" in event.text  # written in 2026: with the year
    assert "2027年1月7日(周四) 10:00" in event.text
    assert len(bot.queued(MEMBERS_ROOM)) == member_rows  # nothing to the enterprise
    assert app.db.table("fallback_deadlines").count == 0
    details = bot.text("详情 1", sender="wxid_wang", room=STAFF_ROOM)
    assert (
        "重算时限：节假日安排已录入，"
        "办结时限由 2027年1月6日(周三) 10:00 重新计算为 2027年1月7日(周四) 10:00" in details
    )

    # Once recounted, nothing more happens.
    assert recompute(app, clock.now()) == 0
    app.close()


def test_a_recount_keeps_the_days_a_case_stood_still(tmp_path: Path) -> None:
    """待补充 for two working days moved the deadline; the recount keeps that move."""
    clock = FrozenClock(DEC_28)
    app, bot, holidays, case = _reported_before_2027_is_known(tmp_path, clock)
    bot.say("待补充 1 营业执照复印件", sender="wxid_wang", room=STAFF_ROOM)
    clock.advance(timedelta(days=2))  # Wednesday 12-30: 12-29 and 12-30 stood still
    bot.say("补充 1 已上传营业执照", sender="wxid_zhang", room=MEMBERS_ROOM)
    case = case_service(app).get(case.id)
    assert case.paused_days == 2
    assert from_db(case.due_at) == datetime(2027, 1, 8, 10, 0, tzinfo=TZ)  # 01-06 + 2

    shutil.copy(SAMPLE, holidays)
    check_calendar(app, clock.now())
    case = case_service(app).get(case.id)
    # 01-07 on the 2027 schedule, then the two paused working days: 01-08, 01-11
    assert from_db(case.due_at) == datetime(2027, 1, 11, 10, 0, tzinfo=TZ)
    app.close()


def test_an_unanswered_case_s_first_response_promise_moves_when_the_year_arrives(
    tmp_path: Path,
) -> None:
    """Opened 2026-12-31 15:00: 24 h later is 2027-01-01 15:00, a Friday on the Mon–Fri
    fallback, but 元旦 on the 2027 schedule: the promise moves to Monday 09:00."""
    clock = FrozenClock(datetime(2026, 12, 31, 15, 0, tzinfo=TZ))
    app, bot, holidays, case = _reported_before_2027_is_known(tmp_path, clock)
    assert from_db(case.response_due_at) == datetime(2027, 1, 1, 15, 0, tzinfo=TZ)
    member_rows = len(bot.queued(MEMBERS_ROOM))

    clock.advance(timedelta(hours=1))
    shutil.copy(SAMPLE, holidays)
    check_calendar(app, clock.now())

    case = case_service(app).get(case.id)
    assert from_db(case.response_due_at) == datetime(2027, 1, 4, 9, 0, tzinfo=TZ)
    (event,) = [e for e in case_service(app).timeline(case) if e.kind == "deadlines_recomputed"]
    assert event.data["response_due_at"][1] == case.response_due_at
    assert len(bot.queued(MEMBERS_ROOM)) == member_rows  # nothing to the enterprise
    app.close()


def test_a_bot_restarted_with_the_new_year_in_its_file_recounts_at_start(
    tmp_path: Path,
) -> None:
    clock = FrozenClock(DEC_28)
    first = _app(tmp_path, clock)
    ChatBot(first, clock).say(PERMIT)
    first.close()
    shutil.copy(SAMPLE, tmp_path / "holidays.yaml")

    again = _app(tmp_path, clock, file="holidays.yaml")
    check_calendar(again, clock.now())  # what Runtime.serve does before anything else

    (case,) = again.service(CaseService).where("1", [])
    assert from_db(case.due_at) == datetime(2027, 1, 7, 10, 0, tzinfo=TZ)
    again.close()


def test_a_case_closed_before_the_year_arrives_is_left_alone(tmp_path: Path) -> None:
    clock = FrozenClock(DEC_28)
    holidays = tmp_path / "holidays.yaml"
    holidays.write_text("", encoding="utf-8")
    app = _app(tmp_path, clock, file="holidays.yaml")
    bot = ChatBot(app, clock)
    bot.say(PERMIT)
    bot.say("撤回 1")
    (case,) = case_service(app).where("1", [])
    shutil.copy(SAMPLE, holidays)

    check_calendar(app, clock.now())

    assert case_service(app).get(case.id).due_at == case.due_at
    assert not [e for e in case_service(app).timeline(case) if e.kind == "deadlines_recomputed"]
    assert app.db.table("fallback_deadlines").count == 0
    app.close()


def _staff_notices(bot: ChatBot) -> list[str]:
    return [str(r["text"]) for r in bot.queued(STAFF_ROOM) if "节假日安排缺失" in str(r["text"])]


def test_staff_are_told_weekly_in_chinese_that_next_year_is_missing_from_warn_from(
    tmp_path: Path,
) -> None:
    clock = FrozenClock(datetime(2026, 10, 30, 10, 0, tzinfo=TZ))  # before 11-01
    app = _app(tmp_path, clock)
    bot = ChatBot(app, clock)

    assert warn(app, clock.now()) == 0
    clock.set(datetime(2026, 11, 2, 10, 0, tzinfo=TZ))  # Monday, after warn_from
    assert warn(app, clock.now()) == 1
    (notice,) = _staff_notices(bot)
    assert notice.startswith("【节假日安排缺失】2027年的法定节假日和调休安排尚未录入")
    assert "calendar.file" in notice

    clock.advance(timedelta(days=4))  # the same week: once only
    assert warn(app, clock.now()) == 0
    clock.advance(timedelta(days=3))  # Monday 11-09: the next week
    assert warn(app, clock.now()) == 1
    assert len(_staff_notices(bot)) == 2
    assert not bot.queued(MEMBERS_ROOM)
    app.close()


def test_the_weekly_notice_stops_once_the_year_is_added(tmp_path: Path) -> None:
    clock = FrozenClock(datetime(2026, 12, 1, 10, 0, tzinfo=TZ))
    holidays = tmp_path / "holidays.yaml"
    holidays.write_text("", encoding="utf-8")
    app = _app(tmp_path, clock, file="holidays.yaml")
    bot = ChatBot(app, clock)
    check_calendar(app, clock.now())
    assert len(_staff_notices(bot)) == 1

    shutil.copy(SAMPLE, holidays)
    clock.advance(timedelta(days=7))
    check_calendar(app, clock.now())

    assert len(_staff_notices(bot)) == 1
    app.close()


def test_a_custom_warn_from_moves_the_first_notice(tmp_path: Path) -> None:
    clock = FrozenClock(datetime(2026, 11, 16, 10, 0, tzinfo=TZ))
    app = _app(tmp_path, clock, warn_from="12-01")

    assert warn(app, clock.now()) == 0
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=TZ))
    assert warn(app, clock.now()) == 1
    app.close()


def test_this_year_missing_is_told_too(tmp_path: Path) -> None:
    clock = FrozenClock(datetime(2027, 1, 4, 10, 0, tzinfo=TZ))
    app = _app(tmp_path, clock)
    bot = ChatBot(app, clock)

    warn(app, clock.now())

    (notice,) = _staff_notices(bot)
    assert "2027年的法定节假日" in notice
    app.close()


def test_calendar_show_lists_holidays_make_up_days_and_the_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(SAMPLE, tmp_path / "calendar.yaml")
    config = tmp_path / "config.yaml"
    config.write_text("calendar:\n  file: calendar.yaml\n", encoding="utf-8")

    assert main(["calendar", "show", "2027", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2027 年节假日安排（来源：日历文件 calendar.yaml）")
    assert "春节 2月5日(周五)至2月13日(周六)，共 9 天" in out
    assert "春节调休 2月20日(周六)" in out

    assert main(["calendar", "show", "2026"]) == 0
    out = capsys.readouterr().out
    assert "来源：chinese-calendar 包" in out
    assert "国庆节调休 10月10日(周六)" in out

    assert main(["calendar", "show", "2027"]) == 1
    assert "办结时限按周一至周五计算" in capsys.readouterr().out


def test_check_reports_known_and_missing_years(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("{}\n", encoding="utf-8")

    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "工作日历：2004–2026 年（chinese-calendar 包）" in out

    shutil.copy(SAMPLE, tmp_path / "calendar.yaml")
    config.write_text("calendar:\n  file: calendar.yaml\n", encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 0
    assert "2027 年（日历文件 calendar.yaml）" in capsys.readouterr().out


def test_fallback_is_named_for_an_unknown_year(tmp_path: Path) -> None:
    assert load_calendar(None).source(2031) == FALLBACK


def test_the_demo_transcript_has_no_english_calendar_warning_across_new_year(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "tour.txt"
    script.write_text("诉求 办证审批太慢\n张氏机械有限公司\n", encoding="utf-8")

    assert main(["demo", "--script", str(script), "--start", "2026-12-28T10:00"]) == 0

    captured = capsys.readouterr()
    assert "2026-0001" in captured.out
    assert "Monday" not in captured.out + captured.err
    assert "holiday" not in captured.out + captured.err
