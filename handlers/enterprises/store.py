"""企业画像 as read from the database: the profile, its contacts, a filter over profiles.

A profile's contacts are the ones linked to it (enterprise_contacts), then the known
contacts that name the enterprise in a 诉求 (contacts.enterprise), staff excepted. Only the
contacts of the profiles asked for are read (an index each: enterprise_contacts by
enterprise, contacts by enterprise, m002).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.db import from_db
from handlers.enterprises.fields import PROFILE_FIELDS

__all__ = ["Profile", "ProfileContact", "ProfileFilter", "read_profiles"]

_FEW = 200  # profiles read with their keys in the query; more: the tables read whole

_COLUMNS = "id, name, credit_code, industry, size, region, qualifications, updated_at"


@dataclass(frozen=True)
class ProfileContact:
    """Who speaks for an enterprise; `contact_id` is None for one the bot cannot reach."""

    contact_id: str | None
    name: str
    phone: str | None = None


@dataclass(frozen=True)
class Profile:
    id: int
    name: str
    credit_code: str | None
    industry: str | None
    size: str | None
    region: str | None
    qualifications: tuple[str, ...]
    contacts: tuple[ProfileContact, ...]
    updated_at: datetime

    def value(self, field: str) -> Any:
        return getattr(self, field)

    @property
    def missing(self) -> list[str]:
        """The fields not filled yet (qualifications may rightly be none)."""
        return [f for f in PROFILE_FIELDS[:-1] if not getattr(self, f)]

    @property
    def reachable(self) -> list[str]:
        """The contact ids the bot can write to privately."""
        return [c.contact_id for c in self.contacts if c.contact_id]


@dataclass(frozen=True)
class ProfileFilter:
    """Which profiles: every non-empty dimension must match; for qualifications, any one."""

    industries: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    qualifications: tuple[str, ...] = ()

    def matches(self, profile: Profile) -> bool:
        return (
            (not self.industries or profile.industry in self.industries)
            and (not self.sizes or profile.size in self.sizes)
            and (not self.regions or profile.region in self.regions)
            and (
                not self.qualifications
                or any(q in profile.qualifications for q in self.qualifications)
            )
        )

    @property
    def empty(self) -> bool:
        return not (self.industries or self.sizes or self.regions or self.qualifications)


def read_profiles(
    db: Database, tail: str, params: Iterable[object], staff: frozenset[str]
) -> list[Profile]:
    """The profiles `select … from enterprises {tail}` finds, each with its contacts."""
    found = db.execute(f"select {_COLUMNS} from enterprises {tail}", list(params)).fetchall()
    contacts = _contacts(db, {int(r[0]): str(r[1]) for r in found}, staff)
    return [
        Profile(
            id=int(r[0]),
            name=str(r[1]),
            credit_code=r[2],
            industry=r[3],
            size=r[4],
            region=r[5],
            qualifications=tuple(json.loads(r[6] or "[]")),
            contacts=tuple(contacts.get(int(r[0]), ())),
            updated_at=from_db(str(r[7])),
        )
        for r in found
    ]


def _contacts(
    db: Database, names: dict[int, str], staff: frozenset[str]
) -> dict[int, list[ProfileContact]]:
    """Each enterprise's (id -> name) linked contacts, then the known contacts naming it."""
    out: dict[int, list[ProfileContact]] = {}
    if not names:
        return out
    # the few profiles of a page or a lookup by their keys; every profile by a full read
    few = len(names) <= _FEW
    marks = ", ".join("?" * len(names))
    for eid, cid, name, phone in db.execute(
        "select enterprise_id, contact_id, name, phone from enterprise_contacts"
        + (f" where enterprise_id in ({marks})" if few else "")
        + " order by id",
        list(names) if few else [],
    ).fetchall():
        if eid in names:
            out.setdefault(int(eid), []).append(ProfileContact(cid, name, phone))
    by_name = {n: i for i, n in names.items()}
    linked = {c.contact_id for cs in out.values() for c in cs if c.contact_id}
    for cid, name, phone, enterprise in db.execute(
        "select id, name, phone, enterprise from contacts"
        + (f" where enterprise in ({marks})" if few else " where enterprise is not null")
        + " order by id",
        list(by_name) if few else [],
    ).fetchall():
        eid = by_name.get(enterprise)
        if eid is not None and cid not in linked and cid not in staff:
            out.setdefault(eid, []).append(ProfileContact(cid, name or cid, phone))
    return out
