"""Arbitrary text into the dispatcher, in groups and private chats (hypothesis): no handler
ever fails, every private message is answered, and user text is never evaluated as a
template."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import MEMBERS_ROOM, STAFF_ROOM, ChatBot

ERROR = "处理这条消息时出了点问题"
# 1234*5 is 6170 and 91*11 is 1001: if either number shows up, a template ran user text.
HOSTILE = [
    "{{ 1234*5 }}",
    "{% for x in range(3) %}{{ 91*11 }}{% endfor %}",
    "{{ config.__class__ }}",
    "{# comment #}",
    "'; drop table cases; --",
    '" or 1=1 --',
    "%' union select * from contacts --",
    "\u202e反转文字\u202c",
    "\u200f\u200b\u200c\u200d\ufeff",
    "\x00\x01\x07\x1b[31m\x7f",
    "@商会助手\u2005",
    "\r\n\t",
    "长" * 5000,
    "🙂" * 300,
]
PREFIXES = ["", "诉求 ", "进度 ", "补充 ", "帮助", "认领 ", "回复 ", "满意", "撤回 ", "政策 "]
CHARS = st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Z", "C", "M"))
TEXT = st.one_of(
    st.text(CHARS, max_size=200),
    st.sampled_from(HOSTILE),
    st.builds(
        lambda prefix, a, b: prefix + a + b,
        st.sampled_from(PREFIXES),
        st.sampled_from(HOSTILE),
        st.text(CHARS, max_size=40),
    ),
)
WHERE = st.sampled_from([None, MEMBERS_ROOM, STAFF_ROOM])
WHO = st.sampled_from(["wxid_zhang", "wxid_li", "wxid_wang", "wxid_stranger"])


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=TEXT, room=WHERE, sender=WHO, mention=st.booleans())
def test_any_text_anywhere_is_handled_politely(
    bot: ChatBot, text: str, room: str | None, sender: str, mention: bool
) -> None:
    if room == STAFF_ROOM and sender in ("wxid_zhang", "wxid_li", "wxid_stranger"):
        room = MEMBERS_ROOM  # members are not in the staff room
    outs = bot.say(text, sender=sender, room=room, mention=mention and room is not None)
    replies = [o.text for o in outs]
    assert not any(ERROR in r for r in replies), (text, replies)
    if room is None:
        assert any(o.conversation_id == sender for o in outs), text
    for evaluated in ("6170", "1001"):
        if evaluated not in text:
            assert not any(evaluated in r for r in replies), (text, replies)
    status = bot.app.db.execute("select count(*) from inbound where status = 'error'").fetchone()
    assert status[0] == 0
