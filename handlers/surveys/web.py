"""问卷 on the staff console: the list; the builder (new, from the quarterly example, or a
draft edited); one survey with its send form, its results — counts, a chart and a table
per question — and the XLSX export; close.

Sending and closing call the same service methods as the CLI (SurveyService.send, .close).
Charts are drawn by ECharts as on the 统计 page, from the build the reports feature serves
at /vendor/echarts.min.js; every figure is in a table beside its chart.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.people import Actor
from handlers.enterprises.service import LABELS, EnterpriseService, ProfileFilter
from handlers.surveys.model import KINDS, DefinitionError, read_definition
from handlers.surveys.results import Results, labels, results, write_export
from handlers.surveys.service import Audience, SurveyRefused, SurveyService
from handlers.surveys.store import DRAFT, SENT, Survey
from handlers.surveys.web_form import SurveyForm, form_of, place_problem, read_form
from web.console import Console
from web.store import User

__all__ = ["ECHARTS_PATH", "EXAMPLE", "chart_data", "routes"]

ECHARTS_PATH = "/vendor/echarts.min.js"  # served by the reports feature
EXAMPLE = Path(__file__).resolve().parent / "examples" / "quarterly.yaml"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def chart_data(r: Results) -> list[dict[str, Any]]:
    """One bar chart per choice or scale question: its labels and counts."""
    return [
        {
            "id": f"chart-{t.question.id}",
            "title": f"{t.question.number}. {t.question.text}",
            "labels": [label for label, _ in t.counts],
            "counts": [count for _, count in t.counts],
        }
        for t in r.tallies
        if t.counts
    ]


def routes(console: Console) -> list[Route]:
    app = console.app

    def svc() -> SurveyService:
        return app.service(SurveyService)

    def actor(user: User) -> Actor:
        return Actor(user.contact_id, app.people.staff_name(user.contact_id))

    def find(request: Request) -> Survey | None:
        raw = str(request.path_params["id"])
        return svc().get(int(raw)) if raw.isdigit() else None

    def missing(request: Request) -> Response:
        return console.render(request, "survey_missing.html", status_code=404)

    async def index(request: Request, user: User) -> Response:
        rows = [(s, results(svc().store, s)) for s in svc().all()]
        return console.render(request, "surveys.html", rows=rows, now=app.clock.now())

    def show_form(
        request: Request, form: SurveyForm, survey: Survey | None, status_code: int = 200
    ) -> Response:
        return console.render(
            request, "survey_form.html", status_code=status_code, form=form, survey=survey,
            kinds=KINDS, profile_labels=LABELS, remind_hours=svc().settings.remind_hours_before,
        )  # fmt: skip

    async def new(request: Request, user: User) -> Response:
        form = SurveyForm()
        if request.query_params.get("example"):
            data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
            data.pop("deadline", None)
            data.pop("key", None)
            form = form_of(read_definition(data, app.config.tz), app.config.tz)
        return show_form(request, form, None)

    async def save(request: Request, user: User, survey: Survey | None) -> Response:
        form, action, data = read_form(await request.form(), app.clock.now())
        if action != "save" or form.problems:
            return show_form(request, form, survey, 400 if form.problems else 200)
        try:
            saved = svc().define(data, actor(user), survey.id if survey else None)
        except DefinitionError as error:
            place_problem(form, error)
            return show_form(request, form, survey, 400)
        except SurveyRefused as refusal:
            return refused(request, refusal, survey)
        console.flash(request, "reply", text=render("saved", survey=saved))
        return console.redirect(request, f"/surveys/{saved.id}")

    async def create(request: Request, user: User) -> Response:
        return await save(request, user, None)

    async def edit_form(request: Request, user: User) -> Response:
        survey = find(request)
        if survey is None:
            return missing(request)
        return show_form(request, form_of(survey.definition, app.config.tz), survey)

    async def edit(request: Request, user: User) -> Response:
        survey = find(request)
        if survey is None:
            return missing(request)
        return await save(request, user, survey)

    def render(kind: str, **context: Any) -> str:
        return app.templates.render("surveys_web", kind=kind, **context)

    def refused(request: Request, refusal: SurveyRefused, survey: Survey | None) -> Response:
        text = app.templates.render("surveys_refused", code=refusal.code, **refusal.context)
        console.flash(request, "reply", text=text, refused=True)
        return console.redirect(request, f"/surveys/{survey.id}" if survey else "/surveys")

    async def detail(request: Request, user: User) -> Response:
        survey = find(request)
        if survey is None:
            return missing(request)
        r = results(svc().store, survey)
        settings = app.service(EnterpriseService).settings
        return console.render(
            request, "survey.html", survey=survey, r=r, charts=chart_data(r),
            sends=[{**d, "name": app.places.name(d["conversation_id"])}
                   for d in svc().store.sends(survey.id)],
            settings=settings, editable=survey.status == DRAFT,
            sendable=survey.status == DRAFT or survey.open_at(app.clock.now()),
            closable=survey.status in (DRAFT, SENT), echarts=ECHARTS_PATH,
            responses=svc().store.responses(survey.id), now=app.clock.now(),
            total=len(survey.definition.questions),
        )  # fmt: skip

    async def do_send(request: Request, user: User) -> Response:
        survey = find(request)
        if survey is None:
            return missing(request)
        form = await request.form()

        def picked(name: str) -> tuple[str, ...]:
            return tuple(str(v) for v in form.getlist(name) if str(v).strip())

        dims = {k: picked(k) for k in ("industries", "sizes", "regions", "qualifications")}
        profile = ProfileFilter(**dims) if form.get("to_profile") else None
        groups = str(form.get("groups", "") or "").strip() if form.get("to_groups") else None
        audience = Audience(
            groups=groups or None, profile=profile, everyone=bool(form.get("everyone"))
        )
        if not (audience.groups or audience.profile or audience.everyone):
            console.flash(request, "reply", text=render("no_audience"), refused=True)
            return console.redirect(request, f"/surveys/{survey.id}")
        try:
            sent = app.service(SurveyService).send(survey.id, audience, actor(user))
        except SurveyRefused as refusal:
            return refused(request, refusal, survey)
        console.flash(request, "reply", text=render("sent", sent=sent))
        return console.redirect(request, f"/surveys/{survey.id}")

    async def do_close(request: Request, user: User) -> Response:
        survey = find(request)
        if survey is None:
            return missing(request)
        try:
            svc().close(survey.id, actor(user))
        except SurveyRefused as refusal:
            return refused(request, refusal, survey)
        console.flash(request, "reply", text=render("closed", survey=survey))
        return console.redirect(request, f"/surveys/{survey.id}")

    async def export(request: Request, user: User) -> Response:
        survey = find(request)
        if survey is None:
            return missing(request)
        buffer = io.BytesIO()
        heads = labels(app.templates.render)
        write_export(svc().store, survey, heads, app.config.tz, buffer)
        name = f"survey-{survey.id}.xlsx"
        return Response(
            buffer.getvalue(),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return [
        Route("/surveys", console.page(index)),
        Route("/surveys/new", console.page(new)),
        Route("/surveys/new", console.page(create), methods=["POST"]),
        Route("/surveys/{id}", console.page(detail)),
        Route("/surveys/{id}/edit", console.page(edit_form)),
        Route("/surveys/{id}/edit", console.page(edit), methods=["POST"]),
        Route("/surveys/{id}/send", console.page(do_send), methods=["POST"]),
        Route("/surveys/{id}/close", console.page(do_close), methods=["POST"]),
        Route("/surveys/{id}/export.xlsx", console.page(export)),
    ]
