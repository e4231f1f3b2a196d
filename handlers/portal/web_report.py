"""反映问题 on the member page: a new case with photos, through the case service's `open`
as chat opens one; its status updates go to the private chat the link was sent in.

The photos are checked (type by their first bytes, size, count) before anything is written;
then one transaction opens the case, records the photos and a note for staff with the page
that shows them, and queues the notices. A file written for a transaction that rolls back
is removed."""

from __future__ import annotations

import contextlib
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.db import transaction
from bot.people import SYSTEM
from handlers.cases.service import Actor, CaseService
from handlers.portal import photos
from handlers.portal.member import Member
from handlers.portal.service import PortalService
from handlers.portal.store import Session

__all__ = ["MAX_DESCRIPTION", "routes"]

MAX_DESCRIPTION = 2000
MAX_ENTERPRISE = 60


def routes(member: Member) -> list[Route]:
    app = member.app
    cases = app.service(CaseService)
    portal = app.service(PortalService)

    def form_page(
        request: Request, session: Session, status: int = 200, **context: str
    ) -> Response:
        contact = app.people.contact(session.contact_id)
        values = {"description": "", "enterprise": contact["enterprise"] or "", "problem": ""}
        values.update(context)
        return member.render(
            request,
            "report.html",
            status_code=status,
            limit=portal.settings.photos_per_report,
            max_mb=portal.settings.photo_max_bytes / 1024 / 1024,
            max_description=MAX_DESCRIPTION,
            **values,
        )

    async def show(request: Request, session: Session) -> Response:
        return form_page(request, session)

    async def report(request: Request, session: Session) -> Response:
        form = await member.form(request)
        description = str(form.get("description", "")).strip()
        enterprise = str(form.get("enterprise", "")).strip()[:MAX_ENTERPRISE]
        again = {"description": description, "enterprise": enterprise}
        if not description or len(description) > MAX_DESCRIPTION:
            return form_page(request, session, 400, problem="description", **again)
        uploads = [f for f in form.getlist("photos") if isinstance(f, UploadFile) and f.filename]
        settings = portal.settings
        if len(uploads) > settings.photos_per_report:
            return form_page(request, session, 400, problem="count", **again)
        checked: list[photos.Checked] = []
        for upload in uploads:
            data = await upload.read(settings.photo_max_bytes + 1)
            try:
                checked.append(photos.check(upload.filename or "", data, settings.photo_max_bytes))
            except photos.PhotoError as refused:
                return form_page(
                    request, session, 400, problem=refused.code, filename=refused.filename, **again
                )
        link, now = session.link, app.clock.now()
        me = Actor(session.contact_id, app.people.name(session.contact_id))
        written: list[Path] = []
        try:
            with transaction(app.db):
                if enterprise:
                    app.people.remember(session.contact_id, enterprise=enterprise)
                outcome = cases.open(
                    me,
                    enterprise=enterprise or None,
                    channel=link.channel,
                    conversation_id=link.conversation_id,
                    is_group=False,
                    description=description,
                    now=now,
                )
                case = outcome.case
                written = photos.save(
                    portal.store,
                    portal.uploads,
                    checked,
                    case_id=case.id,
                    contact_id=session.contact_id,
                    now=now,
                )
                if checked:
                    path = f"/portal/cases/{case.number}/photos"
                    note = app.templates.render(
                        "portal_photos_note", count=len(checked), path=path
                    )
                    cases.note(case, SYSTEM, note.strip(), now)
                app.outbox.enqueue(outcome.notices)
        except BaseException:
            for file in written:
                with contextlib.suppress(OSError):
                    file.unlink()
            app.people.forget()
            raise
        return member.redirect(f"/cases/{case.number}?done=reported")

    return [
        Route("/report", member.page(show)),
        Route("/report", member.page(report), methods=["POST"]),
    ]
