"""When each reminder is due, computed from the knowledge of the day (never stored).

A reminder is an *occurrence* of a kind: "open day of 2026-03-20, 2 days before",
"3 weeks after the pre-registration, 2nd time". Its key names it, so the log can say
it was sent once and only once; its due moment comes from the base as it is now, so
a date changed in ``facts.yaml`` or ``calendar.yaml`` moves what is pending.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.clock import PARIS
from bot.reminders.model import ReminderKind

#: A reminder not sent within this time after its moment (bot down, quiet hours, weekly cap) is dropped.
GRACE = dt.timedelta(hours=48)
#: Nothing between these hours (Paris time), nothing on Sundays: a due reminder waits.
QUIET_FROM, QUIET_UNTIL = dt.time(20, 0), dt.time(9, 0)
SUNDAY = 6


@dataclass(frozen=True)
class Occurrence:
    """One sending of a kind: its key, when it is due, when it is too late, and the date it is about."""

    key: str
    due: dt.datetime
    expires: dt.datetime
    target: dt.date | None = None
    hours: str = ""


def is_quiet(moment: dt.datetime) -> bool:
    """Whether nothing may be sent at ``moment`` (evening, night, Sunday)."""
    paris = moment.astimezone(PARIS)
    return paris.weekday() == SUNDAY or paris.time() >= QUIET_FROM or paris.time() < QUIET_UNTIL


def _at(day: dt.date, kind: ReminderKind) -> dt.datetime:
    return dt.datetime.combine(day, kind.at, tzinfo=PARIS)


def _before(kind: ReminderKind, target: dt.date, days: int, label: str, hours: str = "") -> Occurrence:
    """``days`` before ``target``: too late once the target day itself has come."""
    due = _at(target - dt.timedelta(days=days), kind)
    last = dt.datetime.combine(target, dt.time(0, 0), tzinfo=PARIS)
    return Occurrence(f"{label}/-{days}", due, min(due + GRACE, last), target, hours)


def occurrences(kind: ReminderKind, kb, events: dict[str, dt.datetime]) -> list[Occurrence]:
    """Every occurrence of ``kind`` for one prospect, from the base as it is now and their events."""
    trigger = kind.trigger
    if trigger.open_days:
        return [_before(kind, day.date, n, f"jpo:{day.date.isoformat()}", f"{day.start}-{day.end}")
                for day in kb.open_days for n in trigger.open_days]
    if trigger.fact:
        target = kb.facts.get(trigger.fact)
        if not isinstance(target, dt.date):
            return []
        return [_before(kind, target, n, f"{trigger.fact}:{target.isoformat()}") for n in trigger.days_before]
    start = events.get(trigger.after)
    if start is None:
        return []
    first = start.astimezone(PARIS).date()
    if not trigger.every_days:
        due = _at(first + dt.timedelta(days=trigger.days), kind)
        return [Occurrence(f"{trigger.after}+{trigger.days}", due, due + GRACE)]
    until = kb.facts.get(trigger.until_fact)
    if not isinstance(until, dt.date):
        return []
    found: list[Occurrence] = []
    day, number = first + dt.timedelta(days=trigger.every_days), 1
    while day <= until and number <= 60:
        due = _at(day, kind)
        found.append(Occurrence(f"{trigger.after}*{number}", due, due + GRACE))
        day, number = day + dt.timedelta(days=trigger.every_days), number + 1
    return found
