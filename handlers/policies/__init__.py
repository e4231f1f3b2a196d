"""送政策 (policies): the policy library's sources and fetch, search in chat, and the group
digests (broadcasts) staff define, preview, confirm and schedule.

The sources and the store are the top-level package `policy_feeds` (RSS/Atom, JSON, a
folder, `policy add`), which this feature runs; its one service is the library
(`services.service(PolicyLibrary)`). settings.py (the `policies`, `broadcasts` and `digest`
sections, read with `settings(config)`), chat.py (政策, 推送), broadcasts*.py (which groups
get what), feeds.py and feeds_cli.py (`chamberbot policy …`), matching*.py (eligibility,
the private push of matched policies, 订阅/退订/已申报, the `matching` section).
"""

from __future__ import annotations

from pathlib import Path

from bot.feature import Feature, JobSpec, SubParsers, WebPart
from bot.services import Services
from handlers.policies import (
    broadcast_schedule,
    broadcasts_cli,
    chat,
    feeds,
    feeds_cli,
    mass_send,
    matching_chat,
    matching_job,
    web_library,
    web_matching,
    web_schedule,
)
from handlers.policies.matching_store import MIGRATIONS
from handlers.policies.settings import SECTIONS, settings
from policy_feeds.library import PolicyLibrary
from policy_feeds.migrations import STORE

__all__ = ["FEATURE", "PolicyLibrary"]


def _service(services: Services) -> PolicyLibrary:
    policies = settings(services.config).policies
    return PolicyLibrary(services.db, policies, services.config.tz, services.base_dir)


def _jobs(services: Services) -> list[JobSpec]:
    return [
        *broadcast_schedule.jobs(services),
        *feeds.JOBS(services),
        *matching_job.jobs(services),
        *mass_send.jobs(services),
    ]


def _on_start(services: Services) -> None:
    mass_send.seed_groups(services)
    broadcast_schedule.on_start(services)


def _cli(commands: SubParsers) -> None:
    broadcasts_cli.register(commands)
    feeds_cli.register(commands)


FEATURE = Feature(
    templates=Path(__file__).resolve().parent / "templates",
    name="policies",
    routes=[*chat.ROUTES, *matching_chat.ROUTES],
    prompts=chat.PROMPTS,
    jobs=_jobs,
    on_start=_on_start,
    cli=_cli,
    console=[*chat.CONSOLE, *feeds.CONSOLE],
    settings=SECTIONS,
    migrations=[STORE, MIGRATIONS, mass_send.MIGRATIONS],
    check=chat.CHECK,
    service=_service,
    web=WebPart(
        [web_library.routes, web_matching.routes, web_schedule.routes],
        [("/policies", "政策"), ("/broadcasts", "定时推送"), ("/groups", "群")],
    ),
)
