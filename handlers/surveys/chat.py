"""问卷 in a private chat: one question at a time, `跳过` for optional ones, a review where
`修改 3` changes an answer, then `提交`.

The response row keeps the member's place (the question asked next, the answers so far),
so leaving for another command, a restart or an expired prompt loses nothing: `问卷` again
asks the question where they stopped. Every bad answer gets a polite reason and the same
question again, and changes nothing.
"""

from __future__ import annotations

from bot.messages import Outgoing
from bot.router import Context
from handlers.surveys.answers import AnswerError
from handlers.surveys.service import Response, Submitted, SurveyRefused, SurveyService
from handlers.surveys.store import Survey

__all__ = ["PROMPT", "answer", "start"]

PROMPT = "survey_answer"


def _refused(ctx: Context, refusal: SurveyRefused) -> list[Outgoing]:
    return [ctx.say("surveys_refused", code=refusal.code, **refusal.context)]


def _next(ctx: Context, survey: Survey, response: Response, *, intro: bool = False) -> Outgoing:
    """The question asked next, or the review; the prompt set for the answer."""
    questions = survey.definition.questions
    ctx.ask(PROMPT, survey_id=survey.id)
    if response.position >= len(questions):
        return ctx.say("surveys_review", survey=survey, questions=questions, response=response)
    q = questions[response.position]
    previous = questions[response.position - 1] if response.position else None
    return ctx.say(
        "surveys_question",
        survey=survey,
        q=q,
        total=len(questions),
        intro=intro,
        new_section=bool(q.section) and (previous is None or previous.section != q.section),
        editing=response.editing,
        current=response.answers.get(q.id),
    )


def start(ctx: Context) -> list[Outgoing]:
    """`问卷 [编号]`: the one open survey (or the one named) from where the member stopped;
    with several open, the list."""
    if ctx.msg.is_group:
        return [ctx.say("surveys_private_only")]
    svc = ctx.service(SurveyService)
    who = ctx.msg.sender_id
    wanted = ctx.norm_args.lstrip("#")
    open_ = svc.open_for(who)
    if wanted:
        if not wanted.isdigit():
            raise ctx.refuse_usage(understood=ctx.args.strip()[:20])
        chosen = [s for s in open_ if s.id == int(wanted)]
        if not chosen:
            return _why_not(ctx, svc, int(wanted))
        open_ = chosen
    if not open_:
        return [ctx.say("surveys_none")]
    if len(open_) > 1:
        progress = {s.id: svc.progress(s.id, who) for s in open_}
        return [ctx.say("surveys_list", surveys=open_, progress=progress)]
    survey = open_[0]
    before = svc.progress(survey.id, who)
    try:
        response = svc.begin(survey.id, who, ctx.actor.name, ctx.msg.channel)
    except SurveyRefused as refusal:
        return _refused(ctx, refusal)
    resumed = before is not None and before.position > 0
    out = [_next(ctx, survey, response, intro=not resumed)]
    if resumed:
        out.insert(0, ctx.say("surveys_resumed", survey=survey, response=response))
    return out


def _why_not(ctx: Context, svc: SurveyService, survey_id: int) -> list[Outgoing]:
    survey = svc.get(survey_id)
    if survey is None or (
        not svc.store.was_sent_to(survey_id, ctx.msg.sender_id)
        and not (svc.store.sends(survey_id, "group"))
    ):
        return [ctx.say("surveys_refused", code="no_survey", id=survey_id)]
    done = svc.progress(survey_id, ctx.msg.sender_id)
    if done is not None and done.submitted:
        return [ctx.say("surveys_refused", code="already_submitted", title=survey.title)]
    return [ctx.say("surveys_refused", code="closed", title=survey.title,
                    deadline=survey.deadline_at)]  # fmt: skip


def answer(ctx: Context) -> list[Outgoing]:
    """The member's answer to the question asked (the `survey_answer` prompt)."""
    svc = ctx.service(SurveyService)
    survey_id = int(ctx.prompt["survey_id"])
    who = ctx.msg.sender_id
    try:
        result = svc.take(survey_id, who, ctx.args, ctx.actor)
    except SurveyRefused as refusal:
        return _refused(ctx, refusal)
    except AnswerError as error:
        survey = svc.get(survey_id)
        response = svc.progress(survey_id, who)
        assert survey is not None
        assert response is not None
        bad = ctx.say("surveys_bad_answer", code=error.code, **error.context)
        if response.position >= len(survey.definition.questions):  # the review: say how
            ctx.ask(PROMPT, survey_id=survey.id)
            return [bad]
        return [bad, _next(ctx, survey, response)]
    survey = svc.get(survey_id)
    assert survey is not None
    if isinstance(result, Submitted):
        return [ctx.say("surveys_thanks", survey=survey, filled=result.filled)]
    return [_next(ctx, survey, result)]
