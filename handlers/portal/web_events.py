"""我的活动 on the member page: the coming events with the member's own standing, and 报名
through the events feature's service as chat registers (name, enterprise and — when the
event needs it — a phone number asked on the form instead of in turns).

取消报名 is a button beside the member's standing; a page of its own asks once more, then
the route makes the service call chat's `取消报名 <编号>` makes: a freed seat goes to the
first on the waiting list, who is told (and the staff rooms) with the events feature's own
notices, handed over by its service, in the same transaction."""

from __future__ import annotations

import re
import unicodedata

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.db import transaction
from handlers.events.service import DRAFT, EventService
from handlers.portal.member import Member
from handlers.portal.store import Session

__all__ = ["routes"]

_PHONE = re.compile(r"^1[3-9]\d{9}$")  # as the events chat checks it
MAX_TEXT = 60


def routes(member: Member) -> list[Route]:
    app = member.app
    events = app.service(EventService)

    async def listing(request: Request, session: Session) -> Response:
        now = app.clock.now()
        rows = []
        for event in events.upcoming(now):
            rows.append(
                {
                    "event": event,
                    "left": events.seats_left(event),
                    "standing": events.standing(event, session.contact_id),
                    "refused": events.refusal(event, now),
                }
            )
        return member.render(
            request,
            "events.html",
            rows=rows,
            cancel=app.router.keyword("event_cancel"),
            contact=app.people.contact(session.contact_id),
        )

    async def register(request: Request, session: Session) -> Response:
        found = events.store.find(int(request.path_params["id"]))
        if found is None or found.status == DRAFT:  # a draft is nobody's to see yet
            return member.refuse(request, "no_event", 404)
        form = await member.form(request)
        contact = app.people.contact(session.contact_id)
        given = {
            field: " ".join(str(form.get(field, "")).split())[:MAX_TEXT]
            for field in ("name", "enterprise", "phone")
        }
        name = contact["name"] or given["name"]
        enterprise = contact["enterprise"] or given["enterprise"]
        phone = contact["phone"]
        if found.need_phone and not phone:
            phone = re.sub(r"[\s\-－]", "", unicodedata.normalize("NFKC", given["phone"]))
            if not _PHONE.match(phone):
                return member.redirect(f"/events?done=need_phone#event-{found.id}")
        if not name or not enterprise:
            return member.redirect(f"/events?done=need_details#event-{found.id}")
        link = session.link
        with transaction(app.db):
            app.people.remember(session.contact_id, name=name, enterprise=enterprise, phone=phone)
            signup = events.register(
                found.id,
                app.clock.now(),
                contact_id=session.contact_id,
                name=name,
                enterprise=enterprise,
                phone=phone if found.need_phone else None,
                conversation_id=link.conversation_id,
                is_group=False,
            )
        return member.redirect(f"/events?done=signup_{signup.outcome}#event-{found.id}")

    async def withdraw(request: Request, session: Session) -> Response:
        """GET asks first (a seat given up may go to the waiting list for good); POST does it."""
        found = events.store.find(int(request.path_params["id"]))
        if found is None or found.status == DRAFT:
            return member.refuse(request, "no_event", 404)
        if request.method == "GET":
            return member.render(request, "withdraw.html", event=found)
        with transaction(app.db):
            done = events.withdraw(found.id, session.contact_id, app.clock.now())
            app.outbox.enqueue(events.promotion_notices(done))
        return member.redirect(f"/events?done=withdraw_{done.outcome}#event-{found.id}")

    return [
        Route("/events", member.page(listing)),
        Route("/events/{id:int}/register", member.page(register), methods=["POST"]),
        Route("/events/{id:int}/withdraw", member.page(withdraw), methods=["GET", "POST"]),
    ]
