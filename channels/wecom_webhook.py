"""WeCom group robots (群机器人): a send-only channel that posts into internal groups.

The vendor's protocol, from its 群机器人配置说明 (developer.work.weixin.qq.com/document/path/
91770, read in 2026) and the error codes its answers point to
(open.work.weixin.qq.com/devtool/query?e=<code>):

- `POST <url>?key=<KEY>` (url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send) with JSON
  `{"msgtype": "text", "text": {"content", "mentioned_list": [userid …]}}` or
  `{"msgtype": "markdown", "markdown": {"content"}}`; the answer is JSON
  `{"errcode": 0, "errmsg": "ok"}` — HTTP 200 for refusals too, told apart by `errcode`.
- Content is UTF-8: text at most 2,048 bytes, markdown at most 4,096. Each robot sends at
  most 20 messages a minute. A robot can only be added to an internal group.
- errcode 45009 `api freq out of limit`: the robot's rate limit. 93000 `invalid webhook
  url`: the key is unknown or the robot was removed. 40058 `markdown.content exceed max
  length 4096` (its invalid-parameter code, as users' reports show it: dromara/domain-admin
  #82, RayWangQvQ/BiliBiliTool#569). -1: system busy, try again.

In the bot: each robot of `channels.wecom_webhook.robots` is one conversation of the channel
`wecom_webhook`, its id the robot's name; its key comes from the environment variable its
`key_env` names, never from the file. The outbox sender of the channel paces it like any
other (`pacing.min_gap_seconds` 3, the default, keeps a robot within 20 a minute); this
adapter never sleeps. A message with mentions goes as text with `mentioned_list`, any other
as markdown (the digests are written for it, handlers/policies digest_markdown.j2).

What a send's outcome means to the outbox (bot/transport.py TransportError):

- 45009 → `retry_after` a minute: not delivered; retried, never counted as delivered.
- 93000 → permanent, logged as an error naming the environment variable; the staff room
  is told as for any failed message. Other refusals (too long, bad parameter) → permanent.
- -1 or HTTP 5xx, or no connection at all (refused, DNS, connect timeout) → retried.
- The request went out but no answer came (read timeout, connection dropped) → unknown: it
  may have been posted, so it is reported as 未确认送达 and never posted a second time.
  Each message opens its own connection (at 20 a minute that costs nothing), so a pooled
  connection the server closed while idle cannot turn into such a doubt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.config import Config, ConfigError
from bot.messages import Outgoing
from bot.transport import OnMessage, TransportError
from channels.wecom_http import post_once

__all__ = [
    "CHANNEL",
    "DEFAULT_URL",
    "WebhookRobot",
    "WebhookTransport",
    "webhook_robots",
    "webhook_transport",
]

log = logging.getLogger(__name__)

CHANNEL = "wecom_webhook"
DEFAULT_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
TEXT_BYTES, MARKDOWN_BYTES = 2048, 4096
OK, BUSY, RATE_LIMITED, INVALID_KEY = 0, -1, 45009, 93000
RATE_LIMIT_WAIT = 60.0  # seconds: the vendor counts 20 a minute; a minute ends any window
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass(frozen=True)
class WebhookRobot:
    name: str
    url: str
    key: str
    key_env: str


def webhook_robots(config: Config, file: str, environ: Mapping[str, str]) -> list[WebhookRobot]:
    """The configured robots with their keys; ConfigError (exit 2) for a key that is not
    in the environment or a url that is not http(s). None configured: []."""
    robots: list[WebhookRobot] = []
    for name, robot in config.robots(CHANNEL).items():
        key = f"channels.{CHANNEL}.robots.{name}"
        secret = environ.get(robot.key_env, "").strip()
        if not secret:
            reason = f"environment variable {robot.key_env} is not set"
            raise ConfigError(file, f"{key}.key_env", reason)
        url = robot.url or DEFAULT_URL
        if not url.startswith(("https://", "http://")):
            raise ConfigError(file, f"{key}.url", "expected an http(s) URL")
        robots.append(WebhookRobot(name, url, secret, robot.key_env))
    return robots


def webhook_transport(
    config: Config, path: Path | str, environ: Mapping[str, str]
) -> WebhookTransport | None:
    """The channel for `chamberbot run`: None when the config names no robot."""
    robots = webhook_robots(config, str(path), environ)
    return WebhookTransport(robots) if robots else None


def _payload(out: Outgoing) -> dict[str, Any]:
    """The request body; a message over the vendor's byte limit is refused here."""
    size = len(out.text.encode("utf-8"))
    if out.mention_ids:
        if size > TEXT_BYTES:
            raise TransportError(f"text is {size} bytes, over {TEXT_BYTES}", permanent=True)
        text = {"content": out.text, "mentioned_list": list(out.mention_ids)}
        return {"msgtype": "text", "text": text}
    if size > MARKDOWN_BYTES:
        raise TransportError(f"markdown is {size} bytes, over {MARKDOWN_BYTES}", permanent=True)
    return {"msgtype": "markdown", "markdown": {"content": out.text}}


class WebhookTransport:
    """Posts each outbox row to its robot's webhook (see the module docstring)."""

    channel = CHANNEL

    def __init__(self, robots: list[WebhookRobot], *, timeout: httpx.Timeout = TIMEOUT) -> None:
        self.robots = {r.name: r for r in robots}
        # httpx logs each request's URL at INFO, and the key is in the URL.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._busy = asyncio.Lock()  # a send in flight; stop() lets it finish
        self._stopped = False

    async def start(self, on_message: OnMessage) -> None:
        """Nothing arrives on this channel: a group robot only sends."""
        log.info("WeCom group robots ready: %s", ", ".join(sorted(self.robots)))

    async def stop(self) -> None:
        """Let a send in flight finish; later ones fail for now (the outbox keeps them)."""
        async with self._busy:
            self._stopped = True
            if self._client is not None:
                await self._client.aclose()
                self._client = None

    async def send(self, out: Outgoing) -> None:
        robot = self.robots.get(out.conversation_id)
        if robot is None:
            raise TransportError(f"no robot {out.conversation_id!r} configured", permanent=True)
        payload = _payload(out)
        async with self._busy:
            if self._stopped:
                raise TransportError("the bot is stopping")
            answer = await self._post(robot, payload)
        self._settle(robot, answer)

    def _client_now(self) -> httpx.AsyncClient:
        if self._client is None:
            limits = httpx.Limits(max_keepalive_connections=0)  # a connection per message
            self._client = httpx.AsyncClient(timeout=self.timeout, limits=limits)
        return self._client

    async def _post(self, robot: WebhookRobot, payload: dict[str, Any]) -> dict[str, Any]:
        where = f"robot {robot.name}"
        client = self._client_now()
        response, answer = await post_once(client, robot.url, {"key": robot.key}, payload, where)
        if answer is None:
            reason = f"{where}: HTTP {response.status_code}, not the vendor's answer"
            raise TransportError(reason, unknown=response.is_success, permanent=True)
        return answer

    def _settle(self, robot: WebhookRobot, answer: dict[str, Any]) -> None:
        code = answer["errcode"]
        errmsg = str(answer.get("errmsg", "")).split(", hint:")[0]  # not the request's hint
        said = f"robot {robot.name}: {code} {errmsg}".strip()
        if code == OK:
            return
        if code == RATE_LIMITED:
            raise TransportError(said, retry_after=RATE_LIMIT_WAIT)
        if code == BUSY:
            raise TransportError(said)
        if code == INVALID_KEY:
            log.error(
                "WeCom refuses the key of robot %s (93000 invalid webhook url): check the"
                " robot still exists and %s holds its key",
                robot.name,
                robot.key_env,
            )
        raise TransportError(said, permanent=True)
