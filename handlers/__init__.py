"""Feature modules, included explicitly and in priority order."""

from bot.router import Handler, Route
from handlers import intake, menu, policy, reporter, staff

__all__ = ["PROMPTS", "ROUTES"]

ROUTES: list[Route] = [
    *menu.ROUTES,
    *intake.ROUTES,
    *reporter.ROUTES,
    *staff.ROUTES,
    *policy.ROUTES,
]

PROMPTS: dict[str, Handler] = {
    **intake.PROMPTS,
    **policy.PROMPTS,
}
