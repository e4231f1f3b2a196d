"""问卷 on the member page: a survey the member may answer, all its questions on one form,
submitted at once through the surveys feature's service (`SurveyService.answer`, as the
chat's answers are read); a bad or missing answer comes back with the chat's wording and
the form as it was, and nothing is written."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.people import Actor
from handlers.portal.member import Member
from handlers.portal.store import Session
from handlers.surveys.service import AnswerError, SurveyRefused, SurveyService

__all__ = ["routes"]


def _as_given(answers: Mapping[str, object]) -> dict[str, object]:
    """Stored answers as the form shows them: text, or a list of options."""
    given: dict[str, object] = {}
    for key, value in answers.items():
        if isinstance(value, list):
            given[key] = [str(v) for v in value]
        elif value is not None:
            given[key] = f"{value:g}" if isinstance(value, float) else str(value)
    return given


def routes(member: Member) -> list[Route]:
    app = member.app
    surveys = app.service(SurveyService)

    def form_page(
        request: Request,
        survey_id: int,
        given: dict[str, object],
        status: int = 200,
        problem: str = "",
    ) -> Response:
        survey = surveys.get(survey_id)
        if survey is None:
            return member.refuse(request, "no_survey", 404)
        return member.render(
            request,
            "survey.html",
            status_code=status,
            survey=survey,
            questions=surveys.questions(survey_id),
            given=given,
            problem=problem,
        )

    def mine(session: Session, survey_id: int) -> bool:
        return any(s.id == survey_id for s in surveys.open_for(session.contact_id))

    async def show(request: Request, session: Session) -> Response:
        survey_id = int(request.path_params["id"])
        if not mine(session, survey_id):
            return member.refuse(request, "no_survey", 404)
        begun = surveys.progress(survey_id, session.contact_id)  # what chat has so far
        return form_page(request, survey_id, _as_given(begun.answers if begun else {}))

    async def submit(request: Request, session: Session) -> Response:
        survey_id = int(request.path_params["id"])
        if not mine(session, survey_id):
            return member.refuse(request, "no_survey", 404)
        form = await member.form(request)
        given: dict[str, object] = {}
        for q in surveys.questions(survey_id):
            if q.kind == "multiple":
                given[q.id] = [str(v) for v in form.getlist(q.id) if isinstance(v, str)]
            else:
                given[q.id] = str(form.get(q.id, "")).strip()
        me = Actor(session.contact_id, app.people.name(session.contact_id))
        try:
            surveys.answer(survey_id, session.contact_id, given, me)
        except AnswerError as error:
            text = app.templates.render("surveys_bad_answer", code=error.code, **error.context)
            return form_page(request, survey_id, given, 400, text.strip())
        except SurveyRefused as refusal:
            text = app.templates.render("surveys_refused", code=refusal.code, **refusal.context)
            return form_page(request, survey_id, given, 409, text.strip())
        return member.redirect("/?done=survey_submitted#surveys")

    return [
        Route("/surveys/{id:int}", member.page(show)),
        Route("/surveys/{id:int}", member.page(submit), methods=["POST"]),
    ]
