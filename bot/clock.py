"""The one place that says what time it is. Tests inject a FrozenClock."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

__all__ = ["Clock", "FrozenClock", "OffsetClock", "SystemClock"]


class Clock(Protocol):
    tz: tzinfo

    def now(self) -> datetime:
        """The current time, aware, in the chamber's time zone."""
        ...


class SystemClock:
    def __init__(self, tz: tzinfo | str = "Asia/Shanghai") -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz

    def now(self) -> datetime:
        return datetime.now(self.tz)


class OffsetClock(SystemClock):
    """The system clock moved forward on demand: the console demo's time travel."""

    def __init__(self, tz: tzinfo | str = "Asia/Shanghai") -> None:
        super().__init__(tz)
        self.offset = timedelta()

    def advance(self, delta: timedelta) -> None:
        self.offset += delta

    def now(self) -> datetime:
        return super().now() + self.offset


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.tz = start.tzinfo
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(self.tz)
