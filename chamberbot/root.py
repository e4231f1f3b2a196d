"""Which features the bot is made of, in priority order, and how the services are built.

Adding a feature is one line in FEATURES (its manifest says the rest). Keyword routes
are matched in this order, so earlier features win a tie.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.clock import Clock
from bot.config import Config, ConfigError, Sections, load_config
from bot.feature import Feature
from bot.router import RouterError
from bot.services import Services
from handlers import (
    cases,
    enterprises,
    events,
    identity,
    membership,
    menu,
    policies,
    portal,
    reports,
    surveys,
)
from web import FEATURE as WEB

__all__ = ["DEMO_CONFIG", "FEATURES", "build", "default_db", "load", "sections", "services"]

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "bot" / "demo" / "config.yaml"

FEATURES: list[Feature] = [
    menu.FEATURE,
    cases.FEATURE,
    policies.FEATURE,
    events.FEATURE,
    reports.FEATURE,
    membership.FEATURE,
    enterprises.FEATURE,
    identity.FEATURE,
    surveys.FEATURE,
    portal.FEATURE,
    WEB,
]


def sections(features: Sequence[Feature] = FEATURES) -> Sections:
    return {name: model for f in features for name, model in f.settings.items()}


def load(path: Path) -> Config:
    """The config file with every feature's settings section validated."""
    return load_config(path, sections())


def default_db(config: Config, config_path: Path) -> Path:
    """The database every command uses unless told otherwise: for the demo's config
    ./data/<database> (as `make demo`), else the config's own `data_dir`."""
    if config_path.resolve() == DEMO_CONFIG:
        return Path("data") / config.database
    return config.database_path(config_path.parent)


def build(
    config: Config,
    config_path: Path,
    db_path: Path,
    clock: Clock | None = None,
    features: Sequence[Feature] = FEATURES,
) -> Services:
    """The services for a checked config: keywords, prompts and each feature's own
    checks are checked here too (file: key: reason)."""
    try:
        services = Services(
            config, db_path=db_path, features=features, clock=clock, base_dir=config_path.parent
        )
    except RouterError as exc:
        raise ConfigError(str(config_path), exc.key, exc.reason) from None
    for feature in features:
        problem = feature.check(services) if feature.check else None
        if problem:
            services.close()
            raise ConfigError(str(config_path), *problem)
    return services


def services(
    config: Config,
    *,
    db_path: Path | str,
    clock: Clock | None = None,
    base_dir: Path | None = None,
) -> Services:
    """The services with every feature (tests and benchmarks build them this way)."""
    return Services(config, db_path=db_path, features=FEATURES, clock=clock, base_dir=base_dir)
