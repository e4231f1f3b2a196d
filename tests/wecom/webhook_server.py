"""An emulator of WeCom's group-robot webhook (群机器人), on 127.0.0.1, for the tests.

Written from the vendor's public protocol (developer.work.weixin.qq.com/document/path/91770;
the error codes as its answers name them, see channels/wecom_webhook.py): `POST
/cgi-bin/webhook/send?key=KEY` with a JSON body, answered with HTTP 200 and
`{"errcode", "errmsg"}` whatever the outcome. It checks what the vendor checks, in its
order — the key (93000), the JSON and its shape (40058, unknown msgtype 40008), the byte
limits (text 2,048, markdown 4,096: 40058), the robot's 20 messages in any minute (45009,
a sliding window on the injected clock: a refused message does not count) — and keeps
every accepted message. Tests can make it answer the next requests with a code of their
choosing (`fail_next`) or drop the connection without answering (`drop_next`).

A thread runs the standard library's HTTP server; `WebhookServer` is used as a context
manager, once per test module, and `reset` between tests.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["PATH", "Received", "WebhookServer"]

PATH = "/cgi-bin/webhook/send"
LIMITS = {"text": 2048, "markdown": 4096}
PER_MINUTE = 20
_MINUTE = timedelta(minutes=1)
_HINT = ", hint: [emulator], more info at https://open.work.weixin.qq.com/devtool/query?e={}"
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Received:
    """A message the robot posted into its group."""

    key: str
    msgtype: str
    content: str
    mentioned_list: tuple[str, ...]
    at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


class WebhookServer:
    def __init__(self, keys: set[str] | None = None, clock: Clock = _now) -> None:
        self._lock = threading.Lock()
        self.keys: set[str] = set()
        self.clock = clock
        self.received: list[Received] = []
        self.answers: list[tuple[str, int]] = []  # (key, errcode) of every request, in order
        self.dropped = 0  # requests read and left without an answer
        self._sent: dict[str, deque[datetime]] = {}
        self._failures: deque[tuple[int, str] | None] = deque()  # None: drop the connection
        self.reset(keys or set(), clock)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- control ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{PATH}"

    def reset(self, keys: set[str], clock: Clock = _now) -> None:
        """Forget everything: these robots' keys, this clock."""
        with self._lock:
            self.keys, self.clock = set(keys), clock
            self.received, self.answers, self.dropped = [], [], 0
            self._sent.clear()
            self._failures.clear()

    def fail_next(self, errcode: int, errmsg: str = "emulated failure", times: int = 1) -> None:
        with self._lock:
            self._failures.extend([(errcode, errmsg)] * times)

    def drop_next(self) -> None:
        """The next request is read and its connection closed without an answer."""
        with self._lock:
            self._failures.append(None)

    def codes(self) -> list[int]:
        with self._lock:
            return [code for _, code in self.answers]

    def __enter__(self) -> WebhookServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # -- the vendor's rules ----------------------------------------------------------------

    def answer(self, key: str, body: bytes) -> tuple[int, str] | None:
        """(errcode, errmsg) for one request; None: drop the connection."""
        with self._lock:
            if self._failures:
                injected = self._failures.popleft()
                if injected is None:
                    self.dropped += 1
                else:
                    self.answers.append((key, injected[0]))
                return injected
            code, msg = self._judge(key, body)
            self.answers.append((key, code))
            return code, msg

    def _judge(self, key: str, body: bytes) -> tuple[int, str]:
        if key not in self.keys:
            return 93000, "invalid webhook url"
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 40058, "Warning: wrong json format. invalid Request Parameter"
        if not isinstance(data, dict):
            return 40058, "invalid Request Parameter"
        msgtype = data.get("msgtype")
        if msgtype not in LIMITS:
            return 40008, "invalid message type"
        fields = data.get(msgtype)
        content = fields.get("content") if isinstance(fields, dict) else None
        if not isinstance(content, str) or not content:
            return 40058, f"{msgtype}.content missing. invalid Request Parameter"
        if len(content.encode("utf-8")) > LIMITS[msgtype]:
            limit = LIMITS[msgtype]
            return 40058, f"{msgtype}.content exceed max length {limit}. invalid Request Parameter"
        mentioned = fields.get("mentioned_list", []) if msgtype == "text" else []  # type: ignore[union-attr]
        if not isinstance(mentioned, list) or not all(isinstance(m, str) for m in mentioned):
            return 40058, "text.mentioned_list invalid. invalid Request Parameter"
        now = self.clock()
        window = self._sent.setdefault(key, deque())
        while window and window[0] <= now - _MINUTE:
            window.popleft()
        if len(window) >= PER_MINUTE:
            return 45009, "api freq out of limit"
        window.append(now)
        self.received.append(Received(key, msgtype, content, tuple(mentioned), now))
        return 0, "ok"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if parts.path != PATH:
                    self._reply(404, {"errcode": 404, "errmsg": "not found"})
                    return
                key = parse_qs(parts.query).get("key", [""])[0]
                result = server.answer(key, body)
                if result is None:
                    self.close_connection = True
                    return
                code, msg = result
                suffix = _HINT.format(code) if code else ""
                self._reply(200, {"errcode": code, "errmsg": msg + suffix})

            def _reply(self, status: int, answer: dict[str, Any]) -> None:
                payload = json.dumps(answer).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return None  # quiet: pytest shows what the tests assert on

        return Handler
