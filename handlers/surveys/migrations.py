"""The surveys feature's tables. A migration that shipped is frozen: it carries its own SQL
and calls no live code."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

__all__ = ["MIGRATIONS"]

MIGRATIONS = Migrations("surveys")


@MIGRATIONS()
def m001_surveys(db: Database) -> None:
    db.executescript(
        """
        create table surveys (
            id integer primary key,
            key text unique,
            title text not null,
            definition text not null,
            deadline_at text,
            remind_at text,
            reminded_at text,
            status text not null default 'draft',
            created_by text,
            created_at text not null,
            updated_at text not null,
            sent_at text
        );
        create index surveys_remind on surveys (status, reminded_at, remind_at);
        create table survey_sends (
            id integer primary key,
            survey_id integer not null references surveys (id),
            kind text not null,
            conversation_id text not null,
            channel text not null,
            target text not null,
            sent_by text,
            sent_at text not null,
            unique (survey_id, conversation_id)
        );
        create table survey_responses (
            id integer primary key,
            survey_id integer not null references surveys (id),
            contact_id text not null,
            contact_name text,
            enterprise text,
            channel text,
            status text not null default 'started',
            position integer not null default 0,
            back_to integer,
            answers text not null default '{}',
            started_at text not null,
            updated_at text not null,
            submitted_at text,
            source text,
            unique (survey_id, contact_id)
        );
        create index survey_responses_contact on survey_responses (contact_id, status);
        """
    )
