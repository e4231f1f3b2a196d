"""A rate as its numerator and denominator (the percentage is derived, never stored)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Rate"]


@dataclass(frozen=True)
class Rate:
    num: int
    den: int

    @property
    def pct(self) -> float | None:
        return round(100.0 * self.num / self.den, 1) if self.den else None
