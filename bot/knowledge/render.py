"""Turning an answer template into the text a prospect reads, as of a given day.

Answers refer to facts as ``{fact_id}`` so that a phone number or an amount is
written once in ``facts.yaml``. Three placeholders are computed from today's date
(Europe/Paris), because a prospect must never be offered an open day that has passed
or told they can still join after the late-entry deadline. Their wording lives in
``knowledge/texts/dates.yaml``, not here.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Callable

from bot.knowledge.loader import PLACEHOLDER
from bot.knowledge.model import FactValue, KnowledgeBase

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

#: Facts the date computations read; ``check`` reports them when missing.
FACT_START = "date_rentree"
FACT_LATE_DEADLINE = "date_limite_entree_tardive"
FACT_APPLY_OPEN = "date_ouverture_candidatures"
FACT_APPLY_CLOSE = "date_cloture_candidatures"


def french_date(day: dt.date, weekday: bool = False) -> str:
    """``27 août 2026`` (or ``jeudi 27 août 2026``); the 1st is written ``1er``."""
    number = "1er" if day.day == 1 else str(day.day)
    text = f"{number} {MONTHS[day.month - 1]} {day.year}"
    return f"{WEEKDAYS[day.weekday()]} {text}" if weekday else text


def french_time(hhmm: str) -> str:
    """``17:00`` -> ``17h``, ``17:30`` -> ``17h30``."""
    hours, minutes = hhmm.split(":")
    return f"{int(hours)}h" if minutes == "00" else f"{int(hours)}h{minutes}"


def format_fact(value: FactValue) -> str:
    """A fact as written in a French sentence."""
    if isinstance(value, dt.date):
        return french_date(value)
    if isinstance(value, float):
        return f"{value:,.2f}".replace(",", " ").replace(".", ",")
    return str(value)


class Renderer:
    """Fills placeholders for one knowledge base and one day."""

    def __init__(self, kb: KnowledgeBase, today: dt.date) -> None:
        self.kb = kb
        self.today = today
        #: ``"vous"`` when the prospect writes with "vous": :meth:`text` then prefers a ``_vous`` text.
        self.register: str | None = None
        self._computed: dict[str, Callable[[], str]] = {
            "portes_ouvertes_a_venir": self.upcoming_open_days,
            "statut_entree": self.entry_status,
            "statut_candidature": self.application_status,
        }

    def render(self, template: str, params: dict[str, object] | None = None) -> str:
        """Replace every ``{name}`` by a run-time parameter, a computed text or a fact.

        Run-time parameters (a prospect's name, a reference...) are inserted as they
        are and never re-scanned, so a prospect who types ``{tel_standard}`` gets it back
        unchanged.
        """
        params = params or {}

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in params:
                return str(params[name])
            if name in self._computed:
                return self.render(self._computed[name]())
            if name in self.kb.facts:
                return format_fact(self.kb.facts[name])
            return match.group(0)

        return PLACEHOLDER.sub(fill, template)

    def text(self, key: str, **params: object) -> str:
        """One of the bot's own sentences (``texts/*.yaml``), filled in.

        To someone writing with "vous", the ``<key>_vous`` text when there is one: a
        parent or a company must not read "Merci de ton intérêt".
        """
        if self.register == "vous" and f"{key}_vous" in self.kb.texts:
            key = f"{key}_vous"
        return self.render(self.kb.texts.get(key, key), params)

    # --- the computed placeholders ---------------------------------------------------

    def upcoming_open_days(self) -> str:
        """The open days from today on, or the sentence saying none is announced."""
        upcoming = [d for d in self.kb.open_days if d.date >= self.today]
        if not upcoming:
            return self.kb.texts.get("dates.aucune_jpo", "")
        lines = [
            self.render(self.kb.texts.get("dates.jpo_ligne", "• {date}, {heure}"),
                        {"date": french_date(d.date, weekday=True),
                         "heure": f"{french_time(d.start)} - {french_time(d.end)}"})
            for d in upcoming
        ]
        intro = self.kb.texts.get("dates.jpo_intro", "")
        return "\n".join([intro, *lines]) if intro else "\n".join(lines)

    def entry_status(self) -> str:
        """Whether a prospect can still start the programme this year, as of today."""
        start, deadline = self._date(FACT_START), self._date(FACT_LATE_DEADLINE)
        if start is None or deadline is None:
            return ""
        if self.today < start:
            return self.text("dates.entree_avant_rentree", jours=(start - self.today).days)
        if self.today <= deadline:
            return self.text("dates.entree_en_cours", jours=(deadline - self.today).days)
        return self.text("dates.entree_close")

    def application_status(self) -> str:
        """Whether the application window is open today."""
        opening, closing = self._date(FACT_APPLY_OPEN), self._date(FACT_APPLY_CLOSE)
        if opening is None or closing is None:
            return ""
        if self.today < opening:
            return self.text("dates.candidature_pas_ouverte")
        if self.today <= closing:
            return self.text("dates.candidature_ouverte", jours=(closing - self.today).days)
        return self.text("dates.candidature_close")

    def _date(self, fact: str) -> dt.date | None:
        value = self.kb.facts.get(fact)
        return value if isinstance(value, dt.date) else None
