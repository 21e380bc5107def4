"""``/stats`` and ``run_bot.py stats``: how the bot is doing, over the last 7 and 30 days.

Counted: questions asked (small talk apart: "merci" is not a question) and the
share the bot answered; conversations handed to staff; leads, by status and by
source (the ``/start`` deep link they came with). Only counts leave the database.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import sqlite_utils

from bot.storage.staff import CLOSED, CONTACTED, LEAD_STATUSES, HandoffStore, LeadStore, stamp

PERIODS = (7, 30)


@dataclass
class Period:
    """The figures of one period (the last ``days`` days)."""

    days: int
    questions: int = 0
    answered: int = 0
    smalltalk: int = 0
    handoffs: int = 0
    leads: int = 0
    by_status: Counter = field(default_factory=Counter)
    by_source: Counter = field(default_factory=Counter)

    @property
    def answered_share(self) -> float | None:
        """Answered questions among the questions that were not small talk (None if there were none)."""
        real = self.questions - self.smalltalk
        return self.answered / real if real else None


def compute(db: sqlite_utils.Database, now: dt.datetime, days: int) -> Period:
    """The figures of the ``days`` days before ``now``."""
    cutoff = now - dt.timedelta(days=days)
    period = Period(days)
    outcomes = dict(db.execute(
        "SELECT outcome, COUNT(*) FROM questions WHERE julianday(at) >= julianday(?) GROUP BY outcome",
        [stamp(cutoff)]).fetchall())
    period.questions = sum(outcomes.values())
    period.answered = outcomes.get("answered", 0)
    period.smalltalk = outcomes.get("smalltalk", 0)
    period.handoffs = HandoffStore(db).opened_since(cutoff)
    leads = LeadStore(db).since(cutoff)
    period.leads = len(leads)
    period.by_status = Counter(lead["status"] for lead in leads)
    period.by_source = Counter(lead["source"] or "" for lead in leads)
    return period


def compute_all(db: sqlite_utils.Database, now: dt.datetime) -> list[Period]:
    """The figures of each period of :data:`PERIODS`."""
    return [compute(db, now, days) for days in PERIODS]


def statuses_in_order(counter: Counter) -> list[tuple[str, int]]:
    """Known statuses in their life order, then any other."""
    known = [(s, counter[s]) for s in LEAD_STATUSES if counter.get(s)]
    return known + sorted((s, n) for s, n in counter.items() if s not in LEAD_STATUSES)


@dataclass
class Funnel:
    """One source's prospects who started in the period, and how far they went."""

    source: str
    started: int
    asked: int
    registered: int
    contacted: int
    closed: int


def funnel(db: sqlite_utils.Database, now: dt.datetime, days: int) -> list[Funnel]:
    """Per deep-link source ("" = none), the prospects first seen in the last ``days`` days and their progress.

    A cohort, not a count of events: "12 started, 5 asked, 2 pre-registered" are the
    same people, so a fair's flyer can be compared with an open day's. Contacted
    counts leads staff marked contacted at some point (or closed since).
    """
    rows = db.execute(
        "SELECT COALESCE(p.source, ''), COUNT(*), "
        "SUM(EXISTS (SELECT 1 FROM questions q WHERE q.user_id = p.user_id)), "
        "SUM(r.ref IS NOT NULL), "
        "SUM(r.status IN (?, ?) OR EXISTS (SELECT 1 FROM lead_events e WHERE e.ref = r.ref AND e.status = ?)), "
        "SUM(r.status = ?) "
        "FROM prospects p LEFT JOIN registrations r ON r.user_id = p.user_id "
        "WHERE julianday(p.first_seen) >= julianday(?) GROUP BY 1 ORDER BY 2 DESC, 1",
        [CONTACTED, CLOSED, CONTACTED, CLOSED, stamp(now - dt.timedelta(days=days))]).fetchall()
    return [Funnel(source, *(int(n or 0) for n in counts)) for source, *counts in rows]
