"""What the loopback emulators of WeCom's HTTP APIs share (tests/wecom_kf: 微信客服,
tests/wecom_groups: customer groups): the vendor's `gettoken` and access-token check, the
faults a test injects, and the JSON answer. Each emulator adds its own APIs."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["BAD_SECRET", "BUSY", "TOKEN_EXPIRED", "VendorApi", "answer", "request"]

TOKEN_EXPIRED, BAD_SECRET, BUSY = 42001, 40001, -1
Answer = tuple[int, dict[str, Any]]


class VendorApi:
    """The corp's credentials, the tokens handed out and the faults queued; `gate` answers
    what the vendor answers before any API looks at the call."""

    def __init__(self, clock: Callable[[], datetime], corp_id: str, secret: str) -> None:
        self.clock, self.corp_id, self.secret = clock, corp_id, secret
        self.lock = threading.Lock()
        self.forget_calls()

    def forget_calls(self) -> None:
        """No tokens handed out, no faults queued, no calls seen (a test's reset)."""
        self.tokens: dict[str, datetime] = {}
        # (path, status, the answer's body)
        self.faults: list[tuple[str | None, int, dict[str, Any]]] = []
        self.calls: list[str] = []

    def fail(
        self,
        times: int,
        *,
        status: int = 200,
        errcode: int = BUSY,
        path: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        """The next `times` API calls (to `path`, else any) answer HTTP `status` (503: an
        outage) or `errcode` — or `body`, whatever a broken proxy might say."""
        answer = body if body is not None else {"errcode": errcode, "errmsg": "system busy"}
        with self.lock:
            self.faults += [(path, status, answer)] * times

    def gate(self, path: str, query: dict[str, str]) -> Answer | None:
        """Under the lock, for each call: a queued fault, `gettoken`, or a missing or expired
        access token answered here; None when the call goes on to its API."""
        self.calls.append(path)
        fault = next((f for f in self.faults if f[0] in (None, path)), None)
        if fault is not None:
            self.faults.remove(fault)
            return fault[1], fault[2]
        if path == "gettoken":
            if query.get("corpid") != self.corp_id or query.get("corpsecret") != self.secret:
                return 200, {"errcode": BAD_SECRET, "errmsg": "invalid credential"}
            token = secrets.token_hex(8)
            self.tokens[token] = self.clock() + timedelta(seconds=7200)
            return 200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        expires = self.tokens.get(query.get("access_token", ""))
        if expires is None or self.clock() >= expires:
            return 200, {"errcode": TOKEN_EXPIRED, "errmsg": "access_token expired"}
        return None


def request(handler: BaseHTTPRequestHandler) -> tuple[str, dict[str, str]]:
    """The API's path (after /cgi-bin/) and the query's parameters."""
    parts = urlsplit(handler.path)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return parts.path.removeprefix("/cgi-bin/"), query


def answer(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
