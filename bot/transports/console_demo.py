"""`chamberbot demo`: type as any member in any group or private chat and watch the bot.

Console commands start with `/`: /as 张总 @会员一群, /as 王科长 (a private chat),
/who, /advance 3d, /sweep, /fetch, /broadcast weekly, /help, /quit. Anything else is a
chat message from the current person in the current conversation; starting it with
@<bot name> mentions the bot.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.clock import FrozenClock, OffsetClock
from bot.messages import Incoming
from bot.runtime import Runtime
from bot.services import Services
from bot.transports.console import ConsoleTransport

__all__ = ["SEED", "ConsoleDemo"]

SEED = Path(__file__).resolve().parent.parent / "demo" / "seed.yaml"
_AS = re.compile(r"^/as\s+(?P<who>[^@＠\s]+)\s*(?:[@＠](?P<room>\S+))?\s*$")
_ADVANCE = re.compile(r"^/advance\s+(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_HOOK = re.compile(r"^/(?P<name>\w+)(?:\s+(?P<args>.*))?$")


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
        self.transport = ConsoleTransport(write, self.label, app.config.bot_name, app.people.name)
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
        if line.startswith("/"):
            return await self._command(line)
        self._count += 1
        bot = self.app.config.bot_name
        mentions = line.startswith((f"@{bot}", f"＠{bot}"))
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
        return True

    async def _command(self, line: str) -> bool:
        app = self.app
        if line in ("/quit", "/exit"):
            return False
        if match := _AS.match(line):
            who, room = match["who"], match["room"]
            self.sender = self.people.setdefault(who, f"console_{who}")
            self.names[self.sender] = who
            self.room = self.rooms.setdefault(room, f"room_{room}") if room else None
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
        elif line == "/who":
            self.write(
                app.templates.render(
                    "console_who", people=sorted(self.people), rooms=sorted(self.rooms)
                )
            )
        elif (match := _HOOK.match(line)) and match["name"] in self.hooks:
            await self._hook(match["name"], match["args"] or "")
        else:
            self.write(app.templates.render("console_help", bot_name=app.config.bot_name))
        return True

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

    async def interactive(self) -> None:
        self.write(self.app.templates.render("console_help", bot_name=self.app.config.bot_name))
        stop = asyncio.Event()
        serving = asyncio.create_task(self.runtime.serve(stop))
        loop = asyncio.get_running_loop()
        try:
            while True:
                sys.stdout.write(self.prompt())
                sys.stdout.flush()
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if not line or not await self.feed(line):
                    break
        finally:
            stop.set()
            await serving
