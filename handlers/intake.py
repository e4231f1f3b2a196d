"""Placeholder: filled in by its feature work."""

from bot.router import Handler, Route

ROUTES: list[Route] = []
PROMPTS: dict[str, Handler] = {}
