"""The policy store's tables: the sources (`feeds`), the `policies`, and the group digests'
runs and deliveries (`broadcasts`, `broadcast_runs`, `deliveries`, `policy_sent`).

They were the core's migrations m004–m006 and keep their set name ("chamberbot") and their
names, so a database that applied them there does not apply them again; a new database
applies them after the core's set (nothing of the core's refers to them). Plain schema: a
migration never calls live code.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

__all__ = ["STORE"]

STORE = Migrations("chamberbot")


@STORE()
def m004_policies(db: Database) -> None:
    db.table("feeds").create(
        {
            "id": str,
            "kind": str,  # rss | json | folder
            "url": str,
            "etag": str,
            "last_modified": str,
            "status": str,  # active | disabled
            "last_checked_at": str,
            "last_error": str,
        },
        pk="id",
        defaults={"status": "active"},
    )
    db.table("policies").create(
        {
            "id": int,
            "source": str,
            "entry_id": str,
            "url": str,
            "canonical_url": str,
            "title": str,
            "norm_title": str,
            "issuer": str,
            "published_at": str,
            "summary": str,
            "tags": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"title", "norm_title", "source", "created_at"},
        defaults={"tags": "[]"},
    )
    db.table("policies").create_index(["canonical_url"])
    db.table("policies").create_index(["source", "entry_id"])
    db.table("policies").create_index(["norm_title"])
    db.table("policies").create_index(["published_at"])


@STORE()
def m005_broadcasts(db: Database) -> None:
    db.table("broadcasts").create(
        {
            "id": str,
            "cron": str,
            "target": str,  # "all" or a tag expression
            "template": str,
            "max_items": int,
            "enabled": int,
            "origin": str,  # config | cli
            "created_at": str,
        },
        pk="id",
        defaults={"enabled": 1},
    )
    db.table("broadcast_runs").create(
        {
            "id": int,
            "broadcast_id": str,
            "scheduled_for": str,
            "started_at": str,
            "finished_at": str,
        },
        pk="id",
    )
    db.table("broadcast_runs").create_index(["broadcast_id", "scheduled_for"], unique=True)
    db.table("deliveries").create(
        {
            "run_id": int,
            "conversation_id": str,
            "policy_ids": str,
            "messages": int,
            "created_at": str,
        },
        pk=("run_id", "conversation_id"),
    )
    db.table("policy_sent").create(
        {"conversation_id": str, "policy_id": int, "run_id": int, "sent_at": str},
        pk=("conversation_id", "policy_id"),
    )


@STORE()
def m006_policy_search(db: Database) -> None:
    # search_text: normalised title|summary|issuer|tags, so 政策 <关键词> matches however it
    # was typed; config_url: the feed URL as configured, to tell a 301 (url changes,
    # config_url does not) from an admin editing the config (both reset, feed re-enabled).
    db.table("policies").add_column("search_text", str)
    db.table("feeds").add_column("config_url", str)
