"""企业画像 on the console: the list (filtered by industry, size, qualification), a new
enterprise, and each profile's page — its fields, its contacts, its history. Every form
writes through EnterpriseService as the logged-in staff member; a refused value is said
with its reason and nothing is written."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.db import transaction
from bot.people import Actor
from handlers.enterprises.service import (
    PROFILE_FIELDS,
    EnterpriseService,
    Profile,
    ProfileError,
    ProfileFilter,
)
from web.console import Console
from web.store import User

__all__ = ["routes"]


def routes(console: Console) -> list[Route]:
    app = console.app

    def service() -> EnterpriseService:
        return app.service(EnterpriseService)

    def actor(user: User) -> Actor:
        return Actor(user.contact_id, app.people.staff_name(user.contact_id))

    def save(
        request: Request, user: User, fields: Mapping[str, object], target: int | None = None
    ) -> bool:
        try:
            with transaction(app.db):
                service().save(fields, actor(user), enterprise_id=target, source="console")
        except ProfileError as problem:
            console.flash(request, "reply", text=f"{problem.text}，未保存。", refused=True)
            return False
        console.flash(request, "reply", text="企业资料已保存。")
        return True

    async def listing(request: Request, user: User) -> Response:
        q = request.query_params
        flt = ProfileFilter(
            industries=tuple(v for v in [q.get("industry", "")] if v),
            sizes=tuple(v for v in [q.get("size", "")] if v),
            qualifications=tuple(v for v in [q.get("qualification", "")] if v),
        )
        found = service().matching(flt)
        name = q.get("q", "").strip()
        if name:
            found = [p for p in found if name in p.name]
        return console.render(
            request,
            "enterprises.html",
            profiles=found,
            total=len(service().all()),
            settings=service().settings,
            chosen={k: q.get(k, "") for k in ("industry", "size", "qualification", "q")},
        )

    async def create(request: Request, user: User) -> Response:
        form = await request.form()
        name = str(form.get("name", ""))
        if service().named(name) is None and save(request, user, {"name": name}):
            created = service().named(name.strip())
            if created:
                return console.redirect(request, f"/enterprises/{created.id}")
        elif service().named(name) is not None:
            console.flash(request, "reply", text=f"已有「{name.strip()}」。", refused=True)
        return console.redirect(request, "/enterprises")

    def _profile(request: Request) -> Profile | None:
        raw = str(request.path_params["id"])
        return service().get(int(raw)) if raw.isdigit() else None

    async def detail(request: Request, user: User) -> Response:
        profile = _profile(request)
        if profile is None:
            return console.refuse(request, "no_enterprise", 404)
        return console.render(
            request,
            "enterprise.html",
            profile=profile,
            settings=service().settings,
            changes=service().changes(profile.id)[:50],
        )

    async def update(request: Request, user: User) -> Response:
        profile = _profile(request)
        if profile is None:
            return console.refuse(request, "no_enterprise", 404)
        form = await request.form()
        fields: dict[str, object] = {f: str(form.get(f, "")) for f in PROFILE_FIELDS[:-1]}
        fields["qualifications"] = [str(v) for v in form.getlist("qualifications")]
        save(request, user, fields, profile.id)
        return console.redirect(request, f"/enterprises/{profile.id}")

    async def add_contact(request: Request, user: User) -> Response:
        profile = _profile(request)
        if profile is None:
            return console.refuse(request, "no_enterprise", 404)
        form = await request.form()
        name = str(form.get("name", "")).strip()[:50]
        try:
            if not name:
                raise ProfileError("contact_name", "请填写联系人姓名")
            with transaction(app.db):
                service().link_contact(profile.id, name, form.get("phone"))
        except ProfileError as problem:
            console.flash(request, "reply", text=f"{problem.text}，未保存。", refused=True)
        else:
            console.flash(request, "reply", text=f"已添加联系人{name}。")
        return console.redirect(request, f"/enterprises/{profile.id}")

    return [
        Route("/enterprises", console.page(listing)),
        Route("/enterprises/new", console.page(create), methods=["POST"]),
        Route("/enterprises/{id}", console.page(detail)),
        Route("/enterprises/{id}", console.page(update), methods=["POST"]),
        Route("/enterprises/{id}/contacts", console.page(add_contact), methods=["POST"]),
    ]
