"""A loopback emulator of 微信客服's HTTP API and callbacks (tests only; see README.md).

One HTTP server on 127.0.0.1 in a thread serves `gettoken`, `kf/sync_msg`, `kf/send_msg`
(the reply window enforced with the vendor's 95001), `kf/send_msg_on_event`,
`kf/service_state/get` and `/trans`. What a customer does (`say`, `enter`) is appended to
the message log and announced by a callback POSTed to the bot, encrypted and signed by the
vendor's own `@wecom/crypto` (crypto.mjs, one Node process per emulator).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.wecom_api import VendorApi, answer, request

__all__ = ["KfEmulator"]

HERE = Path(__file__).resolve().parent
WINDOW_EXCEEDED, STATE_INVALID, BAD_TRANSITION = 95001, 95018, 95016
BAD_CODE = 990101  # the emulator's own: a send_msg_on_event code unknown, used or late


class KfEmulator(VendorApi):
    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        corp_id: str = "ww-chamber",
        secret: str = "kf-secret",
        token: str = "cbtoken",
        aes_key: str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        open_kfid: str = "wk-chamber",
    ) -> None:
        super().__init__(clock, corp_id, secret)
        self.token, self.aes_key, self.open_kfid = token, aes_key, open_kfid
        self.callback_url = ""  # the bot's, set by the test
        self.node = subprocess.Popen(
            ["node", str(HERE / "crypto.mjs")],
            cwd=HERE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.forget_calls()
            self.log: list[dict[str, Any]] = []
            self.sent: list[dict[str, Any]] = []
            self.sessions: dict[str, dict[str, Any]] = {}
            self.codes: dict[str, tuple[datetime, str]] = {}  # code → (issued, user)
            self.msg_tokens: set[str] = set()
            self.refused: list[int] = []  # errcodes send_msg answered

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.node.stdin:
            self.node.stdin.close()
        self.node.wait(5)
        if self.node.stdout:
            self.node.stdout.close()

    # -- what a WeChat customer or a servicer does ---------------------------------------

    def say(self, user: str, text: str, *, menu_id: str | None = None) -> tuple[str, int]:
        """The customer writes; the callback's (msgid, HTTP status the bot answered)."""
        body: dict[str, Any] = {"content": text}
        if menu_id:
            body["menu_id"] = menu_id
        with self.lock:
            s = self._session(user)
            s["last_in"], s["sent"] = self.clock(), 0
            if s["state"] == 4:
                s["state"] = 0
            msgid = self._append(
                {"origin": 3, "external_userid": user, "msgtype": "text", "text": body}
            )
        return msgid, self.callback()

    def enter(self, user: str) -> str:
        """The customer opens the chat (enter_session with a welcome_code)."""
        code = secrets.token_hex(8)
        with self.lock:
            self._session(user)
            self.codes[code] = (self.clock(), user)
            event = {
                "event_type": "enter_session",
                "open_kfid": self.open_kfid,
                "external_userid": user,
                "welcome_code": code,
            }
            self._append({"origin": 4, "msgtype": "event", "event": event})
        self.callback()
        return code

    def servicer_ends(self, user: str) -> None:
        """The staff servicer ends the session in WeCom: state 4, an event, a callback."""
        with self.lock:
            self._session(user)["state"] = 4
            event = {
                "event_type": "session_status_change",
                "open_kfid": self.open_kfid,
                "external_userid": user,
                "change_type": 3,
            }
            self._append({"origin": 4, "msgtype": "event", "event": event})
        self.callback()

    def callback(self, *, signature: str | None = None, body: bytes | None = None) -> int:
        """POST a kf_msg_or_event callback to the bot (wrong `signature` / raw `body`: the
        bad-input tests); the HTTP status it answered."""
        request = self.envelope()
        if signature is not None:
            request["msg_signature"] = signature
        data = request.pop("body").encode() if body is None else body
        return self.post(request, data)

    def envelope(self) -> dict[str, str]:
        """A fresh encrypted callback: its query parameters and its XML `body`."""
        token = secrets.token_hex(6)
        with self.lock:
            self.msg_tokens.add(token)
        stamp = str(int(self.clock().timestamp()))
        inner = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><CreateTime>{stamp}"
            "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA["
            f"kf_msg_or_event]]></Event><Token><![CDATA[{token}]]></Token><OpenKfId>"
            f"<![CDATA[{self.open_kfid}]]></OpenKfId></xml>"
        )
        nonce = secrets.token_hex(5)
        sealed = self.seal(inner, stamp, nonce)
        body = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><Encrypt><![CDATA["
            f"{sealed['encrypt']}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>"
        )
        return {
            "msg_signature": sealed["signature"],
            "timestamp": stamp,
            "nonce": nonce,
            "body": body,
        }

    def seal(self, message: str, stamp: str, nonce: str) -> dict[str, str]:
        """Encrypted and signed by @wecom/crypto (the Node helper)."""
        request = {
            "key": self.aes_key,
            "id": self.corp_id,
            "token": self.token,
            "message": message,
            "timestamp": stamp,
            "nonce": nonce,
        }
        assert self.node.stdin
        assert self.node.stdout
        with self.lock:
            self.node.stdin.write(json.dumps(request) + "\n")
            self.node.stdin.flush()
            answer: dict[str, str] = json.loads(self.node.stdout.readline())
        assert "error" not in answer, answer
        return answer

    def post(self, query: dict[str, str], data: bytes) -> int:
        url = f"{self.callback_url}?{urlencode(query)}"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as r:
                return int(r.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except urllib.error.URLError:
            return 0  # nobody listens: the bot is down

    # -- what a test reads or breaks ------------------------------------------------------

    def sent_to(self, user: str) -> list[dict[str, Any]]:
        with self.lock:
            return [s for s in self.sent if s.get("touser") == user]

    def texts_to(self, user: str) -> list[str]:
        return [_text(s) for s in self.sent_to(user)]

    def state(self, user: str) -> tuple[int, str]:
        with self.lock:
            s = self._session(user)
            return s["state"], s["servicer"]

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    # -- the API --------------------------------------------------------------------------

    def api(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        with self.lock:
            gated = self.gate(path, query)
            if gated is not None:
                return gated
            handler = {
                "kf/sync_msg": self._sync,
                "kf/send_msg": self._send,
                "kf/send_msg_on_event": self._on_event,
                "kf/service_state/get": self._state_get,
                "kf/service_state/trans": self._trans,
            }.get(path)
            if handler is None:
                return 404, {"errcode": 404, "errmsg": "no such API"}
            return 200, {"errcode": 0, "errmsg": "ok", **handler(body)}

    def _sync(self, body: dict[str, Any]) -> dict[str, Any]:
        start = int(body.get("cursor") or 0)
        limit = min(int(body.get("limit") or 1000), 1000)
        page = self.log[start : start + limit]
        end = start + len(page)
        return {"next_cursor": str(end), "has_more": int(end < len(self.log)), "msg_list": page}

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        s = self._session(str(body.get("touser")))
        if s["state"] not in (0, 1):
            self.refused.append(STATE_INVALID)
            raise _Refused(STATE_INVALID, "send msg session status invalid")
        last = s["last_in"]
        if last is None or self.clock() > last + timedelta(hours=48) or s["sent"] >= 5:
            self.refused.append(WINDOW_EXCEEDED)
            raise _Refused(WINDOW_EXCEEDED, "the customer must write first")
        s["sent"] += 1
        # `received`: when it arrived, on this machine's monotonic clock (the bench's timer)
        self.sent.append({**body, "at": self.clock(), "received": time.monotonic()})
        return {"msgid": secrets.token_hex(8)}

    def _on_event(self, body: dict[str, Any]) -> dict[str, Any]:
        issued = self.codes.pop(str(body.get("code")), None)
        if issued is None or self.clock() > issued[0] + timedelta(seconds=20):
            raise _Refused(BAD_CODE, "invalid or used code")
        self.sent.append({**body, "touser": issued[1], "at": self.clock()})
        return {}

    def _state_get(self, body: dict[str, Any]) -> dict[str, Any]:
        s = self._session(str(body.get("external_userid")))
        return {"service_state": s["state"], "servicer_userid": s["servicer"]}

    def _trans(self, body: dict[str, Any]) -> dict[str, Any]:
        s = self._session(str(body.get("external_userid")))
        state = int(body.get("service_state", -1))
        if state not in (1, 2, 3, 4) or (state == 3 and not body.get("servicer_userid")):
            raise _Refused(BAD_TRANSITION, "invalid service state transition")
        s["state"], s["servicer"] = state, str(body.get("servicer_userid") or "")
        if state in (2, 3, 4):
            code = secrets.token_hex(8)
            self.codes[code] = (self.clock(), str(body.get("external_userid")))
            return {"msg_code": code}
        return {}

    def _session(self, user: str) -> dict[str, Any]:
        return self.sessions.setdefault(
            user, {"state": 0, "servicer": "", "last_in": None, "sent": 0}
        )

    def _append(self, message: dict[str, Any]) -> str:
        msgid = secrets.token_hex(10)
        self.log.append(
            {
                "msgid": msgid,
                "open_kfid": self.open_kfid,
                "send_time": int(self.clock().timestamp()),
                **message,
            }
        )
        return msgid


class _Refused(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.errcode, self.errmsg = errcode, errmsg


def _text(sent: dict[str, Any]) -> str:
    if sent.get("msgtype") == "msgmenu":
        menu = sent["msgmenu"]
        labels = " ".join(f"[{i['click']['content']}]" for i in menu["list"])
        return f"{menu['head_content']}\n{labels}"
    return str(sent.get("text", {}).get("content", ""))


def _handler(emu: KfEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive connections, as the vendor's API has
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._answer("GET", {})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._answer("POST", json.loads(self.rfile.read(length) or b"{}"))

        def _answer(self, method: str, body: dict[str, Any]) -> None:
            path, query = request(self)
            try:
                status, reply = emu.api(method, path, query, body)
            except _Refused as refused:
                status, reply = 200, {"errcode": refused.errcode, "errmsg": refused.errmsg}
            answer(self, status, reply)

    return Handler
