"""活动: events with their counts; one event's registrations, waiting list and check-ins;
create and edit, announce and cancel (the same service functions as chat's 发布活动 and
`chamberbot event`); CSV/XLSX export and a printable sign-in sheet.

The form is checked by the rules chat and the CLI apply (web/event_form.py); a form with
any bad field is shown again with a Chinese message at each field, and nothing is written.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from handlers.events.export import write_export
from handlers.events.notices import announce, cancel_event, edit_event
from handlers.events.service import EventService
from handlers.events.settings import settings
from handlers.events.store import ANNOUNCED, DRAFT, REGISTERED, WAITING, Activity
from handlers.events.web_form import EventForm, read_form
from web.console import Console
from web.store import User

__all__ = ["routes"]

_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def routes(console: Console) -> list[Route]:
    app = console.app

    def find(request: Request) -> Activity | None:
        raw = str(request.path_params["id"])
        return app.service(EventService).store.find(int(raw)) if raw.isdigit() else None

    def counts(event: Activity) -> dict[str, int]:
        regs = app.service(EventService).store.registrations(event.id)
        return {
            "registered": sum(r.status == REGISTERED for r in regs),
            "waiting": sum(r.status == WAITING for r in regs),
            "checked_in": sum(bool(r.checked_in_at) for r in regs),
        }

    async def index(request: Request, user: User) -> Response:
        rows = [{"event": e, **counts(e)} for e in app.service(EventService).store.where()]
        return console.render(request, "events.html", rows=rows)

    async def detail(request: Request, user: User) -> Response:
        event = find(request)
        if event is None:
            return console.refuse(request, "no_event", 404)
        regs = app.service(EventService).store.registrations(event.id)
        template = "event_sheet.html" if request.query_params.get("print") else "event.html"
        return console.render(
            request,
            template,
            event=event,
            regs=regs,
            announceable=(DRAFT, ANNOUNCED),
            **counts(event),
        )

    def show_form(
        request: Request, form: EventForm, event: Activity | None, status_code: int = 200
    ) -> Response:
        return console.render(
            request,
            "event_form.html",
            status_code=status_code,
            form=form,
            event=event,
            kinds=settings(app.config).kinds,
        )

    async def new(request: Request, user: User) -> Response:
        return show_form(request, EventForm.blank(settings(app.config).kinds[0]), None)

    async def create(request: Request, user: User) -> Response:
        now = app.clock.now()
        form, values = read_form(await request.form(), None, settings(app.config).kinds, now)
        if form.problems:
            return show_form(request, form, None, 400)
        event = app.service(EventService).create(values, now)
        groups = 0
        if form.announce:
            event, queued = announce(app, event, now)
            groups = len(queued)
        console.flash(
            request, "event_created", id=event.id, title=event.title, announced=form.announce,
            groups=groups,
        )  # fmt: skip
        return console.redirect(request, f"/events/{event.id}")

    def editable(request: Request) -> Activity | Response:
        """The event of the URL if it may still be edited, else the page that says why."""
        event = find(request)
        if event is None:
            return console.refuse(request, "no_event", 404)
        if event.status not in (DRAFT, ANNOUNCED):
            console.flash(request, "event_not_editable", title=event.title)
            return console.redirect(request, f"/events/{event.id}")
        return event

    async def edit_form(request: Request, user: User) -> Response:
        event = editable(request)
        if isinstance(event, Response):
            return event
        return show_form(request, EventForm.of(event, app.config.tz), event)

    async def edit(request: Request, user: User) -> Response:
        event = editable(request)
        if isinstance(event, Response):
            return event
        now = app.clock.now()
        form, values = read_form(await request.form(), event, settings(app.config).kinds, now)
        if form.problems:
            return show_form(request, form, event, 400)
        event, promoted = edit_event(app, event, now, **values)
        console.flash(request, "event_saved", title=event.title, promoted=len(promoted))
        return console.redirect(request, f"/events/{event.id}")

    async def do_announce(request: Request, user: User) -> Response:
        event = find(request)
        if event is None:
            return console.refuse(request, "no_event", 404)
        if event.status not in (DRAFT, ANNOUNCED):
            console.flash(request, "event_not_announceable", title=event.title)
        else:
            event, queued = announce(app, event, app.clock.now())
            console.flash(request, "event_announced", groups=len(queued), new=sum(queued.values()))
        return console.redirect(request, f"/events/{event.id}")

    async def do_cancel(request: Request, user: User) -> Response:
        event = find(request)
        if event is None:
            return console.refuse(request, "no_event", 404)
        event, told = cancel_event(app, event, app.clock.now())
        console.flash(request, "event_cancelled", title=event.title, told=told)
        return console.redirect(request, f"/events/{event.id}")

    async def export(request: Request, user: User) -> Response:
        event = find(request)
        fmt = str(request.path_params["fmt"])
        if event is None or fmt not in _MEDIA:
            return console.refuse(request, "no_event", 404)
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / f"event-{event.id}.{fmt}"
            write_export(app, event, path, fmt, staff=True, now=app.clock.now())
            data = path.read_bytes()
        return Response(
            data,
            media_type=_MEDIA[fmt],
            headers={"Content-Disposition": f'attachment; filename="event-{event.id}.{fmt}"'},
        )

    return [
        Route("/events", console.page(index)),
        Route("/events/new", console.page(new)),
        Route("/events/new", console.page(create), methods=["POST"]),
        Route("/events/{id}", console.page(detail)),
        Route("/events/{id}/edit", console.page(edit_form)),
        Route("/events/{id}/edit", console.page(edit), methods=["POST"]),
        Route("/events/{id}/announce", console.page(do_announce), methods=["POST"]),
        Route("/events/{id}/cancel", console.page(do_cancel), methods=["POST"]),
        Route("/events/{id}/export.{fmt}", console.page(export)),
    ]
