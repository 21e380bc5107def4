"""The bot lives in Europe/Paris time.

"Today", deadlines and office hours are computed here and only here, so that a test
or ``run_bot.py ask --today`` can pin the date without touching the system clock,
and ``BOT_CLOCK`` can start the bot at another instant (reminders are tested that way).
"""
from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def parse_bot_clock(raw: str) -> dt.datetime:
    """``BOT_CLOCK`` as an aware datetime: an ISO date-time read as Paris time unless it says otherwise."""
    start = dt.datetime.fromisoformat(raw.strip())
    return start.replace(tzinfo=PARIS) if start.tzinfo is None else start.astimezone(PARIS)


class Clock:
    """Gives the current Paris time, a fixed day when one is pinned, or a shifted time.

    ``start`` (``BOT_CLOCK``) makes "now" begin at that instant and then advance
    with the real clock: a frozen instant would stop every delay (retries, reminders
    due in an hour) from ever expiring.
    """

    def __init__(self, pinned_day: dt.date | None = None, start: dt.datetime | None = None) -> None:
        self.pinned_day = pinned_day
        self.start = start
        self._origin = time.monotonic()

    def now(self) -> dt.datetime:
        """The current time in Paris (on the pinned day at noon when one is pinned)."""
        if self.pinned_day is not None:
            return dt.datetime.combine(self.pinned_day, dt.time(12, 0), tzinfo=PARIS)
        if self.start is not None:
            return self.start + dt.timedelta(seconds=time.monotonic() - self._origin)
        return dt.datetime.now(PARIS)

    def today(self) -> dt.date:
        """Today's date in Paris, which is not the UTC date between midnight and 1 or 2 a.m."""
        return self.now().date()


def crossed(previous: dt.datetime, now: dt.datetime, at: dt.time) -> bool:
    """Whether the Paris time of day ``at`` came, on some day, after ``previous`` and by ``now``.

    What a daily job asks on each tick: driven by the bot's own clock, ``BOT_CLOCK`` moves it too.
    """
    day, last = previous.astimezone(PARIS).date(), now.astimezone(PARIS).date()
    while day <= last:
        moment = dt.datetime.combine(day, at.replace(tzinfo=None), tzinfo=PARIS)
        if previous < moment <= now:
            return True
        day += dt.timedelta(days=1)
    return False
