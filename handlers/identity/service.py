"""The identity feature's one service: persons, their linked contacts, the one-time codes.

A member links two channels with a code: `绑定` in one private chat issues a 6-digit code
(`issue`), `绑定 <code>` in another redeems it (`redeem`). A code lives 10 minutes, is used
once, and dies after 5 wrong codes typed while it was live (`tries`); a contact that typed
5 wrong codes within 10 minutes is refused until they age out. A failure never tells
whose a code was, so nothing of one person reaches another through a wrong code.

Built once by the services, it installs `same_person` into `People` (bot/people.py), the
lookup every feature uses for "this contact's things"; the core knows no table of it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.db import to_db
from bot.services import Services

__all__ = ["CODE_TTL", "DIGITS", "MAX_TRIES", "IdentityService", "Link", "Redeemed"]

CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5
DIGITS = 6


@dataclass(frozen=True)
class Link:
    """A contact of a person and where it is reached: its channel and private chat."""

    contact_id: str
    channel: str
    conversation_id: str


@dataclass(frozen=True)
class Redeemed:
    """What typing a code did: `linked`, `already` (one person before), `own` (the code
    this contact asked for), `stale` (expired, used, or tried too often), `wrong`,
    `locked` (too many wrong codes); `owner`: the code's contact once linked."""

    result: str
    owner: Link | None = None
    tries_left: int = 0


class IdentityService:
    def __init__(self, services: Services) -> None:
        self.db, self.people = services.db, services.people
        services.people.persons = self.same_person

    # -- who is who ----------------------------------------------------------------------

    def same_person(self, contact_id: str) -> list[str]:
        """Every contact id of the person `contact_id` is, itself first; unlinked: itself."""
        rows = self.db.execute(
            "select contact_id from person_contacts where person_id = (select person_id"
            " from person_contacts where contact_id = ?) and contact_id != ? order by contact_id",
            [contact_id, contact_id],
        ).fetchall()
        return [contact_id, *(str(r[0]) for r in rows)]

    def links(self, contact_id: str) -> list[Link]:
        """The person's linked contacts, the most recently active first (its last message
        to the bot, or the link itself); empty when the contact is linked to no one. It
        reads `inbound` by sender, which has no index for it (~50 ms a contact at 500,000
        messages): the reroute job, 解绑 and the console call it, not every message."""
        rows = self.db.execute(
            "select contact_id, channel, conversation_id, max(linked_at, ifnull((select"
            " max(received_at) from inbound where sender_id = contact_id), '')) as seen"
            " from person_contacts where person_id = (select person_id from person_contacts"
            " where contact_id = ?) order by seen desc, contact_id",
            [contact_id],
        ).fetchall()
        return [Link(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    def channels(self, contact_id: str) -> list[str]:
        """The channels of the person's contacts (no activity order: cheap, for replies)."""
        rows = self.db.execute(
            "select channel from person_contacts where person_id = (select person_id"
            " from person_contacts where contact_id = ?) order by linked_at, contact_id",
            [contact_id],
        ).fetchall()
        return [str(r[0]) for r in rows]

    def contact_link(self, contact_id: str) -> Link:
        """A contact reached in its private chat on the channel it was last seen on."""
        row = self.db.execute("select channel from contacts where id = ?", [contact_id])
        found = row.fetchone()
        return Link(contact_id, str(found[0]) if found and found[0] else "wechat", contact_id)

    def link(self, a: Link, b: Link, now: datetime, by: str) -> bool:
        """Make `a` and `b` one person (merging the persons they belong to); False if
        they were one already."""
        if b.contact_id in self.same_person(a.contact_id):
            return False
        sql = "select person_id from person_contacts where contact_id = ?"
        ids = [int(r[0]) for c in (a, b) for r in self.db.execute(sql, [c.contact_id])]
        if ids:
            person = ids[0]
        else:
            cursor = self.db.execute("insert into persons (created_at) values (?)", [to_db(now)])
            person = int(cursor.lastrowid or 0)
        for other in ids[1:]:
            self.db.execute(
                "update person_contacts set person_id = ? where person_id = ?", [person, other]
            )
        for c in (a, b):
            self.db.execute(
                "insert or ignore into person_contacts (contact_id, person_id, channel,"
                " conversation_id, linked_at, linked_by) values (?, ?, ?, ?, ?, ?)",
                [c.contact_id, person, c.channel, c.conversation_id, to_db(now), by],
            )
        return True

    def unlink(self, contact_id: str) -> list[Link]:
        """Take a contact out of its person; returns the contacts it was linked with. A
        person left with one contact is no link: that row goes too."""
        others = [x for x in self.links(contact_id) if x.contact_id != contact_id]
        gone = [contact_id, others[0].contact_id] if len(others) == 1 else [contact_id]
        for c in gone:
            self.db.execute("delete from person_contacts where contact_id = ?", [c])
        return others

    # -- the one-time codes --------------------------------------------------------------

    def issue(self, who: Link, now: datetime) -> tuple[str, datetime]:
        """A fresh code for `who` (its earlier unused codes die), and when it expires."""
        stamp = to_db(now)
        self.db.execute(
            "update link_codes set expires_at = ? where contact_id = ? and used_at is null"
            " and expires_at > ?",
            [stamp, who.contact_id, stamp],
        )
        while True:  # a code is unique among the live ones
            code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
            if self._live(code, now) is None:
                break
        expires = now + CODE_TTL
        self.db.execute(
            "insert into link_codes (code, contact_id, channel, conversation_id, created_at,"
            " expires_at, tries) values (?, ?, ?, ?, ?, ?, 0)",
            [code, who.contact_id, who.channel, who.conversation_id, stamp, to_db(expires)],
        )
        return code, expires

    def _live(self, code: str, now: datetime) -> tuple[int, Link, int] | None:
        row = self.db.execute(
            "select id, contact_id, channel, conversation_id, tries from link_codes"
            " where code = ? and used_at is null and expires_at > ? order by id desc limit 1",
            [code, to_db(now)],
        ).fetchone()
        return None if row is None else (int(row[0]), Link(*map(str, row[1:4])), int(row[4]))

    def failures(self, contact_id: str, now: datetime) -> int:
        """Wrong codes this contact typed within the last CODE_TTL."""
        row = self.db.execute(
            "select count(*) from link_failures where contact_id = ? and at > ?",
            [contact_id, to_db(now - CODE_TTL)],
        ).fetchone()
        return int(row[0])

    def redeem(self, who: Link, code: str, now: datetime) -> Redeemed:
        """`who` typed `code` (6 digits): link them with the code's contact, or say why not.
        Every failure counts against `who` and against every live code."""
        failed = self.failures(who.contact_id, now)
        if failed >= MAX_TRIES:
            return Redeemed("locked")
        live = self._live(code, now)
        if live is not None and live[2] < MAX_TRIES:
            row_id, owner, _ = live
            if owner.contact_id == who.contact_id:
                return Redeemed("own")
            self.db.execute("update link_codes set used_at = ? where id = ?", [to_db(now), row_id])
            linked = self.link(owner, who, now, by="code")
            return Redeemed("linked" if linked else "already", owner)
        stamp = to_db(now)
        self.db.execute(
            "insert into link_failures (contact_id, at) values (?, ?)", [who.contact_id, stamp]
        )
        self.db.execute(
            "update link_codes set tries = tries + 1 where used_at is null and expires_at > ?",
            [stamp],
        )
        known = self.db.execute("select 1 from link_codes where code = ?", [code]).fetchone()
        left = MAX_TRIES - failed - 1
        return Redeemed("stale" if known else "wrong", tries_left=left)
