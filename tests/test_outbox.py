"""Delivery: paced, in order, quiet at night, retried, and never twice — on a real SQLite file.

The gateway below stands in for the network; time moves only through the frozen clock,
which the fake `sleep` advances, so nothing here really waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FrozenClock
from bot.config import Pacing, QuietHours
from bot.db import to_db
from bot.messages import Outgoing
from bot.outbox import Queued, Sender, quiet_until
from bot.sender import INTERRUPTED
from bot.services import Services
from bot.transport import OnMessage, TransportError
from chamberbot.root import services as build_services
from tests.conftest import MEMBERS_ROOM, OTHER_ROOM, STAFF_ROOM, START, TZ, demo_config

STEADY = Pacing(min_gap_seconds=0, global_per_minute=1000, jitter_seconds=0)


class Gateway:
    """Records what it accepted and when; raises the errors queued for a text; can hold a
    send in flight (what the sender must survive, beyond the test transport's recording)."""

    channel = "wechat"

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.sent: list[tuple[datetime, Outgoing]] = []
        self.tries: list[tuple[datetime, str]] = []
        self.errors: dict[str, list[Exception]] = {}
        self.hold: asyncio.Event | None = None  # when set up, a send hangs until released
        self.tried = asyncio.Event()
        self.delivered = asyncio.Event()

    def fail(self, text: str, *errors: Exception) -> None:
        self.errors[text] = list(errors)

    async def start(self, on_message: OnMessage) -> None:
        return None

    async def send(self, out: Outgoing) -> None:
        self.tries.append((self.clock.now(), out.text))
        self.tried.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.errors.get(out.text):
            raise self.errors[out.text].pop(0)
        self.sent.append((self.clock.now(), out))
        self.delivered.set()

    async def stop(self) -> None:
        return None

    def texts(self, conversation_id: str | None = None) -> list[str]:
        return [o.text for _, o in self.sent if conversation_id in (None, o.conversation_id)]

    def times(self, conversation_id: str | None = None) -> list[datetime]:
        return [t for t, o in self.sent if conversation_id in (None, o.conversation_id)]


class Sleep:
    """The injected sleep: records each wait and moves the frozen clock by it."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(seconds=seconds)
        await asyncio.sleep(0)


class Failures(list[tuple[Outgoing, str]]):
    def __call__(self, out: Outgoing, reason: str) -> None:
        self.append((out, reason))


def sender(
    app: Services,
    gateway: Gateway,
    sleep: Sleep,
    pacing: Pacing = STEADY,
    *,
    on_failed: Failures | None = None,
    seed: int = 1,
    poll_seconds: float = 1.0,
) -> Sender:
    return Sender(
        app.outbox,
        gateway,
        pacing,
        on_failed,
        sleep=sleep,
        rng=random.Random(seed),
        poll_seconds=poll_seconds,
    )


def queue(app: Services, conversation_id: str, *texts: str) -> None:
    app.outbox.enqueue(Outgoing(conversation_id, text) for text in texts)


def at(hour: int, minute: int = 0, second: float = 0, *, day: int = 16) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ) + timedelta(seconds=second)


def rows(app: Services) -> dict[str, dict[str, object]]:
    return {str(r["text"]): r for r in app.db.table("outbox").rows}


async def run_until(sent: Sender, done: Callable[[], bool], steps: int = 5000) -> None:
    """Run the sender loop until `done()`; the fake sleep makes its waits instant."""
    task = asyncio.create_task(sent.run())
    try:
        for _ in range(steps):
            await asyncio.sleep(0)
            if done():
                return
        raise AssertionError("the sender never finished")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def all_settled(app: Services) -> Callable[[], bool]:
    return lambda: app.outbox.pending_count() == 0


# -- pacing -----------------------------------------------------------------------------


async def test_one_message_per_gap_to_a_group_in_queue_order_others_not_held(
    app: Services, clock: FrozenClock
) -> None:
    gateway, sleep = Gateway(clock), Sleep(clock)
    pacing = Pacing(min_gap_seconds=3, global_per_minute=100, jitter_seconds=0)
    queue(app, MEMBERS_ROOM, "一", "二", "三")
    queue(app, OTHER_ROOM, "甲")

    await run_until(sender(app, gateway, sleep, pacing), all_settled(app))

    assert gateway.texts(MEMBERS_ROOM) == ["一", "二", "三"]
    assert gateway.times(MEMBERS_ROOM) == [START, at(9, 0, 3), at(9, 0, 6)]
    assert gateway.times(OTHER_ROOM) == [START]
    # It waited for exactly the next slot each time, in 1 s steps that watch for rows
    # another process queues meanwhile (tests/test_sender_watch.py): no busier polling.
    assert sleep.calls[:6] == [1.0] * 6


async def test_global_rate_is_a_sliding_minute(app: Services, clock: FrozenClock) -> None:
    gateway, sleep = Gateway(clock), Sleep(clock)
    pacing = Pacing(min_gap_seconds=0, global_per_minute=2, jitter_seconds=0)
    for i in range(5):
        queue(app, f"room_{i}", f"通知{i}")

    await run_until(sender(app, gateway, sleep, pacing), all_settled(app))

    assert gateway.texts() == [f"通知{i}" for i in range(5)]
    assert gateway.times() == [START, START, at(9, 1), at(9, 1), at(9, 2)]


async def test_each_send_waits_a_random_jitter_within_bounds(
    app: Services, clock: FrozenClock
) -> None:
    gateway, sleep = Gateway(clock), Sleep(clock)
    pacing = Pacing(min_gap_seconds=0, global_per_minute=100, jitter_seconds=1.5)
    for i in range(6):
        queue(app, f"room_{i}", f"通知{i}")

    assert await sender(app, gateway, sleep, pacing, seed=7).drain_once() == 6

    draws = random.Random(7)
    assert sleep.calls == [draws.uniform(0, 1.5) for _ in range(6)]
    assert all(0 <= s <= 1.5 for s in sleep.calls)
    assert len(set(sleep.calls)) == 6
    elapsed = [(t - START).total_seconds() for t in gateway.times()]
    assert elapsed == pytest.approx([sum(sleep.calls[: i + 1]) for i in range(6)])


async def test_gap_and_jitter_together_keep_a_group_between_gap_and_gap_plus_jitter(
    app: Services, clock: FrozenClock
) -> None:
    gateway, sleep = Gateway(clock), Sleep(clock)
    pacing = Pacing(min_gap_seconds=3, global_per_minute=100, jitter_seconds=1.5)
    queue(app, MEMBERS_ROOM, *[f"第{i}条" for i in range(5)])

    await run_until(sender(app, gateway, sleep, pacing, seed=3), all_settled(app))

    times = gateway.times(MEMBERS_ROOM)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert gateway.texts() == [f"第{i}条" for i in range(5)]
    assert all(3 <= g <= 4.5 for g in gaps), gaps


async def test_drain_once_sends_only_what_may_go_now(app: Services, clock: FrozenClock) -> None:
    gateway, sleep = Gateway(clock), Sleep(clock)
    pacing = Pacing(min_gap_seconds=3, global_per_minute=100, jitter_seconds=0)
    queue(app, MEMBERS_ROOM, "一", "二")
    paced = sender(app, gateway, sleep, pacing)

    assert await paced.drain_once() == 1
    assert await paced.drain_once() == 0
    clock.advance(seconds=3)
    assert await paced.drain_once() == 1
    assert gateway.texts() == ["一", "二"]
    assert sleep.calls == []


async def test_unpaced_drain_sends_everything_at_once_even_at_night(
    app: Services, clock: FrozenClock
) -> None:
    """What the console demo does after each typed line: replies print immediately."""
    gateway, sleep = Gateway(clock), Sleep(clock)
    clock.set(at(23))
    queue(app, MEMBERS_ROOM, "一", "二", "三")
    queue(app, STAFF_ROOM, "甲")
    console = sender(app, gateway, sleep, app.config.pacing)

    assert await console.drain_once(paced=False) == 4
    assert gateway.texts(MEMBERS_ROOM) == ["一", "二", "三"]
    assert set(gateway.times()) == {at(23)}
    assert sleep.calls == []


# -- quiet hours ------------------------------------------------------------------------


async def test_a_scheduled_message_queued_at_23_goes_out_at_8_not_before(
    app: Services, clock: FrozenClock
) -> None:
    gateway, sleep = Gateway(clock), Sleep(clock)
    clock.set(at(23))
    app.outbox.enqueue([Outgoing(MEMBERS_ROOM, "政策速递")], scheduled=True)
    app.outbox.enqueue([Outgoing(STAFF_ROOM, "超时提醒")], scheduled=True)  # staff wait too
    # Watching for other processes once a minute, not once a second: 9 frozen hours of
    # 1 s steps would only make the test slow (tests/test_sender_watch.py covers those).
    night = sender(app, gateway, sleep, poll_seconds=60)

    assert await night.drain_once() == 0
    await run_until(night, all_settled(app))

    assert gateway.texts() == ["政策速递", "超时提醒"]
    assert gateway.times()[0] == at(8, day=17)
    assert [t for t, _ in gateway.tries] == gateway.times()  # nothing was tried earlier
    assert max(sleep.calls) <= 60  # it looked again at most once a minute, no busy loop


async def test_a_reply_at_night_goes_at_once_and_overtakes_the_waiting_digest(
    app: Services, clock: FrozenClock
) -> None:
    """Someone who writes at 23:00 gets the answer now; the digest still waits."""
    gateway, sleep = Gateway(clock), Sleep(clock)
    clock.set(at(23))
    app.outbox.enqueue([Outgoing(MEMBERS_ROOM, "政策速递")], scheduled=True)
    app.outbox.enqueue([Outgoing(MEMBERS_ROOM, "已收到您的诉求")])

    assert await sender(app, gateway, sleep).drain_once() == 1
    assert gateway.texts() == ["已收到您的诉求"]
    assert gateway.times() == [at(23)]


def test_quiet_hours_wrap_midnight_and_equal_ends_mean_none() -> None:
    night = QuietHours(start="22:00", end="08:00")
    assert quiet_until(night, at(21, 59)) is None
    assert quiet_until(night, at(22)) == at(8, day=17)
    assert quiet_until(night, at(3, day=17)) == at(8, day=17)
    assert quiet_until(night, at(8, day=17)) is None
    lunch = QuietHours(start="12:00", end="13:30")
    assert quiet_until(lunch, at(12, 45)) == at(13, 30)
    assert quiet_until(lunch, at(13, 30)) is None
    assert quiet_until(QuietHours(start="00:00", end="00:00"), at(3)) is None
    assert quiet_until(None, at(3)) is None


# -- failures ---------------------------------------------------------------------------


async def test_transient_failure_retries_in_order_without_holding_other_groups(
    app: Services, clock: FrozenClock
) -> None:
    gateway, sleep = Gateway(clock), Sleep(clock)
    gateway.fail("一", TransportError("gateway unreachable"), TransportError("timeout"))
    queue(app, MEMBERS_ROOM, "一", "二")
    queue(app, OTHER_ROOM, "甲")
    retrying = sender(app, gateway, sleep)

    assert await retrying.drain_once() == 1
    assert gateway.texts() == ["甲"]  # "二" waits behind "一"; the other group does not
    await run_until(retrying, all_settled(app))

    assert gateway.texts(MEMBERS_ROOM) == ["一", "二"]
    assert [text for _, text in gateway.tries].count("一") == 3
    first, second, third = (t for t, text in gateway.tries if text == "一")
    assert timedelta(seconds=1) <= second - first <= timedelta(seconds=2)  # 2 s × [0.5, 1]
    assert timedelta(seconds=2) <= third - second <= timedelta(seconds=4)  # 4 s × [0.5, 1]
    assert gateway.times(MEMBERS_ROOM)[1] >= gateway.times(MEMBERS_ROOM)[0]
    assert rows(app)["一"]["status"] == "sent"
    assert rows(app)["一"]["attempts"] == 3


async def test_rows_held_without_any_io_do_not_keep_the_event_loop(
    app: Services, clock: FrozenClock
) -> None:
    """A transport that settles a send at once (微信客服 holds a row for a closed window
    without a request): the sender yields after each, so the loop serves others meanwhile
    (before: 2,500 such rows kept it for 10 s, and WeCom's callbacks timed out)."""
    gateway, sleep = Gateway(clock), Sleep(clock)
    texts = [f"第{i}条" for i in range(40)]
    for text in texts:
        gateway.fail(text, TransportError("客服窗口已过（48小时/5条）", held=True))
    queue(app, MEMBERS_ROOM, *texts)
    turns = 0

    async def other_work() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(other_work())
    await asyncio.sleep(0)
    try:
        assert await sender(app, gateway, sleep).drain_once() == 0
    finally:
        other.cancel()
    assert {str(r["status"]) for r in rows(app).values()} == {"held"}
    assert turns >= len(texts)  # a turn of the loop for the others after each row


async def test_an_unexpected_transport_exception_is_retried_not_fatal(
    app: Services, clock: FrozenClock
) -> None:
    gateway, sleep = Gateway(clock), Sleep(clock)
    gateway.fail("一", RuntimeError("socket closed"))
    queue(app, MEMBERS_ROOM, "一")

    await run_until(sender(app, gateway, sleep), all_settled(app))

    assert gateway.texts() == ["一"]
    assert rows(app)["一"]["status"] == "sent"


async def test_permanent_failure_is_reported_once_and_never_retried(
    app: Services, clock: FrozenClock
) -> None:
    gateway, sleep, failures = Gateway(clock), Sleep(clock), Failures()
    gateway.fail("一", TransportError("bot removed from the group", permanent=True))
    queue(app, MEMBERS_ROOM, "一", "二")
    giving_up = sender(app, gateway, sleep, on_failed=failures)

    await run_until(giving_up, all_settled(app))
    clock.advance(hours=1)
    assert await giving_up.drain_once() == 0

    assert gateway.texts() == ["二"]
    assert [text for _, text in gateway.tries] == ["一", "二"]
    assert failures == [(Outgoing(MEMBERS_ROOM, "一"), "bot removed from the group")]
    assert rows(app)["一"]["status"] == "failed"
    assert rows(app)["一"]["error"] == "bot removed from the group"


async def test_gives_up_after_max_attempts_with_capped_backoff(
    app: Services, clock: FrozenClock
) -> None:
    gateway, sleep, failures = Gateway(clock), Sleep(clock), Failures()
    gateway.fail("一", *[TransportError("gateway unreachable") for _ in range(10)])
    queue(app, MEMBERS_ROOM, "一")
    pacing = Pacing(
        min_gap_seconds=0,
        global_per_minute=100,
        jitter_seconds=0,
        retry_max_seconds=5,
        max_attempts=5,
    )

    await run_until(sender(app, gateway, sleep, pacing, on_failed=failures), all_settled(app))

    tries = [t for t, _ in gateway.tries]
    waits = [(b - a).total_seconds() for a, b in itertools.pairwise(tries)]
    assert len(tries) == 5
    assert all(1 <= w <= 5 + 1 for w in waits), waits  # never past the cap (+ rounding)
    assert failures == [(Outgoing(MEMBERS_ROOM, "一"), "gateway unreachable")]
    assert rows(app)["一"]["status"] == "failed"
    assert rows(app)["一"]["attempts"] == 5


# -- restarts ---------------------------------------------------------------------------


async def test_restart_resumes_pending_rows_and_never_resends_sent_ones(
    app: Services, clock: FrozenClock, tmp_path: Path
) -> None:
    pacing = Pacing(min_gap_seconds=3, global_per_minute=100, jitter_seconds=0)
    queue(app, MEMBERS_ROOM, "一", "二")
    before = Gateway(clock)
    assert await sender(app, before, Sleep(clock), pacing).drain_once() == 1

    again = build_services(demo_config(), db_path=tmp_path / "bot.db", clock=clock)
    try:
        after = Gateway(clock)
        await run_until(sender(again, after, Sleep(clock), pacing), all_settled(again))
    finally:
        again.db.close()

    assert before.texts() == ["一"]
    assert after.texts() == ["二"]
    assert after.times() == [at(9, 0, 3)]  # the gap holds across the restart


async def test_a_send_cut_off_by_shutdown_is_reported_not_sent_again(
    app: Services, clock: FrozenClock, tmp_path: Path
) -> None:
    queue(app, MEMBERS_ROOM, "一", "二")
    hanging = Gateway(clock)
    hanging.hold = asyncio.Event()  # the gateway never answers; then the bot stops
    running = asyncio.create_task(sender(app, hanging, Sleep(clock)).run())
    await asyncio.wait_for(hanging.tried.wait(), timeout=5)
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running

    again = build_services(demo_config(), db_path=tmp_path / "bot.db", clock=clock)
    failures = Failures()
    try:
        after = Gateway(clock)
        await run_until(sender(again, after, Sleep(clock), on_failed=failures), all_settled(again))
    finally:
        again.db.close()

    assert after.texts() == ["二"]
    assert failures == [(Outgoing(MEMBERS_ROOM, "一"), INTERRUPTED)]
    assert rows(app)["一"]["status"] == "unknown"


# -- what is queued ---------------------------------------------------------------------


async def test_phones_are_masked_for_members_and_shown_to_staff(
    app: Services, clock: FrozenClock
) -> None:
    text = "联系电话13812345678"
    for place in (MEMBERS_ROOM, STAFF_ROOM, "wxid_zhang", "wxid_wang"):
        queue(app, place, text)
    gateway = Gateway(clock)

    await sender(app, gateway, Sleep(clock)).drain_once()

    assert gateway.texts(MEMBERS_ROOM) == ["联系电话138****5678"]
    assert gateway.texts("wxid_zhang") == ["联系电话138****5678"]  # a member's private chat
    assert gateway.texts(STAFF_ROOM) == [text]
    assert gateway.texts("wxid_wang") == [text]  # a staff member's private chat


async def test_a_dedupe_key_queues_and_sends_once(app: Services, clock: FrozenClock) -> None:
    digest = [Outgoing(MEMBERS_ROOM, "本周政策")]
    assert app.outbox.enqueue(digest, dedupe_key="digest:2026-11-16:room_members") == 1
    assert app.outbox.enqueue(digest, dedupe_key="digest:2026-11-16:room_members") == 0
    gateway = Gateway(clock)

    await sender(app, gateway, Sleep(clock)).drain_once()
    app.outbox.enqueue(digest, dedupe_key="digest:2026-11-16:room_members")
    await sender(app, gateway, Sleep(clock)).drain_once()

    assert gateway.texts() == ["本周政策"]


async def test_an_idle_sender_wakes_on_enqueue_at_once(app: Services, clock: FrozenClock) -> None:
    gateway = Gateway(clock)
    asked: list[float] = []
    waiting = asyncio.Event()

    async def never(seconds: float) -> None:  # time stands still: only a wakeup helps
        asked.append(seconds)
        waiting.set()
        await asyncio.Event().wait()

    idle = Sender(app.outbox, gateway, STEADY, sleep=never)
    task = asyncio.create_task(idle.run())
    try:
        await asyncio.wait_for(waiting.wait(), timeout=5)
        queue(app, MEMBERS_ROOM, "您好")
        await asyncio.wait_for(gateway.delivered.wait(), timeout=5)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    assert gateway.times() == [START]
    assert asked[0] == 1.0  # its first data_version poll (tests/test_sender_watch.py)


async def test_one_look_at_the_outbox_sends_all_that_was_due_and_no_second_is_needed(
    app: Services, clock: FrozenClock
) -> None:
    """A reply goes after one read of the queue: with nothing behind it and nothing queued
    meanwhile, the sender waits for news instead of reading again (the read it saves
    delayed the next reply). Rows behind a head still make it read again."""
    gateway, sleep = Gateway(clock), Sleep(clock)
    looks = 0
    heads = app.outbox.heads

    def counted(*args: Any, **kwargs: Any) -> Iterator[Queued]:
        nonlocal looks
        looks += 1
        return heads(*args, **kwargs)

    app.outbox.heads = counted  # type: ignore[method-assign]
    queue(app, MEMBERS_ROOM, "回复一")
    queue(app, OTHER_ROOM, "回复二")
    queue(app, STAFF_ROOM, "早上八点的汇总")
    app.db.execute(
        "update outbox set not_before = ? where text = ?", [to_db(at(8, day=17)), "早上八点的汇总"]
    )
    sent = sender(app, gateway, sleep)

    assert await sent._drain(paced=True) == (2, at(8, day=17))
    assert looks == 1
    assert gateway.texts() == ["回复一", "回复二"]

    queue(app, MEMBERS_ROOM, "第一段", "第二段")  # two rows of one conversation
    assert (await sent._drain(paced=True))[0] == 2
    assert gateway.texts(MEMBERS_ROOM) == ["回复一", "第一段", "第二段"]


async def test_a_reply_queued_while_its_channel_sends_is_not_lost_to_another_channels_sender(
    app: Services, clock: FrozenClock
) -> None:
    """Two channels, two senders, one outbox: a reply queued for WeCom while WeCom's sender
    is busy sending goes out when that send ends, though WeChat's idle sender woke on it
    first (a wakeup one sender takes must not be lost to the other)."""
    wechat, wecom = Gateway(clock), Gateway(clock)
    wecom.channel = "wecom_bot"
    wecom.hold = asyncio.Event()

    async def never(seconds: float) -> None:  # time stands still: only a wakeup helps
        await asyncio.Event().wait()

    senders = [Sender(app.outbox, gw, STEADY, sleep=never) for gw in (wechat, wecom)]
    tasks = [asyncio.create_task(s.run()) for s in senders]
    try:
        for _ in range(20):
            await asyncio.sleep(0)  # both idle
        app.outbox.enqueue([Outgoing(MEMBERS_ROOM, "第一条", channel="wecom_bot")])
        await asyncio.wait_for(wecom.tried.wait(), timeout=1)  # held in flight
        app.outbox.enqueue([Outgoing(OTHER_ROOM, "第二条", channel="wecom_bot")])
        for _ in range(20):
            await asyncio.sleep(0)  # WeChat's sender wakes, finds nothing, waits again
        wecom.hold.set()
        for _ in range(200):
            await asyncio.sleep(0)
            if len(wecom.sent) == 2:
                break
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    assert wecom.texts() == ["第一条", "第二条"]
    assert wechat.texts() == []
