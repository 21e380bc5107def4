"""The prospect's age, when a message says it, and what the admission rule makes of it.

Prospects say their age in passing ("j'ai 31 ans", "ma fille a 17 ans", "g 16ans",
"I'm 25") and expect the answer for *their* case, not the general rule. These are
pure functions of the text: the conversation keeps the age it finds in its context.

The patterns only accept an age said about a person: "il y a 15 ans", "depuis 12 ans",
"10 ans d'expérience", "de 16 à 29 ans" or "valable 5 ans" are not ages.
"""
from __future__ import annotations

import re
from enum import Enum

from bot.matching.french import fold

#: The youngest and oldest ages taken as a person's age (outside: a duration, a typo...).
PLAUSIBLE = range(10, 100)

_NUMBER = r"(\d{1,2})"
#: "j'ai 17 ans", "g 16ans", "ma fille a 17 ans", "à 28 ans", "âgé de 31 ans", "17 ans, je peux...".
_FRENCH = re.compile(
    r"(?:\bj\s?'?\s?ai|\bjai|\bg|\ba|\bde|\bavoir|\baurai|\baura|\bmes|\bses|\bage|\bagee?s?\s+de|^)"
    r"\s*" + _NUMBER + r"\s*(?:ans?|an)\b(?!\s*(?:d'|de\s|d\s|et\s+plus\s+de\s))"
)
#: English: "I'm 25", "I am 25 (years old)", "she is 17", "aged 17", "at 27", "25 years old", "25 yo".
_ENGLISH = re.compile(
    r"(?:\bi\s?'?\s?m|\bi\s+am|\b(?:he|she)\s*'?\s*(?:is|s)|\bis|\baged?|\bat)\s+" + _NUMBER
    + r"\b(?!\s*(?:h\b|:|am\b|pm\b|o'?clock|%|€|euros?|minutes?|min\b|days?|weeks?|months?))"
    r"|" + _NUMBER + r"\s*(?:years?\s*old|y\.?o\b|yrs?\s*old)"
)
#: Spans that contain a number of years that is not an age.
_NOT_AN_AGE = re.compile(
    r"\b(?:il\s+y\s+a|y\s+a|ya|depuis|pendant|dans|durant|valable|conserve|garde|dure|duree\s+de"
    r"|tous\s+les|entre|ago|for|since|during)\s+\d{1,2}\s*(?:ans?|years?)"
    r"|\d{1,2}\s*(?:a|-|et|to|and)\s*\d{1,2}\s*(?:ans|years)"
    r"|\b(?:plus|moins|over|under)\s+(?:de\s+|than\s+)?\d{1,2}\s*(?:ans?|years?)?"
    # "mon entreprise a 20 ans": the age of a company, a shop, a diploma is no person's age.
    r"|\b(?:entreprise|societe|boite|magasin|enseigne|boutique|commerce|restaurant|agence|marque|pharmacie|"
    r"boulangerie|ecole|etablissement|campus|cfa|lycee|diplome|bac|contrat|structure|franchise|company|"
    r"business|shop|store)\s+(?:a|aura|fete|has|is)\s+(?:deja\s+)?\d{1,2}\s*(?:ans?|years?)"
)
#: A birth year said about a person: "je suis né en 2005", "ma fille est née en 2011", "born in 2004".
_BIRTH_YEAR = re.compile(r"\b(?:nee?s?|born)\s+(?:en|in|le\s+\d{1,2}(?:er)?\s+\w+|on\s+\w+\s+\d{1,2}\w*,?)\s*((?:19|20)\d{2})\b"
                         r"|\b(?:je suis|il est|elle est|chui|jsuis) de ((?:19|20)\d{2})\b")


class AgeRule(str, Enum):
    """What the admission rule says for an age (the wording is in ``texts/situation.yaml``)."""

    TOO_YOUNG = "trop_jeune"
    OK = "ok"
    OVER = "au_dela"  # over the limit: only with a recognised disability or as a high-level athlete


def find_age(text: str) -> int | None:
    """The age said in ``text`` ("j'ai 31 ans", "I'm 25"), or None.

    The last age said wins ("j'avais 17 ans, j'ai 19 ans maintenant" is 19).
    """
    folded = fold(text).replace("\u00a0", " ").replace("\u202f", " ")
    folded = _NOT_AN_AGE.sub(" ", folded)
    found: int | None = None
    for pattern in (_FRENCH, _ENGLISH):
        for match in pattern.finditer(folded):
            number = next(g for g in match.groups() if g is not None)
            if int(number) in PLAUSIBLE:
                found = int(number)
    return found


def find_birth_year(text: str) -> int | None:
    """The birth year said in ``text`` ("je suis né en 2005"), or None."""
    match = _BIRTH_YEAR.search(fold(text))
    return int(match.group(1) or match.group(2)) if match else None


def ages_born_in(year: int, today_year: int) -> tuple[int, int]:
    """The two ages a person born in ``year`` may have this year: before and after their birthday."""
    return today_year - year - 1, today_year - year


def without_age(text: str) -> str:
    """``text`` folded, without the phrases that say an age: what else the message says."""
    folded = _BIRTH_YEAR.sub(" ", fold(text))
    for pattern in (_FRENCH, _ENGLISH):
        folded = pattern.sub(" ", folded)
    return folded


def age_rule(age: int, minimum: int, maximum: int) -> AgeRule:
    """The rule for ``age`` with the brochure's bounds (``maximum`` révolus: up to the 30th birthday)."""
    if age < minimum:
        return AgeRule.TOO_YOUNG
    if age <= maximum:
        return AgeRule.OK
    return AgeRule.OVER


def years_in(fact: object) -> int | None:
    """The number of years in a fact such as ``"16 ans"``, or None if it has none."""
    match = re.search(r"\d+", str(fact))
    return int(match.group()) if match else None
