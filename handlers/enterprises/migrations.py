"""The enterprises feature's tables (`Migrations("chamberbot.enterprises")`), plain SQL."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

__all__ = ["MIGRATIONS"]

MIGRATIONS = Migrations("chamberbot.enterprises")


@MIGRATIONS()
def m001_profiles(db: Database) -> None:
    """企业画像: one row an enterprise (qualifications a JSON list), the contacts who speak
    for it (a contact for one enterprise; a contact without chat has no contact_id), and
    every change of a field, by whom and from where (chat, console, import, page, survey)."""
    db.execute(
        """create table enterprises (
            id integer primary key,
            name text not null unique,
            credit_code text unique,
            industry text,
            size text,
            region text,
            qualifications text not null default '[]',
            created_at text not null,
            updated_at text not null
        )"""
    )
    db.execute(
        """create table enterprise_contacts (
            id integer primary key,
            enterprise_id integer not null references enterprises (id),
            contact_id text unique,
            name text not null default '',
            phone text
        )"""
    )
    db.execute(
        "create index enterprise_contacts_enterprise on enterprise_contacts (enterprise_id)"
    )
    db.execute(
        """create table enterprise_changes (
            id integer primary key,
            enterprise_id integer not null references enterprises (id),
            at text not null,
            by_id text not null,
            by_name text not null,
            source text not null,
            field text not null,
            old text,
            new text
        )"""
    )
    db.execute("create index enterprise_changes_enterprise on enterprise_changes (enterprise_id)")


@MIGRATIONS()
def m002_contacts_by_enterprise(db: Database) -> None:
    """A profile reads the contacts that name its enterprise by this index, not the whole
    contacts table."""
    db.execute("create index if not exists contacts_enterprise on contacts (enterprise)")
