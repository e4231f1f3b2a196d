"""Inbound callbacks of the WeCom transport, through the journal (bot/journal.py).

A WeCom callback carries the whole message, so nothing is left to resolve: the frame reader
calls `arrived(msgid, incoming)` and the message joins a batch committed to the journal
`batch_seconds` later (or at once when `batch_rows` are waiting), ready to handle, before
anything is done with it. An id journalled before (WeCom delivered it again) is not
journalled again. Handling (`run`, in arrival order, marked in the handler's transaction)
and the summary are the WeChat inbox's (channels/wechaty_inbox.py).
"""

from __future__ import annotations

import asyncio
import logging
import time

from bot.journal import Journal
from bot.messages import Incoming
from channels.wechaty_inbox import Inbox

__all__ = ["WholeInbox"]

log = logging.getLogger(__name__)


async def _nothing_to_resolve(message_id: str) -> Incoming | None:
    return None  # every row is journalled ready: there is never a raw one


class WholeInbox(Inbox):
    def __init__(self, journal: Journal, *, batch_seconds: float = 0.002) -> None:
        super().__init__(journal, _nothing_to_resolve, batch_seconds=batch_seconds)
        self.can_resolve.set()
        self._whole: list[tuple[str, float, float, Incoming | None]] = []

    def arrived(self, message_id: str, incoming: Incoming | None) -> None:
        """A callback came off the connection: journal it soon, in a batch (None: not a
        message for the bot, journalled only so that a second delivery is known)."""
        loop = asyncio.get_running_loop()
        self._whole.append((message_id, time.time(), loop.time(), incoming))
        if len(self._whole) >= self.batch_rows:
            self.flush()
        elif self._flush is None:
            self._flush = loop.call_later(self.batch_seconds, self.flush)

    def flush(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if not self._whole:
            return
        batch, self._whole = self._whole, []
        try:
            new = self.journal.append_resolved([(m, wall, msg) for m, wall, _, msg in batch])
        except Exception:  # keep them: the next arrival or the retry journals them
            log.exception("journalling %d callbacks failed; trying again", len(batch))
            self._whole = batch + self._whole
            self._flush = asyncio.get_running_loop().call_later(0.1, self.flush)
            return
        if len(new) < len(batch):
            log.info("%d callbacks delivered again, journalled once", len(batch) - len(new))
        now = asyncio.get_running_loop().time()
        self.windows.extend((now - arrived) * 1000 for _, _, arrived, _ in batch)
        self._more.set()
