"""The cases feature's own migrations (`Migrations("chamberbot.cases")`), run after the
core's, which created the `cases` table (bot/db.py m003). Each is plain SQL: a migration
never calls live code."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

__all__ = ["MIGRATIONS"]

MIGRATIONS = Migrations("chamberbot.cases")


@MIGRATIONS()
def m001_routes_and_proxies(db: Database) -> None:
    """Where a case came from (`route`, `collected_on`) and, for a case staff registered
    for an enterprise (代录), who registered it and the enterprise's contact. Cases from
    chat get their route from the conversation."""
    cases = db.table("cases")
    for column in (
        "route",
        "collected_on",
        "registered_by_id",
        "registered_by_name",
        "contact_name",
        "contact_phone",
    ):
        cases.add_column(column, str)
    db.execute(
        "update cases set route = case when conversation_is_group = 1 then '群聊' else '私聊' end"
    )
    db.execute("create index cases_route on cases (route)")


@MIGRATIONS()
def m002_follow_up(db: Database) -> None:
    """回访: when a closed or withdrawn case is followed up, when it was asked and until
    when an answer counts, its result (solved, unsolved, no_answer) and when."""
    cases = db.table("cases")
    for column in (
        "follow_up_due_at",
        "follow_up_asked_at",
        "follow_up_expires_at",
        "follow_up_result",
        "follow_up_at",
    ):
        cases.add_column(column, str)
    # the few cases awaiting a 回访 answer: the reporter's pending ones, staff's phone tasks
    db.execute(
        "create index cases_follow_up_pending on cases (reporter_id, id)"
        " where follow_up_asked_at is not null and follow_up_result is null"
    )


@MIGRATIONS()
def m003_topics(db: Database) -> None:
    """专题: cases that share a problem, handled as one — its owner, department and
    deadline (a local date), and the links of cases to it (a case leaves by `left_at`;
    `resolved_at` is when the 专题's 办结 resolved that case)."""
    db.execute(
        "create table topics (id integer primary key, name text not null,"
        " owner_id text not null, owner_name text not null, department text not null,"
        " deadline text, deadline_set integer not null default 0,"
        " created_by_id text not null, created_by_name text not null,"
        " created_at text not null, closed_at text, outcome text)"
    )
    db.execute("create index topics_created on topics (created_at)")
    db.execute(
        "create table topic_cases (topic_id integer not null references topics (id),"
        " case_id integer not null references cases (id), joined_at text not null,"
        " left_at text, resolved_at text, primary key (topic_id, case_id))"
    )
    db.execute("create index topic_cases_case on topic_cases (case_id)")


@MIGRATIONS()
def m004_pause(db: Database) -> None:
    """待补充: since when a case's deadline clock stands still (`paused_at`), when it
    restarts by itself at the latest (`pause_until`), and the working days it stood still
    in all (`paused_days`, the ledger's 暂停天数)."""
    cases = db.table("cases")
    cases.add_column("paused_at", str)
    cases.add_column("pause_until", str)
    cases.add_column("paused_days", int, not_null_default=0)
