"""Every sentence a user reads: Jinja2 templates, one Environment, StrictUndefined.

A chamber overrides any template by putting a file of the same name in the folder
named by `templates_dir`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    Template,
)
from jinja2.ext import Extension

__all__ = ["Templates", "clip"]

_WEEKDAYS = "一二三四五六日"


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
        **globals_: Any,
    ) -> None:
        loaders: list[Any] = []
        if override_dir is not None:
            loaders.append(FileSystemLoader(str(override_dir)))
        loaders.append(PackageLoader("bot", "templates"))
        loaders.extend(FileSystemLoader(str(d)) for d in feature_dirs)
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            autoescape=False,
            auto_reload=False,
            extensions=[KeepLineEnds],  # templates do not change under a running bot
        )
        self.tz = tz
        self._compiled: dict[str, Template] = {}
        self.env.filters["when"] = self._when
        self.env.filters["day"] = self._day
        self.env.filters["clip"] = clip
        self.env.globals.update(globals_)

    def _local(self, value: datetime | str) -> datetime:
        when = datetime.fromisoformat(value) if isinstance(value, str) else value
        return when.astimezone(self.tz)

    @lru_cache(maxsize=4096)  # noqa: B019 - one Templates per process, values are stamps
    def _when(self, value: datetime | str | None) -> str:
        """`11月21日(周六) 14:30`"""
        if not value:
            return "—"
        w = self._local(value)
        return f"{w.month}月{w.day}日(周{_WEEKDAYS[w.weekday()]}) {w:%H:%M}"

    @lru_cache(maxsize=4096)  # noqa: B019 - one Templates per process, values are stamps
    def _day(self, value: datetime | str | None) -> str:
        """`2026年11月21日`"""
        if not value:
            return "—"
        w = self._local(value)
        return f"{w.year}年{w.month}月{w.day}日"

    def render(self, name: str, **context: Any) -> str:
        template = self._compiled.get(name)
        if template is None:  # templates do not change under a running bot
            template = self._compiled[name] = self.env.get_template(f"{name}.j2")
        # Template.render would copy the globals into a fresh dict through a ChainMap on
        # every call; one merged dict in a shared context is the same, at half the cost.
        ctx = template.new_context({**self.env.globals, **context}, shared=True)
        try:
            return "".join(template.root_render_func(ctx)).strip()
        except Exception:
            self.env.handle_exception()  # Jinja's traceback, pointing into the template

    def names(self) -> list[str]:
        return sorted(n.removesuffix(".j2") for n in self.env.list_templates(extensions=["j2"]))
