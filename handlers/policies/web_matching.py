"""政策 › one policy: its eligibility and deadline, as the rules read them or as staff set
them. A staff edit wins over the rules and is kept when the policy is fetched again;
「恢复按规则识别」 hands the policy back to the rules."""

from __future__ import annotations

from datetime import date

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from handlers.enterprises.service import EnterpriseService
from handlers.policies.matching import matches, refresh_eligibility, rules_for
from handlers.policies.matching_rules import Eligibility
from handlers.policies.matching_store import STAFF, MatchingStore
from policy_feeds.library import PolicyLibrary
from web.console import Console
from web.store import User

__all__ = ["read_form", "routes"]

_SPLIT = str.maketrans({"，": ",", "、": ",", ";": ",", "；": ","})


def read_form(form: FormData, vocab: dict[str, list[str]]) -> tuple[Eligibility | None, str]:
    """The eligibility a submitted form sets, or (None, the field that is wrong)."""
    values: dict[str, tuple[str, ...]] = {}
    for dim in ("industries", "sizes", "qualifications"):
        chosen = tuple(str(v) for v in form.getlist(dim))
        if any(v not in vocab[dim] for v in chosen):
            return None, dim
        values[dim] = chosen
    if vocab["regions"]:
        regions = tuple(str(v) for v in form.getlist("regions"))
        if any(v not in vocab["regions"] for v in regions):
            return None, "regions"
    else:
        text = str(form.get("regions", "")).translate(_SPLIT)
        regions = tuple(dict.fromkeys(r.strip() for r in text.split(",") if r.strip()))
        if any(len(r) > 40 for r in regions):
            return None, "regions"
    raw = str(form.get("deadline", "")).strip()
    try:
        deadline = date.fromisoformat(raw) if raw else None
    except ValueError:
        return None, "deadline"
    return Eligibility(
        values["industries"], values["sizes"], regions, values["qualifications"], deadline
    ), ""


def routes(console: Console) -> list[Route]:
    app = console.app

    def vocab() -> dict[str, list[str]]:
        s = app.service(EnterpriseService).settings
        return {
            "industries": list(s.industries),
            "sizes": list(s.sizes),
            "qualifications": list(s.qualifications),
            "regions": list(s.regions),
        }

    async def detail(request: Request, user: User) -> Response:
        policy_id = int(request.path_params["id"])
        policy = app.service(PolicyLibrary).store.get(policy_id)
        if policy is None:
            return console.refuse(request, "no_policy", 404)
        rules = rules_for(app)
        refresh_eligibility(app, rules)
        stored = MatchingStore(app.db).eligibility(policy_id)
        found = stored.eligibility if stored else Eligibility()
        profiles = [p for p in app.service(EnterpriseService).all() if matches(rules, found, p)]
        return console.render(
            request,
            "policy.html",
            policy=policy,
            stored=stored,
            found=found,
            vocab=vocab(),
            profiles=profiles,
            general=not rules.targeted(found),
        )

    async def save(request: Request, user: User) -> Response:
        policy_id = int(request.path_params["id"])
        if app.service(PolicyLibrary).store.get(policy_id) is None:
            return console.refuse(request, "no_policy", 404)
        form = await request.form()
        store = MatchingStore(app.db)
        if form.get("action") == "rules":
            with app.db.atomic():
                app.db.execute("delete from policy_eligibility where policy_id = ?", [policy_id])
            refresh_eligibility(app)
            console.flash(request, "eligibility_rules")
            return console.redirect(request, f"/policies/{policy_id}")
        found, wrong = read_form(form, vocab())
        if found is None:
            console.flash(request, "eligibility_invalid", field=wrong)
        else:
            by = app.people.staff_name(user.contact_id) or user.username
            with app.db.atomic():
                store.save(policy_id, found, source=STAFF, by=by, now=app.clock.now())
            console.flash(request, "eligibility_saved")
        return console.redirect(request, f"/policies/{policy_id}")

    return [
        Route("/policies/{id:int}", console.page(detail)),
        Route("/policies/{id:int}/eligibility", console.page(save), methods=["POST"]),
    ]
