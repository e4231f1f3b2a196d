"""The one way out early: raise `Refusal` with the template of the polite answer.

The dispatcher turns it into a reply to the asker (the web console into a message on the
page), so a rule checked deep in a service answers in the same words everywhere.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Refusal"]


class Refusal(Exception):
    def __init__(self, template: str, **context: Any) -> None:
        super().__init__(template)
        self.template = template
        self.context = context
