"""代录 on the console: the form that registers a case for an enterprise, through the same
service intent as chat and the sheet import (CaseService.register), in one transaction
with its notices."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.db import transaction
from bot.refusal import Refusal
from handlers.cases.actions import staff_actor
from handlers.cases.service import CaseService, Registration
from handlers.cases.settings import case_settings
from handlers.cases.web_actions import refusal_text
from web.console import Console, Page
from web.store import User

__all__ = ["register_page"]

FIELDS = ("enterprise", "contact_name", "contact_phone", "description", "route", "collected_on")


def register_page(console: Console) -> tuple[Page, Page]:
    """GET shows the form; POST registers the case and opens it, or shows the form again
    with what was typed and why it was not registered."""
    app = console.app

    def form_page(request: Request, values: dict[str, str], problem: str = "") -> Response:
        today = app.clock.now().astimezone(app.config.tz).date()
        return console.render(
            request,
            "case_new.html",
            status_code=400 if problem else 200,
            values={"collected_on": today.isoformat(), **values},
            routes=case_settings(app.config).routes,
            problem=problem,
        )

    async def show(request: Request, user: User) -> Response:
        return form_page(request, {})

    async def submit(request: Request, user: User) -> Response:
        form = await request.form()
        values = {name: str(form.get(name, "")).strip() for name in FIELDS}
        try:
            reg = Registration.from_fields(values)
            with transaction(app.db):
                staff = staff_actor(app.people, user.contact_id)
                outcome = app.service(CaseService).register(staff, reg, app.clock.now())
                app.outbox.enqueue(outcome.notices)
        except Refusal as refusal:
            return form_page(request, values, refusal_text(app, refusal))
        case = outcome.case
        console.flash(request, "registered", number=case.number, relayed=case.relayed)
        return console.redirect(request, f"/cases/{case.number}")

    return show, submit
