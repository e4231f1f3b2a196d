"""The other features' figures in the report: 送政策 and 活动, from their own tables."""

from __future__ import annotations

from handlers.reports import compute
from handlers.reports.period import Period
from tests.conftest import TZ, ChatBot

NOV = Period.of_month(2026, 11, TZ)


def _rows(bot: ChatBot) -> None:
    db = bot.app.db
    with db.atomic():
        for run, group, at in [
            (1, "room_members", "2026-11-16T01:00:00+00:00"),
            (1, "room_members2", "2026-11-16T01:00:00+00:00"),
            (2, "room_members", "2026-11-23T01:00:00+00:00"),
            (3, "room_members", "2026-12-07T01:00:00+00:00"),
        ]:
            db.table("deliveries").insert(
                {
                    "run_id": run,
                    "conversation_id": group,
                    "policy_ids": "[]",
                    "messages": 1,
                    "created_at": at,
                }
            )
        for policy, group in [(1, "room_members"), (2, "room_members"), (1, "room_members2")]:
            db.table("policy_sent").insert(
                {
                    "conversation_id": group,
                    "policy_id": policy,
                    "run_id": 1,
                    "sent_at": "2026-11-16T01:00:00+00:00",
                }
            )
        for eid, starts, status in [
            (1, "2026-11-20T06:00:00+00:00", "held"),
            (2, "2026-11-25T06:00:00+00:00", "cancelled"),
            (3, "2026-12-02T06:00:00+00:00", "announced"),
        ]:
            db.table("events").insert(
                {
                    "id": eid,
                    "title": f"讲座{eid}",
                    "kind": "讲座",
                    "starts_at": starts,
                    "ends_at": starts,
                    "status": status,
                    "created_at": starts,
                }
            )
        for i, (status, checked) in enumerate(
            [
                ("registered", True),
                ("registered", True),
                ("registered", False),
                ("waiting", False),
                ("cancelled", False),
                ("walk_in", True),
            ]
        ):
            db.table("registrations").insert(
                {
                    "event_id": 1,
                    "contact_id": f"c{i}",
                    "status": status,
                    "registered_at": "2026-11-17T01:00:00+00:00",
                    "queued_at": "2026-11-17T01:00:00+00:00",
                    "checked_in_at": "2026-11-20T06:00:00+00:00" if checked else None,
                }
            )


def test_policy_and_event_figures_count_the_period(bot: ChatBot) -> None:
    _rows(bot)
    r = compute(bot.app.db, bot.app.config, NOV, bot.clock.now().replace(month=12, day=10))
    assert r.policies is not None
    assert (r.policies.digests, r.policies.groups, r.policies.policies) == (3, 2, 3)
    assert r.events is not None
    # Held: event 1 (event 2 was cancelled, event 3 is in December).
    assert (r.events.held, r.events.registered, r.events.checked_in) == (1, 3, 3)
    assert r.events.attendance == 66.7  # two of the three registrations came
    text = bot.app.templates.render("reports_summary", r=r, limit=20, definitions="")
    assert "送政策：推送 3 期次，覆盖 2 个群，政策 3 条次（2 条）" in text
    assert "活动：举办 1 场，报名 3 人，签到 3 人，到场率 66.7%" in text
