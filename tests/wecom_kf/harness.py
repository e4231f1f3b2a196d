"""The bot's 微信客服 channel in the test's event loop, against the emulator: the real
transport, the callback route on the web console's real server (uvicorn on 127.0.0.1:0),
the real dispatcher, and the real outbox sender for the channel (drained by the test)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.config import Pacing, WecomKf
from bot.dispatcher import Dispatcher
from bot.messages import Incoming
from bot.sender import Sender
from bot.services import Services
from channels.wecom_kf import KfTransport
from channels.wecom_kf_app import KfSettings, callback_routes, kf_transport
from tests.wecom_kf.emulator import KfEmulator
from web.server import bind, serve

__all__ = ["KfBot", "kf_bot"]


@dataclass
class KfBot:
    app: Services
    emu: KfEmulator
    transport: KfTransport
    sender: Sender
    handled: list[Incoming]

    async def say(self, user: str, text: str, **kw: Any) -> int:
        """The customer writes; waits until the bot has read and handled it, then drains
        the outbox. The HTTP status the callback got."""
        before = len(self.handled)
        _, status = await asyncio.to_thread(self.emu.say, user, text, **kw)
        if status == 200:
            await self.until(lambda: self.transport.syncs > 0 and len(self.handled) > before)
        await self.drain()
        return status

    async def call(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """An emulator call that POSTs to the bot (off the loop the bot's server runs in)."""
        syncs = self.transport.syncs
        result = await asyncio.to_thread(fn, *args, **kw)
        await self.until(lambda: self.transport.syncs > syncs)
        return result

    async def drain(self) -> int:
        return await self.sender.drain_once(paced=False)

    async def until(self, done: Callable[[], bool], within: float = 5.0) -> None:
        end = time.monotonic() + within
        while not done():
            assert time.monotonic() < end, "timed out"
            await asyncio.sleep(0.01)


@asynccontextmanager
async def kf_bot(app: Services, emu: KfEmulator, **section: Any) -> AsyncIterator[KfBot]:
    settings = KfSettings(
        WecomKf(open_kfid=emu.open_kfid, api_url=emu.url, **section),
        emu.corp_id,
        emu.secret,
        emu.token,
        emu.aes_key,
    )
    transport = kf_transport(app, settings)
    transport.retry_seconds = 0.01
    dispatcher = Dispatcher(app)
    handled: list[Incoming] = []

    async def on_message(msg: Incoming) -> None:
        dispatcher.handle(msg)
        handled.append(msg)

    stop = asyncio.Event()
    sock = bind("127.0.0.1:0")
    port = sock.getsockname()[1]
    emu.callback_url = f"http://127.0.0.1:{port}{settings.section.callback_path}"
    server = asyncio.create_task(serve(app, stop, sock, callback_routes(transport, settings)))
    pacing = Pacing(retry_max_seconds=0.01, jitter_seconds=0)
    sender = Sender(app.outbox, transport, pacing, clock=app.clock)
    await transport.start(on_message)
    bot = KfBot(app, emu, transport, sender, handled)
    try:
        await bot.until(lambda: transport.syncs > 0)
        yield bot
    finally:
        await transport.stop()
        stop.set()
        await server
