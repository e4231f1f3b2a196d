"""The cases feature's route filter: a command that names a case gets it found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.messages import Role
from bot.normalize import split_case_ref
from bot.router import Context
from handlers.cases.service import CaseService

__all__ = ["CaseArg"]


@dataclass(frozen=True)
class CaseArg:
    """The route's arguments start with a case number: the handler gets `case` (found for
    this sender, or the standard refusal: not found, which year?) and `rest`, the text
    after the number."""

    need_text: bool = False  # text must follow the number
    optional: bool = False  # no number at all is fine (case is None)

    def __call__(self, ctx: Context) -> dict[str, Any]:
        ref, rest = split_case_ref(ctx.args)
        if ref is None:
            if self.optional and not ctx.args.strip():
                return {"case": None, "rest": ""}
            raise ctx.refuse_usage(understood=ctx.args.strip()[:20])
        if self.need_text and not rest:
            raise ctx.refuse_usage(understood=ctx.args.strip()[:20])
        staff = ctx.role >= Role.STAFF
        case = ctx.service(CaseService).find(ref, ctx.now, ctx.msg.sender_id, staff=staff)
        return {"case": case, "rest": rest}
