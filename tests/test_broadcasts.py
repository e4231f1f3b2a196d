"""Scheduled digests: who gets what, exactly once, when — on the real scheduler and store."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import FrozenClock
from bot.db import to_db
from bot.messages import Incoming
from bot.scheduler import build_scheduler, due_time
from bot.sender import Sender
from bot.services import Services
from bot.targeting import TargetError, parse_target
from chamberbot.cli import main
from chamberbot.root import services as build_services
from channels.test import TestTransport
from handlers.policies.broadcast_defs import get_broadcast
from handlers.policies.broadcasts import deliver, run_broadcast, start_run, target_groups
from policy_feeds.model import Item
from policy_feeds.store import PolicyStore
from tests.conftest import DEMO_CONFIG, MEMBERS_ROOM, OTHER_ROOM, START, TZ, demo_config, running

FOOD_ROOM = "room_food"
TOPICS = {MEMBERS_ROOM: "会员一群", OTHER_ROOM: "会员二群", FOOD_ROOM: "餐饮分会群"}
WEEKLY = "broadcast:weekly"
NEXT_MONDAY = START + timedelta(days=7)


# -- helpers --------------------------------------------------------------------------------


def meet(app: Services, *rooms: str) -> None:
    """The bot is in these member groups (and has heard from each)."""
    for room in rooms or (MEMBERS_ROOM, OTHER_ROOM):
        app.places.remember(
            Incoming(
                f"hello-{room}",
                room,
                True,
                "wxid_zhang",
                "张总",
                "大家好",
                app.clock.now(),
                room_topic=TOPICS[room],
            )
        )


def tag(app: Services, room: str, *tags: str) -> None:
    app.places.set_tags(room, tags)


def add_policy(app: Services, title: str, day: int, *tags: str, summary: str = "") -> None:
    item = Item(
        title=title,
        url=f"https://gov.example/p/{day}",
        issuer="浙江省财政厅",
        published_at=datetime(2026, 11, day, 10, 0, tzinfo=TZ),
        summary=summary,
        tags=tags,
    )
    with app.db.atomic():
        PolicyStore(app.db).upsert(item, "manual", app.clock.now())


def digests(app: Services, room: str) -> list[str]:
    rows = app.db.execute(
        "select text from outbox where conversation_id = ? order by id", [room]
    ).fetchall()
    return [str(r[0]) for r in rows]


def deliveries(app: Services) -> list[tuple[int, str]]:
    rows = app.db.execute(
        "select run_id, conversation_id from deliveries order by run_id, conversation_id"
    ).fetchall()
    return [(int(r[0]), str(r[1])) for r in rows]


def other_app(app: Services, clock: FrozenClock, **overrides: Any) -> Services:
    """The bot started again on the same SQLite file."""
    return build_services(demo_config(**overrides), db_path=app.db_path, clock=clock)


@asynccontextmanager
async def started(app: Services, *, paused: bool = False) -> AsyncIterator[AsyncIOScheduler]:
    scheduler = build_scheduler(app)
    scheduler.start(paused=paused)
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)


def stored_jobs(app: Services) -> dict[str, dict[str, Any]]:
    rows = app.db.execute("select id, job_state from scheduler_jobs").fetchall()
    return {str(r[0]): pickle.loads(r[1]) for r in rows}


# -- targeting ------------------------------------------------------------------------------


def test_tag_expressions() -> None:
    both = parse_target("融资 & 制造业")
    assert both.matches(["融资", "制造业", "浦东"])
    assert not both.matches(["融资"])
    either = parse_target("外贸 | 跨境")
    assert either.matches(["跨境"])
    assert not either.matches(["融资"])
    assert parse_target("!餐饮").matches([])
    assert not parse_target("!餐饮").matches(["餐饮"])
    grouped = parse_target("（外贸｜跨境）＆！餐饮")  # full width, as typed on a phone
    assert grouped.matches(["外贸"])
    assert not grouped.matches(["外贸", "餐饮"])
    assert parse_target("融資").matches(["融资"])  # Traditional
    assert parse_target("all").is_all
    assert parse_target("全部").is_all


@pytest.mark.parametrize("text", ["融资 制造业", "(融资 | 外贸", "融资 &", "& 融资", "融资)"])
def test_broken_tag_expressions_are_refused(text: str) -> None:
    with pytest.raises(TargetError):
        parse_target(text)


def test_targets_pick_member_groups_by_their_tags(tmp_path: Path, clock: FrozenClock) -> None:
    cron = "0 9 * * 1"
    app = build_services(
        demo_config(
            broadcasts=[
                {"id": "finance", "cron": cron, "target": "融资 & 制造业"},
                {"id": "trade", "cron": cron, "target": "外贸 | 跨境"},
                {"id": "nofood", "cron": cron, "target": "!餐饮"},
                {"id": "everyone", "cron": cron},
            ]
        ),
        db_path=tmp_path / "t.db",
        clock=clock,
    )
    meet(app, MEMBERS_ROOM, OTHER_ROOM, FOOD_ROOM)
    tag(app, MEMBERS_ROOM, "融资", "制造业")
    tag(app, OTHER_ROOM, "跨境")
    tag(app, FOOD_ROOM, "餐饮", "融资")

    def names(broadcast_id: str) -> list[str]:
        broadcast = get_broadcast(app, broadcast_id)
        assert broadcast is not None
        return [g.name for g in target_groups(app, broadcast)]

    assert names("finance") == ["会员一群"]
    assert names("trade") == ["会员二群"]
    assert names("nofood") == ["会员一群", "会员二群"]
    assert names("everyone") == ["会员一群", "会员二群", "餐饮分会群"]
    app.db.close()


# -- what a group gets ------------------------------------------------------------------------


def test_digest_text_from_the_real_template(app: Services) -> None:
    meet(app, MEMBERS_ROOM)
    add_policy(app, "中小企业融资贷款贴息办法", 5, summary="对符合条件的企业给予贴息。")

    run_broadcast(app, "weekly", START)

    assert digests(app, MEMBERS_ROOM) == [
        "【政策速递】11月16日(周一)\n"
        "1. 中小企业融资贷款贴息办法\n"
        "浙江省财政厅｜11月5日(周四)\n"
        "对符合条件的企业给予贴息。\n"
        "https://gov.example/p/5\n"
        "\n"
        "发送「政策 关键词」查找更多政策。"
    ]


def test_groups_get_only_unsent_policies_matching_their_tags(
    app: Services, clock: FrozenClock
) -> None:
    meet(app)
    tag(app, MEMBERS_ROOM, "融资")  # the other group has no tags: it gets everything
    add_policy(app, "小微企业融资担保降费通知", 1, "融资")
    add_policy(app, "外贸企业出口退税办理指引", 2, "外贸")
    add_policy(app, "优化营商环境条例实施细则", 3)

    run_broadcast(app, "weekly", START)

    (first,) = digests(app, MEMBERS_ROOM)
    assert "小微企业融资担保降费通知" in first
    assert "外贸" not in first
    assert "营商环境" not in first
    (everything,) = digests(app, OTHER_ROOM)
    assert everything.index("营商环境") < everything.index("外贸") < everything.index("融资担保")

    # A week later only the new policy goes out, to each group once.
    add_policy(app, "制造业企业技改贷款贴息办法", 10, "融资")
    clock.set(NEXT_MONDAY)
    run_broadcast(app, "weekly", NEXT_MONDAY)
    assert len(digests(app, MEMBERS_ROOM)) == len(digests(app, OTHER_ROOM)) == 2
    for room in (MEMBERS_ROOM, OTHER_ROOM):
        latest = digests(app, room)[-1]
        assert "1. 制造业企业技改贷款贴息办法" in latest
        assert "2." not in latest

    # Nothing new: no message, no delivery row.
    run_broadcast(app, "weekly", NEXT_MONDAY + timedelta(days=7))
    assert len(digests(app, MEMBERS_ROOM)) == len(digests(app, OTHER_ROOM)) == 2
    assert [room for _, room in deliveries(app)] == [MEMBERS_ROOM, OTHER_ROOM] * 2


def test_at_most_max_items_newest_first_and_the_rest_next_time(app: Services) -> None:
    meet(app, MEMBERS_ROOM)
    for day in range(1, 8):
        add_policy(app, f"第{day}号惠企政策解读与申报指南", day)
    broadcast = get_broadcast(app, "weekly")
    assert broadcast is not None
    assert broadcast.max_items == 5

    run_broadcast(app, "weekly", START)
    run_broadcast(app, "weekly", NEXT_MONDAY)

    first, second = digests(app, MEMBERS_ROOM)
    assert [n for n in range(1, 8) if f"第{n}号" in first] == [3, 4, 5, 6, 7]
    assert first.index("第7号") < first.index("第3号")
    assert [n for n in range(1, 8) if f"第{n}号" in second] == [1, 2]


def test_a_long_digest_is_split_between_items(tmp_path: Path, clock: FrozenClock) -> None:
    app = build_services(
        demo_config(digest={"max_chars": 200}), db_path=tmp_path / "s.db", clock=clock
    )
    meet(app, MEMBERS_ROOM)
    summary = "对年度研发投入增长的制造业企业按增量部分给予补助，单家企业最高不超过五十万元。" * 2
    for day in range(1, 6):
        add_policy(app, f"第{day}批研发费用补助申报通知", day, summary=summary)

    run_broadcast(app, "weekly", START)

    messages = digests(app, MEMBERS_ROOM)
    assert len(messages) > 1
    assert all(len(m) <= 200 for m in messages)
    for day in range(1, 6):
        (holder,) = [m for m in messages if f"第{day}批" in m]  # in exactly one message
        assert f"https://gov.example/p/{day}" in holder  # and whole there
    numbered = [line.split(".")[0] for m in messages for line in m.splitlines() if "批" in line]
    assert numbered == ["1", "2", "3", "4", "5"]
    assert messages[0].startswith(f"【政策速递】11月16日(周一)（1/{len(messages)}）")
    assert messages[-1].endswith("发送「政策 关键词」查找更多政策。")
    app.db.close()


# -- exactly once -------------------------------------------------------------------------------


def test_a_double_fire_for_the_same_time_sends_nothing_more(app: Services) -> None:
    meet(app)
    add_policy(app, "小微企业融资担保降费通知", 1)

    first = run_broadcast(app, "weekly", START)
    second = run_broadcast(app, "weekly", START)

    assert first is not None
    assert second is not None
    assert second.already_finished
    assert len(digests(app, MEMBERS_ROOM)) == len(digests(app, OTHER_ROOM)) == 1


def test_run_cut_off_between_two_groups_resumes_after_restart_each_group_once(
    app: Services, clock: FrozenClock
) -> None:
    meet(app)
    add_policy(app, "小微企业融资担保降费通知", 1)
    broadcast = get_broadcast(app, "weekly")
    assert broadcast is not None
    run_id, _ = start_run(app, "weekly", START)
    first, _second = target_groups(app, broadcast)
    deliver(app, broadcast, run_id, first)  # committed; then the process dies
    app.db.close()

    clock.advance(minutes=20)
    again = other_app(app, clock)
    try:
        build_scheduler(again)  # the start of the bot resumes the unfinished run
        run_broadcast(again, "weekly", START)  # and a late double fire changes nothing
        assert digests(again, MEMBERS_ROOM) == digests(again, OTHER_ROOM)
        assert len(digests(again, MEMBERS_ROOM)) == 1
        assert deliveries(again) == [(run_id, MEMBERS_ROOM), (run_id, OTHER_ROOM)]
    finally:
        again.db.close()


def test_a_group_that_failed_mid_run_gets_its_digest_after_restart_and_others_not_again(
    tmp_path: Path, clock: FrozenClock
) -> None:
    # A chamber's own digest template breaks for one group (a real render failure).
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "digest.j2").write_text(
        '{% if group == "会员二群" %}{{ no_such_variable }}{% endif %}摘要：'
        "{% for p in items %}{{ p.title }}{% endfor %}",
        encoding="utf-8",
    )
    broken = build_services(
        demo_config(templates_dir=str(folder)), db_path=tmp_path / "b.db", clock=clock
    )
    meet(broken)
    add_policy(broken, "小微企业融资担保降费通知", 1)

    report = run_broadcast(broken, "weekly", START)

    assert report is not None
    assert report.failed == [OTHER_ROOM]
    assert digests(broken, MEMBERS_ROOM) == ["摘要：小微企业融资担保降费通知"]
    assert digests(broken, OTHER_ROOM) == []
    broken.db.close()

    fixed = other_app(broken, clock)  # template fixed, bot restarted within the grace period
    build_scheduler(fixed)
    assert digests(fixed, MEMBERS_ROOM) == ["摘要：小微企业融资担保降费通知"]
    assert len(digests(fixed, OTHER_ROOM)) == 1
    fixed.db.close()


# -- when ---------------------------------------------------------------------------------------


def test_due_time_decides_which_missed_run_still_runs() -> None:
    cron, grace = "0 9 * * 1", timedelta(minutes=180)
    assert due_time(cron, TZ, START, grace) == START
    assert due_time(cron, TZ, START + timedelta(hours=2, minutes=59), grace) == START
    assert due_time(cron, TZ, START + timedelta(hours=3, minutes=1), grace) is None
    assert due_time(cron, TZ, START - timedelta(minutes=1), grace) is None
    utc = START.astimezone(ZoneInfo("UTC"))  # 01:00 UTC is 09:00 in Shanghai
    assert due_time(cron, TZ, utc, grace) == START
    # grace_minutes 0 still lets a firing a few seconds late through, not a later one.
    assert due_time(cron, TZ, START + timedelta(seconds=30), timedelta(0)) is None
    assert due_time(cron, TZ, START + timedelta(seconds=30), timedelta(minutes=1)) == START


async def test_cron_job_is_stored_in_shanghai_time_with_the_grace_period(app: Services) -> None:
    async with started(app, paused=True):
        job = stored_jobs(app)[WEEKLY]

    now = datetime.now(TZ)
    monday = now.date() + timedelta(days=-now.weekday() % 7)
    expected = datetime.combine(monday, time(9), tzinfo=TZ)
    if expected <= now:
        expected += timedelta(days=7)
    assert job["func"] == "handlers.policies.broadcast_schedule:broadcast_job"
    assert job["args"] == ("weekly",)
    assert job["trigger"].timezone == TZ
    assert job["next_run_time"] == expected
    assert job["next_run_time"].utcoffset() == timedelta(hours=8)
    assert job["misfire_grace_time"] == 180 * 60
    assert job["coalesce"] is True
    assert job["max_instances"] == 1


async def test_restart_keeps_the_stored_next_run_unless_the_schedule_changed(
    app: Services, clock: FrozenClock
) -> None:
    missed = datetime.now(TZ).replace(microsecond=0) - timedelta(minutes=30)
    async with started(app, paused=True) as scheduler:
        scheduler.modify_job(WEEKLY, next_run_time=missed)  # due while the bot was down

    again = other_app(app, clock)
    async with started(again, paused=True):
        kept = stored_jobs(again)[WEEKLY]
    again.db.close()
    assert kept["next_run_time"] == missed

    changed = other_app(app, clock, broadcasts=[{"id": "weekly", "cron": "30 8 * * 5"}])
    async with started(changed, paused=True):
        moved = stored_jobs(changed)[WEEKLY]
    changed.db.close()
    assert moved["next_run_time"] > datetime.now(TZ)
    assert moved["next_run_time"].astimezone(TZ).strftime("%a %H:%M") == "Fri 08:30"


def _far_from_now() -> list[dict[str, Any]]:
    """The weekly broadcast daily at an hour twelve hours from the real now. APScheduler
    counts missed runs on the real clock: on a Monday just after 09:00 (the demo's time) a
    regular run fell inside the grace period and ran, and the skipped-run test failed on
    Mondays 09:00-10:00 Asia/Shanghai. (A run that is skipped never reaches the frozen
    clock's due check, so the hour matters only to APScheduler.)"""
    hour = (datetime.now(TZ).hour + 12) % 24
    cron = f"0 {hour} * * *"
    return [{"id": "weekly", "cron": cron, "target": "all", "template": "digest", "max_items": 5}]


async def _start_after_downtime(
    app: Services,
    clock: FrozenClock,
    down: timedelta,
    schedule: list[dict[str, Any]] | None = None,
) -> list[int]:
    """Stop with the weekly run `down` ago and start again; the scheduler's events."""
    overrides: dict[str, Any] = {"broadcasts": schedule} if schedule else {}
    first = other_app(app, clock, **overrides)
    try:
        async with started(first, paused=True) as scheduler:
            scheduler.modify_job(WEEKLY, next_run_time=datetime.now(TZ) - down)
    finally:
        first.db.close()
    again = other_app(app, clock, **overrides)
    done = asyncio.Event()
    codes: list[int] = []

    def listen(event: JobEvent) -> None:
        if event.job_id == WEEKLY:
            codes.append(event.code)
            done.set()

    try:
        with running(again):
            async with started(again) as scheduler:
                scheduler.add_listener(
                    listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
                )
                await asyncio.wait_for(done.wait(), timeout=10)
                await asyncio.sleep(0)
            assert stored_jobs(again)[WEEKLY]["next_run_time"] > datetime.now(TZ)
    finally:
        again.db.close()
    return codes


async def test_a_run_missed_inside_the_grace_period_runs_once_on_start(
    app: Services, clock: FrozenClock
) -> None:
    meet(app)
    add_policy(app, "小微企业融资担保降费通知", 1)

    codes = await _start_after_downtime(app, clock, timedelta(minutes=40))

    assert codes == [EVENT_JOB_EXECUTED]
    assert len(digests(app, MEMBERS_ROOM)) == len(digests(app, OTHER_ROOM)) == 1


async def test_a_run_missed_beyond_the_grace_period_is_skipped(
    app: Services, clock: FrozenClock
) -> None:
    meet(app)
    add_policy(app, "小微企业融资担保降费通知", 1)

    codes = await _start_after_downtime(app, clock, timedelta(hours=4), _far_from_now())

    assert codes == [EVENT_JOB_MISSED]
    assert digests(app, MEMBERS_ROOM) == []


def test_config_broadcasts_are_synced_and_cli_ones_kept(app: Services, clock: FrozenClock) -> None:
    now = to_db(clock.now())
    for row in ({"id": "adhoc", "origin": "cli"}, {"id": "retired", "origin": "config"}):
        app.db.table("broadcasts").insert(
            {
                **row,
                "cron": "0 8 * * *",
                "target": "all",
                "template": "digest",
                "max_items": 3,
                "enabled": 1,
                "created_at": now,
            }
        )

    build_scheduler(app)

    rows = app.db.execute("select id, origin from broadcasts order by id").fetchall()
    assert [tuple(r) for r in rows] == [("adhoc", "cli"), ("weekly", "config")]


# -- quiet hours ----------------------------------------------------------------------------------


async def _no_sleep(seconds: float) -> None:
    return None


async def test_a_digest_run_at_night_is_held_until_the_morning(
    app: Services, clock: FrozenClock
) -> None:
    meet(app)
    add_policy(app, "小微企业融资担保降费通知", 1)
    clock.set(datetime(2026, 11, 16, 23, 0, tzinfo=TZ))

    run_broadcast(app, "weekly", clock.now())

    morning = datetime(2026, 11, 17, 8, 0, tzinfo=TZ)
    rows = app.db.execute("select not_before from outbox order by id").fetchall()
    assert [r[0] for r in rows] == [to_db(morning)] * 2
    transport = TestTransport(app.people.name)
    sender = Sender(app.outbox, transport, app.config.pacing, clock=clock, sleep=_no_sleep)
    assert await sender.drain_once() == 0
    clock.set(morning - timedelta(minutes=1))
    assert await sender.drain_once() == 0
    clock.set(morning)
    assert await sender.drain_once() == 2
    assert {o.conversation_id for o in transport.received} == {MEMBERS_ROOM, OTHER_ROOM}


# -- the CLI --------------------------------------------------------------------------------------


def _cli_config(tmp_path: Path) -> Path:
    data = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    data.pop("policies", None)
    data.update(data_dir=str(tmp_path), database="cli.db")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _cli(config: Path, *argv: str) -> int:
    return main([*argv, "--config", str(config)])


def test_cli_adds_lists_previews_runs_and_removes_broadcasts(
    tmp_path: Path, clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _cli_config(tmp_path)
    app = build_services(demo_config(), db_path=tmp_path / "cli.db", clock=clock)
    meet(app)
    add_policy(app, "外贸企业出口退税办理指引", 2, "外贸")
    app.db.close()

    assert _cli(config, "group", "tag", "会员二群", "外贸", "跨境") == 0
    assert "会员二群的标签设为：外贸、跨境" in capsys.readouterr().out
    assert (
        _cli(
            config, "broadcast", "add", "trade", "--cron", "0 10 * * 3", "--target", "外贸 | 跨境"
        )
        == 0
    )
    assert "已添加广播 trade" in capsys.readouterr().out
    assert _cli(config, "broadcast", "list") == 0
    listing = capsys.readouterr().out
    assert "trade｜0 10 * * 3｜目标：外贸 | 跨境（1 个群）" in listing
    assert "weekly｜0 9 * * 1｜目标：全部会员群（2 个群）" in listing

    assert _cli(config, "broadcast", "preview", "trade") == 0
    shown = capsys.readouterr().out
    assert "会员二群" in shown
    assert "外贸企业出口退税办理指引" in shown
    assert _cli(config, "broadcast", "run", "trade") == 0
    assert "会员二群 1 条" in capsys.readouterr().out

    assert _cli(config, "broadcast", "remove", "weekly") == 1
    assert "写在配置文件" in capsys.readouterr().err
    assert _cli(config, "broadcast", "add", "bad", "--cron", "0 9 * *") == 2
    assert "cron 无效" in capsys.readouterr().err
    assert _cli(config, "broadcast", "remove", "trade") == 0

    check = build_services(demo_config(), db_path=tmp_path / "cli.db", clock=clock)
    assert len(digests(check, OTHER_ROOM)) == 1
    assert digests(check, MEMBERS_ROOM) == []
    jobs = [r[0] for r in check.db.execute("select id from scheduler_jobs").fetchall()]
    assert WEEKLY in jobs
    assert "broadcast:trade" not in jobs
    check.db.close()


def test_crontab_weekday_numbers_mean_what_crontab_means() -> None:
    """APScheduler 3 counts 0 as Monday; `0 9 * * 1` must still mean Mondays."""
    sunday = START - timedelta(days=1)
    assert due_time("0 9 * * 0", TZ, sunday, timedelta(minutes=1)) == sunday
    assert due_time("0 9 * * 7", TZ, sunday, timedelta(minutes=1)) == sunday
    assert due_time("0 9 * * 1-5", TZ, START, timedelta(minutes=1)) == START
    assert due_time("0 9 * * 1-5", TZ, sunday, timedelta(minutes=1)) is None
    assert due_time("0 9 * * */2", TZ, sunday, timedelta(minutes=1)) == sunday  # 0, 2, 4, 6
    assert due_time("0 9 * * */2", TZ, START, timedelta(minutes=1)) is None
    with pytest.raises(ValueError, match="backwards"):
        due_time("0 9 * * 5-1", TZ, START, timedelta(minutes=1))
