"""Member groups, their tags, and broadcast targets: `all` or a tag expression.

A target expression is evaluated over a group's tags:

    融资 & 制造业        both tags
    外贸 | 跨境          either tag
    !餐饮               not tagged 餐饮
    (外贸 | 跨境) & !餐饮 parentheses group; `!` binds tightest, then `&`, then `|`

Tags and expressions are normalised like chat input (full width → half width, Traditional →
Simplified, lower case), so `＆`, `｜`, `！`, `（）` and 融資 work too.

A target may instead name one conversation of a channel, `<channel>:<name>` (e.g.
`wecom_webhook:秘书处`, a group robot of the config): it reaches that conversation and no
member group.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.normalize import SEPARATORS, normalize

__all__ = [
    "ALL",
    "Target",
    "TargetError",
    "parse_target",
    "split_tags",
]

ALL = "all"
_ALL_WORDS = {"all", "全部", "所有"}
_TAG_SEPARATORS = SEPARATORS + "、;；/"
_TOKEN = re.compile(r"\s*(?:([&|!()])|([^&|!()\s]+))")
_NAMED = re.compile(r"\s*([a-z][a-z0-9_]*)\s*[:：]\s*(\S(?:.*\S)?)\s*")

Matcher = Callable[[frozenset[str]], bool]


class TargetError(ValueError):
    """A target expression that cannot be read; the message says where."""


@dataclass(frozen=True)
class Target:
    text: str
    matcher: Matcher | None  # None: every member group
    channel: str | None = None  # `<channel>:<name>`: that one conversation, no member group
    name: str | None = None

    @property
    def is_all(self) -> bool:
        return self.matcher is None and self.channel is None

    def matches(self, tags: Iterable[str]) -> bool:
        if self.channel is not None:
            return False
        return self.matcher is None or self.matcher(frozenset(tags))


# -- tags ---------------------------------------------------------------------------------


def split_tags(text: str) -> list[str]:
    """`融资 制造业、浦东` → ['融资', '制造业', '浦东'] (normalised, in order, once each)."""
    tags: list[str] = []
    for word in re.split(f"[{re.escape(_TAG_SEPARATORS)}]+", text):
        tag = normalize(word)
        if tag and tag not in tags:
            tags.append(tag)
    return tags


# -- target expressions -------------------------------------------------------------------


def parse_target(text: str) -> Target:
    """`all` (or 全部), `<channel>:<name>` or a tag expression; raises TargetError."""
    named = _NAMED.fullmatch(text)
    if named:
        return Target(text.strip(), None, named[1], named[2])
    norm = normalize(text)
    if not norm or norm in _ALL_WORDS:
        return Target(ALL, None)
    return Target(text.strip(), _Parser(norm).parse())


class _Parser:
    """or := and ('|' and)* ; and := not ('&' not)* ; not := '!' not | tag | '(' or ')'"""

    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:  # only trailing white space is left
                break
            self.tokens.append(match.group(1) or f"#{match.group(2)}")
            pos = match.end()
        self.pos = 0

    def parse(self) -> Matcher:
        matcher = self._or()
        if self.pos < len(self.tokens):
            raise TargetError(f"unexpected {self._shown(self.tokens[self.pos])!r}")
        return matcher

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    @staticmethod
    def _shown(token: str) -> str:
        return token[1:] if token.startswith("#") else token

    def _or(self) -> Matcher:
        parts = [self._and()]
        while self._peek() == "|":
            self.pos += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda tags: any(p(tags) for p in parts))

    def _and(self) -> Matcher:
        parts = [self._not()]
        while self._peek() == "&":
            self.pos += 1
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else (lambda tags: all(p(tags) for p in parts))

    def _not(self) -> Matcher:
        token = self._peek()
        if token is None:
            raise TargetError("expression ends too early")
        self.pos += 1
        if token == "!":
            inner = self._not()
            return lambda tags: not inner(tags)
        if token == "(":
            inner = self._or()
            if self._peek() != ")":
                raise TargetError("missing )")
            self.pos += 1
            return inner
        if token.startswith("#"):
            tag = token[1:]
            nxt = self._peek()
            if nxt is not None and nxt.startswith("#"):
                raise TargetError(f"expected & or | between {tag!r} and {nxt[1:]!r}")
            return lambda tags: tag in tags
        raise TargetError(f"unexpected {token!r}")
