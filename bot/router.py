"""Keyword routes, declared by each handler module together with their help text."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from bot.messages import Incoming, Outgoing, Role
from bot.normalize import normalize, split_command

if TYPE_CHECKING:
    from bot.app import App

__all__ = ["Context", "Handler", "Route", "Router", "RouterError"]

Handler = Callable[["Context"], list[Outgoing]]


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
        self.by_command = {r.command: r for r in self.routes}
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

    def match(self, text: str, *, loose: bool) -> tuple[Route, str, str] | None:
        found = split_command(text, self.keywords, loose=loose)
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

    def mentioned_in(self, text: str) -> Route | None:
        """A command keyword standing anywhere in the text, for "did you mean" hints."""
        norm = normalize(text)
        hits = [(len(k), c) for k, c in self.keywords.items() if len(k) >= 2 and k in norm]
        return self.by_command[max(hits)[1]] if hits else None


@dataclass
class Context:
    """What a handler gets: the message, who sent it, what follows the keyword, the app."""

    app: App
    msg: Incoming
    role: Role
    args: str
    route: Route | None = None
    prompt: dict[str, Any] = field(default_factory=dict)  # data saved by ctx.ask()

    @property
    def now(self) -> datetime:
        return self.app.clock.now()

    @cached_property
    def norm_args(self) -> str:
        return normalize(self.args)

    @property
    def addressed(self) -> bool:
        return not self.msg.is_group or self.msg.mentions_bot

    def say(self, template: str, *, mention: bool = True, **context: Any) -> Outgoing:
        """A reply into the conversation the message came from (@sender in a group)."""
        mentions = (self.msg.sender_id,) if mention and self.msg.is_group else ()
        return self.app.compose(self.msg.conversation_id, template, mentions, **context)

    def usage(self, template: str = "usage", **context: Any) -> list[Outgoing]:
        """The short "here is the right form" reply for the current command."""
        assert self.route is not None
        return [self.say(template, usage=self.app.router.usage(self.route), **context)]

    def to_staff(self, template: str, **context: Any) -> list[Outgoing]:
        return self.app.to_staff(template, **context)

    def ask(self, state: str, **data: Any) -> None:
        self.app.sessions.ask(
            self.msg.conversation_id, self.msg.sender_id, state, self.now, **data
        )


def flatten(groups: Iterable[Iterable[Outgoing]]) -> list[Outgoing]:
    return [out for group in groups for out in group]
