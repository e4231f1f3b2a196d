"""A feature's manifest: everything it adds to the bot, declared in one place.

Each feature module (or package) exports one `Feature`; the composition root
(`chamberbot/root.py`) lists them in priority order. The core reads manifests and never
imports a feature.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlite_utils.migrations import Migrations

from bot.router import Handler, Route

if TYPE_CHECKING:
    from bot.services import Services

__all__ = [
    "ConsoleHook",
    "Feature",
    "JobSpec",
    "SubParsers",
    "WebPart",
    "command_options",
    "with_services",
]

SubParsers = argparse._SubParsersAction
Command = Callable[["Services", argparse.Namespace], int]


def command_options() -> argparse.ArgumentParser:
    """The options every command that opens the services takes (use as `parents=`)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", help="settings file (default: the demo's, as `make demo` uses it)"
    )
    common.add_argument(
        "--db", help="SQLite file (default: the config's database; the demo's: ./data/demo.db)"
    )
    return common


def with_services(action: Command) -> dict[str, Command]:
    """`parser.set_defaults(**with_services(action))`: the command line opens the
    services (every command takes --config and --db, with the same defaults as the demo)
    and hands them to `action`, which returns the exit code."""
    return {"run_with_services": action}


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job. `func` is "module:function" so the job survives a restart in the
    store; the function takes `args` and reaches the services through
    `bot.scheduler.running_services()`."""

    id: str
    func: str
    trigger: Any
    args: tuple[Any, ...] = ()
    name: str | None = None
    misfire_grace_time: int | None = None
    #: keep the stored next run time when the trigger did not change (a run due while the
    #: bot was down then fires once on start, within misfire_grace_time)
    keep_next_run: bool = False


@dataclass(frozen=True)
class ConsoleHook:
    """A demo console command `/name args`; returns the lines to print."""

    name: str
    usage: str
    run: Callable[[Services, str], str]


@dataclass(frozen=True)
class WebPart:
    """A feature's pages on the staff web console: each of `pages(console)` gives routes (the
    console is web/console.py's `Console`; the core knows neither), `nav` its tabs as
    (path, label), in the features' order."""

    pages: Sequence[Callable[[Any], Sequence[Any]]]
    nav: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class Feature:
    name: str
    routes: Sequence[Route] = ()
    prompts: Mapping[str, Handler] = field(default_factory=dict)
    #: the scheduled jobs, from the settings and the database at start
    jobs: Callable[[Services], Sequence[JobSpec]] | None = None
    #: runs once when the bot starts, before the jobs are read (e.g. resume a half-done run)
    on_start: Callable[[Services], None] | None = None
    #: adds the feature's sub-commands to `chamberbot`
    cli: Callable[[SubParsers], None] | None = None
    console: Sequence[ConsoleHook] = ()
    #: the feature's own settings sections: key in the config file -> pydantic model
    settings: Mapping[str, type[BaseModel]] = field(default_factory=dict)
    #: the feature's own tables, applied after the core's (each set in its order)
    migrations: Sequence[Migrations] = ()
    #: a folder of the feature's own Jinja2 templates (looked up after the core's)
    templates: Path | None = None
    #: a check of the whole config the feature needs (returns (key, reason) or None)
    check: Callable[[Services], tuple[str, str] | None] | None = None
    #: the feature's one application service, built once by the services (after the
    #: core's and the earlier features'); others find it by type: services.service(T)
    service: Callable[[Services], object] | None = None
    #: the feature's pages on the staff web console
    web: WebPart | None = None
