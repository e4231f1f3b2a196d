"""The console as one Starlette application over the bot's Services: the sign-in and
account pages (web/auth.py), then each feature's pages and tabs from its manifest (`web`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from bot.services import Services
from web import auth
from web.console import Console
from web.settings import web_settings
from web.store import session_secret

__all__ = ["STATIC", "create_app"]

STATIC = Path(__file__).resolve().parent / "static"


def create_app(services: Services, extra: Sequence[BaseRoute] = ()) -> Starlette:
    """The console; `extra`: routes of the running channels (微信客服's callback URL),
    without the console's login — they check their callers themselves."""
    console = Console(services)
    parts = [f.web for f in services.features if f.web is not None]
    routes: list[BaseRoute] = [
        *extra,
        *auth.routes(console),
        *(route for part in parts for page in part.pages for route in page(console)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=session_secret(services.db),
            session_cookie="chamberbot_session",
            max_age=web_settings(services).session_hours * 3600,
            same_site="lax",
            https_only=False,  # TLS ends at nginx; see README
        )
    ]

    async def bad_request(request: Request, exc: Exception) -> Response:
        """Starlette's form parser refuses a field over 1 MB, too many fields or a broken
        multipart body with an English HTTPException 400: the console answers in Chinese."""
        return console.refuse(request, "bad_form", 400)

    web = Starlette(routes=routes, middleware=middleware, exception_handlers={400: bad_request})
    web.state.console = console
    return web
