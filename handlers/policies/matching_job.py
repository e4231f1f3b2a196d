"""The matching section's scheduled job (`policy_matching`, real APScheduler at
`matching.cron`) and its config check."""

from __future__ import annotations

from bot.feature import JobSpec
from bot.scheduler import cron_trigger, running_services
from bot.services import Services
from handlers.enterprises.service import EnterpriseService
from handlers.policies.matching import run_matching
from handlers.policies.matching_settings import matching_settings

__all__ = ["jobs", "matching_job", "matching_problem"]


def jobs(services: Services) -> list[JobSpec]:
    settings = matching_settings(services.config)
    if not settings.enabled:
        return []
    trigger = cron_trigger(settings.cron, services.config.tz)
    return [JobSpec("policy_matching", "handlers.policies.matching_job:matching_job", trigger)]


async def matching_job() -> None:
    """What APScheduler runs at `matching.cron`."""
    run_matching(running_services())


_VOCAB = {"industry": "industries", "size": "sizes", "qualification": "qualifications"}


def matching_problem(services: Services) -> tuple[str, str] | None:
    """(key, reason) when the `matching` section cannot work: a bad cron, or a rule for a
    value the profiles cannot have (not in the `enterprises` lists)."""
    settings = matching_settings(services.config)
    try:
        cron_trigger(settings.cron, services.config.tz)
    except ValueError as exc:
        return "matching.cron", str(exc)
    vocab = services.service(EnterpriseService).settings
    for i, rule in enumerate(settings.rules):
        listed = _VOCAB.get(rule.dimension)
        if listed and rule.value not in getattr(vocab, listed):
            return f"matching.rules[{i}].value", f"{rule.value!r} is not in enterprises.{listed}"
    return None
