"""Running the bot: one transport, the dispatcher, the outbox sender and the scheduler.

`Runtime` also answers the WeChat gateway's room and friendship events (it implements
`bot.transports.wechaty_events.GatewayEvents`): new members get a welcome, groups the bot
joins are registered, topic changes are recorded, room invitations are accepted only from
admins, and friend requests are accepted with a greeting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Mapping, Sequence

from bot.app import App
from bot.config import Config, ConfigError
from bot.db import to_db
from bot.dispatcher import Dispatcher
from bot.messages import Incoming, Outgoing
from bot.outbox import Sender
from bot.scheduler import build_scheduler, set_running_app
from bot.transports.base import Transport
from bot.transports.wechaty_events import Contact, parse_endpoint

__all__ = ["ENV_ENDPOINT", "ENV_TOKEN", "Runtime", "serve_until_signalled", "wechat_settings"]

log = logging.getLogger(__name__)

ENV_ENDPOINT = "WECHATY_PUPPET_SERVICE_ENDPOINT"
ENV_TOKEN = "WECHATY_PUPPET_SERVICE_TOKEN"
MAX_WELCOME_MENTIONS = 20


class Runtime:
    def __init__(self, app: App, transport: Transport) -> None:
        self.app = app
        self.transport = transport
        self.dispatcher = Dispatcher(app)
        self.sender = Sender(app.outbox, transport, app.config.pacing, self._delivery_failed)

    async def on_message(self, msg: Incoming) -> None:
        if not self._known(msg.conversation_id):
            where = f"group {msg.room_topic or ''}" if msg.is_group else "private chat"
            log.info(
                "first message from a new %s: conversation %s, sender %s (%s)",
                where,
                msg.conversation_id,
                msg.sender_id,
                msg.sender_name,
            )
        self.dispatcher.handle(msg)

    def _delivery_failed(self, out: Outgoing, reason: str) -> None:
        if out.conversation_id in self.app.config.staff_rooms:
            return  # do not report a failed report into the room that cannot receive it
        with self.app.db.atomic():
            self.app.outbox.enqueue(
                self.app.to_staff(
                    "delivery_failed",
                    conversation=self.app.conversation_name(out.conversation_id),
                    text=out.text[:60],
                    reason=reason,
                )
            )

    async def serve(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; the outbox keeps whatever was not delivered."""
        set_running_app(self.app)
        scheduler = build_scheduler(self.app)
        scheduler.start()
        sender = asyncio.create_task(self.sender.run())
        try:
            await self.transport.start(self.on_message)
            await stop.wait()
        finally:
            # The transport first: it lets a send in flight finish and releases a held one
            # as a temporary failure, so no row is left claimed mid-send.
            await self.transport.stop()
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            scheduler.shutdown(wait=False)
            set_running_app(None)

    # -- gateway events (GatewayEvents) --------------------------------------------------------

    def _known(self, conversation_id: str) -> bool:
        return bool(self.app.db.table("conversations").count_where("id = ?", [conversation_id]))

    def _remember_room(self, room_id: str, topic: str) -> None:
        """The conversations row of a group, as the dispatcher writes it for a message."""
        now = to_db(self.app.clock.now())
        table = self.app.db.table("conversations")
        if self._known(room_id):
            if topic:
                table.update(room_id, {"topic": topic, "updated_at": now})
            return
        kind = "staff" if room_id in self.app.config.staff_rooms else "member"
        table.insert(
            {
                "id": room_id,
                "is_group": 1,
                "topic": topic,
                "kind": kind,
                "tags": "[]",
                "first_seen": now,
                "updated_at": now,
            }
        )

    def bot_joined_room(self, room_id: str, topic: str, inviter_id: str) -> None:
        with self.app.db.atomic():
            self._remember_room(room_id, topic)
        log.info("joined group %s 「%s」 (invited by %s)", room_id, topic, inviter_id or "?")

    def members_joined(
        self, room_id: str, topic: str, members: Sequence[Contact], inviter_id: str, key: str
    ) -> None:
        app = self.app
        log.info(
            "group %s 「%s」: %s joined",
            room_id,
            topic,
            ", ".join(f"{m.name} ({m.id})" for m in members),
        )
        with app.db.atomic():
            self._remember_room(room_id, topic)
            for member in members:
                app.remember_contact(member.id, name=member.name)
            if room_id in app.config.staff_rooms:
                return
            greeted = members[:MAX_WELCOME_MENTIONS]
            welcome = app.compose(
                room_id,
                "wechat_welcome",
                [m.id for m in greeted],
                topic=topic,
                count=len(members),
                menu=app.router.keyword("menu"),
                report=app.router.keyword("report"),
            )
            app.outbox.enqueue([welcome], dedupe_key=f"welcome:{key}")

    def room_topic_changed(self, room_id: str, topic: str) -> None:
        with self.app.db.atomic():
            self._remember_room(room_id, topic)
        log.info("group %s is now called 「%s」", room_id, topic)

    def accept_room_invitation(self, inviter_id: str, topic: str) -> bool:
        accept = inviter_id in self.app.config.admins
        log.info(
            "invitation to group 「%s」 from %s: %s",
            topic,
            inviter_id,
            "accepted" if accept else "declined (only admins may add the bot to a group)",
        )
        return accept

    def accept_friend_request(self, contact_id: str, hello: str) -> bool:
        log.info("friend request from %s (%s): accepted", contact_id, hello)
        return True

    def friend_added(self, contact: Contact, key: str) -> None:
        app = self.app
        with app.db.atomic():
            app.remember_contact(contact.id, name=contact.name)
            greeting = app.compose(
                contact.id,
                "wechat_greeting",
                friend=contact.name,
                menu=app.router.keyword("menu"),
                report=app.router.keyword("report"),
            )
            app.outbox.enqueue([greeting], dedupe_key=f"greeting:{key}")


def wechat_settings(config: Config, file: str, environ: Mapping[str, str]) -> tuple[str, str]:
    """The gateway's endpoint and token.

    WECHATY_PUPPET_SERVICE_ENDPOINT / WECHATY_PUPPET_SERVICE_TOKEN, when set, win over
    `wechat.endpoint` / `wechat.token`: the Wechaty convention, so that a deployment can
    keep the token out of the config file and override it without editing the file.
    """
    endpoint = environ.get(ENV_ENDPOINT) or config.wechat.endpoint
    token = environ.get(ENV_TOKEN) or config.wechat.token
    if not endpoint:
        raise ConfigError(file, "wechat.endpoint", f"required (or set {ENV_ENDPOINT})")
    try:
        parse_endpoint(endpoint)
    except ValueError as exc:
        source = f" (from {ENV_ENDPOINT})" if environ.get(ENV_ENDPOINT) else ""
        raise ConfigError(file, "wechat.endpoint", f"{exc}{source}") from None
    if not token:
        raise ConfigError(file, "wechat.token", f"required (or set {ENV_TOKEN})")
    return endpoint, token


async def serve_until_signalled(runtime: Runtime) -> None:
    """Serve until SIGINT or SIGTERM; then stop cleanly (the outbox keeps what is left)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runtime.serve(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
