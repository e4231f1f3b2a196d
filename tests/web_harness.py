"""The web console on 127.0.0.1 in the test's event loop, and Debian's Chromium driving it;
or, for what is only HTTP (status codes, redirects, cookies, CSRF), an ASGI client.

One Chromium serves the whole session (the `browser` fixture in tests/conftest.py, on the
session's event loop: a test module using it marks itself `BROWSER_LOOP`). web_console's
tests share one page of one context per process, cleared between tests (_reused_page): no
cookie or cached file outlives a test; new_context gives a context of its own.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from unittest import mock

import httpx
import lxml.html  # type: ignore[import-untyped]
import pytest
from argon2 import PasswordHasher
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from bot.services import Services
from web.app import create_app
from web.server import bind, serve
from web.store import Accounts, WebRole

__all__ = [
    "ARGS",
    "BROWSER_LOOP",
    "CHROMIUM",
    "PASSWORD",
    "SHOTS",
    "WebRun",
    "add_accounts",
    "csrf_in",
    "http_console",
    "http_login",
    "login_form",
    "new_context",
    "text_at",
    "web_console",
]

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
# The session-scoped browser lives on the session's event loop; so must the tests using it.
BROWSER_LOOP = pytest.mark.asyncio(loop_scope="session")


@dataclass
class WebRun:
    page: Page
    url: str
    shots: list[Path] = field(default_factory=list)

    async def login(self, username: str, password: str = PASSWORD) -> None:
        """Logged in as `username`, on the 工作台: the login form posted over HTTP to this
        server as a browser posts it (its page first, for the CSRF token), and the session
        cookie handed to the page's browser context. Filling the form in the browser costs a
        second a test; test_login_accounts_and_logout_in_the_browser does it (login_form)."""
        async with httpx.AsyncClient(base_url=self.url) as client:
            answer = await http_login(client, username, password)
            assert answer.status_code == 303, answer.text
            cookies = [
                {"name": c.name, "value": str(c.value), "url": self.url}
                for c in client.cookies.jar
            ]
        await self.page.context.add_cookies(cookies)  # type: ignore[arg-type]
        await self.page.goto("/")

    async def shot(self, name: str, selector: str | None = None, *, full: bool = True) -> None:
        """The whole page (or one element, or only the viewport) as tests/screenshots/NAME.png,
        when CHAMBERBOT_SCREENSHOTS is set: each costs Chromium 0.4 s of CPU, 9 s a suite,
        for pictures no test reads. Without it, an element to shoot must still be visible."""
        if not os.environ.get("CHAMBERBOT_SCREENSHOTS"):
            if selector:
                await expect(self.page.locator(selector)).to_be_visible()
            return
        SHOTS.mkdir(exist_ok=True)
        path = SHOTS / f"{name}.png"
        if selector:
            await self.page.locator(selector).screenshot(path=str(path))
        else:
            await self.page.screenshot(path=str(path), full_page=full)
        self.shots.append(path)


@cache
def _hashed(password: str) -> str:
    """A real argon2id hash of `password` with light cost parameters: the console verifies it
    like any other (the parameters travel in the hash), in a millisecond instead of the
    quarter of a CPU second the production parameters cost at each login."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)


def add_accounts(app: Services) -> None:
    """Accounts `wang` (staff, 王科长) and `chen` (admin, 陈秘书长), both with PASSWORD.
    They share one argon2id hash of it (_hashed), made once per process; every login still
    verifies the password against it (tests/test_web_cli.py covers the production hashing of
    `web user add` and `passwd`)."""
    accounts = Accounts(app.db)
    now = app.clock.now()
    with mock.patch("web.store.hash_password", _hashed):
        accounts.add("wang", "wxid_wang", WebRole.STAFF, PASSWORD, now)
        accounts.add("chen", "wxid_chen", WebRole.ADMIN, PASSWORD, now)


def _viewport(mobile: bool) -> ViewportSize:
    width, height = (390, 844) if mobile else (1280, 900)
    return {"width": width, "height": height}


async def _context(browser: Browser, url: str, mobile: bool) -> BrowserContext:
    context = await browser.new_context(
        base_url=url, accept_downloads=True, viewport=_viewport(mobile), locale="zh-CN"
    )
    context.set_default_timeout(10_000)
    return context


@asynccontextmanager
async def new_context(
    browser: Browser, url: str, *, mobile: bool = False
) -> AsyncIterator[WebRun]:
    """A page in a fresh context of the shared browser (its own cookies and storage)."""
    context = await _context(browser, url, mobile)
    try:
        yield WebRun(await context.new_page(), url)
    finally:
        await context.close()


# The console of web_console listens on one port per process, so that one page (in one
# context: base_url is the console's) serves test after test: a new context and page cost
# Chromium about 1 s of CPU each (a renderer process), a navigation in the same page 0.3 s.
_PORT: list[int] = []
_PAGE: dict[str, tuple[Page, set[str]]] = {}  # url → the page, its own event listeners


def _console_socket() -> socket.socket:
    if _PORT:
        try:
            return bind(f"127.0.0.1:{_PORT[0]}")
        except OSError:  # taken meanwhile: another port, another page
            _PORT.clear()
    sock = bind("127.0.0.1:0")
    _PORT.append(sock.getsockname()[1])
    return sock


@asynccontextmanager
async def _reused_page(
    browser: Browser, url: str, *, mobile: bool = False
) -> AsyncIterator[WebRun]:
    """The page of the previous test on this url, as a fresh context would have it: no
    cookie (the session), an empty HTTP cache, this test's viewport. Other state does not
    outlive a navigation: the console keeps nothing in storage and polls nothing. A page
    that a test added an event listener to, or that a test failed on, is closed. A test
    that changes the page or its context otherwise (routes, page.clock, init scripts,
    emulated media, timeouts) takes a page of its own: new_context."""
    page, listeners = _PAGE.pop(url, (None, set()))
    if page is None or page.is_closed() or page.context.browser is not browser:
        page = await (await _context(browser, url, mobile)).new_page()
        listeners = set(page._impl_obj.event_names())  # Playwright's own (close, crash)
    else:
        await page.set_viewport_size(_viewport(mobile))
    kept = False
    try:
        yield WebRun(page, url)
        kept = set(page._impl_obj.event_names()) == listeners
    finally:
        if kept:
            await page.context.clear_cookies()
            cdp = await page.context.new_cdp_session(page)
            await cdp.send("Network.clearBrowserCache")
            await cdp.detach()
            _PAGE[url] = (page, listeners)
        else:
            await page.context.close()


@asynccontextmanager
async def web_console(
    app: Services, browser: Browser, *, mobile: bool = False
) -> AsyncIterator[WebRun]:
    """The console served on this process's port (accounts: add_accounts), a page in the
    browser (the previous test's, cleared: _reused_page)."""
    add_accounts(app)
    sock = _console_socket()
    port = sock.getsockname()[1]
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, stop, sock))
    try:
        async with _reused_page(browser, f"http://127.0.0.1:{port}", mobile=mobile) as run:
            yield run
    finally:
        stop.set()
        await server


async def first_row_cells(page: Page, table: str) -> list[dict[str, float]]:
    """Where the cells of a table's first row stand: left, right and width in CSS pixels,
    and the viewport's width (`view`)."""
    cells: list[dict[str, float]] = await page.evaluate(
        """(table) => [...document.querySelector(table).querySelectorAll("tbody tr")[0].cells]
            .map((td) => { const r = td.getBoundingClientRect();
                           return {left: r.left, right: r.right, width: r.width,
                                   view: window.innerWidth}; })""",
        table,
    )
    return cells


async def login_form(page: Page, username: str, password: str = PASSWORD) -> None:
    """The login form filled in and sent in the browser, as a user does."""
    await page.goto("/login")
    await page.get_by_label("登录名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_load_state()


@asynccontextmanager
async def http_console(app: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The console's ASGI app behind an HTTP client that keeps cookies, follows nothing."""
    add_accounts(app)
    transport = httpx.ASGITransport(app=create_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def csrf_in(html: str) -> str:
    """The CSRF token a page hands out (the login form's hidden field, or the meta tag)."""
    found = re.search(r'name="csrf" value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html
    )
    assert found, html
    return found[1]


async def http_login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, target: str = "/"
) -> httpx.Response:
    """Fill in the login form as a browser would: its page first (the session's CSRF token)."""
    form = await client.get("/login", params={"next": target})
    assert form.status_code == 200, form.text
    data = {"csrf": csrf_in(form.text), "next": target, "username": username, "password": password}
    return await client.post("/login", data=data)


def text_at(html: str, xpath: str) -> str:
    """The text of what an XPath finds in a page, whitespace collapsed ("" when nothing)."""
    found = lxml.html.fromstring(html).xpath(xpath)
    return " ".join(" ".join(str(e.text_content()).split()) for e in found)
