"""Which intake (rentrée) a question is about, and whether the base knows its dates.

The brochure describes one intake (``annee_formation: "2026-2027"`` in ``facts.yaml``).
Its dates stop being the answer once they are all past, and a lycéen(ne) asking in
November about "la rentrée de l'an prochain" is asking about the *next* intake, whose
dates are not in the base. Everything that decides "which intake" lives here so that
the answers, the pre-registration and ``check`` agree.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.knowledge.model import FactValue
from bot.matching.french import fold

#: The fact naming the intake the dates of ``facts.yaml`` belong to ("2026-2027").
FACT_INTAKE = "annee_formation"
#: The facts holding that intake's dates; once all are past the base is out of date.
DATE_FACTS = ("date_rentree", "date_limite_entree_tardive", "date_ouverture_candidatures",
              "date_cloture_candidatures")

_INTAKE = re.compile(r"^\s*(\d{4})\s*[-/]\s*(\d{4})\s*$")
_YEAR = re.compile(r"\b(20\d\d)\b")
#: Ways of saying "next year" / "the next intake" (accents folded, lower case).
_NEXT_YEAR = re.compile(r"\b(l ?an prochain|l ?annee prochaine|l ?annee pro|annee suivante|an pro)\b")
_NEXT_INTAKE = re.compile(r"\b(rentree prochaine|prochaine rentree|rentree suivante)\b")


@dataclass(frozen=True)
class Intake:
    """The base's intake: the year it starts and its dates (None when a fact is missing)."""

    start_year: int
    label: str
    start: dt.date | None
    late_deadline: dt.date | None
    apply_open: dt.date | None
    apply_close: dt.date | None

    @property
    def last_date(self) -> dt.date | None:
        """The last day on which something of this intake can still happen."""
        dates = [d for d in (self.start, self.late_deadline, self.apply_close) if d is not None]
        return max(dates) if dates else None

    def is_over(self, today: dt.date) -> bool:
        """True once every date of the intake is past: its answers no longer apply."""
        last = self.last_date
        return last is not None and today > last


def intake_of(facts: dict[str, FactValue]) -> Intake | None:
    """The intake described by ``facts``, or None when ``annee_formation`` is not "AAAA-AAAA"."""
    match = _INTAKE.match(str(facts.get(FACT_INTAKE, "")))
    if not match:
        return None

    def day(name: str) -> dt.date | None:
        value = facts.get(name)
        return value if isinstance(value, dt.date) else None

    return Intake(int(match.group(1)), match.group(0).strip(), day("date_rentree"),
                  day("date_limite_entree_tardive"), day("date_ouverture_candidatures"),
                  day("date_cloture_candidatures"))


def year_asked(question: str, today: dt.date, intake: Intake | None) -> int | None:
    """The start year of the intake a question names, or None when it names none.

    "2027", "la rentrée 2027-2028" name a year; "l'an prochain" is next calendar year;
    "la rentrée prochaine" is the first start day after today.
    """
    text = fold(question).replace("'", " ").replace("’", " ")
    years = [int(y) for y in _YEAR.findall(text)]
    if years:
        return min(years)
    if _NEXT_YEAR.search(text):
        return today.year + 1
    if _NEXT_INTAKE.search(text) and intake is not None:
        started = intake.start is not None and today >= intake.start
        return intake.start_year + 1 if started else intake.start_year
    return None


def aimed_year(question: str, today: dt.date, intake: Intake | None) -> int | None:
    """The start year a question is about: the one it names, else the base's or the next one.

    None when the base names no intake (the answers then use the base as it is).
    """
    if intake is None:
        return None
    asked = year_asked(question, today, intake)
    if asked is not None and asked >= intake.start_year:
        return asked
    return intake.start_year + 1 if intake.is_over(today) else intake.start_year


def possible_years(today: dt.date, intake: Intake | None) -> list[int]:
    """The intakes a person pre-registering today may aim at (two between the start and the late deadline)."""
    if intake is None:
        return []
    if intake.is_over(today):
        return [intake.start_year + 1]
    if intake.start is not None and today >= intake.start:
        return [intake.start_year, intake.start_year + 1]
    return [intake.start_year]


def intake_label(year: int) -> str:
    """``2027`` -> ``2027-2028``, as the brochure writes an intake."""
    return f"{year}-{year + 1}"
