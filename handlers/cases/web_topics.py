"""专题 on the console: the list, a 专题's page with its forms, and 建为专题 (the 统计
page's 共性问题 list posts a group of case numbers here).

Every form runs the same service intent as the chat's `专题 …` (topic_intents.py) as the
logged-in staff member, in one transaction with the notices it queues; what the console
says afterwards is the chat's reply, word for word (its template), or its refusal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.db import transaction
from bot.refusal import Refusal
from handlers.cases.actions import staff_actor
from handlers.cases.service import Actor, Case, CaseService, Topic, parse_topic_ref
from handlers.cases.settings import case_settings
from handlers.cases.topic_chat import topic_view
from handlers.cases.web_actions import refusal_text
from web.console import Console
from web.store import User

__all__ = ["routes"]

_SPLIT = re.compile(r"[、,，;；\s]+")
MAX_TEXT = 5000  # as the case page's forms (handlers/cases/web.py)

#: one form's intent as the staff member: the chat's reply as (template, context), and the
#: notices to queue
Intent = Callable[[CaseService, Actor], tuple[str, dict[str, Any], list[Any]]]


def _cases(service: CaseService, text: str, now: Any) -> list[Case]:
    refs = [r for r in _SPLIT.split(text.strip()) if r]
    if not refs:
        raise Refusal("topic_no_cases")
    return [service.find(ref, now, "", staff=True) for ref in refs]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Refusal("topic_bad_date", given=text.strip()[:20]) from None


def routes(console: Console) -> list[Route]:
    app = console.app
    render = app.templates.render

    def service() -> CaseService:
        return app.service(CaseService)

    def run(user: User, act: Intent) -> tuple[str, dict[str, Any] | None]:
        """Run one intent as `user`, in one transaction with its notices: the chat's
        words for what happened (or for the refusal), and its context (None if refused)."""
        try:
            with transaction(app.db):
                actor = staff_actor(app.people, user.contact_id)
                template, context, notices = act(service(), actor)
                app.outbox.enqueue(notices)
        except Refusal as refusal:
            return refusal_text(app, refusal), None
        return render(template, **context), context

    async def listing(request: Request, user: User) -> Response:
        topics = service().topics.listing(200)
        counts = service().topics.counts()
        return console.render(request, "topics.html", topics=topics, counts=counts)

    def _topic(request: Request) -> Topic | None:
        number = parse_topic_ref(str(request.path_params["id"]))
        if number is None:
            return None
        try:
            return service().topic(number)
        except Refusal:
            return None

    async def detail(request: Request, user: User) -> Response:
        topic = _topic(request)
        if topic is None:
            return console.refuse(request, "no_topic", 404)
        staff = [(s.contact_id, s.name) for s in app.config.staff]
        return console.render(request, "topic.html", staff=staff, **topic_view(service(), topic))

    async def create(request: Request, user: User) -> Response:
        form = await request.form()
        name = str(form.get("name", "")).strip()
        numbers = str(form.get("cases", ""))

        def act(s: CaseService, actor: Actor) -> tuple[str, dict[str, Any], list[Any]]:
            now = app.clock.now()
            outcome = s.create_topic(actor, name, _cases(s, numbers, now), now)
            return "topic_linked", {"new": True, "outcome": outcome}, []

        text, done = run(user, act)
        console.flash(request, "reply", text=text, refused=done is None)
        if done is None:
            return console.redirect(request, "/topics")
        return console.redirect(request, f"/topics/{done['outcome'].topic.id}")

    def _act(action: str, topic: Topic, value: str) -> Intent:
        def act(s: CaseService, actor: Actor) -> tuple[str, dict[str, Any], list[Any]]:
            now = app.clock.now()
            if len(value) > MAX_TEXT:
                raise Refusal("topic_too_long", length=len(value), limit=MAX_TEXT)
            if action == "answer":
                out = s.answer_topic(actor, topic, value, now)
                return "topic_answered", {"outcome": out}, out.notices
            if action == "resolve":
                out = s.resolve_topic(actor, topic, value, now)
                days = case_settings(app.config).auto_close_days
                return "topic_resolved", {"outcome": out, "days": days}, out.notices
            if action == "join":
                out = s.join_topic(actor, topic, _cases(s, value, now), now)
                return "topic_linked", {"new": False, "outcome": out}, []
            if action == "leave":
                (case,) = _cases(s, value, now)[:1]
                out = s.leave_topic(actor, topic, case, now)
                return "topic_left", {"topic": out.topic, "case": out.cases[0]}, []
            if action == "deadline":
                updated = s.set_topic_deadline(actor, topic, _day(value), now)
                return "topic_updated", {"topic": updated, "what": "deadline"}, []
            updated = s.assign_topic(actor, topic, value, now)
            return "topic_updated", {"topic": updated, "what": "owner"}, []

        return act

    _FIELDS = {
        "answer": "text",
        "resolve": "text",
        "join": "cases",
        "leave": "case",
        "deadline": "deadline",
        "assign": "owner",
    }

    async def act(request: Request, user: User) -> Response:
        topic = _topic(request)
        action = str(request.path_params["action"])
        if topic is None or action not in _FIELDS:
            return console.refuse(request, "no_topic", 404)
        form = await request.form()
        value = str(form.get(_FIELDS[action], "")).strip()
        text, done = run(user, _act(action, topic, value))
        console.flash(request, "reply", text=text, refused=done is None)
        return console.redirect(request, f"/topics/{topic.id}")

    return [
        Route("/topics", console.page(listing)),
        Route("/topics/new", console.page(create), methods=["POST"]),
        Route("/topics/{id}", console.page(detail)),
        Route("/topics/{id}/{action}", console.page(act), methods=["POST"]),
    ]
