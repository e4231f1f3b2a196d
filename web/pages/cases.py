"""工作台, 诉求台账 (with XLSX export) and 诉求详情 with the staff actions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.cases import OPEN, Case
from bot.db import to_db
from handlers.reports.figures import totals
from handlers.reports.period import month_of
from handlers.reports.text import labels
from web.actions import ACTIONS, run_action
from web.console import Console
from web.ledger import STATUSES, Filters, ledger_page, ledger_rows, ledger_xlsx
from web.settings import place_name, web_settings
from web.store import User

__all__ = ["routes"]

_DASHBOARD_LIMIT = 10
_OPEN = f"status in ({', '.join(repr(str(s)) for s in OPEN)})"
# Actions whose text field must not be empty (the chat would answer with the usage line).
_NEEDS_TEXT = {"answer", "resolve", "note"}


def _cases(console: Console, where: str, params: list[Any]) -> tuple[int, list[Case]]:
    db = console.app.db
    count = int(db.execute(f"select count(*) from cases where {where}", params).fetchone()[0])
    return count, console.app.cases.where(where, params, "id desc", _DASHBOARD_LIMIT)


def _category(case: Case) -> str:
    return f"{case.category}/{case.aspect}" if case.aspect else case.category


def _choices(console: Console) -> dict[str, Any]:
    app = console.app
    config = app.config
    groups = app.db.execute(
        "select id, coalesce(topic, id) from conversations where is_group = 1 and kind = 'member'"
        " order by topic"
    ).fetchall()
    return {
        "statuses": STATUSES,
        "categories": [c.name for c in config.categories] + [config.cases.default_category],
        "departments": list(dict.fromkeys([*config.departments, config.cases.default_department])),
        "staff": [(s.contact_id, s.name) for s in config.staff],
        "groups": groups,
        "tree": [(c.name, [a.name for a in c.aspects]) for c in config.categories],
    }


def routes(console: Console) -> list[Route]:
    app = console.app

    async def dashboard(request: Request, user: User) -> Response:
        now = app.clock.now()
        midnight = datetime.combine(now.astimezone(app.config.tz).date(), time(), app.config.tz)
        month = month_of(now)
        rates = totals(app.db, month, now)
        sections = [
            ("today", *_cases(console, "created_at >= ?", [to_db(midnight)])),
            ("waiting", *_cases(console, f"{_OPEN} and first_response_at is null", [])),
            ("overdue", *_cases(console, f"{_OPEN} and due_at <= ?", [to_db(now)])),
            ("rating", *_cases(console, "status = 'resolved'", [])),
        ]
        return console.render(
            request,
            "dashboard.html",
            sections=sections,
            now=now,
            rates=rates,
            month=month,
            lab=labels(app.templates.render),
        )

    async def ledger(request: Request, user: User) -> Response:
        filters = Filters.parse(request.query_params)
        now = app.clock.now()
        rows, more = ledger_page(app.db, filters, now, web_settings(app).page_size)
        template = "ledger_rows.html" if request.headers.get("hx-request") else "ledger.html"
        return console.render(
            request, template, filters=filters, rows=rows, more=more, now=now, **_choices(console)
        )

    async def export(request: Request, user: User) -> Response:
        filters = Filters.parse(request.query_params)
        now = app.clock.now()
        title, header_line = console.env.get_template("ledger_headers.txt").render().splitlines()
        headers = header_line.split()

        def rows() -> Iterator[list[Any]]:
            for case in ledger_rows(app.db, filters, now):
                yield [
                    case.number,
                    console._day(case.created_at),
                    case.enterprise or "",
                    case.reporter_name,
                    place_name(app, case.conversation_id),
                    case.description,
                    case.category,
                    case.aspect or "",
                    case.department,
                    case.assignee_name or "",
                    console.label("status", case.status),
                    console.label("escalation", case.escalation),
                    console._day(case.due_at),
                    "是" if case.overdue(now) else "",
                    console.label("rating", case.rating),
                ]

        data = ledger_xlsx(headers, rows(), title)
        name = f"ledger-{now.astimezone(app.config.tz):%Y%m%d-%H%M}.xlsx"
        return Response(
            data,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    def _find(number: str) -> Case | None:
        rows = app.cases.where("number = ?", [number])
        return rows[0] if rows else None

    async def detail(request: Request, user: User) -> Response:
        case = _find(request.path_params["number"])
        if case is None:
            return console.refuse(request, "no_case", 404)
        return console.render(
            request,
            "case.html",
            case=case,
            timeline=app.cases.timeline(case),
            place=place_name(app, case.conversation_id),
            now=app.clock.now(),
            **_choices(console),
        )

    async def act(request: Request, user: User) -> Response:
        number = request.path_params["number"]
        action = request.path_params["action"]
        case = _find(number)
        if case is None or action not in ACTIONS:
            return console.refuse(request, "no_case", 404)
        form = await request.form()
        text = str(form.get("text", "")).strip()[:2000]
        if action in _NEEDS_TEXT and not text:
            console.flash(request, "need_text", action=action)
            return console.redirect(request, f"/cases/{number}")
        extra = {"assign": "assignee", "transfer": "department", "reclassify": "category"}.get(
            action
        )
        chosen = str(form.get(extra, "")).strip() if extra else ""
        if extra and not chosen:
            console.flash(request, "need_choice", action=action)
            return console.redirect(request, f"/cases/{number}")
        if user.contact_id not in app.people.staff:
            console.flash(request, "not_staff_contact")
            return console.redirect(request, f"/cases/{number}")
        new_deadline = bool(form.get("new_deadline"))
        result = run_action(
            app, user.contact_id, action, case, chosen, text, new_deadline=new_deadline
        )
        if result.refusal:
            console.flash(request, "reply", text=result.refusal, refused=True)
        elif action == "reclassify" and result.case and result.previous:
            console.flash(
                request,
                "reclassified",
                number=number,
                to=_category(result.case),
                previous=_category(result.previous),
                new_deadline=new_deadline,
                due=console.env.filters["when"](result.case.due_at),
            )
        else:
            console.flash(request, "done", action=action, number=number, changed=result.changed)
        return console.redirect(request, f"/cases/{number}")

    return [
        Route("/", console.page(dashboard)),
        Route("/cases", console.page(ledger)),
        Route("/cases.xlsx", console.page(export)),
        Route("/cases/{number}", console.page(detail)),
        Route("/cases/{number}/{action}", console.page(act), methods=["POST"]),
    ]
