"""The 微信客服 HTTP API the adapter calls (the vendor's pages 获取access_token, 读取消息,
发送消息, 发送欢迎语等事件响应消息, 获取/变更会话状态), over httpx.

`access_token` comes from `gettoken` (corp id + the 客服 secret) and is kept until a
minute before it expires; an answer 40014 (invalid) or 42001 (expired) fetches a new one
and repeats the call once. Other answers are `ApiError`: `transient` for an outage (no
answer, HTTP 5xx, errcode -1 "system busy") — the caller retries with backoff — and not for
the vendor's refusals (95001: the reply window's 5 messages are used up).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.clock import Clock

__all__ = [
    "BUSY",
    "SESSION_STATE_INVALID",
    "WINDOW_EXCEEDED",
    "ApiError",
    "KfApi",
    "SyncPage",
]

log = logging.getLogger(__name__)

BUSY = -1
TOKEN_INVALID, TOKEN_EXPIRED = 40014, 42001
#: "给该客户发送的消息数量已达上限，请等待客户回复后方可再发送" (48 h / 5 messages)
WINDOW_EXCEEDED = 95001
#: the session is not one the API may send in (a human servicer has it, or it ended)
SESSION_STATE_INVALID = 95018


class ApiError(Exception):
    def __init__(self, path: str, errcode: int, errmsg: str, *, transient: bool) -> None:
        super().__init__(f"{path}: {errcode} {errmsg}")
        self.errcode, self.transient = errcode, transient


@dataclass(frozen=True)
class SyncPage:
    """One answer of `kf/sync_msg`: its messages, the cursor after them, whether more wait."""

    messages: list[dict[str, Any]]
    next_cursor: str
    has_more: bool


@dataclass
class KfApi:
    base_url: str
    corp_id: str
    secret: str
    clock: Clock
    timeout: float = 10.0
    _token: str | None = None
    _expires: datetime | None = None
    _client: httpx.AsyncClient | None = field(default=None, repr=False)

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- the calls ------------------------------------------------------------------------

    async def sync_msg(self, cursor: str, token: str | None, open_kfid: str) -> SyncPage:
        body: dict[str, Any] = {"cursor": cursor, "limit": 1000, "open_kfid": open_kfid}
        if token:
            body["token"] = token
        answer = await self.post("kf/sync_msg", body)
        return SyncPage(
            list(answer.get("msg_list") or []),
            str(answer.get("next_cursor") or cursor),
            bool(answer.get("has_more")),
        )

    async def send_msg(self, body: dict[str, Any]) -> str:
        return str((await self.post("kf/send_msg", body)).get("msgid", ""))

    async def send_on_event(self, code: str, text: str) -> None:
        body = {"code": code, "msgtype": "text", "text": {"content": text}}
        await self.post("kf/send_msg_on_event", body)

    async def service_state(self, open_kfid: str, user: str) -> tuple[int, str]:
        body = {"open_kfid": open_kfid, "external_userid": user}
        answer = await self.post("kf/service_state/get", body)
        return int(answer.get("service_state", 0)), str(answer.get("servicer_userid") or "")

    async def trans(self, open_kfid: str, user: str, state: int, servicer: str = "") -> str:
        """Change the session's state; the `msg_code` the vendor gives for a first change
        to 2 or 3 (and for 4), to answer with `send_msg_on_event`, else ''."""
        body: dict[str, Any] = {
            "open_kfid": open_kfid,
            "external_userid": user,
            "service_state": state,
        }
        if servicer:
            body["servicer_userid"] = servicer
        return str((await self.post("kf/service_state/trans", body)).get("msg_code") or "")

    # -- plumbing -------------------------------------------------------------------------

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One call with the access token; a new token and one more try when it was stale."""
        for attempt in range(2):
            token = await self.access_token(renew=attempt > 0)
            answer = await self._request("POST", path, {"access_token": token}, body)
            code = int(answer.get("errcode", 0))
            if code in (TOKEN_INVALID, TOKEN_EXPIRED) and attempt == 0:
                log.info("微信客服: access_token refused (%s); fetching a new one", code)
                continue
            _raise_for(path, answer)
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    async def access_token(self, *, renew: bool = False) -> str:
        now = self.clock.now()
        if not renew and self._token and self._expires and now < self._expires:
            return self._token
        params = {"corpid": self.corp_id, "corpsecret": self.secret}
        answer = await self._request("GET", "gettoken", params, None)
        _raise_for("gettoken", answer)
        self._token = str(answer["access_token"])
        life = max(int(answer.get("expires_in", 7200)) - 60, 1)
        self._expires = now + timedelta(seconds=life)
        return self._token

    async def _request(
        self, method: str, path: str, params: dict[str, str], body: dict[str, Any] | None
    ) -> dict[str, Any]:
        url = f"{self.base_url.rstrip('/')}/{path}"
        try:
            response = await self.client.request(method, url, params=params, json=body)
        except httpx.HTTPError as exc:
            reason = f"no answer ({type(exc).__name__})"
            raise ApiError(path, BUSY, reason, transient=True) from None
        if response.status_code >= 500:
            raise ApiError(path, BUSY, f"HTTP {response.status_code}", transient=True)
        try:
            answer = response.json()
        except ValueError:
            raise ApiError(path, BUSY, "not JSON", transient=True) from None
        return answer if isinstance(answer, dict) else {"errcode": BUSY, "errmsg": "not JSON"}


def _raise_for(path: str, answer: dict[str, Any]) -> None:
    code = int(answer.get("errcode", 0))
    if code:
        errmsg = str(answer.get("errmsg", ""))
        raise ApiError(path, code, errmsg, transient=code in (BUSY, TOKEN_EXPIRED))
