"""工作台, 诉求台账 (with XLSX export) and 诉求详情 with the staff actions."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlite_utils import Database
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.config import Config
from bot.db import to_db, transaction
from bot.refusal import Refusal
from handlers.cases.actions import STAFF_ACTIONS, Asked, staff_actor
from handlers.cases.listing import section
from handlers.cases.service import Case, CaseService, ledger_labels, ledger_rows
from handlers.cases.settings import case_settings, categories
from handlers.cases.web_actions import refusal_text, run_action
from handlers.cases.web_ledger import (
    EXPORT_LIMIT,
    STATUSES,
    Filters,
    Row,
    Words,
    ledger_page,
    ledger_xlsx,
    read_rows,
)
from handlers.cases.web_register import register_page
from handlers.enterprises.service import EnterpriseService, Profile
from web.console import Console
from web.settings import web_settings
from web.store import User

__all__ = ["routes"]

_DASHBOARD_LIMIT = 10
# The 工作台 counts up to this many cases per card and shows "1000+" beyond: an exact
# count would read every matching index entry (half a million at a million cases).
COUNT_CAP = 1000


def _section(
    console: Console, key: str, params: list[Any], now: datetime
) -> tuple[str, int, bool, list[Row]]:
    """A 工作台 card: its count (capped), whether capped, and its first cases."""
    db = console.app.db
    selection, order, count = section(db, key, params, COUNT_CAP)
    rows = read_rows(db, selection, order, _DASHBOARD_LIMIT, 0, now, _words(console))
    return key, min(count, COUNT_CAP), count > COUNT_CAP, rows


def _groups(console: Console) -> list[tuple[str, str]]:
    return [(g.id, g.name) for g in console.app.places.member_groups()]


def _fixed_choices(console: Console) -> dict[str, Any]:
    """The options of the ledger's filters and the case page's forms that come from the
    config (made once; the member groups are read per request)."""
    config = console.app.config
    return {
        "statuses": [(s, console.label("status", s)) for s in STATUSES],
        "escalations": [(str(n), console.label("escalation", n)) for n in (0, 1, 2)],
        "categories": [c.name for c in categories(config)]
        + [case_settings(config).default_category],
        "departments": list(
            dict.fromkeys([*config.departments, case_settings(config).default_department])
        ),
        "staff": [(s.contact_id, s.name) for s in config.staff],
        "tree": list(_tree(config).items()),
    }


#: the longest answer, note or reason the console takes (a chat message of some 4 pages)
MAX_TEXT = 5000


def _tree(config: Config) -> dict[str, list[str]]:
    """Categories and their aspects as 改类 offers them, the default category (其他) too:
    a case in it shows where it is, and staff may move one back to it."""
    tree = {c.name: [a.name for a in c.aspects] for c in categories(config)}
    tree.setdefault(case_settings(config).default_category, [])
    return tree


def _words(console: Console) -> Words:
    """How the tables write a status and a day (the console's labels, HTML-escaped)."""
    return Words(status=console.status_html, day=console.day)


def routes(console: Console) -> list[Route]:
    app = console.app
    fixed = _fixed_choices(console)

    def choices() -> dict[str, Any]:
        return {**fixed, "groups": _groups(console)}

    async def dashboard(request: Request, user: User) -> Response:
        now = app.clock.now()
        midnight = datetime.combine(now.astimezone(app.config.tz).date(), time(), app.config.tz)
        sections = [
            _section(console, "today", [to_db(midnight)], now),
            _section(console, "waiting", [], now),
            _section(console, "overdue", [to_db(now)], now),
            _section(console, "rating", [], now),
        ]
        month = {"start": now.astimezone(app.config.tz).date()}  # the rates' month, for its title
        calls = app.service(CaseService).follow_up_tasks()  # 回访 by phone staff owe
        return console.render(
            request, "dashboard.html", sections=sections, month=month, calls=calls
        )

    async def ledger(request: Request, user: User) -> Response:
        filters = Filters.parse(request.query_params)
        now = app.clock.now()
        size = web_settings(app).page_size
        rows, more = ledger_page(app.db, filters, now, size, _words(console))
        template = "ledger_rows.html" if request.headers.get("hx-request") else "ledger.html"
        return console.render(
            request,
            template,
            filters=filters,
            links=filters.links(),
            rows=rows,
            more=more,
            **choices(),
        )

    async def export(request: Request, user: User) -> Response:
        """Up to EXPORT_LIMIT cases: seconds of reading and writing, done in the console's
        worker thread on its own connection while the loop goes on serving chat and pages."""
        filters = Filters.parse(request.query_params)
        now = app.clock.now()
        lab = ledger_labels(app.templates.render)
        selection = filters.where(now)

        def workbook(db: Database) -> bytes:
            found = ledger_rows(
                db, lab, app.config.tz, now, selection, phone=False, limit=EXPORT_LIMIT,
                with_timeline=False,
            )  # fmt: skip
            return ledger_xlsx(found, lab["ledger.title"])

        data = await console.offload.run(workbook)
        name = f"ledger-{now.astimezone(app.config.tz):%Y%m%d-%H%M}.xlsx"
        return Response(
            data,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    def _find(number: str) -> Case | None:
        try:
            return app.service(CaseService).find(number, app.clock.now(), "", staff=True)
        except Refusal:
            return None

    def _profile(case: Case) -> Profile | None:
        """The enterprise's profile (企业画像): its reporter's, or the one of its name."""
        profiles = app.service(EnterpriseService)
        found = None if case.relayed else profiles.of_contact(case.reporter_id)
        return found or (profiles.named(case.enterprise) if case.enterprise else None)

    async def detail(request: Request, user: User) -> Response:
        case = _find(request.path_params["number"])
        if case is None:
            return console.refuse(request, "no_case", 404)
        return console.render(
            request,
            "case.html",
            case=case,
            timeline=app.service(CaseService).timeline(case),
            place=app.places.name(case.conversation_id),
            profile=_profile(case),
            held=len(app.outbox.held_for(case.conversation_id)),
            now=app.clock.now(),
            **choices(),
        )

    async def follow_up(request: Request, user: User) -> Response:
        """The result of a 回访 call, as the chat's `回访 <编号> 已解决|未解决 [说明]`."""
        case = _find(request.path_params["number"])
        if case is None:
            return console.refuse(request, "no_case", 404)
        form = await request.form()
        result = str(form.get("result", ""))
        note = str(form.get("text", "")).strip()[:MAX_TEXT]
        if result not in ("solved", "unsolved"):
            console.flash(request, "need_choice", choice_label="回访结果")
            return console.redirect(request, f"/cases/{case.number}")
        try:
            with transaction(app.db):
                actor = staff_actor(app.people, user.contact_id)
                outcome = app.service(CaseService).answer_follow_up(
                    case, actor, result == "solved", note, app.clock.now()
                )
                app.outbox.enqueue(outcome.notices)
        except Refusal as refusal:
            console.flash(request, "reply", text=refusal_text(app, refusal), refused=True)
        else:
            text = app.templates.render(
                "follow_up_recorded", case=outcome.case, solved=result == "solved"
            )
            console.flash(request, "reply", text=text)
        return console.redirect(request, f"/cases/{case.number}")

    async def act(request: Request, user: User) -> Response:
        action = STAFF_ACTIONS.get(request.path_params["action"])
        case = _find(request.path_params["number"])
        if case is None or action is None:
            return console.refuse(request, "no_case", 404)
        back = f"/cases/{case.number}"
        words = {"action": action.name, "label": action.label}
        form = await request.form()
        text = str(form.get("text", "")).strip()
        if action.needs_text and not text:
            console.flash(request, "need_text", **words)
            return console.redirect(request, back)
        if len(text) > MAX_TEXT:  # refused whole: never cut short on the way to the group
            console.flash(request, "text_too_long", length=len(text), limit=MAX_TEXT, **words)
            return console.redirect(request, back)
        chosen = str(form.get(action.choice, "")).strip() if action.choice else ""
        if action.choice and not chosen:
            console.flash(request, "need_choice", choice_label=action.choice_label, **words)
            return console.redirect(request, back)
        new_deadline = bool(form.get("new_deadline"))
        asked = Asked(chosen, text, new_deadline)
        result = run_action(app, user.contact_id, action.name, case, asked)
        if result.refusal:
            console.flash(request, "reply", text=result.refusal, refused=True)
        elif action.name == "reclassify" and result.case and result.previous:
            console.flash(
                request,
                "reclassified",
                number=case.number,
                to=result.case.classified,
                previous=result.previous.classified,
                new_deadline=new_deadline,
                due=console.env.filters["datetime"](result.case.due_at),
            )
        else:
            console.flash(
                request,
                "done",
                number=case.number,
                changed=result.changed,
                tells_reporter=action.tells_reporter,
                **words,
            )
        return console.redirect(request, back)

    new_form, new_case = register_page(console)
    return [
        Route("/", console.page(dashboard)),
        Route("/cases", console.page(ledger)),
        Route("/cases.xlsx", console.page(export)),
        Route("/cases/new", console.page(new_form)),  # before /cases/{number}
        Route("/cases/new", console.page(new_case), methods=["POST"]),
        Route("/cases/{number}", console.page(detail)),
        Route("/cases/{number}/follow_up", console.page(follow_up), methods=["POST"]),
        Route("/cases/{number}/{action}", console.page(act), methods=["POST"]),
    ]
