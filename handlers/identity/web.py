"""一人多渠道 on the console (/identity): staff look a contact up, show a one-time code for
it (the member types `绑定 <code>` in their other channel), link two contacts they checked
otherwise, or unlink one. Every form goes through IdentityService; the answers are the
command line's wording (identity_cli.j2)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.db import transaction
from handlers.identity.service import IdentityService
from web.console import Console
from web.store import User

__all__ = ["routes"]

_MAX_ID = 100


def routes(console: Console) -> list[Route]:
    app = console.app

    def say(request: Request, refused: bool = False, **context: object) -> None:
        text = app.templates.render("identity_cli", **context).strip()
        console.flash(request, "reply", text=text, refused=refused)

    async def page(request: Request, user: User) -> Response:
        contact = request.query_params.get("contact", "").strip()[:_MAX_ID]
        links = app.service(IdentityService).links(contact) if contact else []
        return console.render(request, "identity.html", contact=contact, links=links)

    async def act(request: Request, user: User) -> Response:
        form = await request.form()
        action = str(form.get("action", ""))
        a, b = (str(form.get(k, "")).strip()[:_MAX_ID] for k in ("a", "b"))
        identity, now = app.service(IdentityService), app.clock.now()
        if not a or (action == "link" and not b):
            console.flash(request, "reply", text="请填写联系人ID，未作改动。", refused=True)
        elif action == "code":
            with transaction(app.db):
                code, expires = identity.issue(identity.contact_link(a), now)
            say(request, kind="code", contact=a, code=code, expires=expires)
        elif action == "link" and a == b:
            say(request, refused=True, kind="same")
        elif action == "link":
            with transaction(app.db):
                done = identity.link(
                    identity.contact_link(a), identity.contact_link(b), now, user.contact_id
                )
            say(request, kind="linked" if done else "already", a=a, b=b)
        elif action == "unlink":
            with transaction(app.db):
                others = identity.unlink(a)
            say(request, kind="unlinked", contact=a, others=[o.contact_id for o in others])
        return console.redirect(request, f"/identity?contact={a}")

    return [
        Route("/identity", console.page(page)),
        Route("/identity", console.page(act), methods=["POST"]),
    ]
