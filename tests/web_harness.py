"""The web console on 127.0.0.1 in the test's event loop, and Debian's Chromium driving it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Page, async_playwright

from bot.services import Services
from tests.conftest import ChatBot
from web.server import bind, serve
from web.store import Accounts, WebRole

__all__ = ["PASSWORD", "SHOTS", "WebRun", "delivered", "login", "web_console"]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct-horse-9"
SHOTS = Path(__file__).resolve().parent / "screenshots"


def delivered(bot: ChatBot, conversation_id: str) -> list[str]:
    """What the test transport received for one place (the outbox drained through it)."""
    return [o.text for o in bot.deliver() if o.conversation_id == conversation_id]


@dataclass
class WebRun:
    page: Page
    url: str
    shots: list[Path] = field(default_factory=list)

    async def shot(self, name: str, selector: str | None = None, *, full: bool = True) -> None:
        """The whole page (or one element, or only the viewport) as tests/screenshots/NAME.png."""
        SHOTS.mkdir(exist_ok=True)
        path = SHOTS / f"{name}.png"
        if selector:
            await self.page.locator(selector).screenshot(path=str(path))
        else:
            await self.page.screenshot(path=str(path), full_page=full)
        self.shots.append(path)


@asynccontextmanager
async def web_console(app: Services, *, mobile: bool = False) -> AsyncIterator[WebRun]:
    """Accounts `wang` (staff, 王科长) and `chen` (admin, 陈秘书长); a page in a browser."""
    accounts = Accounts(app.db)
    now = app.clock.now()
    accounts.add("wang", "wxid_wang", WebRole.STAFF, PASSWORD, now)
    accounts.add("chen", "wxid_chen", WebRole.ADMIN, PASSWORD, now)
    sock = bind("127.0.0.1:0")
    port = sock.getsockname()[1]
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, stop, sock))
    url = f"http://127.0.0.1:{port}"
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            width, height = (390, 844) if mobile else (1280, 900)
            context = await browser.new_context(
                base_url=url,
                accept_downloads=True,
                viewport={"width": width, "height": height},
                locale="zh-CN",
            )
            context.set_default_timeout(10_000)
            page = await context.new_page()
            try:
                yield WebRun(page, url)
            finally:
                await browser.close()
    finally:
        stop.set()
        await server


async def login(page: Page, username: str, password: str = PASSWORD) -> None:
    await page.goto("/login")
    await page.get_by_label("登录名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_load_state()
