"""A kind of reminder, as read from ``knowledge/reminders.yaml``."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

#: Where a reminder is offered ("Je te préviens ?"): after which kind of answer.
OFFERS = ("portes_ouvertes", "dates", "preinscription")
#: Events a delay or a repetition can count from.
EVENTS = ("preinscription",)
#: What a prospect may answer to a follow-up ("as-tu trouvé ton entreprise ?").
ANSWERS = ("trouve", "pas_encore", "plus_interesse")
DEFAULT_AT = dt.time(10, 0)


@dataclass(frozen=True)
class Trigger:
    """When a reminder is due: before open days, before a date fact, or after an event (once or repeated)."""

    open_days: tuple[int, ...] = ()
    fact: str = ""
    days_before: tuple[int, ...] = ()
    after: str = ""
    days: int = 0
    every_days: int = 0
    until_fact: str = ""


@dataclass(frozen=True)
class ReminderKind:
    """One kind of reminder; its text and its name (``/rappels``) are keys of ``texts/rappels.yaml``."""

    id: str
    offer: str
    trigger: Trigger
    text_key: str = ""
    name_key: str = ""
    at: dt.time = DEFAULT_AT
    entries: tuple[str, ...] = ()
    #: Phrases that answer this reminder, by answer (``trouve``...): only follow-ups have some.
    answers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    path: str = ""
    line: int = 0
