"""统计 [本月/上月/YYYY-MM]: the month's summary, for staff in a staff place."""

from __future__ import annotations

from bot.messages import Outgoing, Role
from bot.router import Context, Route
from handlers.reports.figures import compute
from handlers.reports.period import parse_month
from handlers.reports.text import summary_context

__all__ = ["ROUTES", "statistics"]


def statistics(ctx: Context) -> list[Outgoing]:
    period = parse_month(ctx.norm_args, ctx.now)
    if period is None:
        return ctx.usage("reports_usage")
    if period.start > ctx.now:
        month = f"{period.start.year}年{period.start.month}月"
        return [ctx.say("reports_not_yet", month=month, keyword=ctx.keyword("statistics"))]
    report = compute(ctx.db, ctx.config, period, ctx.now)
    render = ctx.services.templates.render
    return [ctx.say("reports_summary", **summary_context(render, ctx.config, report))]


ROUTES: list[Route] = [
    Route(
        "statistics",
        ("统计",),
        statistics,
        "统计 [本月/上月/YYYY-MM]",
        "诉求办理统计通报",
        role=Role.STAFF,
        staff_place_only=True,
    )
]
