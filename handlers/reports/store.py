"""The reports feature's own tables, changed only through its migrations."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

__all__ = ["MIGRATIONS"]

MIGRATIONS = Migrations("chamberbot.reports")


@MIGRATIONS()
def m001_report_months(db: Database) -> None:
    # One row per month whose summary went to the staff rooms: the exactly-once guard.
    db.table("report_months").create({"month": str, "queued_at": str, "messages": int}, pk="month")
    # The report reads cases by period and events per case and kind.
    db.table("cases").create_index(["created_at"], if_not_exists=True)
    db.table("cases").create_index(["due_at"], if_not_exists=True)
    db.table("case_events").create_index(["case_id", "kind", "at"], if_not_exists=True)
