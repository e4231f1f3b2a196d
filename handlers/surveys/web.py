"""placeholder"""

from __future__ import annotations

from typing import Any


def routes(console: Any) -> list[Any]:
    return []
