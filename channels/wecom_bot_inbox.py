"""Inbound callbacks of the WeCom transport, through the journal (bot/journal.py).

A WeCom callback carries the whole message, so nothing is left to resolve: the frame reader
calls `arrived(msgid, incoming)` and the message joins a batch committed to the journal
`batch_seconds` later (or at once when `batch_rows` are waiting), ready to handle, before
anything is done with it. An id journalled before (WeCom delivered it again) is not
journalled again. Handling (`run`, in arrival order, marked in the handler's transaction)
and the summary are the shared inbox (channels/inbox.py).
"""

from __future__ import annotations

import logging

from bot.journal import Journal
from bot.messages import Incoming
from channels.inbox import Inbox

__all__ = ["WholeInbox"]

log = logging.getLogger(__name__)


async def _nothing_to_resolve(message_id: str) -> Incoming | None:
    return None  # every row is journalled ready: there is never a raw one


class WholeInbox(Inbox):
    def __init__(self, journal: Journal, *, batch_seconds: float = 0.002) -> None:
        super().__init__(journal, _nothing_to_resolve, batch_seconds=batch_seconds)
        self.can_resolve.set()

    def arrived(self, message_id: str, incoming: Incoming | None) -> None:
        """A callback came off the connection: journal it soon, in a batch (None: not a
        message for the bot, journalled only so that a second delivery is known)."""
        self._add(message_id, incoming)

    def _write(self, batch: list[tuple[str, float, float, Incoming | None]]) -> None:
        new = self.journal.append_resolved([(m, wall, msg) for m, wall, _, msg in batch])
        if len(new) < len(batch):
            log.info("%d callbacks delivered again, journalled once", len(batch) - len(new))
