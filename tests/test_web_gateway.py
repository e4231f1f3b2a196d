"""The web console of a real `chamberbot run`, through the real Wechaty test gateway.

A member reports a case in the member group (through the TypeScript gateway, over gRPC),
a staff member logs in to the console the same bot process serves (`web.listen`, in its
own event loop), answers the case in Chromium, and the answer arrives in the member group
through the gateway, @-mentioning the member — as a `回复` in the staff room would.
Node.js and tests/gateway/node_modules are required (see tests/gateway_harness.py).
"""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.gateway_harness import (
    MEMBERS,
    STAFF,
    Bot,
    Gateway,
    assert_nothing_twice,
    chamberbot,
    clean_env,
    connected,
    free_port,
    open_case,
    wait_for,
)
from tests.web_harness import BROWSER_LOOP, PASSWORD, new_context

ZHANG = "wxid_zhang"
pytestmark = BROWSER_LOOP


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture
def chat(gateway: Gateway, tmp_path: Path) -> Iterator[tuple[Gateway, Bot, str]]:
    listen = f"127.0.0.1:{free_port()}"
    gw = gateway
    with connected(gw, tmp_path, web={"listen": listen}) as bot:
        url = f"http://{listen}"
        wait_for(lambda: _up(f"{url}/login"), "the web console of `chamberbot run`")
        add = subprocess.run(
            [*chamberbot(), "web", "user", "add", "wang", "--contact", "wxid_wang",
             "--password-stdin", "--config", str(tmp_path / "config.yaml")],
            input=PASSWORD + "\n", capture_output=True, text=True, env=clean_env(),
            timeout=60, check=False,
        )  # fmt: skip
        assert add.returncode == 0, add.stderr
        yield gw, bot, url


async def test_a_case_reported_through_the_gateway_is_answered_on_the_web(
    chat: tuple[Gateway, Bot, str], browser: Browser
) -> None:
    gw, _bot, url = chat
    number = open_case(gw, ZHANG, "银行突然抽贷，流动资金紧张", "宏达机械有限公司")
    (new,) = gw.wait_sent(STAFF, 1)
    assert number in new["text"]
    async with new_context(browser, url) as web:
        page = web.page
        await web.login("wang")
        await expect(page.get_by_role("link", name="诉求台账")).to_be_visible()
        await page.goto("/cases")
        await page.locator("#rows").get_by_role("link", name=number).click()
        await expect(page.locator("h2")).to_contain_text(number)
        await expect(page.locator("hgroup")).to_contain_text(
            "宏达机械有限公司 · 张总 · 来自「会员一群」"
        )
        seen = len(gw.sent_to(MEMBERS))
        await page.locator("form.answer textarea").fill("已协调开户行续贷，请联系客户经理。")
        await page.get_by_role("button", name="回复企业").click()
        await expect(page.locator(".flash.good")).to_contain_text(f"诉求 {number}：已回复企业")
        answered = gw.wait_sent(MEMBERS, seen + 1)[seen]
        await expect(page.locator(".timeline")).to_contain_text("答复企业 · 王科长")
        await web.shot("case-through-gateway")
    assert answered["mention_ids"] == [ZHANG]
    assert answered["text"].startswith("@张总\u2005")
    assert "王科长答复如下" in answered["text"]
    assert "已协调开户行续贷，请联系客户经理。" in answered["text"]
    assert_nothing_twice(gw.sent())
