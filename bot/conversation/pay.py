"""The legal minimum pay of an apprentice for an age and a contract year.

The brochure only gives a range (496 to 1612 € a month); prospects ask "combien à
17 ans ?". The Code du travail (article D6222-26) sets the minimum as a percentage of
the SMIC by age band and contract year; both the percentages and the SMIC are facts
of ``knowledge/official_facts.yaml``, each with its source and the day it was
checked, so staff update them without a developer. The amount is *computed* here:
the answer always says it is the legal minimum, not a figure of the school.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.knowledge.model import KnowledgeBase
from bot.matching.french import fold

#: The monthly gross SMIC for 35 hours a week (a fact of ``official_facts.yaml``).
SMIC_FACT = "smic_mensuel_brut"
#: Age bands of article D6222-26: (oldest age of the band or None, fact of its percentages, text key).
BANDS: tuple[tuple[int | None, str], ...] = (
    (17, "salaire_apprenti_moins_18"),
    (20, "salaire_apprenti_18_20"),
    (25, "salaire_apprenti_21_25"),
    (None, "salaire_apprenti_26_plus"),
)
#: Bands where the percentage applies to the collective agreement's minimum when it is higher.
CONVENTIONAL_FROM = "salaire_apprenti_21_25"
PAY_FACTS = (SMIC_FACT, *(fact for _, fact in BANDS))

_ORDINALS = {
    "1": 1, "premiere": 1, "premier": 1, "first": 1, "1st": 1, "1ere": 1, "1er": 1, "1re": 1,
    "2": 2, "deuxieme": 2, "seconde": 2, "second": 2, "2nd": 2, "2e": 2, "2eme": 2, "2ieme": 2, "2de": 2,
    "3": 3, "troisieme": 3, "third": 3, "3rd": 3, "3e": 3, "3eme": 3, "3ieme": 3,
}
_YEAR = re.compile(
    r"\b(1\s?(?:ere|er|re)|premiere|premier|2\s?(?:eme|ieme|e|de|nd)|deuxieme|seconde?|"
    r"3\s?(?:eme|ieme|e|rd)|troisieme|first|1st|third)\s+(?:annee|an|year)\b"
    r"|\b(?:annee|year)\s+([123])\b"
)


@dataclass(frozen=True)
class PayFigure:
    """The legal minimum for one age and one contract year."""

    age: int
    year: int
    percent: float
    monthly: float
    band_fact: str

    @property
    def conventional(self) -> bool:
        """True when the minimum is a percentage of the SMIC *or* of the agreement's minimum if higher."""
        return [f for _, f in BANDS].index(self.band_fact) >= [f for _, f in BANDS].index(CONVENTIONAL_FROM)


def find_contract_year(text: str) -> int | None:
    """The contract year a message asks about ("en 2e année", "first year"), or None."""
    match = _YEAR.search(fold(text))
    if not match:
        return None
    word = (match.group(1) or match.group(2)).replace(" ", "")
    return _ORDINALS.get(word)


def without_contract_year(text: str) -> str:
    """``text`` folded, without the contract year it names: what else the message says."""
    return _YEAR.sub(" ", fold(text))


def band_of(age: int) -> str:
    """The fact holding the percentages of the age band ``age`` belongs to."""
    return next(fact for oldest, fact in BANDS if oldest is None or age <= oldest)


def legal_minimum(kb: KnowledgeBase, age: int, year: int) -> PayFigure | None:
    """The legal minimum at ``age`` in contract year ``year``; None when a fact is missing."""
    band = band_of(age)
    percents = kb.official.get(band)
    smic = kb.official.get(SMIC_FACT)
    if percents is None or smic is None or not isinstance(percents.value, tuple):
        return None
    if not 1 <= year <= len(percents.value) or not isinstance(smic.value, (int, float)):
        return None
    percent = percents.value[year - 1]
    return PayFigure(age, year, percent, round(smic.value * percent / 100, 2), band)


def missing_pay_facts(kb: KnowledgeBase) -> list[str]:
    """The pay facts the base lacks (``check`` reports them when the official file exists)."""
    return [fact for fact in PAY_FACTS if fact not in kb.official]
