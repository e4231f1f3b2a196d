"""问卷: the feature's one service. Every adapter — chat, the console, the CLI, the member
page — defines, sends, answers and reads surveys through these methods.

A survey's states are one table (`RULES`): a draft may be edited and sent; a sent survey
may be sent to more places and closed; nothing leaves `closed`. A sent survey takes answers
until its deadline. A response is one per contact per survey: started (its place kept, so a
member resumes where they stopped), then submitted, once; on submission the answers to
questions that declare a `profile_field` fill the enterprise's profile.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.db import to_db, transaction
from bot.people import Actor
from handlers.enterprises.service import EnterpriseService
from handlers.surveys.answers import SKIP_WORDS, AnswerError, read_chat, read_value
from handlers.surveys.model import (
    DefinitionError,
    Question,
    SurveyDefinition,
    SurveyRefused,
    read_definition,
)
from handlers.surveys.profile_fill import check_vocabulary, fill_profile
from handlers.surveys.sending import Audience, Sent, deliver
from handlers.surveys.settings import SurveysSettings
from handlers.surveys.store import CLOSED, DRAFT, SENT, SUBMITTED, Response, Survey, SurveyStore

if TYPE_CHECKING:
    from bot.services import Services

__all__ = [
    "RULES",
    "AnswerError",
    "Audience",
    "DefinitionError",
    "Question",
    "Response",
    "Sent",
    "Submitted",
    "Survey",
    "SurveyRefused",
    "SurveyService",
]

log = logging.getLogger(__name__)

#: which intent is allowed in which state, and where it leads
RULES: dict[tuple[str, str], str] = {
    ("edit", DRAFT): DRAFT,
    ("send", DRAFT): SENT,
    ("send", SENT): SENT,
    ("close", DRAFT): CLOSED,
    ("close", SENT): CLOSED,
}

SUBMIT_WORDS = ("提交", "确认提交", "submit")
EDIT_WORDS = ("修改", "改")


@dataclass(frozen=True)
class Submitted:
    """A submitted response, and which profile fields its answers filled."""

    response: Response
    filled: tuple[str, ...]


class SurveyService:
    def __init__(self, services: Services, settings: SurveysSettings) -> None:
        self.services = services
        self.settings = settings
        self.store = SurveyStore(services.db, services.config.tz)

    @property
    def now(self) -> datetime:
        return self.services.clock.now()

    # -- defining --------------------------------------------------------------------------

    def define(self, data: Mapping[str, Any], by: Actor, survey_id: int | None = None) -> Survey:
        """A new survey, or a draft replaced (by `survey_id`, or the same `key`); raises
        DefinitionError, or SurveyRefused when the survey was already sent."""
        definition = read_definition(data, self.services.config.tz)
        check_vocabulary(definition, self.services.service(EnterpriseService))
        now = self.now
        if definition.deadline is not None and definition.deadline <= now:
            raise DefinitionError("deadline", "is in the past")
        existing = self.get(survey_id) if survey_id is not None else None
        if existing is None and definition.key:
            existing = self.store.by_key(definition.key)
        remind_at = self._remind_at(definition)
        with transaction(self.services.db):
            if existing is None:
                new_id = self.store.insert(definition, remind_at, by.name, now)
            else:
                self.check_intent("edit", existing)
                self.store.replace(existing.id, definition, remind_at, now)
                new_id = existing.id
        found = self.get(new_id)
        assert found is not None
        return found

    def _remind_at(self, definition: SurveyDefinition) -> datetime | None:
        if definition.deadline is None:
            return None
        return definition.deadline - timedelta(hours=self.settings.remind_hours_before)

    def check_intent(self, intent: str, survey: Survey) -> str:
        """The state `intent` leads to from the survey's (RULES), or SurveyRefused."""
        to = RULES.get((intent, survey.status))
        if to is None:
            raise SurveyRefused(f"{intent}_{survey.status}", title=survey.title, id=survey.id)
        return to

    def get(self, survey_id: int) -> Survey | None:
        return self.store.find(survey_id)

    def all(self) -> list[Survey]:
        return self.store.where()

    def send(self, survey_id: int, audience: Audience, by: Actor) -> Sent:
        """Send a survey (the console's and the CLI's one way): a draft or a sent survey
        before its deadline; raises SurveyRefused (see sending.deliver for the rest)."""
        survey = self._survey(survey_id)
        self.check_intent("send", survey)
        now = self.now
        if survey.deadline_at and survey.deadline_at <= to_db(now):
            raise SurveyRefused("closed", title=survey.title, deadline=survey.deadline_at)
        return deliver(self.services, self.store, survey, audience, by, now)

    def close(self, survey_id: int, by: Actor) -> Survey:
        survey = self._survey(survey_id)
        self.check_intent("close", survey)
        self.store.set(survey.id, self.now, status=CLOSED)
        log.info("survey %s closed by %s", survey.id, by.name)
        return self._survey(survey_id)

    def _survey(self, survey_id: int) -> Survey:
        survey = self.get(survey_id)
        if survey is None:
            raise SurveyRefused("no_survey", id=survey_id)
        return survey

    # -- answering: what the member page uses ----------------------------------------------

    def open_for(self, contact_id: str) -> list[Survey]:
        """The surveys a contact may answer now and has not submitted: sent to them, to a
        member group (any member may answer privately), or already started by them."""
        rows = self.services.db.execute(
            "select distinct s.id from surveys s"
            " left join survey_responses r on r.survey_id = s.id and r.contact_id = ?"
            " where s.status = ? and (s.deadline_at is null or s.deadline_at > ?)"
            " and (r.status is null or r.status != ?)"
            " and (r.id is not null or exists (select 1 from survey_sends d"
            "      where d.survey_id = s.id and (d.kind = 'group' or d.conversation_id = ?)))"
            " order by s.id",
            [contact_id, SENT, to_db(self.now), SUBMITTED, contact_id],
        ).fetchall()
        return [s for s in (self.get(r[0]) for r in rows) if s is not None]

    def questions(self, survey_id: int) -> list[Question]:
        return list(self._survey(survey_id).definition.questions)

    def progress(self, survey_id: int, contact_id: str) -> Response | None:
        """The contact's response so far (None: not started)."""
        return self.store.response(survey_id, contact_id)

    def answer(
        self, survey_id: int, contact_id: str, answers: Mapping[str, object], by: Actor
    ) -> Submitted:
        """Every answer at once (the member page) and submitted: each read as chat reads
        it, required ones present. Raises AnswerError with `question` (its number) in the
        context, or SurveyRefused; either way nothing is written."""
        survey = self._open(survey_id, contact_id)
        values: dict[str, Any] = {}
        for q in survey.definition.questions:
            try:
                value = read_value(q, answers.get(q.id))
            except AnswerError as error:
                error.context.update(question=q.number, text=q.text)
                raise
            if value is None and q.required:
                raise AnswerError("required", question=q.number, text=q.text)
            values[q.id] = value
        with transaction(self.services.db):
            response = self._start(survey, contact_id, by.name, "page")
            response = self.store.save(
                response, self.now, answers=values, position=len(values), back_to=None
            )
            return self._submit(survey, response, by)

    def _open(self, survey_id: int, contact_id: str) -> Survey:
        survey = self._survey(survey_id)
        if not survey.open_at(self.now):
            raise SurveyRefused("closed", title=survey.title, deadline=survey.deadline_at)
        done = self.store.response(survey_id, contact_id)
        if done is not None and done.submitted:
            raise SurveyRefused("already_submitted", title=survey.title)
        return survey

    # -- answering in chat: one question at a time -----------------------------------------

    def begin(self, survey_id: int, contact_id: str, name: str, channel: str) -> Response:
        """Start answering, or come back to where the contact stopped."""
        survey = self._open(survey_id, contact_id)
        return self._start(survey, contact_id, name, channel)

    def _start(self, survey: Survey, contact_id: str, name: str, channel: str) -> Response:
        profile = self.services.service(EnterpriseService).of_contact(contact_id)
        enterprise = (
            profile.name if profile else self.services.people.contact(contact_id)["enterprise"]
        )
        return self.store.start(survey.id, contact_id, name, enterprise, channel, self.now)

    def take(self, survey_id: int, contact_id: str, text: str, by: Actor) -> Response | Submitted:
        """One chat message while answering: an answer to the question asked, `跳过`,
        `修改 3` (question 3 again, then back to where the member was), or at the review
        `提交`. A bad one raises AnswerError and changes nothing."""
        survey = self._open(survey_id, contact_id)
        response = self.store.response(survey_id, contact_id)
        if response is None:
            raise SurveyRefused("not_started", title=survey.title)
        questions = survey.definition.questions
        word = text.strip()
        edit = self._edit(response, word, len(questions))
        if edit is not None:
            back = response.back_to if response.editing else response.position
            return self.store.save(response, self.now, position=edit, back_to=back)
        if response.position >= len(questions):
            if word.lower() in SUBMIT_WORDS:
                with transaction(self.services.db):
                    return self._submit(survey, response, by)
            raise AnswerError("at_review", count=len(questions))
        q = questions[response.position]
        if word.lower() in SKIP_WORDS:
            if q.required:
                raise AnswerError("required", question=q.number, text=q.text)
            value = None
        else:
            value = read_chat(q, word)
        answers = {**response.answers, q.id: value}
        after = response.back_to if response.back_to is not None else response.position + 1
        return self.store.save(response, self.now, answers=answers, position=after, back_to=None)

    @staticmethod
    def _edit(response: Response, word: str, count: int) -> int | None:
        """`修改 3` (or `修改第3题`): the position of an answered question to ask again."""
        for prefix in EDIT_WORDS:
            rest = word.removeprefix(prefix).strip(" :：第题")
            if word.startswith(prefix) and rest.isdigit():
                answered = max(response.position, response.back_to or 0)
                if not 1 <= int(rest) <= min(answered, count):
                    raise AnswerError("bad_edit", count=min(answered, count))
                return int(rest) - 1
        return None

    def _submit(self, survey: Survey, response: Response, by: Actor) -> Submitted:
        missing = [
            q for q in survey.definition.questions
            if q.required and response.answers.get(q.id) is None
        ]  # fmt: skip
        if missing:
            raise AnswerError("required", question=missing[0].number, text=missing[0].text)
        now = self.now
        done = self.store.save(response, now, status=SUBMITTED, submitted_at=to_db(now))
        filled = fill_profile(self.services.service(EnterpriseService), survey, done, by)
        return Submitted(done, filled)
