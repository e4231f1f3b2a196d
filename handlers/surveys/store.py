"""The surveys feature's rows: surveys, where each was sent, and the responses (started,
remembering their place, then submitted — one per contact per survey). The tables are
handlers/surveys/migrations.py's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlite_utils import Database

from bot.db import from_db, to_db, to_json
from handlers.surveys.model import SurveyDefinition, read_definition

__all__ = [
    "DRAFT",
    "SENT",
    "SUBMITTED",
    "Response",
    "Survey",
    "SurveyStore",
]

DRAFT, SENT, CLOSED = "draft", "sent", "closed"  # a survey
STARTED, SUBMITTED = "started", "submitted"  # a response


@dataclass(frozen=True)
class Survey:
    id: int
    key: str | None
    definition: SurveyDefinition
    deadline_at: str | None
    remind_at: str | None
    reminded_at: str | None
    status: str
    created_at: str
    sent_at: str | None

    @property
    def title(self) -> str:
        return self.definition.title

    @property
    def deadline(self) -> datetime | None:
        return from_db(self.deadline_at) if self.deadline_at else None

    def state_at(self, now: datetime) -> str:
        """The status as people read it: `expired` for a sent survey past its deadline."""
        return "expired" if self.status == SENT and not self.open_at(now) else self.status

    def open_at(self, now: datetime) -> bool:
        """Sent and before its deadline: it takes answers."""
        return self.status == SENT and (not self.deadline_at or to_db(now) < self.deadline_at)


@dataclass(frozen=True)
class Response:
    id: int
    survey_id: int
    contact_id: str
    contact_name: str | None
    enterprise: str | None
    status: str
    position: int  # the index of the question asked next; len(questions): the review
    back_to: int | None  # answering one again (修改): the position to go back to after it
    answers: dict[str, Any]
    started_at: str
    updated_at: str
    submitted_at: str | None
    source: str | None

    @property
    def submitted(self) -> bool:
        return self.status == SUBMITTED

    @property
    def editing(self) -> bool:
        return self.back_to is not None


_SURVEY_COLUMNS = (
    "id, key, definition, deadline_at, remind_at, reminded_at, status, created_at, sent_at"
)
_RESPONSE_COLUMNS = (
    "id, survey_id, contact_id, contact_name, enterprise, status, position, back_to, answers,"
    " started_at, updated_at, submitted_at, source"
)


class SurveyStore:
    """Rows in, dataclasses out; every write of the feature's tables goes through here."""

    def __init__(self, db: Database, tz: tzinfo) -> None:
        self.db, self.tz = db, tz

    # -- surveys --------------------------------------------------------------------------

    def _survey(self, row: tuple[Any, ...]) -> Survey:
        definition = read_definition(json.loads(row[2]), self.tz)
        deadline = from_db(row[3]) if row[3] else None
        definition = SurveyDefinition(
            definition.title, definition.intro, deadline, definition.sections, definition.key
        )
        return Survey(row[0], row[1], definition, *row[3:])

    def find(self, survey_id: int) -> Survey | None:
        row = self.db.execute(
            f"select {_SURVEY_COLUMNS} from surveys where id = ?", [survey_id]
        ).fetchone()
        return self._survey(row) if row else None

    def by_key(self, key: str) -> Survey | None:
        row = self.db.execute(f"select {_SURVEY_COLUMNS} from surveys where key = ?", [key])
        found = row.fetchone()
        return self._survey(found) if found else None

    def where(self, condition: str = "1", params: list[Any] | None = None) -> list[Survey]:
        rows = self.db.execute(
            f"select {_SURVEY_COLUMNS} from surveys where {condition} order by id desc",
            params or [],
        ).fetchall()
        return [self._survey(r) for r in rows]

    def insert(
        self, definition: SurveyDefinition, remind_at: datetime | None, by: str, now: datetime
    ) -> int:
        stamp = to_db(now)
        cursor = self.db.execute(
            "insert into surveys (key, title, definition, deadline_at, remind_at, created_by,"
            " created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                definition.key,
                definition.title,
                to_json(definition.as_dict()),
                to_db(definition.deadline) if definition.deadline else None,
                to_db(remind_at) if remind_at else None,
                by,
                stamp,
                stamp,
            ],
        )
        return int(cursor.lastrowid or 0)

    def replace(
        self,
        survey_id: int,
        definition: SurveyDefinition,
        remind_at: datetime | None,
        now: datetime,
    ) -> None:
        self.db.execute(
            "update surveys set key = ?, title = ?, definition = ?, deadline_at = ?,"
            " remind_at = ?, updated_at = ? where id = ?",
            [
                definition.key,
                definition.title,
                to_json(definition.as_dict()),
                to_db(definition.deadline) if definition.deadline else None,
                to_db(remind_at) if remind_at else None,
                to_db(now),
                survey_id,
            ],
        )

    def set(self, survey_id: int, now: datetime, **values: Any) -> None:
        columns = ", ".join(f"{c} = ?" for c in values)
        self.db.execute(
            f"update surveys set {columns}, updated_at = ? where id = ?",
            [*values.values(), to_db(now), survey_id],
        )

    # -- where it went --------------------------------------------------------------------

    def add_send(
        self, survey_id: int, kind: str, conversation_id: str, channel: str, target: str,
        by: str, now: datetime,
    ) -> bool:  # fmt: skip
        """Record a send; False if the survey already went to that conversation."""
        return bool(
            self.db.execute(
                "insert or ignore into survey_sends (survey_id, kind, conversation_id, channel,"
                " target, sent_by, sent_at) values (?, ?, ?, ?, ?, ?, ?)",
                [survey_id, kind, conversation_id, channel, target, by, to_db(now)],
            ).rowcount
        )

    def sends(self, survey_id: int, kind: str | None = None) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "select kind, conversation_id, channel, target, sent_by, sent_at from survey_sends"
            " where survey_id = ? and (? is null or kind = ?) order by id",
            [survey_id, kind, kind],
        ).fetchall()
        keys = ("kind", "conversation_id", "channel", "target", "sent_by", "sent_at")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def was_sent_to(self, survey_id: int, conversation_id: str) -> bool:
        row = self.db.execute(
            "select 1 from survey_sends where survey_id = ? and conversation_id = ?",
            [survey_id, conversation_id],
        ).fetchone()
        return row is not None

    # -- responses ------------------------------------------------------------------------

    @staticmethod
    def _response(row: tuple[Any, ...]) -> Response:
        values = list(row)
        values[8] = json.loads(values[8] or "{}")
        return Response(*values)

    def response(self, survey_id: int, contact_id: str) -> Response | None:
        row = self.db.execute(
            f"select {_RESPONSE_COLUMNS} from survey_responses"
            " where survey_id = ? and contact_id = ?",
            [survey_id, contact_id],
        ).fetchone()
        return self._response(row) if row else None

    def responses(self, survey_id: int, status: str | None = None) -> list[Response]:
        rows = self.db.execute(
            f"select {_RESPONSE_COLUMNS} from survey_responses"
            " where survey_id = ? and (? is null or status = ?) order by id",
            [survey_id, status, status],
        ).fetchall()
        return [self._response(r) for r in rows]

    def of_contact(self, contact_id: str) -> list[Response]:
        rows = self.db.execute(
            f"select {_RESPONSE_COLUMNS} from survey_responses where contact_id = ?",
            [contact_id],
        ).fetchall()
        return [self._response(r) for r in rows]

    def start(
        self, survey_id: int, contact_id: str, name: str | None, enterprise: str | None,
        channel: str | None, now: datetime,
    ) -> Response:  # fmt: skip
        stamp = to_db(now)
        self.db.execute(
            "insert or ignore into survey_responses (survey_id, contact_id, contact_name,"
            " enterprise, channel, started_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)",
            [survey_id, contact_id, name, enterprise, channel, stamp, stamp],
        )
        found = self.response(survey_id, contact_id)
        assert found is not None
        return found

    def save(self, response: Response, now: datetime, **values: Any) -> Response:
        if "answers" in values:
            values["answers"] = to_json(values["answers"])
        columns = ", ".join(f"{c} = ?" for c in values)
        self.db.execute(
            f"update survey_responses set {columns}, updated_at = ? where id = ?",
            [*values.values(), to_db(now), response.id],
        )
        found = self.response(response.survey_id, response.contact_id)
        assert found is not None
        return found
