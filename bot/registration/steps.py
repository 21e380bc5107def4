"""The pre-registration form as data: its steps, their choices, and how to read a typed answer.

Why separate from the flow: the order of the questions, the button codes stored in
the database and the rules that tell an answer from a question are what the staff
and the tests reason about. Keeping them here, without any message or storage,
makes them easy to read and to change. The labels of the choices are texts
(``knowledge/texts/form.yaml``), found from the codes by :func:`label_key`.

The next step is always computed from the answers (:func:`next_step`): the first
field still missing, or the summary. That makes a correction from the summary
(which only moves the step back) return to the summary by itself.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from bot.matching import french
from bot.registration import validators
from bot.registration.validators import ValidationResult

CONSENT = "consent"
SUMMARY = "summary"

#: Typed steps, in the order they are asked (``company_name`` only after "found").
LAST_NAME, FIRST_NAME, BIRTH_DATE, EMAIL, PHONE = "last_name", "first_name", "birth_date", "email", "phone"
DIPLOMA, SITUATION, COMPANY, COMPANY_NAME, HEARD = "diploma", "situation", "company", "company_name", "heard"
ORDER: tuple[str, ...] = (LAST_NAME, FIRST_NAME, BIRTH_DATE, EMAIL, PHONE, DIPLOMA, SITUATION, COMPANY,
                          COMPANY_NAME, HEARD)

#: The steps answered with buttons, and the codes of their choices (stored as is).
CHOICES: dict[str, tuple[str, ...]] = {
    DIPLOMA: ("bac_general", "bac_techno", "bac_pro", "bac_en_cours", "bac_plus_2", "etranger", "autre"),
    SITUATION: ("lyceen", "etudiant", "demandeur_emploi", "salarie", "autre"),
    COMPANY: ("trouvee", "recherche"),
    HEARD: ("salon", "portes_ouvertes", "site_web", "reseaux_sociaux", "parcoursup", "bouche_a_oreille",
            "autre"),
}
COMPANY_FOUND, COMPANY_SEARCHING = "trouvee", "recherche"

#: The intake aimed at ("2026-2027"). Not in ORDER: the flow fills it by itself when only
#: one intake is possible today, and asks it (after the others) only when two are
#: (between the start day and the late-entry deadline, see ``bot/knowledge/intake.py``).
INTAKE = "intake"
INTAKE_CURRENT, INTAKE_NEXT = "en_cours", "suivante"
CHOICES[INTAKE] = (INTAKE_CURRENT, INTAKE_NEXT)
FOREIGN_DIPLOMA = "etranger"

#: The steps answered by typing, and whether their check is strict. A name or a
#: company name accepts nearly any words, so a question typed there must be caught
#: by other signs than a failed check (see :func:`is_question`).
TYPED: dict[str, bool] = {LAST_NAME: False, FIRST_NAME: False, BIRTH_DATE: True, EMAIL: True, PHONE: True,
                          COMPANY_NAME: False}
NAME_STEPS = (LAST_NAME, FIRST_NAME)

#: What the summary shows and lets the prospect correct, in order (``company`` covers its name).
SUMMARY_FIELDS: tuple[str, ...] = (LAST_NAME, FIRST_NAME, BIRTH_DATE, EMAIL, PHONE, DIPLOMA, SITUATION,
                                   COMPANY, HEARD)

#: Words of a deep-link source (``/start salon_2026``) -> the "how did you hear of us" choice.
SOURCE_WORDS: dict[str, str] = {
    "salon": "salon", "forum": "salon",
    "jpo": "portes_ouvertes", "portes": "portes_ouvertes", "portesouvertes": "portes_ouvertes",
    "site": "site_web", "web": "site_web", "google": "site_web",
    "insta": "reseaux_sociaux", "instagram": "reseaux_sociaux", "facebook": "reseaux_sociaux",
    "fb": "reseaux_sociaux", "tiktok": "reseaux_sociaux", "linkedin": "reseaux_sociaux",
    "snap": "reseaux_sociaux", "snapchat": "reseaux_sociaux", "youtube": "reseaux_sociaux",
    "twitter": "reseaux_sociaux", "reseaux": "reseaux_sociaux",
    "parcoursup": "parcoursup",
}

#: Words that make a message a question (after :func:`bot.matching.french.words`,
#: which already expands SMS spellings such as ``cb`` or ``koi``).
QUESTION_WORDS = frozenset({"combien", "comment", "pourquoi", "quand", "quel", "quelle", "quels", "quelles",
                            "quoi"})


def label_key(step: str, code: str) -> str:
    """The text key of a choice's button label, e.g. ``form.choix_diploma_bac_pro``."""
    return f"form.choix_{step}_{code}"


def is_required(step: str, data: dict[str, Any]) -> bool:
    """Whether ``step`` must be answered given the answers so far."""
    if step == COMPANY_NAME:
        return data.get(COMPANY) == COMPANY_FOUND
    return True


def next_step(data: dict[str, Any]) -> str:
    """The first field still to answer, or the summary when all are there."""
    for step in ORDER:
        if is_required(step, data) and not data.get(step):
            return step
    if INTAKE not in data:
        return INTAKE
    return SUMMARY


def position(step: str) -> tuple[int, int]:
    """(number, total) of a step for the progress shown to the prospect (1-based)."""
    shown = [s for s in ORDER if s != COMPANY_NAME]
    number = shown.index({COMPANY_NAME: COMPANY, INTAKE: HEARD}.get(step, step)) + 1
    return number, len(shown)


def validate(step: str, text: str, today: dt.date) -> ValidationResult:
    """Check a typed answer for ``step`` with :mod:`bot.registration.validators`."""
    if step in NAME_STEPS:
        return validators.validate_name(text)
    if step == BIRTH_DATE:
        return validators.validate_birth_date(text, today)
    if step == EMAIL:
        return validators.validate_email(text)
    if step == PHONE:
        return validators.validate_phone(text)
    if step == COMPANY_NAME:
        return validators.validate_company_name(text)
    raise ValueError(f"not a typed step: {step}")


def heard_from_source(source: str | None) -> str | None:
    """The "how did you hear of us" choice a deep-link source points to, if any."""
    if not source:
        return None
    for word in french.words(source.replace("_", " ").replace("-", " ")):
        for prefix, code in SOURCE_WORDS.items():
            if word == prefix or (len(prefix) >= 4 and word.startswith(prefix)):
                return code
    return None


def _words(text: str) -> list[str]:
    return [w for w in french.words(text) if any(c.isalpha() for c in w)]


def match_choice(text: str, labels: dict[str, str]) -> str | None:
    """The code whose label the typed ``text`` names (``"bac pro"``, ``"lycéen"``), if exactly one.

    A choice matches when every word typed is a word of its label (emoji, accents
    and the inclusive ``·e`` ignored); an exact label always wins.
    """
    typed = _words(text)
    if not typed:
        return None
    exact = [code for code, label in labels.items() if _words(label) == typed]
    if len(exact) == 1:
        return exact[0]
    found = [code for code, label in labels.items() if set(typed) <= set(_words(label))]
    return found[0] if len(found) == 1 else None


def word_count(text: str) -> int:
    """How many real words ``text`` has: two characters or more, with a letter.

    Numbers, punctuation and lone letters ("H&M", "c'est") do not count.
    """
    return sum(1 for w in _words(text) if len(w) >= 2)


def has_question_marks(text: str) -> bool:
    """A question mark at the end, or question words, in a message of two words or more."""
    words = _words(text)
    if word_count(text) < 2:
        return False
    folded = french.fold(text)
    return (text.rstrip().endswith("?") or any(w in QUESTION_WORDS for w in words)
            or "est-ce" in folded or "est ce" in folded or " où " in f" {text.lower()} ")


def is_question(step: str, text: str, valid: bool, faq_outcome: str | None) -> bool:
    """Whether a message typed at ``step`` is a question to answer rather than an answer.

    ``faq_outcome`` is what the FAQ would do with the text (``answered``,
    ``ambiguous``, ``fallback``, ``smalltalk``), or None when not computed.

    * two words or more with a ``?`` or a question word: a question, whatever the step
      ("c'est payé combien" is a valid name but not one);
    * two words or more the FAQ answers with confidence: a question when the check
      failed, or at a step where nearly any words pass the check (names, company:
      "le rythme" is not a surname); there, even a FAQ hesitating between two
      entries ("je sais pas") is taken for a question rather than stored;
    * a failed check ending with ``?`` ("rythme ?" typed for a date).
    """
    if has_question_marks(text):
        return True
    lenient = not TYPED.get(step, True)
    if word_count(text) >= 2 and (faq_outcome == "answered" and (not valid or lenient)
                                  or faq_outcome == "ambiguous" and lenient):
        return True
    return not valid and text.rstrip().endswith("?")
