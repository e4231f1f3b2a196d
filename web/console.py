"""What every page shares: the Jinja2 environment, the logged-in user, CSRF, flashes.

Pages are `async def` so that they run in the event loop's thread, next to the bot,
on the app's one SQLite connection. `Console.page` wraps each endpoint: no page without
a login, admin pages for admins only, and no POST without the session's CSRF token
(from the form field `csrf` or the `X-CSRF-Token` header htmx sends).
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast
from urllib.parse import quote

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.services import Services
from bot.templates import pages
from web.offload import Offload
from web.settings import web_settings
from web.store import Accounts, User

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "SESSION_ID", "Console", "Endpoint", "Page"]

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_ID = "sid"  # the cookie's key for the login's row in web_sessions

Page = Callable[[Request, User], Awaitable[Response]]
_UNKNOWN = object()
Endpoint = Callable[[Request], Awaitable[Response]]


class Console:
    def __init__(self, app: Services) -> None:
        self.app = app
        self.accounts = Accounts(app.db)
        self.offload = Offload(app)
        #: the features' tabs, (path, label), in the features' order
        self.nav = [tab for f in app.features if f.web is not None for tab in f.web.nav]
        self.env = pages("web", "templates", app.templates)
        self._labels = self.env.get_template("_labels.j2").module
        self._label_cache: dict[tuple[str, object], str] = {}
        self.day = lru_cache(maxsize=4096)(self._day)  # tables show the same days many times
        self.env.filters["day"] = self.day

    # -- formatting ------------------------------------------------------------------------

    def _day(self, value: datetime | str | None) -> str:
        """`2026-11-21`, for tables and the XLSX export."""
        if not value:
            return "—"
        when = datetime.fromisoformat(value) if isinstance(value, str) else value
        return f"{when.astimezone(self.app.config.tz):%Y-%m-%d}"

    def label(self, kind: str, code: object) -> str:
        """A stored code in words, from bot/templates/_labels.j2 (status, escalation …)."""
        key = (kind, code)
        if key not in self._label_cache:
            self._label_cache[key] = str(getattr(self._labels, kind)(code)).strip()
        return self._label_cache[key]

    @lru_cache(maxsize=64)  # noqa: B019 - one Console per app, a handful of statuses
    def status_html(self, code: str) -> str:
        """A status label as HTML text, for the tables' pre-escaped rows (cases web_ledger)."""
        return html.escape(self.label("status", code))

    # -- sessions --------------------------------------------------------------------------

    @staticmethod
    def csrf_token(request: Request) -> str:
        token = request.session.get(CSRF_FIELD)
        if not token:
            token = request.session[CSRF_FIELD] = secrets.token_urlsafe(24)
        return str(token)

    async def csrf_ok(self, request: Request) -> bool:
        expected = request.session.get(CSRF_FIELD)
        given = request.headers.get(CSRF_HEADER)
        if given is None:
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
        return bool(expected and given and secrets.compare_digest(str(expected), given))

    def user(self, request: Request) -> User | None:
        """The logged-in account, looked up once per request: its login must be one the
        server has not ended (logout, new password, removal, lock-out) nor too old."""
        cached = getattr(request.state, "user", _UNKNOWN)
        if cached is not _UNKNOWN:
            return cast(User | None, cached)
        sid = request.session.get(SESSION_ID)
        since = self.app.clock.now() - timedelta(hours=web_settings(self.app).session_hours)
        found = self.accounts.session_user(str(sid), since) if sid else None
        request.state.user = found
        return found

    @staticmethod
    def flash(request: Request, code: str, **params: Any) -> None:
        # assigned, not appended in place: Starlette saves a session only when an item is
        # set, so a second flash before the page shows the first was lost
        request.session["flash"] = [*request.session.get("flash", []), {"code": code, **params}]

    # -- responses -------------------------------------------------------------------------

    def render(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        user = self.user(request)
        flashes = request.session.pop("flash", []) if "flash" in request.session else []
        html = self.env.get_template(name).render(
            request=request,
            user=user,
            user_name=self.app.people.staff_name(user.contact_id) if user else "",
            csrf=Markup(self.csrf_token(request)),
            flashes=flashes,
            path=request.url.path,
            nav=self.nav,
            label=self.label,
            **context,
        )
        return HTMLResponse(html, status_code=status_code)

    def refuse(self, request: Request, code: str, status_code: int = 403) -> HTMLResponse:
        return self.render(request, "error.html", status_code=status_code, code=code)

    @staticmethod
    def redirect(request: Request, url: str) -> Response:
        """A redirect that htmx follows as a full page load."""
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    def page(self, handler: Page, *, admin: bool = False) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            if request.method == "POST" and not await self.csrf_ok(request):
                return self.refuse(request, "csrf")
            user = self.user(request)
            if user is None:
                return self.redirect(request, f"/login?next={quote(request.url.path)}")
            if admin and not user.is_admin:
                return self.refuse(request, "admin_only")
            return await handler(request, user)

        endpoint.__name__ = handler.__name__
        return endpoint
