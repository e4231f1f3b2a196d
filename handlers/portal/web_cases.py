"""我的诉求 on the member page: the member's own cases, each with its timeline (what the
enterprise may read: no internal notes, no staff-only events), its photos, and the rating
buttons while the case waits for a rating — through the case service, as chat does."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from bot.db import transaction
from bot.refusal import Refusal
from handlers.cases.service import OPEN, RATINGS, Actor, Case, CaseService, EventKind, Status
from handlers.portal.member import HEADERS, Member
from handlers.portal.service import PortalService
from handlers.portal.store import Session

__all__ = ["MEMBER_EVENTS", "find_case", "routes"]

#: the timeline events an enterprise reads about its case (chat tells it the same)
MEMBER_EVENTS = frozenset(
    {
        EventKind.OPENED,
        EventKind.SUPPLEMENTED,
        EventKind.CLAIMED,
        EventKind.ASSIGNED,
        EventKind.TRANSFERRED,
        EventKind.ANSWERED,
        EventKind.PAUSED,
        EventKind.RESUMED,
        EventKind.RESOLVED,
        EventKind.RATED,
        EventKind.REOPENED,
        EventKind.CLOSED,
        EventKind.WITHDRAWN,
    }
)
#: the events whose text it reads (its own words, answers, requests, summaries)
WITH_TEXT = frozenset(
    {
        EventKind.OPENED,
        EventKind.SUPPLEMENTED,
        EventKind.ANSWERED,
        EventKind.PAUSED,
        EventKind.RESOLVED,
        EventKind.REOPENED,
    }
)
LIST_LIMIT = 50
MAX_REASON = 500
_OPEN = ", ".join(f"'{s}'" for s in sorted(OPEN))
#: waiting for a rating first, then open, then the rest; newest first in each
_ORDER = (
    f"case when status = 'resolved' then 0 when status in ({_OPEN}) then 1 else 2 end, id desc"
)


def find_case(member: Member, session: Session, number: str) -> Case | None:
    """The member's own case by its number; anyone else's is "not found", as in chat."""
    cases = member.app.service(CaseService)
    try:
        return cases.find(number, member.app.clock.now(), session.contact_id, staff=False)
    except Refusal:
        return None


def routes(member: Member) -> list[Route]:
    app = member.app
    cases = app.service(CaseService)
    portal = app.service(PortalService)

    async def listing(request: Request, session: Session) -> Response:
        ids = app.people.same_person(session.contact_id)  # from every linked channel
        where = f"reporter_id in ({', '.join('?' * len(ids))})"
        mine = cases.where(where, ids, _ORDER, LIST_LIMIT)
        total = cases.count(where, ids)
        return member.render(request, "cases.html", cases=mine, total=total)

    async def detail(request: Request, session: Session) -> Response:
        case = find_case(member, session, request.path_params["number"])
        if case is None:
            return member.refuse(request, "no_case", 404)
        events = [e for e in cases.timeline(case) if e.kind in MEMBER_EVENTS]
        return member.render(
            request,
            "case.html",
            case=case,
            events=events,
            with_text=WITH_TEXT,
            photos=portal.store.photos(case.id),
            ratings=RATINGS,
            rate=case.status == Status.RESOLVED,
            max_reason=MAX_REASON,
        )

    async def rate(request: Request, session: Session) -> Response:
        case = find_case(member, session, request.path_params["number"])
        if case is None:
            return member.refuse(request, "no_case", 404)
        form = await member.form(request)
        rating = str(form.get("rating", ""))
        reason = str(form.get("reason", "")).strip()[:MAX_REASON]
        if rating not in RATINGS:
            return member.refuse(request, "bad_form", 400)
        me = Actor(session.contact_id, app.people.name(session.contact_id))
        try:
            with transaction(app.db):
                outcome = cases.rate(case, me, rating, reason, app.clock.now())
                app.outbox.enqueue(outcome.notices)
        except Refusal:
            return member.redirect(f"/cases/{case.number}?done=not_rated")
        return member.redirect(f"/cases/{case.number}?done=rated")

    async def photo(request: Request, session: Session) -> Response:
        found = portal.store.photo(request.path_params["name"])
        if found is None or found.contact_id not in app.people.same_person(session.contact_id):
            return member.refuse(request, "no_photo", 404)
        return FileResponse(portal.photo_path(found), media_type=found.mime, headers=HEADERS)

    return [
        Route("/cases", member.page(listing)),
        Route("/cases/{number}", member.page(detail)),
        Route("/cases/{number}/rate", member.page(rate), methods=["POST"]),
        Route("/photos/{name}", member.page(photo)),
    ]
