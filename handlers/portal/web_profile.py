"""我的资料 on the member page: the enterprise's profile, shown and edited through the
enterprises feature's service (`EnterpriseService.save`, source "page"), all or nothing: a
bad value comes back on the form with the service's reason, and nothing is written."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.people import Actor
from handlers.enterprises.service import (
    LABELS,
    PROFILE_FIELDS,
    EnterpriseService,
    Profile,
    ProfileError,
)
from handlers.portal.member import Member
from handlers.portal.store import Session

__all__ = ["routes"]

MAX_TEXT = 100


def _shown(profile: Profile | None, enterprise: str | None) -> dict[str, object]:
    """The form's values: the stored profile, else the enterprise name chat knows."""
    values: dict[str, object] = dict.fromkeys(PROFILE_FIELDS, "")
    values.update(name=enterprise or "", qualifications=())
    if profile is not None:
        values.update({f: profile.value(f) for f in PROFILE_FIELDS if profile.value(f)})
    return values


def routes(member: Member) -> list[Route]:
    app = member.app
    enterprises = app.service(EnterpriseService)

    def form_page(
        request: Request,
        session: Session,
        values: dict[str, object],
        status: int = 200,
        error: ProfileError | None = None,
    ) -> Response:
        return member.render(
            request,
            "profile.html",
            status_code=status,
            values=values,
            labels=LABELS,
            choices=enterprises.settings,
            error=error,
            profile=enterprises.of_contact(session.contact_id),
        )

    async def show(request: Request, session: Session) -> Response:
        contact = app.people.contact(session.contact_id)
        profile = enterprises.of_contact(session.contact_id)
        return form_page(request, session, _shown(profile, contact["enterprise"]))

    async def save(request: Request, session: Session) -> Response:
        form = await member.form(request)
        values: dict[str, object] = {
            f: str(form.get(f, "")).strip()[:MAX_TEXT] for f in PROFILE_FIELDS[:-1]
        }
        values["qualifications"] = tuple(
            str(q) for q in form.getlist("qualifications") if isinstance(q, str)
        )
        me = Actor(session.contact_id, app.people.name(session.contact_id))
        try:  # all or nothing (the service's own transaction)
            enterprises.save(values, me, contact_id=session.contact_id, source="page")
        except ProfileError as error:
            return form_page(request, session, values, 400, error)
        return member.redirect("/profile?done=saved")

    return [
        Route("/profile", member.page(show)),
        Route("/profile", member.page(save), methods=["POST"]),
    ]
