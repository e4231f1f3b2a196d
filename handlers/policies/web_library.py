"""政策: search and add policies; the sources with their last fetch and 立即抓取."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from policy_feeds.ingest import ingest_async
from policy_feeds.library import PolicyLibrary
from policy_feeds.manual import add_manual
from policy_feeds.model import Item, clean_text, parse_date, split_tags
from policy_feeds.store import MIN_TITLE
from web.console import Console
from web.store import User

__all__ = ["routes"]

_LIST = 30


def routes(console: Console) -> list[Route]:
    app = console.app

    def sources() -> list[dict[str, object]]:
        rows = {r["id"]: r for r in app.db.table("feeds").rows}
        configured = [{"id": s.id, "kind": s.kind} for s in app.service(PolicyLibrary).sources()]
        out = []
        for source in configured:
            row = rows.get(str(source["id"]), {})
            count = app.db.execute(
                "select count(*) from policies where source = ?", [source["id"]]
            ).fetchone()[0]
            out.append({**source, **row, "policies": count})
        return out

    async def index(request: Request, user: User) -> Response:
        q = request.query_params.get("q", "").strip()[:100]
        store = app.service(PolicyLibrary).store
        found = store.search(q, _LIST) if q else store.recent(_LIST)
        return console.render(
            request, "policies.html", q=q, policies=found, sources=sources(), total=store.count()
        )

    async def add(request: Request, user: User) -> Response:
        form = await request.form()
        title = clean_text(form.get("title", ""), 300)
        date = str(form.get("date", "")).strip()
        published = parse_date(date, app.config.tz) if date else None
        url = str(form.get("url", "")).strip()[:500]
        if len(title) < MIN_TITLE:
            console.flash(request, "policy_title", min=MIN_TITLE)
        elif date and published is None:
            console.flash(request, "policy_date", date=date)
        elif url and not url.startswith(("http://", "https://")):
            console.flash(request, "policy_url")
        else:
            item = Item(
                title=title,
                url=url,
                issuer=clean_text(form.get("issuer", ""), 100),
                published_at=published,
                summary=clean_text(form.get("summary", "")),
                tags=split_tags(str(form.get("tags", ""))),
            )
            stored, policy = add_manual(app, item)
            console.flash(
                request, "policy_added", outcome=stored.outcome.value, title=policy.title
            )
        return console.redirect(request, "/policies")

    async def fetch(request: Request, user: User) -> Response:
        report = await ingest_async(app)
        for source in report.sources:
            console.flash(
                request,
                "fetched",
                source=source.source,
                status=str(source.status),
                added=source.added,
                updated=source.updated,
                message=source.message,
            )
        return console.redirect(request, "/policies")

    return [
        Route("/policies", console.page(index)),
        Route("/policies/add", console.page(add), methods=["POST"]),
        Route("/policies/fetch", console.page(fetch), methods=["POST"]),
    ]
