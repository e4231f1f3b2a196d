"""专题 intents: link cases that share a problem, answer and resolve them as one.

A 专题 has its own owner, department and deadline. Its 回复 and 办结 are, for each linked
case still in hand, the very same intent as a typed `回复 <编号>` / `办结 <编号>`
(StaffIntents.answer / resolve), all in one transaction: each enterprise hears it in its
own conversation under its own case number, and rates its own case as usual. Joining and
leaving are events on the case's timeline. A case is in at most one open 专题.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from bot.db import from_db, to_db, transaction
from bot.messages import Outgoing
from bot.refusal import Refusal
from handlers.cases.model import OPEN, Actor, Case, EventKind, Status
from handlers.cases.settings import case_settings
from handlers.cases.staff_intents import StaffIntents
from handlers.cases.topics import Topic, TopicStore

__all__ = ["NAME_LIMIT", "Skipped", "TopicIntents", "TopicOutcome"]

NAME_LIMIT = 40
_ANSWERABLE = OPEN | {Status.RESOLVED}  # as for a typed 回复 (rules.py, ANSWERED)


@dataclass(frozen=True)
class Skipped:
    case: Case
    why: str  # already (in this 专题) | other (in another open 专题) | state (not open)
    other: Topic | None = None


@dataclass(frozen=True)
class TopicOutcome:
    """The topic after an intent, the cases it acted on, those it left alone and why, and
    what must be sent (each case's own notices)."""

    topic: Topic
    cases: list[Case] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notices: list[Outgoing] = field(default_factory=list)


class TopicIntents(StaffIntents):
    @cached_property
    def topics(self) -> TopicStore:
        return TopicStore(self.db)

    # -- reading -------------------------------------------------------------------------

    def topic(self, topic_id: int) -> Topic:
        return self.topics.get(topic_id)

    def topic_cases(self, topic: Topic) -> list[Case]:
        return [self.get(i) for i in self.topics.member_ids(topic.id)]

    # -- intents -------------------------------------------------------------------------

    def create_topic(
        self, actor: Actor, name: str, cases: list[Case], now: datetime
    ) -> TopicOutcome:
        """A new 专题 owned by its creator (their department), with `cases` linked."""
        name = " ".join(name.split())
        if not name or len(name) > NAME_LIMIT:
            raise Refusal("topic_bad_name", given=name, limit=NAME_LIMIT)
        if not cases:
            raise Refusal("topic_no_cases")
        joinable, skipped = self._sort_out(None, cases)
        if not joinable:  # nothing could join: no empty 专题 (checked before any write)
            raise Refusal("topic_none_joined", skipped=skipped)
        member = self.people.staff.get(actor.id)
        department = (member.department if member else "") or case_settings(
            self.config
        ).default_department
        with transaction(self.db):
            row = self.db.execute(
                "insert into topics (name, owner_id, owner_name, department, created_by_id,"
                " created_by_name, created_at) values (?, ?, ?, ?, ?, ?, ?) returning id",
                [name, actor.id, actor.name, department, actor.id, actor.name, to_db(now)],
            ).fetchone()
            return self.join_topic(actor, self.topic(int(row[0])), cases, now)

    def join_topic(
        self, actor: Actor, topic: Topic, cases: list[Case], now: datetime
    ) -> TopicOutcome:
        """Link open cases; a case in another open 专题 or no longer open is left out
        (and when none is left, the refusal says why, before anything is written)."""
        self._must_be_open(topic)
        joinable, skipped = self._sort_out(topic, cases)
        if not joinable:
            raise Refusal("topic_none_joined", skipped=skipped)
        joined: list[Case] = []
        with transaction(self.db):
            for case in joinable:
                self.db.execute(
                    "insert into topic_cases (topic_id, case_id, joined_at) values (?, ?, ?)"
                    " on conflict (topic_id, case_id) do update"
                    " set joined_at = excluded.joined_at, left_at = null, resolved_at = null",
                    [topic.id, case.id, to_db(now)],
                )
                data = {"topic_id": topic.id, "topic": topic.name}
                joined.append(
                    self.change(case, EventKind.TOPIC_JOINED, actor, now, topic.name, data)
                )
            topic = self._follow_deadline(topic)
        return TopicOutcome(topic, joined, skipped)

    def _sort_out(
        self, topic: Topic | None, cases: list[Case]
    ) -> tuple[list[Case], list[Skipped]]:
        """The cases that may join `topic`, and those that may not with the reason."""
        joinable: list[Case] = []
        skipped: list[Skipped] = []
        for case in dict.fromkeys(cases):
            other = self.topics.open_topic_of(case)
            if other is not None:
                why = "already" if topic and other.id == topic.id else "other"
                skipped.append(Skipped(case, why, other))
            elif case.status not in OPEN:
                skipped.append(Skipped(case, "state"))
            else:
                joinable.append(case)
        return joinable, skipped

    def leave_topic(self, actor: Actor, topic: Topic, case: Case, now: datetime) -> TopicOutcome:
        """Take a case out: the 专题's answers no longer reach it."""
        self._must_be_open(topic)
        if case.id not in self.topics.member_ids(topic.id):
            raise Refusal("topic_not_member", topic=topic, case=case)
        with transaction(self.db):
            self.db.execute(
                "update topic_cases set left_at = ? where topic_id = ? and case_id = ?",
                [to_db(now), topic.id, case.id],
            )
            data = {"topic_id": topic.id, "topic": topic.name}
            left = self.change(case, EventKind.TOPIC_LEFT, actor, now, topic.name, data)
            topic = self._follow_deadline(topic)
        return TopicOutcome(topic, [left])

    def answer_topic(self, actor: Actor, topic: Topic, text: str, now: datetime) -> TopicOutcome:
        """回复 to every linked case still in hand, each as its own 回复 <编号>."""
        self._must_be_open(topic)
        if not text.strip():
            raise Refusal("topic_need_text", topic=topic, action="回复")
        members = self.topic_cases(topic)
        todo = [c for c in members if c.status in _ANSWERABLE]
        if not todo:
            raise Refusal("topic_nothing_open", topic=topic)
        outcome = TopicOutcome(topic, skipped=_left_alone(members, todo))
        with transaction(self.db):
            for case in todo:
                done = self.answer(case, actor, text, now)
                outcome.cases.append(done.case)
                outcome.notices.extend(done.notices)
        return outcome

    def resolve_topic(
        self, actor: Actor, topic: Topic, summary: str, now: datetime
    ) -> TopicOutcome:
        """办结 every linked open case, each as its own 办结 <编号> (its enterprise is asked
        to rate it), and close the 专题."""
        self._must_be_open(topic)
        if not summary.strip():
            raise Refusal("topic_need_text", topic=topic, action="办结")
        members = self.topic_cases(topic)
        if not members:
            raise Refusal("topic_nothing_open", topic=topic)
        todo = [c for c in members if c.is_open]
        outcome = TopicOutcome(topic, skipped=_left_alone(members, todo))
        with transaction(self.db):
            for case in todo:
                done = self.resolve(case, actor, summary, now)
                outcome.cases.append(done.case)
                outcome.notices.extend(done.notices)
                self.db.execute(
                    "update topic_cases set resolved_at = ? where topic_id = ? and case_id = ?",
                    [done.case.resolved_at, topic.id, case.id],
                )
            self.db.execute(
                "update topics set closed_at = ?, outcome = ? where id = ?",
                [to_db(now), summary, topic.id],
            )
        return TopicOutcome(self.topic(topic.id), outcome.cases, outcome.skipped, outcome.notices)

    def set_topic_deadline(self, actor: Actor, topic: Topic, day: date, now: datetime) -> Topic:
        self._must_be_open(topic)
        if day < now.astimezone(self.config.tz).date():
            raise Refusal("topic_past_deadline", day=day)
        self.db.execute(
            "update topics set deadline = ?, deadline_set = 1 where id = ?",
            [day.isoformat(), topic.id],
        )
        return self._changed(actor, self.topic(topic.id), "deadline", now)

    def assign_topic(self, actor: Actor, topic: Topic, owner_id: str, now: datetime) -> Topic:
        """A new owner for the 专题 (their department with them); its cases keep theirs."""
        self._must_be_open(topic)
        member = self.people.staff.get(owner_id)
        if member is None:
            names = [m.name for m in self.people.staff.values()]
            raise Refusal("staff_unknown_staff", who=owner_id, names=names)
        department = member.department or topic.department
        self.db.execute(
            "update topics set owner_id = ?, owner_name = ?, department = ? where id = ?",
            [owner_id, member.name, department, topic.id],
        )
        return self._changed(actor, self.topic(topic.id), "owner", now)

    # -- helpers -------------------------------------------------------------------------

    def _changed(self, actor: Actor, topic: Topic, what: str, now: datetime) -> Topic:
        """Each open linked case's timeline says its 专题's deadline or owner changed."""
        text = self.notices.render("topic_changed_event", topic=topic, what=what)
        data = {"topic_id": topic.id, "what": what, "deadline": topic.deadline,
                "owner": topic.owner_name}  # fmt: skip
        for case in self.topic_cases(topic):
            if case.is_open:
                self.change(case, EventKind.TOPIC_CHANGED, actor, now, text, data)
        return topic

    def _must_be_open(self, topic: Topic) -> None:
        if not topic.is_open:
            raise Refusal("topic_closed", topic=topic)

    def _follow_deadline(self, topic: Topic) -> Topic:
        """Unless staff set it, the deadline is the latest due date of the linked cases."""
        if topic.deadline_set:
            return topic
        dues = [from_db(c.due_at) for c in self.topic_cases(topic)]
        day = max(dues).astimezone(self.config.tz).date().isoformat() if dues else None
        self.db.execute("update topics set deadline = ? where id = ?", [day, topic.id])
        return self.topic(topic.id)


def _left_alone(members: list[Case], todo: list[Case]) -> list[Skipped]:
    acted = {c.id for c in todo}
    return [Skipped(c, "state") for c in members if c.id not in acted]
