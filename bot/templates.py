"""Every sentence a user reads: Jinja2 templates, one Environment, StrictUndefined.

A chamber overrides any template by putting a file of the same name in the folder
named by `templates_dir`.

Dates and times users read have one house style, from two filters (no template formats a
date itself; tests/test_templates.py greps for it):

    {{ x | date }}       12月3日(周四)          2027年1月4日(周一)     in another year
    {{ x | datetime }}   12月3日(周四) 09:00    2027年1月4日(周一) 09:00

The year is written when it is not the current year (of the injected clock), or not
`year=` when given (a listing of one year says the year once: `date(year=plan.year)`).
`datetime(same_day=other)` writes only `09:00` when x falls on `other`'s day (an event's
end, a check-in). Values: aware datetimes, dates, or stored ISO stamps; empty → "—".

A template offers answers with a top-level `{% set choices = [choice(label, word, …)] %}`:
`Templates.compose` returns them beside the text (a click sends the words, space-joined,
as if typed); only a channel with buttons shows them, so the text still says what to type.
`when` and `day` are the older filters, kept while handlers/reports and web templates
still use them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    BytecodeCache,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    Template,
)
from jinja2.bccache import Bucket
from jinja2.ext import Extension

from bot.clock import Clock, SystemClock
from bot.messages import Choice

__all__ = ["CompiledOnce", "Templates", "clip", "pages"]

_WEEKDAYS = "一二三四五六日"

Moment = datetime | date | str | None


@lru_cache(maxsize=8192)
def _parsed(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def _day_text(day: date, year: int) -> str:
    """`12月3日(周四)`, with `2027年` first when `day` is not in `year`."""
    text = f"{day.month}月{day.day}日(周{_WEEKDAYS[day.weekday()]})"
    return text if day.year == year else f"{day.year}年{text}"


def _choice(label: str, *words: object) -> Choice:
    return Choice(label, " ".join(str(w) for w in words))


def clip(text: str, length: int) -> str:
    """At most `length` characters with "…", never cutting a number (a phone) in two."""
    if len(text) <= length:
        return text
    cut = length - 1
    while cut > 0 and text[cut - 1].isdigit() and text[cut].isdigit():
        cut -= 1
    return text[:cut].rstrip() + "…"


# A line of text that ends in a block tag (`…{% endif %}`): trim_blocks would eat its
# newline and run it into the next line. Such lines get an empty expression at the end.
_TEXT_ENDING_IN_TAG = re.compile(r"^(?!\s*\{%)(.*\S.*%\})$", re.MULTILINE)


class CompiledOnce(BytecodeCache):
    """The compiled code of each template, kept in memory for the process: an Environment
    built again with the same settings (a Services per test, a console per app) compiles
    nothing twice. Keyed as Jinja's own caches are, by name, file and the source's
    checksum, so a changed or overriding file compiles anew. One instance per way of
    building an Environment: the code depends on its settings (autoescape, extensions)."""

    def __init__(self) -> None:
        self._code: dict[tuple[str, str], Any] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get((bucket.key, bucket.checksum))
        if code is not None:
            bucket.code = code

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self._code[bucket.key, bucket.checksum] = bucket.code


_COMPILED = CompiledOnce()  # for Templates' one way of building its Environment


_DICT_ATTRIBUTES = frozenset(dir(dict))

#: What every Environment here shares: an unknown name fails loudly, a line that is only a
#: block tag leaves no trace, and templates do not change under a running bot.
_STRICT: dict[str, Any] = {
    "undefined": StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "auto_reload": False,
}


class DictsFirst(Environment):
    """An Environment that reads `row.name` on a dict (most values handed to a template
    are) as the key straight away. Jinja tries the attribute first and catches the
    AttributeError for every key, which was a third of writing the 帮助 menu. The same
    answer: a dict has no attribute but its class's, and those still come first."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


class KeepLineEnds(Extension):
    """trim_blocks for lines that are only a block tag, not for lines of text."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return _TEXT_ENDING_IN_TAG.sub(r'\1{{ "" }}', source)


class Templates:
    def __init__(
        self,
        tz: tzinfo,
        override_dir: Path | None = None,
        feature_dirs: Sequence[Path] = (),
        *,
        clock: Clock | None = None,
        **globals_: Any,
    ) -> None:
        loaders: list[Any] = []
        if override_dir is not None:
            loaders.append(FileSystemLoader(str(override_dir)))
        loaders.append(PackageLoader("bot", "templates"))
        loaders.extend(FileSystemLoader(str(d)) for d in feature_dirs)
        self.env = DictsFirst(
            loader=ChoiceLoader(loaders),
            keep_trailing_newline=False,
            autoescape=False,
            extensions=[KeepLineEnds],
            bytecode_cache=_COMPILED,
            **_STRICT,
        )
        self.tz = tz
        self._compiled: dict[str, Template] = {}
        self.clock: Clock = clock or SystemClock(tz)
        self.env.filters["date"] = self._date
        self.env.filters["datetime"] = self._datetime
        self.env.filters["clip"] = clip
        self.env.globals["choice"] = _choice
        self.env.globals.update(globals_)

    def _moment(self, value: datetime | date | str) -> datetime | date:
        """A date as it is; a datetime (or stamp) in the chamber's time zone."""
        when = _parsed(value) if isinstance(value, str) else value
        if not isinstance(when, datetime):
            return when
        return when.astimezone(self.tz) if when.tzinfo else when.replace(tzinfo=self.tz)

    def _date(self, value: Moment, year: int | None = None) -> str:
        """The house style for a day: `12月3日(周四)` / `2027年1月4日(周一)`."""
        if not value:
            return "—"
        when = self._moment(value)
        day = when.date() if isinstance(when, datetime) else when
        return _day_text(day, year or self.clock.now().year)

    def _datetime(self, value: Moment, same_day: Moment = None, year: int | None = None) -> str:
        """The house style for a moment: `12月3日(周四) 09:00` / `2027年1月4日(周一) 09:00`,
        or only `09:00` when it falls on `same_day`'s date."""
        if not value:
            return "—"
        when = self._moment(value)
        if not isinstance(when, datetime):
            return self._date(when, year)
        clock = f"{when:%H:%M}"
        if same_day and self._date(same_day, year) == self._date(when, year):
            return clock
        return f"{self._date(when, year)} {clock}"

    def render(self, name: str, **context: Any) -> str:
        return self.compose(name, **context)[0]

    def compose(self, name: str, **context: Any) -> tuple[str, tuple[Choice, ...]]:
        """The text, and the choices the template offers: a top-level
        `{% set choices = [choice(label, word, …), …] %}` (each click sends the words)."""
        template = self._compiled.get(name)
        if template is None:  # templates do not change under a running bot
            template = self._compiled[name] = self.env.get_template(f"{name}.j2")
        # Template.render would copy the globals into a fresh dict through a ChainMap on
        # every call; one merged dict in a shared context is the same, at half the cost.
        ctx = template.new_context({**self.env.globals, **context}, shared=True)
        try:
            text = "".join(template.root_render_func(ctx)).strip()
        except Exception:
            self.env.handle_exception()  # Jinja's traceback, pointing into the template
        return text, tuple(ctx.vars.get("choices", ()))

    def names(self) -> list[str]:
        return sorted(n.removesuffix(".j2") for n in self.env.list_templates(extensions=["j2"]))


_PAGES = CompiledOnce()  # for pages(): the HTML pages' one way of building an Environment


def pages(package: str, folder: str, chat: Templates) -> Environment:
    """The Environment of a set of HTML pages (the web console's, the member page's): the
    package's folder, then the chat's templates (their labels for stored codes: one
    wording), autoescaped, strict, each page compiled once per process, with the chat's
    wording of times (the `date` and `datetime` filters) and its `bot_name`."""
    env = DictsFirst(
        loader=ChoiceLoader([PackageLoader(package, folder), PackageLoader("bot")]),
        autoescape=True,
        bytecode_cache=_PAGES,
        **_STRICT,
    )
    for name in ("date", "datetime"):
        env.filters[name] = chat.env.filters[name]
    env.globals["bot_name"] = chat.env.globals["bot_name"]
    return env
