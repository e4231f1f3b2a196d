"""Drive the Node test gateway (tests/gateway) and a real `chamberbot run` process.

Used by tests/test_gateway.py and bench/gateway.py. Everything listens on 127.0.0.1.
Waiting is bounded polling of the gateway's control channel, never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import yaml

ROOT = Path(__file__).resolve().parent.parent
GATEWAY_DIR = ROOT / "tests" / "gateway"
DEMO_CONFIG = ROOT / "bot" / "demo" / "config.yaml"
TOKEN = "chamberbot-test-token"
BOT_ID = "wxid_chamberbot"
BOT_NAME = "商会助手"
MEMBERS = "members@chatroom"
STAFF = "staff@chatroom"
TOPICS = {MEMBERS: "会员一群", STAFF: "秘书处工作群"}
PEOPLE = {
    "wxid_zhang": "张总",
    "wxid_li": "李总",
    "wxid_sun": "孙总",
    "wxid_wang": "王科长",
    "wxid_zhao": "赵律师",
    "wxid_chen": "陈秘书长",
}
ROOM_MEMBERS = {
    MEMBERS: ["wxid_zhang", "wxid_li", "wxid_sun", "wxid_chen"],
    STAFF: ["wxid_wang", "wxid_zhao", "wxid_chen"],
}
NUMBER = re.compile(r"\d{4}-\d{4}")
T = TypeVar("T")


class GatewayError(RuntimeError):
    pass


def node_problem() -> str | None:
    """Why the gateway cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed (the gateway tests need Node.js 20 and npm)"
    if not (GATEWAY_DIR / "node_modules" / "wechaty-puppet-service").is_dir():
        return "tests/gateway/node_modules is missing: run `make test` (it runs npm ci there)"
    return None


def wait_for(
    check: Callable[[], T | None], what: str, timeout: float = 10.0, every: float = 0.02
) -> T:
    """Poll `check` until it returns something truthy; AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


class Gateway:
    """One gateway process. Port 0 = a free port; pass the old ports to restart in place."""

    def __init__(
        self,
        log: Path,
        *,
        token: str = TOKEN,
        grpc_port: int = 0,
        control_port: int = 0,
        bot_name: str = BOT_NAME,
    ) -> None:
        problem = node_problem()
        if problem:
            raise GatewayError(problem)
        args = ["node", "gateway.mjs", "--token", token, "--grpc-port", str(grpc_port),
                "--control-port", str(control_port), "--bot-id", BOT_ID,
                "--bot-name", bot_name, "--log-level", "error"]  # fmt: skip
        self.log_file: IO[str] = log.open("a", encoding="utf-8")
        self.proc = subprocess.Popen(
            args, cwd=GATEWAY_DIR, stdout=subprocess.PIPE, stderr=self.log_file, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise GatewayError(
                f"the gateway did not start (exit {self.proc.returncode}), see {log}"
            )
        info = json.loads(line)
        self.grpc_port: int = info["grpc_port"]
        self.control_port: int = info["control_port"]
        self.endpoint: str = info["endpoint"]
        self.token = token
        self.base = f"http://127.0.0.1:{self.control_port}"

    # -- control channel ---------------------------------------------------------------------

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body or {}).encode() if method == "POST" else None
        request = urllib.request.Request(
            self.base + path, data=data, method=method,
            headers={"content-type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            raise GatewayError(f"{method} {path}: {exc.code} {exc.read().decode()}") from None

    def post(self, path: str, **body: Any) -> Any:
        return self.call("POST", path, body)

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def populate(self) -> None:
        """The demo chamber: its people as contacts, a member group and the staff room."""
        for contact_id, name in PEOPLE.items():
            self.post("/contacts", id=contact_id, name=name)
        for room, members in ROOM_MEMBERS.items():
            self.post("/rooms", id=room, topic=TOPICS[room], member_ids=members)

    def say(
        self, sender: str, text: str, room: str | None = None, mention_bot: bool = False
    ) -> str:
        body: dict[str, Any] = {"from": sender, "text": text}
        if room:
            body["room"] = room
        if mention_bot:
            body["mention_ids"] = [BOT_ID]
            body["text"] = f"@{BOT_NAME}\u2005{text}"
        return str(self.call("POST", "/say", body)["message_id"])

    def sent(self) -> list[dict[str, Any]]:
        return list(self.get("/sent")["sent"])

    def sent_to(self, conversation_id: str) -> list[dict[str, Any]]:
        return [m for m in self.sent() if m["conversation_id"] == conversation_id]

    def wait_sent(
        self, conversation_id: str, count: int, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """The first `count` messages the bot sent to a conversation, once there are that many."""

        def enough() -> list[dict[str, Any]] | None:
            found = self.sent_to(conversation_id)
            return found if len(found) >= count else None

        return wait_for(enough, f"{count} message(s) to {conversation_id}", timeout)[:count]

    # -- the process -------------------------------------------------------------------------

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log_file.close()


def _demo_data() -> dict[str, Any]:
    """The demo config as read, by libyaml's parser (70 ms less CPU than safe_load's)."""
    return dict(yaml.load(DEMO_CONFIG.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))


def write_config(folder: Path, endpoint: str | None, token: str | None, **extra: Any) -> Path:
    """The demo chamber's config, with the gateway's rooms and fast, always-open pacing."""
    data = _demo_data()
    data.update(
        data_dir=str(folder / "data"),
        database="chamberbot.db",
        staff_rooms=[STAFF],
        pacing={"min_gap_seconds": 0, "jitter_seconds": 0, "global_per_minute": 100_000,
                "retry_max_seconds": 1, "max_attempts": 20},
        quiet_hours={"start": "00:00", "end": "00:00"},  # start == end: no quiet hours
        wechat={k: v for k, v in (("endpoint", endpoint), ("token", token)) if v},
        web={"listen": f"127.0.0.1:{free_port()}"},  # never the default port other runs hold
    )  # fmt: skip
    # These tests run on the real date and are not about holidays: this year and the next
    # are "known" (Monday-Friday) so no missing-calendar notice joins the staff room.
    this_year = datetime.now(UTC).year
    calendar = folder / "calendar.yaml"
    calendar.write_text(f"{this_year}: {{}}\n{this_year + 1}: {{}}\n", encoding="utf-8")
    data["calendar"] = {"file": str(calendar)}
    data.update(extra)
    path = folder / "config.yaml"
    text = yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True)  # libyaml: 10x faster
    path.write_text(text, encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chamberbot() -> list[str]:
    script = Path(sys.executable).parent / "chamberbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "chamberbot.cli"]


def clean_env() -> dict[str, str]:
    """This environment without the Wechaty variables (they would override the config)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("WECHATY_")}


class Bot:
    """A real `chamberbot run` process; its log (stderr) goes to a file."""

    def __init__(self, config: Path, log: Path, env: dict[str, str] | None = None) -> None:
        """`env`: variables added to the clean environment (a channel's secret)."""
        self.log_path = log
        self.log_file = log.open("a", encoding="utf-8")
        self.proc = subprocess.Popen(
            [*chamberbot(), "run", "--config", str(config)],
            cwd=config.parent, env={**clean_env(), **(env or {})}, stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def kill(self) -> float:
        """`kill -9` by PID; returns the wall-clock second it was sent."""
        at = time.time()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.log_file.close()
        return at

    def wait_log(self, text: str, timeout: float = 10.0) -> str:
        def seen() -> str | None:
            if self.proc.poll() is not None:
                raise AssertionError(f"the bot exited ({self.proc.returncode}):\n{self.log()}")
            log = self.log()
            return log if text in log else None

        return wait_for(seen, f"{text!r} in the bot's log", timeout)

    def stop(self) -> int:
        if self.log_file.closed:
            return self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        return self.proc.returncode


@contextmanager
def connected(gateway: Gateway, folder: Path, **config: Any) -> Iterator[Bot]:
    """A bot of its own (config and data in `folder`) on a gateway that is already up,
    reset first: nothing sent, failing or held; logged in. Stopped afterwards."""
    gateway.post("/reset")
    path = write_config(folder, gateway.endpoint, gateway.token, **config)
    bot = Bot(path, folder / "bot.log")
    try:
        # a starting Python process on a loaded two-core machine may take more than 10 s
        bot.wait_log("logged in to WeChat as", timeout=30)
        yield bot
    finally:
        bot.stop()


@contextmanager
def running(folder: Path, **config: Any) -> Iterator[tuple[Gateway, Bot]]:
    """A populated gateway of its own and a bot connected to it (logged in), both stopped
    afterwards: for a test that kills, restarts or reshapes the gateway."""
    gateway = Gateway(folder / "gateway.log")
    try:
        gateway.populate()
        with connected(gateway, folder, **config) as bot:
            yield gateway, bot
    finally:
        gateway.close()


def case_number(text: str) -> str:
    found = NUMBER.search(text)
    assert found, text
    return found[0]


def open_case(gw: Gateway, sender: str, description: str, enterprise: str) -> str:
    """诉求 in the member group with an @mention; the bot asks the enterprise once."""
    before = len(gw.sent_to(MEMBERS))
    gw.say(sender, f"诉求 {description}", room=MEMBERS, mention_bot=True)
    question = gw.wait_sent(MEMBERS, before + 1)[-1]
    assert "企业名称" in question["text"]
    gw.say(sender, enterprise, room=MEMBERS)
    return case_number(gw.wait_sent(MEMBERS, before + 2)[-1]["text"])


def assert_nothing_twice(messages: list[dict[str, Any]]) -> None:
    twice = [k for k, n in Counter((m["conversation_id"], m["text"]) for m in messages).items()
             if n > 1]  # fmt: skip
    assert twice == []
