"""定时推送 (broadcasts: list, add, edit, remove, preview, run now) and 群 (group tags)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.scheduler import cron_trigger, store_jobs
from bot.targeting import split_tags
from handlers.policies.broadcast_defs import BroadcastDef, get_broadcast, list_broadcasts
from handlers.policies.broadcast_edit import remove_broadcast, save_broadcast
from handlers.policies.broadcasts import plan_digest, run_broadcast, target_groups
from handlers.policies.mass_tasks import mass_view
from web.console import Console
from web.store import User

__all__ = ["routes"]

_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def routes(console: Console) -> list[Route]:
    app = console.app

    def next_run(broadcast: BroadcastDef) -> object:
        trigger = cron_trigger(broadcast.cron, app.config.tz)
        return trigger.get_next_fire_time(None, app.clock.now())

    async def index(request: Request, user: User) -> Response:
        rows = [
            {"b": b, "next_run": next_run(b), "groups": len(target_groups(app, b))}
            for b in list_broadcasts(app)
        ]
        edit = get_broadcast(app, request.query_params.get("edit", ""))
        return console.render(
            request,
            "broadcasts.html",
            rows=rows,
            edit=edit,
            groups=app.places.member_groups(),
            templates=[n for n in app.templates.names() if n.startswith("digest")],
            mass=mass_view(app),
        )

    async def save(request: Request, user: User) -> Response:
        form = await request.form()
        broadcast_id = str(form.get("id", "")).strip()
        max_items = str(form.get("max_items", "")).strip()
        if not _ID.match(broadcast_id):
            console.flash(request, "broadcast_invalid", field="id", reason="")
            return console.redirect(request, "/broadcasts")
        if not max_items.isdigit():
            console.flash(request, "broadcast_invalid", field="max_items", reason="")
            return console.redirect(request, f"/broadcasts?edit={broadcast_id}")
        wanted = BroadcastDef(
            broadcast_id,
            str(form.get("cron", "")).strip(),
            str(form.get("target", "")).strip() or "all",
            str(form.get("template", "")).strip() or "digest",
            int(max_items),
        )
        problem = save_broadcast(app, wanted)
        if problem is not None:
            console.flash(request, "broadcast_invalid", field=problem[0], reason=problem[1])
            return console.redirect(request, "/broadcasts")
        await store_jobs(app)
        console.flash(request, "broadcast_saved", id=wanted.id)
        return console.redirect(request, "/broadcasts")

    async def remove(request: Request, user: User) -> Response:
        broadcast = get_broadcast(app, request.path_params["id"])
        if broadcast is None or not remove_broadcast(app, broadcast):
            console.flash(request, "broadcast_invalid", field="id", reason="config_owned")
        else:
            await store_jobs(app)
            console.flash(request, "broadcast_removed", id=broadcast.id)
        return console.redirect(request, "/broadcasts")

    async def preview(request: Request, user: User) -> Response:
        broadcast = get_broadcast(app, request.path_params["id"])
        if broadcast is None:
            return console.refuse(request, "no_broadcast", 404)
        wanted = request.query_params.get("group", "")
        groups = [g for g in app.places.member_groups() if g.id == wanted] or target_groups(
            app, broadcast
        )
        targets = {g.id for g in target_groups(app, broadcast)}
        digests = [(plan_digest(app, broadcast, g), g.id in targets) for g in groups]
        return console.render(request, "preview.html", broadcast=broadcast, digests=digests)

    async def run_now(request: Request, user: User) -> Response:
        broadcast = get_broadcast(app, request.path_params["id"])
        if broadcast is None or not broadcast.enabled:
            return console.refuse(request, "no_broadcast", 404)
        report = run_broadcast(app, broadcast.id, app.clock.now().replace(microsecond=0))
        assert report is not None
        names = {g.id: g.name for g in app.places.member_groups()}
        console.flash(
            request,
            "broadcast_ran",
            id=broadcast.id,
            sent=[[names.get(k, k), v] for k, v in report.messages.items()],
            failed=[names.get(k, k) for k in report.failed],
        )
        return console.redirect(request, "/broadcasts")

    async def groups(request: Request, user: User) -> Response:
        return console.render(request, "groups.html", groups=app.places.member_groups())

    async def tag(request: Request, user: User) -> Response:
        group_id = request.path_params["id"]
        found = [g for g in app.places.member_groups() if g.id == group_id]
        if not found:
            return console.refuse(request, "no_group", 404)
        form = await request.form()
        tags = list(split_tags(str(form.get("tags", ""))[:300]))
        app.places.set_tags(group_id, tags)
        console.flash(request, "group_tagged", group=found[0].name, tags=tags)
        return console.redirect(request, "/groups")

    return [
        Route("/broadcasts", console.page(index)),
        Route("/broadcasts/save", console.page(save), methods=["POST"]),
        Route("/broadcasts/{id}/remove", console.page(remove), methods=["POST"]),
        Route("/broadcasts/{id}/preview", console.page(preview)),
        Route("/broadcasts/{id}/run", console.page(run_now), methods=["POST"]),
        Route("/groups", console.page(groups)),
        Route("/groups/{id}/tags", console.page(tag), methods=["POST"]),
    ]
