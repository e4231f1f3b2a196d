"""The policy library's manifest: the periodic fetch, `chamberbot policy …`, `/fetch`."""

from __future__ import annotations

from apscheduler.triggers.interval import IntervalTrigger

from bot.feature import ConsoleHook, JobSpec
from bot.services import Services
from policy_feeds.ingest import ingest_all
from policy_feeds.library import PolicyLibrary

__all__ = ["CONSOLE", "JOBS"]


def _jobs(services: Services) -> list[JobSpec]:
    policies = services.service(PolicyLibrary).settings
    if not (policies.feeds or policies.folder):
        return []
    minutes = policies.fetch_interval_minutes
    trigger = IntervalTrigger(minutes=minutes, timezone=services.config.tz)
    return [JobSpec("policy_fetch", "policy_feeds.ingest:ingest_job", trigger)]


def _console_fetch(services: Services, _args: str) -> str:
    report = ingest_all(services)
    return services.templates.render("console_fetched", added=report.added, updated=report.updated)


JOBS = _jobs
CONSOLE = [ConsoleHook("fetch", "/fetch", _console_fetch)]
