"""登录 / 退出, and 账号 (admins): the console's users and their roles."""

from __future__ import annotations

import asyncio
import math

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.console import SESSION_ID, Console
from web.store import Login, User, WebRole, check_password

__all__ = ["routes"]

_MIN_PASSWORD = 8


def _next(value: object) -> str:
    """Only a path on this site (no //host, no scheme) is followed after login."""
    text = str(value or "/")
    return text if text.startswith("/") and not text.startswith("//") else "/"


def routes(console: Console) -> list[Route]:
    app = console.app
    accounts = console.accounts

    async def login_form(request: Request) -> Response:
        if console.user(request):
            return console.redirect(request, "/")
        target = _next(request.query_params.get("next"))
        return console.render(request, "login.html", next=target, error="", minutes=0)

    async def login(request: Request) -> Response:
        if not await console.csrf_ok(request):
            return console.refuse(request, "csrf")
        form = await request.form()
        username = str(form.get("username", "")).strip()[:100]
        password = str(form.get("password", ""))[:200]
        target = _next(form.get("next"))
        now = app.clock.now()
        until = accounts.locked_until(username, now)
        if until is None:
            stored = accounts.stored_hash(username)
            ok = bool(stored) and await asyncio.to_thread(check_password, stored or "", password)
            result = accounts.login_result(username, ok, now)
            until = accounts.locked_until(username, now)
        else:
            result = Login.LOCKED
        if result != Login.OK:
            minutes = math.ceil((until - now).total_seconds() / 60) if until else 0
            return console.render(
                request,
                "login.html",
                status_code=401 if result == Login.WRONG else 423,
                next=target,
                error=result.value,
                minutes=minutes,
                username=username,
            )
        user = accounts.find(username)
        assert user is not None
        request.session.clear()  # a fresh session (and CSRF token) for the new login
        request.session[SESSION_ID] = accounts.open_session(user, now)
        request.state.user = user
        return console.redirect(request, target)

    async def logout(request: Request, user: User) -> Response:
        sid = request.session.get(SESSION_ID)
        if sid:
            accounts.close_session(str(sid))  # the cookie, even copied, opens nothing more
        request.session.clear()
        request.state.user = None
        return console.redirect(request, "/login")

    async def users(request: Request, user: User) -> Response:
        staff = {s.contact_id: s.name for s in app.config.staff}
        return console.render(request, "accounts.html", users=accounts.all(), staff=staff)

    async def add_user(request: Request, user: User) -> Response:
        form = await request.form()
        username = str(form.get("username", "")).strip()
        contact_id = str(form.get("contact_id", "")).strip()
        role = str(form.get("role", ""))
        password = str(form.get("password", ""))
        problem = None
        if not username or len(username) > 50:
            problem = "bad_username"
        elif accounts.find(username):
            problem = "user_exists"
        elif contact_id not in app.people.staff:
            problem = "not_staff"
        elif role not in (WebRole.STAFF.value, WebRole.ADMIN.value):
            problem = "bad_role"
        elif len(password) < _MIN_PASSWORD:
            problem = "short_password"
        if problem:
            console.flash(request, problem, min=_MIN_PASSWORD)
        else:
            accounts.add(username, contact_id, WebRole(role), password, app.clock.now())
            console.flash(request, "user_added", username=username)
        return console.redirect(request, "/accounts")

    async def remove_user(request: Request, user: User) -> Response:
        form = await request.form()
        username = str(form.get("username", ""))
        if username == user.username:
            console.flash(request, "remove_self")
        elif accounts.remove(username):
            console.flash(request, "user_removed", username=username)
        return console.redirect(request, "/accounts")

    return [
        Route("/login", login_form),
        Route("/login", login, methods=["POST"]),
        Route("/logout", console.page(logout), methods=["POST"]),
        Route("/accounts", console.page(users, admin=True)),
        Route("/accounts/add", console.page(add_user, admin=True), methods=["POST"]),
        Route("/accounts/remove", console.page(remove_user, admin=True), methods=["POST"]),
    ]
