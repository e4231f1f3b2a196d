"""`chamberbot demo`: type as any member in any group or private chat and watch the bot.

Console commands start with `/`: /as 张总 @会员一群, /as 王科长 (a private chat),
/who, /advance 3d, /sweep, /fetch, /broadcast weekly, /1 /2 … (press a button of the
conversation's latest card: its command is said for the current person), /help, /quit.
Anything else is a
chat message from the current person in the current conversation; starting it with
@<bot name> mentions the bot.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.clock import FrozenClock, OffsetClock
from bot.messages import Incoming
from bot.runtime import Runtime
from bot.services import Services
from channels.console import ConsoleTransport

__all__ = ["SEED", "ConsoleDemo"]


def _stdin_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str]:
    """Lines typed, read by a daemon thread: Ctrl-C ends the demo at once instead of
    waiting for a blocked readline in an executor thread ("" at end of input)."""
    queue: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            line = sys.stdin.readline()
            loop.call_soon_threadsafe(queue.put_nowait, line)
            if not line:
                return

    threading.Thread(target=read, name="demo-stdin", daemon=True).start()
    return queue


async def _first(*waits: Awaitable[object]) -> object:
    """The result of whichever finishes first; the others are cancelled."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return next(iter(done)).result()


SEED = Path(__file__).resolve().parent.parent / "bot" / "demo" / "seed.yaml"
STOP_SECONDS = 10.0
_AS = re.compile(r"^/as\s+(?P<who>[^@＠\s]+)\s*(?:[@＠](?P<room>\S+))?\s*$")
_ADVANCE = re.compile(r"^/advance\s+(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_HOOK = re.compile(r"^/(?P<name>\w+)(?:\s+(?P<args>.*))?$")
_PRESS = re.compile(r"^/(?P<n>\d+)$")


class ConsoleDemo:
    def __init__(self, app: Services, write: Callable[[str], None], seed: Path = SEED) -> None:
        self.app = app
        self.write = write
        data: dict[str, Any] = yaml.safe_load(seed.read_text(encoding="utf-8"))
        self.rooms: dict[str, str] = {r["topic"]: r["id"] for r in data["rooms"]}
        self.people: dict[str, str] = {s.name: s.contact_id for s in app.config.staff}
        for person in data["people"]:
            self.people[person["name"]] = person["id"]
            known = app.people.contact(person["id"])
            if not known["name"]:
                app.people.remember(
                    person["id"], name=person["name"], enterprise=person.get("enterprise")
                )
        self.names = {v: k for k, v in self.people.items()}
        self.sender = self.people[data["start"]["who"]]
        self.room: str | None = self.rooms[data["start"]["room"]]
        self.transport = ConsoleTransport(
            write, self.label, app.config.bot_name, app.people.name, app.templates.render
        )
        self.runtime = Runtime(app, [self.transport])
        self.hooks = {h.name: h for f in app.features for h in f.console}
        # /sweep and /seed may come from several features: each one's runs, in order.
        self.every = {
            name: [h for f in app.features for h in f.console if h.name == name]
            for name in ("sweep", "seed")
        }
        self._count = 0
        if "fetch" in self.hooks:  # the bundled sample feeds and folder: local files
            self.hooks["fetch"].run(app, "")
        for hook in self.every["seed"]:  # sample data (an upcoming lecture …)
            hook.run(app, "")

    def label(self, conversation_id: str) -> str:
        topics = {v: k for k, v in self.rooms.items()}
        if conversation_id in topics:
            return topics[conversation_id]
        return f"私聊·{self.names.get(conversation_id, conversation_id)}"

    def prompt(self) -> str:
        where = self.label(self.room) if self.room else "私聊"
        return f"{self.names[self.sender]}@{where}> "

    async def feed(self, line: str) -> bool:
        """One line of input; False once the user asks to quit."""
        line = line.strip()
        if not line or line.startswith("--"):
            return True
        if press := _PRESS.match(line):
            return await self._press(int(press["n"]))
        if line.startswith("/"):
            return await self._command(line)
        bot = self.app.config.bot_name
        await self._say(line, mentions=line.startswith((f"@{bot}", f"＠{bot}")))
        return True

    async def _press(self, n: int) -> bool:
        """A button of the conversation's latest card: its command, said to the bot."""
        choices = self.transport.choices(self.room or self.sender)
        if not 1 <= n <= len(choices):
            render = self.app.templates.render
            self.write(render("console_no_choice", given=n, count=len(choices)))
            return True
        await self._say(choices[n - 1].command, mentions=True)
        return True

    async def _say(self, line: str, *, mentions: bool) -> None:
        self._count += 1
        msg = Incoming(
            message_id=f"console-{self.app.clock.now().timestamp():.0f}-{self._count}",
            conversation_id=self.room or self.sender,
            is_group=self.room is not None,
            sender_id=self.sender,
            sender_name=self.names[self.sender],
            text=line,
            time=self.app.clock.now(),
            room_topic=self.label(self.room) if self.room else None,
            mentions_bot=mentions,
        )
        await self.runtime.on_message(msg)
        await self.runtime.sender.drain_once(paced=False)

    async def _command(self, line: str) -> bool:
        app = self.app
        if line in ("/quit", "/exit"):
            return False
        if match := _AS.match(line):
            who, room = match["who"], match["room"]
            if who not in self.people or (room and room not in self.rooms):
                unknown = who if who not in self.people else f"@{room}"
                self.write(app.templates.render("console_as_unknown", given=unknown))
                self.write(self._who())
                return True
            self.sender = self.people[who]
            self.room = self.rooms[room] if room else None
            self.write(
                app.templates.render(
                    "console_as",
                    who=who,
                    where=self.label(self.room or "") if self.room else "私聊",
                )
            )
        elif match := _ADVANCE.match(line):
            clock = app.clock
            if not isinstance(clock, FrozenClock | OffsetClock):
                raise TypeError("the demo clock cannot move")
            clock.advance(timedelta(**{_UNITS[match["unit"]]: float(match["n"])}))
            self.write(app.templates.render("console_time", now=app.clock.now()))
            await self._hook("sweep", "")
            count, until = app.outbox.held(app.clock.now())
            if count:
                self.write(app.templates.render("console_held", count=count, until=until))
        elif line.split()[0] == "/advance":
            given = line.removeprefix("/advance").strip()
            self.write(app.templates.render("console_advance_usage", given=given))
        elif line == "/who":
            self.write(self._who())
        elif (match := _HOOK.match(line)) and match["name"] in self.hooks:
            await self._hook(match["name"], match["args"] or "")
        else:
            self.write(app.templates.render("console_help", bot_name=app.config.bot_name))
        return True

    def _who(self) -> str:
        config = self.app.config
        staff = {s.contact_id for s in config.staff}
        roles = {
            name: "管理员" if cid in config.admins else "工作人员" if cid in staff else ""
            for name, cid in self.people.items()
        }
        return self.app.templates.render(
            "console_who", people=sorted(self.people), roles=roles, rooms=sorted(self.rooms)
        )

    async def _hook(self, name: str, args: str) -> None:
        """A feature's console command (/sweep, /fetch, /broadcast …), then send."""
        hooks = self.every.get(name) or [h for h in [self.hooks.get(name)] if h]
        for hook in hooks:
            said = hook.run(self.app, args)
            if said:
                self.write(said)
        await self.runtime.sender.drain_once(paced=False)

    async def run_script(self, lines: Iterable[str]) -> None:
        for line in lines:
            line = line.rstrip("\n")
            self.write(line if line.startswith("--") or not line else self.prompt() + line)
            if not await self.feed(line):
                break

    async def interactive(self) -> bool:
        """Typed lines until /quit, the end of input or Ctrl-C (then True). Ctrl-C is the
        loop's own signal handler, so it ends the demo whatever the loop was doing, and the
        bot's runtime gets `STOP_SECONDS` to stop (what still runs then is printed)."""
        loop = asyncio.get_running_loop()
        interrupted = asyncio.Event()
        # before the banner: a Ctrl-C as soon as it shows is ours (a process started with
        # SIGINT ignored, as a background job is, gets no handler from asyncio.run)
        loop.add_signal_handler(signal.SIGINT, interrupted.set)
        self.write(self.app.templates.render("console_help", bot_name=self.app.config.bot_name))
        stop = asyncio.Event()
        serving = asyncio.create_task(self.runtime.serve(stop))
        lines = _stdin_lines(loop)
        try:
            while True:
                sys.stdout.write(self.prompt())
                sys.stdout.flush()
                line = await _first(lines.get(), interrupted.wait())
                if interrupted.is_set() or not line or not await self.feed(str(line)):
                    break
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            stop.set()
            if not (await asyncio.wait({serving}, timeout=STOP_SECONDS))[0]:
                for task in asyncio.all_tasks():  # where it hangs, for the bug report
                    task.print_stack(file=sys.stderr)
                serving.cancel()
        return interrupted.is_set()
