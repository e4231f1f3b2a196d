"""The member page on the console's server: its own Starlette app mounted at /m (no staff
login, no staff session, its own templates, CSS, cookie and headers), and — on the staff
console, behind its login — the photos members sent with a case.

    /m/open?t=…            a personal link: a new member session, then /m/
    /m/                    home: what waits, the sections, the way to each page
    /m/cases …             我的诉求 (web_cases)      /m/report   反映问题 (web_report)
    /m/events …            我的活动 (web_events)     /m/profile  我的资料 (web_profile)
    /portal/cases/{number}/photos, /portal/photos/{name}     staff only
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from handlers.cases.service import OPEN, CaseService, Status
from handlers.portal import (
    extras,
    web_cases,
    web_events,
    web_profile,
    web_report,
    web_surveys,
)
from handlers.portal.member import COOKIE, HEADERS, Member, SecurityHeaders
from handlers.portal.service import PREFIX, PortalService
from handlers.portal.store import Session

__all__ = ["member_app", "pages"]

STATIC = Path(__file__).resolve().parent / "static"
OPEN_SQL = ", ".join(f"'{s}'" for s in sorted(OPEN))


def member_app(member: Member) -> Starlette:
    app = member.app
    portal = app.service(PortalService)
    cases = app.service(CaseService)

    async def open_link(request: Request) -> Response:
        opened = portal.open(request.query_params.get("t", ""), app.clock.now())
        if opened.refused:
            return member.refuse(request, f"link_{opened.refused}")
        response = member.redirect("/")
        member.set_cookie(response, opened.cookie)
        return response

    async def home(request: Request, session: Session) -> Response:
        me = session.contact_id
        waiting = cases.count("reporter_id = ? and status = ?", [me, str(Status.RESOLVED)])
        return member.render(
            request,
            "home.html",
            open_count=cases.count(f"reporter_id = ? and status in ({OPEN_SQL})", [me]),
            to_rate=waiting,
            surveys=extras.open_surveys(app, me),
            policies=extras.matched_policies(app, me),
        )

    async def logout(request: Request, session: Session) -> Response:
        portal.end_session(request.cookies.get(COOKIE, ""))
        request.state.member = None  # the page that says so is a signed-out one
        response = member.refuse(request, "logged_out", 200)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    async def bad_request(request: Request, exc: Exception) -> Response:
        """A broken or oversized form: the polite page, not Starlette's English."""
        return member.refuse(request, "bad_form", 400)

    async def not_found(request: Request, exc: Exception) -> Response:
        return member.refuse(request, "not_found", 404)

    routes: list[BaseRoute] = [
        Route("/open", open_link),
        Route("/", member.page(home)),
        Route("/logout", member.page(logout), methods=["POST"]),
        *web_cases.routes(member),
        *web_report.routes(member),
        *web_events.routes(member),
        *web_profile.routes(member),
        *web_surveys.routes(member),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={400: bad_request, 404: not_found},
    )


def pages(console: Any) -> list[BaseRoute]:
    """The routes this feature adds to the console's server (console: web.console.Console)."""
    app = console.app
    portal = app.service(PortalService)
    cases = app.service(CaseService)
    member = Member(app)

    async def case_photos(request: Request, user: Any) -> Response:
        found = cases.where("number = ?", [request.path_params["number"]], limit=1)
        if not found:
            return console.refuse(request, "no_case", 404)
        page = member.env.get_template("staff_photos.html")
        html = page.render(case=found[0], photos=portal.store.photos(found[0].id))
        return HTMLResponse(html, headers=HEADERS)

    async def photo(request: Request, user: Any) -> Response:
        found = portal.store.photo(request.path_params["name"])
        if found is None:
            return console.refuse(request, "no_case", 404)
        return FileResponse(portal.photo_path(found), media_type=found.mime, headers=HEADERS)

    return [
        Mount(PREFIX, app=member_app(member)),
        Route("/portal/cases/{number}/photos", console.page(case_photos)),
        Route("/portal/photos/{name}", console.page(photo)),
    ]
