"""The bot lives in Europe/Paris time.

"Today", deadlines and office hours are computed here and only here, so that a test
or ``run_bot.py ask --today`` can pin the date without touching the system clock.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


class Clock:
    """Gives the current Paris time, or a fixed day when one is pinned."""

    def __init__(self, pinned_day: dt.date | None = None) -> None:
        self.pinned_day = pinned_day

    def now(self) -> dt.datetime:
        """The current time in Paris (on the pinned day at noon when one is pinned)."""
        if self.pinned_day is not None:
            return dt.datetime.combine(self.pinned_day, dt.time(12, 0), tzinfo=PARIS)
        return dt.datetime.now(PARIS)

    def today(self) -> dt.date:
        """Today's date in Paris, which is not the UTC date between midnight and 1 or 2 a.m."""
        return self.now().date()
