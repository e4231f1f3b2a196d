"""A loopback emulator of WeCom's 企业群发 API for customer groups (tests only).

One HTTP server on 127.0.0.1 in a thread, in the manner of tests/wecom_kf/emulator.py:
`gettoken` (corp id + secret, tokens live 7,200 s on the test's clock),
`externalcontact/add_msg_template` (chat_type group: the sender must own each chat_id, else
it is in `fail_list`; text at most 4,000 bytes, else 40058), and
`externalcontact/get_groupmsg_send_result` (per group: 0 until the owner confirms, then 1, or
3 when the group already had its month's mass messages). `confirm(msgid)` is the owner
pressing 发送 in WeCom. `fail(n, status=503 | errcode=-1, path=…)` breaks the next calls;
`drop_next()` closes the connection of the next add_msg_template after creating it.
"""

from __future__ import annotations

import calendar
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.wecom_api import VendorApi, answer, request

__all__ = ["GroupsEmulator", "Task"]

INVALID = 40058
CREATE, RESULTS = "externalcontact/add_msg_template", "externalcontact/get_groupmsg_send_result"


@dataclass
class Task:
    msgid: str
    sender: str
    chat_ids: list[str]
    text: str
    created: datetime
    results: dict[str, tuple[int, int]] = field(default_factory=dict)


class GroupsEmulator(VendorApi):
    def __init__(
        self,
        clock: Callable[[], datetime],
        owners: dict[str, str],
        *,
        corp_id: str = "ww-chamber",
        secret: str = "contact-secret",
    ) -> None:
        super().__init__(clock, corp_id, secret)
        self.owners = owners
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.forget_calls()
            self.tasks: list[Task] = []
            self.answers: list[int] = []  # errcodes of add_msg_template
            self.drop = 0

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what a group owner does, what a test reads or breaks ---------------------------

    def confirm(self, msgid: str) -> None:
        """The owner sends the task: each group gets it unless its month is full."""
        with self.lock:
            task = next(t for t in self.tasks if t.msgid == msgid)
            now = self.clock()
            limit = calendar.monthrange(now.year, now.month)[1]
            for chat in task.chat_ids:
                if chat in task.results:
                    continue
                got = sum(
                    1
                    for t in self.tasks
                    if t.results.get(chat, (0, 0))[0] == 1
                    and datetime.fromtimestamp(t.results[chat][1], now.tzinfo).month == now.month
                )
                status = 1 if got < limit else 3
                task.results[chat] = (status, int(now.timestamp()) if status == 1 else 0)

    def drop_next(self) -> None:
        with self.lock:
            self.drop += 1

    # -- the API ------------------------------------------------------------------------

    def api(self, path: str, query: dict[str, str], body: dict[str, Any]) -> tuple[int, dict]:
        with self.lock:
            gated = self.gate(path, query)
            if gated is not None:
                return gated
            if path == CREATE:
                return 200, self._create(body)
            if path == RESULTS:
                return 200, self._results(body)
            return 404, {"errcode": 404, "errmsg": "no such API"}

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        text = str(body.get("text", {}).get("content", ""))
        sender = str(body.get("sender") or "")
        if body.get("chat_type") != "group" or not sender or not text:
            self.answers.append(INVALID)
            return {"errcode": INVALID, "errmsg": "invalid parameter"}
        if len(text.encode("utf-8")) > 4000:
            self.answers.append(INVALID)
            return {"errcode": INVALID, "errmsg": "text.content exceed max length 4000"}
        chats = [str(c) for c in body.get("chat_id_list") or []]
        owned = [c for c in chats if self.owners.get(c) == sender]
        msgid = f"msg{secrets.token_hex(6)}"
        self.tasks.append(Task(msgid, sender, owned, text, self.clock()))
        self.answers.append(0)
        failed = [c for c in chats if c not in owned]
        return {"errcode": 0, "errmsg": "ok", "fail_list": failed, "msgid": msgid}

    def _results(self, body: dict[str, Any]) -> dict[str, Any]:
        task = next((t for t in self.tasks if t.msgid == body.get("msgid")), None)
        if task is None or task.sender != body.get("userid"):
            return {"errcode": INVALID, "errmsg": "invalid msgid"}
        rows = [
            {"chat_id": c, "userid": task.sender, "status": s, "send_time": at}
            for c in task.chat_ids
            for s, at in [task.results.get(c, (0, 0))]
        ]
        return {"errcode": 0, "errmsg": "ok", "next_cursor": "", "send_list": rows}


def _handler(emu: GroupsEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive connections, as the vendor's API has
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._answer({})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._answer(json.loads(self.rfile.read(length) or b"{}"))

        def _answer(self, body: dict[str, Any]) -> None:
            path, query = request(self)
            status, reply = emu.api(path, query, body)
            if path == CREATE and reply.get("msgid"):
                with emu.lock:
                    dropping, emu.drop = emu.drop > 0, max(emu.drop - 1, 0)
                if dropping:  # created, but the answer never arrives
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.close()
                    return
            answer(self, status, reply)

    return Handler
