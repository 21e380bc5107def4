"""Turning an answer template into the text a prospect reads, as of a given day.

Answers refer to facts as ``{fact_id}`` so that a phone number or an amount is
written once in ``facts.yaml``. Four placeholders are computed from today's date
(Europe/Paris), because a prospect must never be offered an open day that has passed
or told they can still join after the late-entry deadline. Their wording lives in
``knowledge/texts/dates.yaml``, not here.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Callable

from bot.knowledge.intake import aimed_year, intake_label, intake_of
from bot.knowledge.loader import PLACEHOLDER
from bot.knowledge.model import FactValue, KnowledgeBase

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: Facts the date computations read; ``check`` reports them when missing.
FACT_START = "date_rentree"
FACT_LATE_DEADLINE = "date_limite_entree_tardive"
FACT_APPLY_OPEN = "date_ouverture_candidatures"
FACT_APPLY_CLOSE = "date_cloture_candidatures"
#: Beyond this many days a countdown is said in months ("dans environ 10 mois").
LONG_COUNTDOWN_DAYS = 45
DAYS_PER_MONTH = 30.44


def french_date(day: dt.date, weekday: bool = False) -> str:
    """``27 août 2026`` (or ``jeudi 27 août 2026``); the 1st is written ``1er``."""
    number = "1er" if day.day == 1 else str(day.day)
    text = f"{number} {MONTHS[day.month - 1]} {day.year}"
    return f"{WEEKDAYS[day.weekday()]} {text}" if weekday else text


def english_date(day: dt.date, weekday: bool = False) -> str:
    """``27 August 2026`` (or ``Thursday 27 August 2026``): the British order, unambiguous."""
    text = f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"{WEEKDAYS_EN[day.weekday()]} {text}" if weekday else text


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
    """Fills placeholders for one knowledge base, one day and, optionally, one question.

    ``question`` only matters for the date texts: "la rentrée de l'an prochain" is about
    the next intake, whose dates the base may not have (see ``bot/knowledge/intake.py``).
    """

    def __init__(self, kb: KnowledgeBase, today: dt.date, question: str = "") -> None:
        self.kb = kb
        self.today = today
        self.intake = intake_of(kb.facts)
        self.year = aimed_year(question, today, self.intake)
        #: ``"vous"`` when the prospect writes with "vous": :meth:`text` then prefers a ``_vous`` text.
        self.register: str | None = None
        #: ``"en"``: facts, dates and date texts in English (see :meth:`in_english`).
        self.lang = "fr"
        self._computed: dict[str, Callable[[], str]] = {
            "portes_ouvertes_a_venir": self.upcoming_open_days,
            "rentree": self.start_day,
            "statut_entree": self.entry_status,
            "statut_candidature": self.application_status,
        }

    def for_question(self, question: str) -> "Renderer":
        """The same renderer (register included), aimed at the intake ``question`` is about."""
        aimed = Renderer(self.kb, self.today, question)
        aimed.register, aimed.lang = self.register, self.lang
        return aimed

    def in_english(self, question: str = "") -> "Renderer":
        """The same renderer (day), aimed at the intake ``question`` names, for an English answer.

        The computed placeholders then say their dates in English ("27 August 2026"),
        with the texts ``english.dates_…``; facts take their ``english.yaml`` wording.
        """
        english = self.for_question(question)
        english.lang = "en"
        return english

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
            if self.lang == "en" and name in self.kb.facts_en:
                return self.kb.facts_en[name]
            if self.lang == "en" and isinstance(self.kb.facts.get(name), dt.date):
                return english_date(self.kb.facts[name])  # type: ignore[arg-type]
            if name in self.kb.facts:
                return format_fact(self.kb.facts[name])
            return match.group(0)

        return PLACEHOLDER.sub(fill, template)

    def answer(self, template: str) -> str:
        """An entry's answer: rendered, each sentence said once, no line left empty by a date text.

        A date text and the entry around it may both end on the same sentence (the
        "not yet published" line, for instance): the prospect reads it once.
        """
        seen: set[str] = set()
        lines: list[str] = []
        for template_line in template.split("\n"):
            rendered = self.render(template_line)
            if template_line.strip() and not rendered.strip():
                continue
            for line in rendered.split("\n"):
                key = line.strip()
                if key and key in seen:
                    continue
                seen.add(key)
                lines.append(line)
        return "\n".join(lines).strip()

    def text(self, key: str, **params: object) -> str:
        """One of the bot's own sentences (``texts/*.yaml``), filled in.

        To someone writing with "vous", the ``<key>_vous`` text when there is one: a
        parent or a company must not read "Merci de ton intérêt".
        """
        if self.register == "vous" and f"{key}_vous" in self.kb.texts:
            key = f"{key}_vous"
        return self.render(self._wording(key), params)

    def _wording(self, key: str) -> str:
        """The text of ``key``; in English, a date text's ``english.dates_…`` version."""
        if self.lang == "en" and key.startswith("dates."):
            key = "english.dates_" + key.removeprefix("dates.")
        return self.kb.texts.get(key, key)

    # --- the computed placeholders ---------------------------------------------------

    def upcoming_open_days(self) -> str:
        """The open days from today on, or the sentence saying none is announced."""
        upcoming = [d for d in self.kb.open_days if d.date >= self.today]
        if not upcoming:
            return self._wording("dates.aucune_jpo")
        lines = []
        say_date = english_date if self.lang == "en" else french_date
        for day in upcoming:
            line = self.render(self._wording("dates.jpo_ligne"),
                               {"date": say_date(day.date, weekday=True),
                                "heure": f"{french_time(day.start)} - {french_time(day.end)}"})
            soon = (day.date - self.today).days
            if soon <= 1:
                line += " " + self.text("dates.jpo_aujourdhui" if soon == 0 else "dates.jpo_demain")
            lines.append(line)
        intro = self._wording("dates.jpo_intro")
        return "\n".join([intro, *lines]) if intro else "\n".join(lines)

    def start_day(self) -> str:
        """The start day of the intake asked about: coming, today, past, or not yet published."""
        start = self._date(FACT_START)
        if start is None:
            return ""
        if self._next_intake():
            return self._unpublished()
        if self.today < start:
            return self.text("dates.rentree_a_venir", quand=self.countdown(start))
        if self.today == start:
            return self.text("dates.rentree_aujourdhui")
        return self.text("dates.rentree_passee")

    def entry_status(self) -> str:
        """Whether a prospect can still start the programme of the intake asked about."""
        start, deadline = self._date(FACT_START), self._date(FACT_LATE_DEADLINE)
        if start is None or deadline is None:
            return ""
        if self._next_intake():
            return self._unpublished()
        if self.today <= start:
            return self.text("dates.entree_avant_rentree")
        if self.today <= deadline:
            return self.text("dates.entree_en_cours", quand=self.countdown(deadline, last_day=True))
        return self.text("dates.entree_close")

    def application_status(self) -> str:
        """Whether the application window of the intake asked about is open today."""
        opening, closing = self._date(FACT_APPLY_OPEN), self._date(FACT_APPLY_CLOSE)
        if opening is None or closing is None:
            return ""
        if self._next_intake():
            return self._unpublished()
        if self.today < opening:
            return self.text("dates.candidature_pas_ouverte")
        if self.today > closing:
            return self.text("dates.candidature_close")
        if (closing - self.today).days < self._processing_days():
            return self.text("dates.candidature_fin_proche")
        return self.text("dates.candidature_ouverte")

    # --- helpers ---------------------------------------------------------------------

    def countdown(self, day: dt.date, last_day: bool = False) -> str:
        """"demain", "dans 3 jours", or today's wording: natural French, never "1 jours"."""
        days = (day - self.today).days
        if days <= 0:
            return self.text("dates.quand_dernier_jour" if last_day else "dates.quand_aujourdhui")
        if days == 1:
            return self.text("dates.quand_demain")
        if days > LONG_COUNTDOWN_DAYS:  # "dans 316 jours" is not how people say it
            return self.text("dates.quand_dans_mois", n=round(days / DAYS_PER_MONTH))
        return self.text("dates.quand_dans", n=days)

    def _next_intake(self) -> bool:
        """True when the question is about an intake after the one the base describes."""
        return self.intake is not None and self.year is not None and self.year > self.intake.start_year

    def _unpublished(self) -> str:
        """The intake asked about is not in the base: say so (and whether the base's is over)."""
        assert self.intake is not None and self.year is not None
        key = "dates.rentree_suivante_passee" if self.intake.is_over(self.today) else "dates.rentree_suivante"
        return self.text(key, annee=self.year, annees=intake_label(self.year))

    def _processing_days(self) -> int:
        """The processing time of an application in days, read from ``delai_traitement`` ("3 semaines")."""
        match = re.search(r"(\d+)\s*semaine", str(self.kb.facts.get("delai_traitement", "")))
        return int(match.group(1)) * 7 if match else 0

    def _date(self, fact: str) -> dt.date | None:
        value = self.kb.facts.get(fact)
        return value if isinstance(value, dt.date) else None
