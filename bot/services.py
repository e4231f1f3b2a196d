"""The services a running bot is made of, built once from the config and the features.

Each collaborator owns its tables: people → contacts, places → conversations, outbox →
outbox, sessions → sessions. Each feature's one service (its manifest's `service`) is built
here once, after the core's, in the features' order, and found by its type:
`services.service(CaseService)`. Handlers reach them through their context (ctx.people,
ctx.service(…)); jobs and commands through this object.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from bot.calendar_file import CalendarFile
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.db import open_db
from bot.feature import Feature
from bot.notices import Notices
from bot.outbox import Outbox
from bot.people import People
from bot.places import Places
from bot.router import Handler, Router, RouterError
from bot.sessions import Sessions
from bot.templates import Templates

__all__ = ["Services"]

T = TypeVar("T")


def _prompts(features: Sequence[Feature]) -> dict[str, Handler]:
    """Every feature's prompt states; a state declared twice is an error, like a keyword."""
    prompts: dict[str, Handler] = {}
    owner: dict[str, str] = {}
    for feature in features:
        for state, handler in feature.prompts.items():
            if state in prompts:
                raise RouterError(
                    f"prompts.{state}", f"declared by {owner[state]} and {feature.name}"
                )
            prompts[state], owner[state] = handler, feature.name
    return prompts


class Services:
    def __init__(
        self,
        config: Config,
        *,
        db_path: Path | str,
        features: Sequence[Feature] = (),
        clock: Clock | None = None,
        base_dir: Path | None = None,
    ) -> None:
        self.config = config
        self.features = list(features)
        self.clock: Clock = clock or SystemClock(config.tz)
        self.db_path = db_path
        self.base_dir = base_dir or Path.cwd()  # relative paths in the config start here
        self.calendar_file = CalendarFile(config.calendar, self.base_dir)  # before the db
        self.db = open_db(db_path, [m for f in self.features for m in f.migrations])
        routes = [route for feature in self.features for route in feature.routes]
        self.router = Router(routes, _prompts(self.features), config.commands)
        override = None
        if config.templates_dir:
            override = Path(config.templates_dir)
            if not override.is_absolute():
                override = self.base_dir / override
        self.templates = Templates(
            config.tz,
            override,
            [f.templates for f in self.features if f.templates],
            clock=self.clock,
            bot_name=config.bot_name,
            kw=self.router.keyword,
        )
        self.sessions = Sessions(self.db, timedelta(minutes=config.prompt_minutes))
        self.people = People(self.db, config, self.clock)
        self.places = Places(self.db, config, self.clock)
        self.places.seed_configured()
        self.notices = Notices(self.templates, self.people, self.places)
        self.outbox = Outbox(
            self.db,
            self.clock,
            self.people.shows_phones,
            mask=config.privacy.mask_phones,
            quiet=config.quiet_hours,
        )

        self._services: dict[type, object] = {}
        for feature in self.features:
            if feature.service is not None:
                built = feature.service(self)
                self._services[type(built)] = built

    def service(self, kind: type[T]) -> T:
        """The one service of the feature that declared it (KeyError: no such feature)."""
        found = self._services.get(kind)
        if found is None:
            raise KeyError(f"no feature provides {kind.__name__}")
        assert isinstance(found, kind)
        return found

    def close(self) -> None:
        self.db.close()
