"""The inbound journal and the outbox's unknown-fate rows, on the real services."""

from __future__ import annotations

from bot.clock import FrozenClock
from bot.journal import Journal
from bot.messages import Incoming, Outgoing
from bot.services import Services
from tests.conftest import MEMBERS_ROOM, ChatBot


def incoming(message_id: str, text: str, clock: FrozenClock, sender: str = "wxid_li") -> Incoming:
    return Incoming(message_id, sender, False, sender, "李总", text, clock.now())


def test_rows_come_back_in_arrival_order_once_and_handled_ones_never(
    app: Services, bot: ChatBot, clock: FrozenClock
) -> None:
    journal = Journal(app.db, "wechat")
    assert journal.append([("a", 1.0), ("b", 2.0), ("a", 3.0)]) == 2  # dedupe by id
    assert [e.message_id for e in journal.pending(0)] == ["a", "b"]
    assert [e.status for e in journal.pending(0)] == ["raw", "raw"]

    journal.resolved([("a", incoming("a", "帮助", clock)), ("b", None)])  # b: not for the bot
    (ready,) = journal.pending(0)
    assert ready.incoming == incoming("a", "帮助", clock)  # enough to handle it, no gateway

    bot.dispatcher.handle(ready.incoming)  # marks it handled in the handler's transaction
    assert journal.pending(0) == []
    assert journal.append([("a", 4.0)]) == 0  # redelivered later: still nothing to do


def test_an_echo_confirms_the_oldest_row_of_unknown_fate_it_ends_with(app: Services) -> None:
    with app.db.atomic():
        app.outbox.enqueue(
            [
                Outgoing(MEMBERS_ROOM, "已收到您的诉求", ("wxid_zhang",)),
                Outgoing(MEMBERS_ROOM, "已收到您的诉求", ("wxid_zhang",)),
            ]
        )
    first, _twin = [r["id"] for r in app.db.table("outbox").rows_where(order_by="id")]
    app.outbox.set_status(first, "unknown", "cut off")
    assert app.outbox.confirm_echo("wechat", MEMBERS_ROOM, "别的话") is None
    assert app.outbox.confirm_echo("wechat", "other@chatroom", "已收到您的诉求") is None
    assert app.outbox.confirm_echo("wechat", MEMBERS_ROOM, "@张总\u2005已收到您的诉求") == first
    statuses = [r["status"] for r in app.db.table("outbox").rows_where(order_by="id")]
    assert statuses == ["sent", "pending"]  # the pending twin is not touched
    assert app.outbox.confirm_echo("wechat", MEMBERS_ROOM, "@张总\u2005已收到您的诉求") is None
