"""What every member page shares: its own templates and CSS, the member session, CSRF,
and the security headers — nothing of the staff console (no staff login, no staff data).

A member session is a random cookie (HttpOnly, SameSite=Lax, path /m) whose SHA-256 names a
row of `portal_sessions`; it is good while the link that opened it is neither revoked nor
expired. Every POST carries the session's CSRF token in the form field `csrf`.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any, cast

from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.services import Services
from bot.templates import pages
from handlers.portal.service import PREFIX, PortalService
from handlers.portal.store import Session

__all__ = ["COOKIE", "HEADERS", "Member", "MemberPage", "SecurityHeaders"]

COOKIE = "chamberbot_member"
CSRF_FIELD = "csrf"
#: every member response: no framing, no sniffing, no referrer (a link's token must not
#: leak to another site), nothing from elsewhere, nothing cached (pages show personal data)
HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none';"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
MemberPage = Callable[[Request, Session], Awaitable[Response]]
_UNKNOWN = object()


class SecurityHeaders:
    """ASGI middleware: HEADERS on every response of the member app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [
                    (k.encode(), v.encode()) for k, v in HEADERS.items() if k.encode() not in names
                ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


class Member:
    def __init__(self, app: Services) -> None:
        self.app = app
        self.portal = app.service(PortalService)
        self.env = pages("handlers.portal", "pages", app.templates)
        self.env.globals["prefix"] = PREFIX

    # -- the session -----------------------------------------------------------------------

    def session(self, request: Request) -> Session | None:
        cached = getattr(request.state, "member", _UNKNOWN)
        if cached is not _UNKNOWN:
            return cast(Session | None, cached)
        found = self.portal.session(request.cookies.get(COOKIE, ""), self.app.clock.now())
        request.state.member = found
        return found

    def set_cookie(self, response: Response, value: str) -> None:
        days = self.portal.settings.link_days
        response.set_cookie(
            COOKIE,
            value,
            max_age=days * 86400,
            path=PREFIX,
            httponly=True,
            samesite="lax",
            secure=self.portal.settings.base_url.startswith("https://"),
        )

    async def form(self, request: Request) -> FormData:
        """The posted form, with limits: a few fields, the report's photos at most (read
        once; `page` closes its uploads' temporary files when the page is done)."""
        found = getattr(request.state, "form", None)
        if found is None:
            limit = self.portal.settings.photos_per_report
            found = request.state.form = await request.form(max_files=limit + 1, max_fields=40)
        return cast(FormData, found)

    async def csrf_ok(self, request: Request, session: Session) -> bool:
        given = (await self.form(request)).get(CSRF_FIELD)
        return isinstance(given, str) and secrets.compare_digest(session.csrf, given)

    # -- responses -------------------------------------------------------------------------

    def render(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        session = self.session(request)
        html = self.env.get_template(name).render(
            request=request,
            csrf=Markup(session.csrf) if session else "",
            me=self.app.people.contact(session.contact_id) if session else None,
            path=request.url.path,
            done=request.query_params.get("done", ""),
            **context,
        )
        return HTMLResponse(html, status_code=status_code)

    def refuse(self, request: Request, code: str, status_code: int = 403) -> HTMLResponse:
        return self.render(request, "refused.html", status_code=status_code, code=code)

    @staticmethod
    def redirect(url: str) -> Response:
        return RedirectResponse(PREFIX + url, status_code=303)

    def page(self, handler: MemberPage) -> Callable[[Request], Awaitable[Response]]:
        """No page without a member session; no POST without its CSRF token."""

        async def endpoint(request: Request) -> Response:
            session = self.session(request)
            if session is None:
                return self.refuse(request, "no_session", 401)
            if request.method == "POST":
                too_big = self.portal.settings.photo_max_bytes * (
                    self.portal.settings.photos_per_report + 1
                )
                length = request.headers.get("content-length", "")
                if length.isdigit() and int(length) > too_big:
                    return self.refuse(request, "too_big", 413)
                try:
                    if not await self.csrf_ok(request, session):
                        return self.refuse(request, "csrf")
                    return await handler(request, session)
                finally:
                    form = getattr(request.state, "form", None)
                    if form is not None:
                        await form.close()
            return await handler(request, session)

        endpoint.__name__ = handler.__name__
        return endpoint
