"""What another process queues (a CLI command while the bot runs) is sent within 2 s:
the sender looks at SQLite's PRAGMA data_version once a second."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from bot.clock import FrozenClock
from bot.messages import Outgoing
from bot.sender import Sender
from bot.services import Services
from bot.transports.test import TestTransport
from tests.conftest import MEMBERS_ROOM, demo_config, make_services


@dataclass
class _Delivered(TestTransport):
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    slept: list[float] = field(default_factory=list)
    slept_before_send: list[float] = field(default_factory=list)

    async def send(self, out: Outgoing) -> None:
        self.record(out)
        self.slept_before_send = list(self.slept)
        self.arrived.set()


async def test_a_row_queued_by_another_process_goes_out_within_two_seconds(
    app: Services, clock: FrozenClock, tmp_path: Path
) -> None:
    cli = make_services(demo_config(), tmp_path / "bot.db", clock)  # `chamberbot broadcast run`
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds=seconds)
        if len(slept) == 1:  # while the idle bot waits, the other process commits a row
            with cli.db.atomic():
                cli.outbox.enqueue([Outgoing(MEMBERS_ROOM, "本周政策速递")], scheduled=True)
        await asyncio.sleep(0)

    transport = _Delivered(app.people.name, slept=slept)
    sender = Sender(app.outbox, transport, app.config.pacing, sleep=sleep)
    task = asyncio.create_task(sender.run())
    try:
        await asyncio.wait_for(transport.arrived.wait(), timeout=10)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        cli.close()

    assert [o.text for o in transport.received] == ["本周政策速递"]
    # The commit fell in the first 1 s poll; after it only the pacing jitter every send
    # waits (≤ pacing.jitter_seconds): sent within 1 s + jitter of the commit.
    (poll, jitter) = transport.slept_before_send
    assert poll == 1.0
    assert jitter <= app.config.pacing.jitter_seconds


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

    transport = _Delivered(app.people.name)
    task = asyncio.create_task(Sender(app.outbox, transport, app.config.pacing, sleep=sleep).run())
    try:
        await asyncio.wait_for(enough.wait(), timeout=10)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    assert polls[:5] == [1.0] * 5
    assert transport.received == []
