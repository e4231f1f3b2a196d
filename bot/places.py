"""Where the bot talks: groups and private chats, the `conversations` table's one writer.

A group is a member group unless it is a configured staff room (`staff_rooms`, or a
channel's `staff_groups`). Member groups carry tags (industry, region, size) that
broadcasts and events target. Every conversation belongs to one channel: what the bot says
there goes out on it (`channel_of`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from bot.clock import Clock
from bot.config import Config
from bot.db import to_db, to_json
from bot.messages import DEFAULT_CHANNEL, Incoming
from bot.normalize import normalize

__all__ = ["Conversation", "Group", "Places", "conversation_name"]

log = logging.getLogger(__name__)


def conversation_name(conversation_id: str, topic: str | None, contact: str | None = None) -> str:
    """What a conversation is called, the one rule: a group's topic; a private chat's
    contact's name; else its id."""
    return topic or contact or conversation_id


@dataclass(frozen=True)
class Group:
    id: str
    topic: str | None
    tags: tuple[str, ...]
    channel: str = DEFAULT_CHANNEL

    @property
    def name(self) -> str:
        return conversation_name(self.id, self.topic)


@dataclass(frozen=True)
class Conversation:
    """A stored conversation, as `chamberbot channels` lists it."""

    channel: str
    id: str
    is_group: bool
    topic: str | None
    kind: str  # "staff" or "member" (a private chat: "member")


def _group(row: Sequence[object]) -> Group:
    """A group from (id, topic, tags, channel)."""
    tags = json.loads(str(row[2] or "[]"))
    topic = str(row[1]) if row[1] else None
    return Group(str(row[0]), topic, tuple(normalize(t) for t in tags), str(row[3]))


class Places:
    def __init__(self, db: Database, config: Config, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._staff_rooms = frozenset(config.staff_groups())
        self._configured = config.channel_groups()  # groups a channel's settings name
        self._known: dict[str, str | None] = {}  # stored conversations and their topics
        self._channels: dict[str, str] = {}  # stored conversations and their channels

    def forget(self) -> None:
        """Drop the memo of stored conversations: after a rollback it may not be true."""
        self._known.clear()
        self._channels.clear()

    def seed_configured(self) -> None:
        """Store the groups a channel's settings name (WeCom cannot list its groups, and a
        digest must reach a member group before anyone has written there), each with
        the kind the settings give it."""
        if not self._configured:
            return
        now = to_db(self.clock.now())
        with self.db.atomic():
            for group, (channel, kind) in self._configured.items():
                self.db.execute(
                    "insert into conversations (id, channel, is_group, kind, tags, first_seen,"
                    " updated_at) values (?, ?, 1, ?, '[]', ?, ?) on conflict(id) do update"
                    " set kind = excluded.kind, channel = excluded.channel",
                    [group, channel, kind, now, now],
                )

    def channel_of(self, conversation_id: str) -> str:
        """The channel a conversation belongs to: where it was seen, else the channel whose
        settings name the group, else the one its contact (a private chat) was last seen
        on, else the default (WeChat)."""
        found = self._channels.get(conversation_id)
        if found:
            return found
        row = self.db.execute(
            "select (select channel from conversations where id = ?),"
            " (select channel from contacts where id = ?)",
            [conversation_id, conversation_id],
        ).fetchone()
        configured = self._configured.get(conversation_id)
        if row[0]:
            self._channels[conversation_id] = str(row[0])
            return str(row[0])
        return configured[0] if configured else str(row[1] or DEFAULT_CHANNEL)

    def remember(self, msg: Incoming) -> None:
        """The conversation of a message: stored once, its topic kept current."""
        if self._store(msg.channel, msg.conversation_id, msg.is_group, msg.room_topic):
            where = f"group {msg.room_topic or ''}" if msg.is_group else "private chat"
            log.info(
                "first message from a new %s: conversation %s, sender %s (%s)",
                where,
                msg.conversation_id,
                msg.sender_id,
                msg.sender_name,
            )

    def remember_room(self, room_id: str, topic: str, channel: str = DEFAULT_CHANNEL) -> None:
        """A group seen through a room event (joined, renamed) rather than a message."""
        self._store(channel, room_id, True, topic)

    def _store(
        self, channel: str, conversation_id: str, is_group: bool, topic: str | None
    ) -> bool:
        """Store or update the row (once per process, unless the topic changes); True if
        the conversation is new."""
        if conversation_id in self._known and (not topic or self._known[conversation_id] == topic):
            return False
        now = to_db(self.clock.now())
        row = self.db.execute(
            "select topic from conversations where id = ?", [conversation_id]
        ).fetchone()
        if row is None:
            kind = "staff" if conversation_id in self._staff_rooms else "member"
            self.db.execute(
                "insert into conversations (id, channel, is_group, topic, kind, tags,"
                " first_seen, updated_at) values (?, ?, ?, ?, ?, '[]', ?, ?)",
                [conversation_id, channel, int(is_group), topic, kind, now, now],
            )
        elif topic and topic != row[0]:
            self.db.execute(
                "update conversations set topic = ?, updated_at = ? where id = ?",
                [topic, now, conversation_id],
            )
        self._known[conversation_id] = topic or (row[0] if row else None)
        return row is None

    def conversations(self, channel: str | None = None) -> list[Conversation]:
        """Every stored conversation (of one channel), by channel, groups first, by name."""
        rows = self.db.execute(
            "select channel, id, is_group, topic, kind from conversations"
            " where ? is null or channel = ?"
            " order by channel, is_group desc, coalesce(topic, id), id",
            [channel, channel],
        ).fetchall()
        return [Conversation(str(r[0]), str(r[1]), bool(r[2]), r[3], str(r[4])) for r in rows]

    def name(self, conversation_id: str) -> str:
        """The conversation's name (`conversation_name`): a private chat's id is its
        contact's."""
        row = self.db.execute(
            "select (select topic from conversations where id = ?),"
            " (select name from contacts where id = ?)",
            [conversation_id, conversation_id],
        ).fetchone()
        return conversation_name(conversation_id, row[0], row[1])

    def topic(self, conversation_id: str) -> str | None:
        row = self.db.execute(
            "select topic from conversations where id = ?", [conversation_id]
        ).fetchone()
        return str(row[0]) if row and row[0] else None

    # -- member groups and their tags ----------------------------------------------------

    def member_groups(self) -> list[Group]:
        """Every member group (not staff rooms, not private chats), by name."""
        rows = self.db.execute(
            "select id, topic, tags, channel from conversations"
            " where is_group = 1 and kind = 'member'"
            " order by coalesce(topic, id), id"
        ).fetchall()
        return [_group(r) for r in rows]

    def find_group(self, name: str) -> Group | None:
        """A member group by its id or its name (normalised; a unique prefix will do)."""
        key = normalize(name)
        groups = self.member_groups()
        for group in groups:
            if group.id == name or normalize(group.name) == key:
                return group
        starts = [g for g in groups if normalize(g.name).startswith(key)]
        return starts[0] if len(starts) == 1 else None

    def tags(self, conversation_id: str) -> list[str]:
        row = self.db.execute(
            "select tags from conversations where id = ?", [conversation_id]
        ).fetchone()
        return [str(t) for t in json.loads(row[0] or "[]")] if row else []

    def set_tags(self, group_id: str, tags: Sequence[str]) -> None:
        with self.db.atomic():
            self.db.execute(
                "update conversations set tags = ?, updated_at = ? where id = ?",
                [to_json(list(tags)), to_db(self.clock.now()), group_id],
            )
