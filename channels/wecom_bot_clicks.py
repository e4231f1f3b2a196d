"""A click on a WeCom card, as the card shows it: the update on the click's req_id.

The click itself is a message for the core (wecom_bot_frames.callback, journalled by the
transport before this runs). Here the card changes for the one who clicked, within WeCom's
5 s (`aibot_respond_update_msg`): the line of the `card_pressed` template (who, when, which
button) under the card's title and one grey button (wecom_bot_cards). It is shown once per
person and card; it is not retried (after 5 s, or on another connection, the req_id is
dead) and not durable: what the click did is the command's reply, in the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bot.transport import Names
from channels.wecom_bot_cards import CardBook, card_update
from channels.wecom_bot_client import NoAnswer, NotSent, WecomClient
from channels.wecom_bot_frames import Callback

__all__ = ["Clicks"]

log = logging.getLogger(__name__)


class Clicks:
    def __init__(
        self,
        client: WecomClient,
        render: Callable[..., str] | None,
        people: Names,
        ack_timeout: float,
    ) -> None:
        self.client = client
        self.render = render  # None: cards are not updated
        self.people = people
        self.ack_timeout = ack_timeout
        self.book = CardBook()
        self._updates: set[asyncio.Task[None]] = set()

    def clicked(self, found: Callback) -> None:
        """A click just came off the connection (and is journalled): update its card."""
        update = asyncio.get_running_loop().create_task(
            self._update(found, self.client.generation)
        )
        self._updates.add(update)
        update.add_done_callback(self._updates.discard)

    async def _update(self, found: Callback, generation: int) -> None:
        msg, task_id = found.incoming, found.task_id
        if self.render is None or msg is None or task_id is None:
            return
        if generation != self.client.generation:
            return  # the click's req_id died with its connection
        if not self.book.first_press(task_id, found.user):
            return  # their card shows it already
        label = self.book.label(task_id, msg.text)
        line = self.render("card_pressed", who=self.people(found.user), at=msg.time, label=label)
        card = self.book.pressed(task_id, msg.text, line)
        frame = card_update(found.req_id, card, [found.user] if found.is_group else None)
        try:
            answer = await self.client.answered(frame, self.ack_timeout)
        except (NotSent, NoAnswer) as exc:
            log.warning("card %s not updated for %s's click: %s", task_id, found.user, exc)
            return
        if answer.get("errcode"):
            log.warning(
                "WeCom refused the update of card %s: errcode %s (%s)",
                task_id,
                answer.get("errcode"),
                answer.get("errmsg"),
            )

    async def stop(self) -> None:
        for update in list(self._updates):
            update.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await update
