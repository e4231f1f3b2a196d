"""What another process queues (a CLI command while the bot runs) is sent within 2 s: the
sender reads SQLite's PRAGMA data_version at least once a second in every wait, idle or
pacing a backlog. Time is the frozen clock, moved by the injected sleep; the "other
process" is a second connection to the same file committing from inside that sleep."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.config import Pacing
from bot.messages import Outgoing
from bot.outbox import Queued
from bot.sender import Sender
from bot.services import Services
from channels.test import TestTransport
from tests.conftest import MEMBERS_ROOM, OTHER_ROOM, STAFF_ROOM, START, demo_config, make_services

ONE_SECOND = timedelta(seconds=1)


@dataclass
class _Delivered(TestTransport):
    """The test transport, noting when each message arrived (frozen clock)."""

    clock: FrozenClock | None = None
    at: dict[str, datetime] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    slept: list[float] = field(default_factory=list)
    slept_before_send: list[float] = field(default_factory=list)

    async def send(self, out: Outgoing) -> None:
        self.record(out)
        assert self.clock is not None
        self.at[out.text] = self.clock.now()
        self.slept_before_send = list(self.slept)
        self.arrived.set()

    def texts(self, conversation_id: str) -> list[str]:
        return [o.text for o in self.received if o.conversation_id == conversation_id]


@dataclass
class _OtherProcess:
    """`chamberbot broadcast run` in a shell: its own connection, committing one row when
    `when()` first says so, at the start of a sleep of the bot's (before time moves on:
    the worst moment, just after the sender looked)."""

    app: Services
    clock: FrozenClock
    row: Outgoing
    when: Callable[[float], bool]
    committed_at: datetime | None = None
    slept: list[float] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self.committed_at is None and self.when(seconds):
            with self.app.db.atomic():
                self.app.outbox.enqueue([self.row], scheduled=True)
            self.committed_at = self.clock.now()
        self.clock.advance(seconds=seconds)
        await asyncio.sleep(0)


async def _run_until(sender: Sender, done: Callable[[], bool]) -> None:
    task = asyncio.create_task(sender.run())
    try:
        for _ in range(20_000):
            await asyncio.sleep(0)
            if done():
                return
        raise AssertionError("never done")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
def cli(tmp_path: Path, clock: FrozenClock, app: Services) -> Iterator[Services]:
    other = make_services(demo_config(), tmp_path / "bot.db", clock)
    yield other
    other.close()


async def test_a_row_queued_by_another_process_goes_out_within_a_second_when_idle(
    app: Services, clock: FrozenClock, cli: Services
) -> None:
    other = _OtherProcess(cli, clock, Outgoing(MEMBERS_ROOM, "本周政策速递"), lambda _: True)
    transport = _Delivered(app.people.name, clock=clock, slept=other.slept)
    sender = Sender(app.outbox, transport, app.config.pacing, sleep=other.sleep)

    await _run_until(sender, lambda: bool(transport.received))

    assert transport.texts(MEMBERS_ROOM) == ["本周政策速递"]
    assert other.committed_at == START  # right after the idle sender's first look
    # One 1 s poll saw the commit; the wait for it stands in for the jitter.
    assert transport.slept_before_send == [1.0]
    latency = transport.at["本周政策速递"] - other.committed_at
    assert latency == ONE_SECOND < 2 * ONE_SECOND


async def test_a_commit_just_after_the_sender_looked_is_not_missed(
    app: Services, clock: FrozenClock, cli: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other process commits between the sender's read of the outbox and its wait."""
    look = app.outbox.heads
    committed: list[datetime] = []

    def heads_then_commit(now: datetime, channel: str | None = None) -> Iterator[Queued]:
        found = list(look(now, channel))  # read before the other process commits
        if not committed:
            with cli.db.atomic():
                cli.outbox.enqueue([Outgoing(MEMBERS_ROOM, "本周政策速递")], scheduled=True)
            committed.append(clock.now())
        return iter(found)

    monkeypatch.setattr(app.outbox, "heads", heads_then_commit)
    transport = _Delivered(app.people.name, clock=clock)
    other = _OtherProcess(cli, clock, Outgoing(STAFF_ROOM, "-"), lambda _: False)
    sender = Sender(app.outbox, transport, app.config.pacing, sleep=other.sleep)

    await _run_until(sender, lambda: bool(transport.received))

    assert transport.at["本周政策速递"] - committed[0] == ONE_SECOND  # the first poll


async def test_a_row_for_another_group_overtakes_a_paced_backlog_within_a_second(
    app: Services, clock: FrozenClock, cli: Services
) -> None:
    backlog = [f"第{i}条" for i in range(1, 101)]  # 100 messages to one group, 3 s apart
    app.outbox.enqueue(Outgoing(MEMBERS_ROOM, text) for text in backlog)
    pacing = app.config.pacing  # the demo's: 3 s gap, 20 a minute, jitter up to 1.5 s
    transport = _Delivered(app.people.name, clock=clock)
    # The CLI commits when the bot, having sent three, waits for the group's next slot.
    row = Outgoing(OTHER_ROOM, "活动通知")
    other = _OtherProcess(cli, clock, row, lambda _: len(transport.received) == 3)
    transport.slept = other.slept
    rng = random.Random(5)
    sender = Sender(app.outbox, transport, pacing, sleep=other.sleep, rng=rng)

    await _run_until(sender, lambda: len(transport.texts(MEMBERS_ROOM)) == 6)

    assert other.committed_at is not None
    assert transport.texts(OTHER_ROOM) == ["活动通知"]
    assert transport.at["活动通知"] - other.committed_at <= ONE_SECOND
    assert transport.received[3].text == "活动通知"  # right after the third, not the 100th
    # The group's backlog kept its order and its pace meanwhile.
    assert transport.texts(MEMBERS_ROOM) == backlog[:6]
    times = [transport.at[text] for text in backlog[:6]]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    gap, jitter = pacing.min_gap_seconds, pacing.jitter_seconds
    assert all(gap <= g <= gap + jitter for g in gaps), gaps


async def test_a_row_noticed_just_as_the_backlog_may_go_again_goes_first(
    app: Services, clock: FrozenClock, cli: Services
) -> None:
    """The commit lands in the last poll step before the group's next slot: both rows may
    go when the step ends; the noticed one goes first and without jitter (it has waited
    for the poll), the backlog's next row after it with its jitter."""
    backlog = [f"第{i}条" for i in range(1, 11)]
    app.outbox.enqueue(Outgoing(MEMBERS_ROOM, text) for text in backlog)
    transport = _Delivered(app.people.name, clock=clock)
    steps_after_third: list[float] = []

    def last_step_before_the_slot(seconds: float) -> bool:
        if len(transport.received) == 3:
            steps_after_third.append(seconds)
        return len(steps_after_third) == 3  # the gap is 3 s: the third 1 s step ends it

    other = _OtherProcess(cli, clock, Outgoing(OTHER_ROOM, "活动通知"), last_step_before_the_slot)
    transport.slept = other.slept
    sender = Sender(
        app.outbox, transport, app.config.pacing, sleep=other.sleep, rng=random.Random(2)
    )

    await _run_until(sender, lambda: len(transport.received) == 5)

    assert steps_after_third == [1.0, 1.0, 1.0]
    assert other.committed_at is not None
    assert [o.text for o in transport.received] == [*backlog[:3], "活动通知", "第4条"]
    assert transport.at["活动通知"] - other.committed_at == ONE_SECOND
    third, fourth = transport.at["第3条"], transport.at["第4条"]
    assert transport.at["活动通知"] == third + timedelta(seconds=3)  # the slot, no jitter
    assert fourth > transport.at["活动通知"]  # its own jitter after
    assert fourth - third <= timedelta(seconds=3 + app.config.pacing.jitter_seconds)


async def test_a_row_for_the_same_group_keeps_its_place_behind_the_backlog(
    app: Services, clock: FrozenClock, cli: Services
) -> None:
    app.outbox.enqueue(Outgoing(MEMBERS_ROOM, text) for text in ("一", "二", "三"))
    transport = _Delivered(app.people.name, clock=clock)
    row = Outgoing(MEMBERS_ROOM, "四（命令行）")
    other = _OtherProcess(cli, clock, row, lambda _: len(transport.received) == 1)
    transport.slept = other.slept
    pacing = Pacing(min_gap_seconds=3, global_per_minute=20, jitter_seconds=0)
    sender = Sender(app.outbox, transport, pacing, sleep=other.sleep)

    await _run_until(sender, lambda: len(transport.received) == 4)

    assert transport.texts(MEMBERS_ROOM) == [
        "一",
        "二",
        "三",
        "四（命令行）",
    ]  # first in, first out
    assert [transport.at[t] - START for t in ("二", "三", "四（命令行）")] == [
        timedelta(seconds=3),
        timedelta(seconds=6),
        timedelta(seconds=9),
    ]


async def test_behind_the_global_rate_limit_a_later_row_waits_its_turn(
    app: Services, clock: FrozenClock, cli: Services
) -> None:
    """By design: a digest to many groups fills the minute's budget, and what comes later —
    from this process or another — goes in queue order when the budget allows."""
    rooms = [f"room_{i}" for i in range(4)]
    app.outbox.enqueue(Outgoing(room, "政策速递") for room in rooms)
    transport = _Delivered(app.people.name, clock=clock)
    other = _OtherProcess(
        cli, clock, Outgoing(STAFF_ROOM, "抓取完成"), lambda _: len(transport.received) == 2
    )
    transport.slept = other.slept
    pacing = Pacing(min_gap_seconds=0, global_per_minute=2, jitter_seconds=0)
    sender = Sender(app.outbox, transport, pacing, sleep=other.sleep)

    await _run_until(sender, lambda: len(transport.received) == 5)

    assert [o.conversation_id for o in transport.received] == [*rooms, STAFF_ROOM]
    assert transport.at["抓取完成"] - START == timedelta(minutes=2)  # the third minute's slot
    # It waited for the slot in 1 s steps: it saw the row at once, the budget held it.
    assert set(other.slept) == {1.0}


async def test_an_idle_sender_with_nothing_new_keeps_polling_quietly(
    app: Services, clock: FrozenClock
) -> None:
    polls: list[float] = []
    enough = asyncio.Event()

    async def sleep(seconds: float) -> None:
        polls.append(seconds)
        clock.advance(seconds=seconds)
        if len(polls) == 5:
            enough.set()
        await asyncio.sleep(0)

    transport = _Delivered(app.people.name, clock=clock)
    task = asyncio.create_task(Sender(app.outbox, transport, app.config.pacing, sleep=sleep).run())
    try:
        await asyncio.wait_for(enough.wait(), timeout=10)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    assert polls[:5] == [1.0] * 5
    assert transport.received == []
