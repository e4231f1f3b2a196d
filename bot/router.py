"""Keyword routes, declared by each feature together with their help text, and the
context a handler gets.

A route may declare `filters` in the manner of aiogram's: callables that take the context
and return `True` (go on), `False` (answer with the usage line) or a dict whose items the
handler gets as keyword arguments; a filter may also raise `Refusal` with its own answer.
A feature supplies its own (the cases feature's `CaseArg` finds the case a command names).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from bot.messages import Incoming, Outgoing, Role
from bot.normalize import normalize, split_command
from bot.people import Actor
from bot.refusal import Refusal

if TYPE_CHECKING:
    from sqlite_utils import Database

    from bot.clock import Clock
    from bot.config import Config
    from bot.notices import Notices
    from bot.outbox import Outbox
    from bot.people import People
    from bot.places import Places
    from bot.services import Services

__all__ = ["Context", "Filter", "Handler", "Route", "Router", "RouterError"]

#: a route's handler: the context, then whatever its filters found (as keyword arguments)
Handler = Callable[..., list[Outgoing]]
#: True: go on; False: the usage reply; a dict: keyword arguments for the handler
Filter = Callable[["Context"], "bool | dict[str, Any]"]
T = TypeVar("T")


@dataclass(frozen=True)
class Route:
    """One chat command: its default keywords, who may use it, and its help line."""

    command: str
    keywords: tuple[str, ...]
    handler: Handler
    usage: str
    summary: str
    role: Role = Role.MEMBER
    staff_place_only: bool = False  # only in a staff room or a private chat
    in_help: bool = True
    filters: tuple[Filter, ...] = ()


class RouterError(ValueError):
    """A keyword setting that cannot work (unknown command, keyword used twice)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key, self.reason = key, reason


class Router:
    def __init__(
        self,
        routes: Sequence[Route],
        prompts: dict[str, Handler],
        overrides: dict[str, list[str]] | None = None,
    ) -> None:
        self.routes = list(routes)
        self.prompts = dict(prompts)
        self._help: dict[Role, list[dict[str, Any]]] = {}
        self.by_command: dict[str, Route] = {}
        for route in self.routes:
            if route.command in self.by_command:
                raise RouterError(f"commands.{route.command}", "declared by two features")
            self.by_command[route.command] = route
        overrides = overrides or {}
        self.keywords: dict[str, str] = {}
        self.aliases: dict[str, tuple[str, ...]] = {}
        for name in overrides:
            if name not in self.by_command:
                raise RouterError(f"commands.{name}", "unknown command")
        for route in self.routes:
            words = tuple(overrides.get(route.command, route.keywords))
            if not words:
                raise RouterError(f"commands.{route.command}", "needs at least one keyword")
            self.aliases[route.command] = words
            for word in words:
                key = normalize(word).lstrip("#")
                other = self.keywords.get(key)
                if other and other != route.command:
                    raise RouterError(
                        f"commands.{route.command}", f"keyword {word!r} is also used by {other}"
                    )
                self.keywords[key] = route.command
        self._longest = max(map(len, self.keywords), default=0)

    def match(self, text: str, *, loose: bool) -> tuple[Route, str, str] | None:
        found = split_command(text, self.keywords, loose=loose, longest=self._longest)
        if found is None:
            return None
        command, keyword, rest = found
        return self.by_command[command], keyword, rest

    def keyword(self, command: str) -> str:
        """The first keyword of a command, as the user would type it."""
        return self.aliases[command][0]

    def usage(self, route: Route) -> str:
        """The usage line with the configured first keyword in place of the default."""
        first = self.keyword(route.command)
        return first + route.usage[len(route.keywords[0]) :]

    def visible(self, role: Role) -> list[Route]:
        return [r for r in self.routes if r.in_help and r.role <= role]

    def help_lines(self, role: Role) -> list[dict[str, Any]]:
        """What 帮助 lists for a role: each visible command's usage, summary and other
        keywords. Worked out once per role: the routes do not change under a running bot."""
        lines = self._help.get(role)
        if lines is None:
            lines = self._help[role] = [
                {
                    "usage": self.usage(r),
                    "summary": r.summary,
                    "aliases": self.aliases[r.command][1:],
                }
                for r in self.visible(role)
            ]
        return lines

    def mentioned_in(self, text: str) -> Route | None:
        """A command keyword standing anywhere in the text, for "did you mean" hints."""
        norm = normalize(text)
        hits = [(len(k), c) for k, c in self.keywords.items() if len(k) >= 2 and k in norm]
        return self.by_command[max(hits)[1]] if hits else None


@dataclass
class Context:
    """What a handler gets: the message, who sent it, what follows the keyword, and the
    services it may use (each by name: ctx.service(CaseService), ctx.people, ctx.places …)."""

    services: Services
    msg: Incoming
    role: Role
    args: str
    route: Route | None = None
    prompt: dict[str, Any] = field(default_factory=dict)  # data saved by ctx.ask()

    # -- the services, by name -------------------------------------------------------------

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def db(self) -> Database:
        return self.services.db

    def service(self, kind: type[T]) -> T:
        """A feature's service by its type (see Services.service)."""
        return self.services.service(kind)

    @property
    def people(self) -> People:
        return self.services.people

    @property
    def places(self) -> Places:
        return self.services.places

    @property
    def notices(self) -> Notices:
        return self.services.notices

    @property
    def outbox(self) -> Outbox:
        return self.services.outbox

    # -- about the message -----------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.services.clock.now()

    @cached_property
    def norm_args(self) -> str:
        return normalize(self.args)

    @property
    def addressed(self) -> bool:
        return not self.msg.is_group or self.msg.mentions_bot

    @property
    def in_staff_place(self) -> bool:
        return self.services.people.is_staff_place(self.msg.conversation_id)

    @property
    def actor(self) -> Actor:
        """The sender as a service records them (staff by their configured name)."""
        sender = self.msg.sender_id
        name = self.services.people.staff_name(sender) if self.role >= Role.STAFF else None
        return Actor(sender, name or self.msg.sender_name or sender, self.msg.conversation_id)

    # -- saying things ---------------------------------------------------------------------

    def keyword(self, command: str) -> str:
        return self.services.router.keyword(command)

    def say(self, template: str, *, mention: bool = True, **context: Any) -> Outgoing:
        """A reply into the conversation the message came from (@sender in a group)."""
        mentions = (self.msg.sender_id,) if mention and self.msg.is_group else ()
        return self.services.notices.to(
            self.msg.conversation_id,
            template,
            mentions,
            channel=self.msg.channel,
            reply_to=self.msg.message_id,
            **context,
        )

    def usage_line(self) -> str:
        return self.services.router.usage(self.route) if self.route else ""

    def usage(self, template: str = "usage", **context: Any) -> list[Outgoing]:
        """The short "here is the right form" reply for the current command."""
        return [self.say(template, usage=self.usage_line(), **context)]

    def refuse_usage(self, **context: Any) -> Refusal:
        """`raise ctx.refuse_usage()`: leave the handler with the usage reply."""
        return Refusal("usage", usage=self.usage_line(), **context)

    def here(self, out: Outgoing) -> Outgoing:
        """A notice meant for elsewhere, also said here (@sender in a group)."""
        mentions = (self.msg.sender_id,) if self.msg.is_group else ()
        msg = self.msg
        return Outgoing(
            msg.conversation_id, out.text, mentions, msg.channel, reply_to=msg.message_id
        )

    def ask(self, state: str, **data: Any) -> None:
        self.services.sessions.ask(
            self.msg.conversation_id, self.msg.sender_id, state, self.now, **data
        )
