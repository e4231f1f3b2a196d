"""Feature modules, included explicitly and in priority order."""

from bot.router import Handler, Route
from handlers import intake, menu, reporter, staff

__all__ = ["PROMPTS", "ROUTES"]

ROUTES: list[Route] = [
    *menu.ROUTES,
    *intake.ROUTES,
    *reporter.ROUTES,
    *staff.ROUTES,
]

PROMPTS: dict[str, Handler] = {
    **intake.PROMPTS,
}
