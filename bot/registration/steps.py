"""The pre-registration form as data: its steps, their choices, and how to read a typed answer.

Why separate from the flow: the order of the questions, the button codes stored in
the database and the rules that tell an answer from a question are what the staff
and the tests reason about. Keeping them here, without any message or storage,
makes them easy to read and to change. The labels of the choices are texts
(``knowledge/texts/form.yaml``), named in the step's record (:class:`Field`).

Adding a field is adding one :class:`Field` to :data:`FIELDS` (its texts in
``form.yaml``, its column by a migration, its CSV column in ``bot/staff/csv_export.py``):
the order, the choices, the typed steps, the summary, the validation dispatch, the
staff's lead and the required text keys are derived from the records.

The next step is always computed from the answers (:func:`next_step`): the first
field still missing, or the summary. That makes a correction from the summary
(which only moves the step back) return to the summary by itself.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from bot.matching import french
from bot.registration import validators
from bot.registration.validators import ValidationResult

CONSENT = "consent"
SUMMARY = "summary"

#: The steps' names: keys of a draft's data and columns of ``registrations``.
LAST_NAME, FIRST_NAME, BIRTH_DATE, EMAIL, PHONE = "last_name", "first_name", "birth_date", "email", "phone"
DIPLOMA, SITUATION, COMPANY, COMPANY_NAME, HEARD = "diploma", "situation", "company", "company_name", "heard"
COMPANY_FOUND, COMPANY_SEARCHING = "trouvee", "recherche"
INTAKE = "intake"
INTAKE_CURRENT, INTAKE_NEXT = "en_cours", "suivante"
FOREIGN_DIPLOMA = "etranger"

#: A check of a typed answer, given today's date (the birth date's needs it).
Validator = Callable[[str, dt.date], ValidationResult]
#: How a stored value reads (summary, lead, ``/mesdonnees``; see ``display.py``) and goes in the CSV export.
Shown = Literal["text", "date", "phone", "choice", "company", "intake"]
Exported = Literal["plain", "phone", "label"]


@dataclass(frozen=True)
class Choice:
    """One button of a choice step: the code stored, the text key of its label."""

    code: str
    label: str


@dataclass(frozen=True)
class Field:
    """One step of the form, declared once: everything else is derived from :data:`FIELDS`.

    Text keys are whole literals, so the text-key inventory (``bot/knowledge/required.py``)
    finds them in the source and the loader requires them; ``name`` is also the draft's
    key and the column of ``registrations`` (a test checks the table has it).
    """

    name: str
    #: Text key of its question.
    ask: str
    #: Text key of its name in the summary, the staff's lead and ``/mesdonnees``; None when
    #: shown inside another field (the company's name under "Entreprise").
    label: str | None
    #: The check of a typed answer; None for a step answered with buttons.
    validator: Validator | None = None
    #: Whether nearly any words pass the check (names): then a question typed there must
    #: be caught by other signs than a failed check (see :func:`is_question`).
    lenient: bool = False
    choices: tuple[Choice, ...] = ()
    #: Asked in the order of :data:`FIELDS` (the intake is asked last, and only when two are possible).
    in_order: bool = True
    #: Shown in the summary, with a button to correct it.
    in_summary: bool = True
    buttons_per_row: int = 2
    shown: Shown = "text"
    exported: Exported = "plain"
    #: Text key of its column's title in the CSV export (``bot/staff/csv_export.py``).
    export_title: str = field(kw_only=True)

    @property
    def kind(self) -> str:
        """``typed`` (a validator checks the text) or ``choice`` (buttons)."""
        return "typed" if self.validator is not None else "choice"

    def codes(self) -> tuple[str, ...]:
        return tuple(choice.code for choice in self.choices)


def _text_only(check: Callable[[str], ValidationResult]) -> Validator:
    """A check that does not need today's date."""
    return lambda text, today: check(text)


#: The form, in the order it is asked (``company_name`` only after "found").
FIELDS: tuple[Field, ...] = (
    Field(LAST_NAME, "form.ask_last_name", "form.champ_last_name", _text_only(validators.validate_name),
          lenient=True, export_title="staff.colonne_last_name"),
    Field(FIRST_NAME, "form.ask_first_name", "form.champ_first_name", _text_only(validators.validate_name),
          lenient=True, export_title="staff.colonne_first_name"),
    Field(BIRTH_DATE, "form.ask_birth_date", "form.champ_birth_date", validators.validate_birth_date, shown="date",
          export_title="staff.colonne_birth_date"),
    Field(EMAIL, "form.ask_email", "form.champ_email", _text_only(validators.validate_email),
          export_title="staff.colonne_email"),
    Field(PHONE, "form.ask_phone", "form.champ_phone", _text_only(validators.validate_phone), shown="phone",
          exported="phone", export_title="staff.colonne_phone"),
    Field(DIPLOMA, "form.ask_diploma", "form.champ_diploma", choices=(
        Choice("bac_general", "form.choix_diploma_bac_general"),
        Choice("bac_techno", "form.choix_diploma_bac_techno"),
        Choice("bac_pro", "form.choix_diploma_bac_pro"),
        Choice("bac_en_cours", "form.choix_diploma_bac_en_cours"),
        Choice("bac_plus_2", "form.choix_diploma_bac_plus_2"),
        Choice(FOREIGN_DIPLOMA, "form.choix_diploma_etranger"),
        Choice("autre", "form.choix_diploma_autre"),
    ), shown="choice", exported="label", export_title="staff.colonne_diploma"),
    Field(SITUATION, "form.ask_situation", "form.champ_situation", choices=(
        Choice("lyceen", "form.choix_situation_lyceen"),
        Choice("etudiant", "form.choix_situation_etudiant"),
        Choice("demandeur_emploi", "form.choix_situation_demandeur_emploi"),
        Choice("salarie", "form.choix_situation_salarie"),
        Choice("autre", "form.choix_situation_autre"),
    ), shown="choice", exported="label", export_title="staff.colonne_situation"),
    Field(COMPANY, "form.ask_company", "form.champ_company", choices=(
        Choice(COMPANY_FOUND, "form.choix_company_trouvee"),
        Choice(COMPANY_SEARCHING, "form.choix_company_recherche"),
    ), buttons_per_row=1, shown="company", exported="label", export_title="staff.colonne_company"),
    Field(COMPANY_NAME, "form.ask_company_name", None, _text_only(validators.validate_company_name),
          lenient=True, in_summary=False, export_title="staff.colonne_company_name"),
    Field(HEARD, "form.ask_heard", "form.champ_heard", choices=(
        Choice("salon", "form.choix_heard_salon"),
        Choice("portes_ouvertes", "form.choix_heard_portes_ouvertes"),
        Choice("site_web", "form.choix_heard_site_web"),
        Choice("reseaux_sociaux", "form.choix_heard_reseaux_sociaux"),
        Choice("parcoursup", "form.choix_heard_parcoursup"),
        Choice("bouche_a_oreille", "form.choix_heard_bouche_a_oreille"),
        Choice("autre", "form.choix_heard_autre"),
    ), shown="choice", exported="label", export_title="staff.colonne_heard"),
    # The intake aimed at ("2026-2027"): the flow fills it by itself when only one intake is
    # possible today, and asks it (after the others) only when two are (between the start day
    # and the late-entry deadline, see ``bot/knowledge/intake.py``). It stores the years, not a code.
    Field(INTAKE, "form.ask_intake", "form.champ_intake", choices=(
        Choice(INTAKE_CURRENT, "form.choix_intake_en_cours"),
        Choice(INTAKE_NEXT, "form.choix_intake_suivante"),
    ), in_order=False, in_summary=False, shown="intake", export_title="staff.colonne_intake"),
)

#: Each field by its name.
BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
#: The steps asked in order (not the intake).
ORDER: tuple[str, ...] = tuple(f.name for f in FIELDS if f.in_order)
#: The steps answered with buttons, and the codes of their choices (stored as is).
CHOICES: dict[str, tuple[str, ...]] = {f.name: f.codes() for f in FIELDS if f.choices}
#: The steps answered by typing, and whether their check is strict.
TYPED: dict[str, bool] = {f.name: not f.lenient for f in FIELDS if f.validator is not None}
NAME_STEPS = (LAST_NAME, FIRST_NAME)
#: What the summary shows and lets the prospect correct, in order (``company`` covers its name).
SUMMARY_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.in_summary)
#: What the staff's lead shows: the summary and the intake.
SHOWN_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f.label is not None)

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
    """The text key of a choice's button label, e.g. ``form.choix_diploma_bac_pro``.

    A code no field declares (a row written by an older version) gives the code itself,
    which the renderer shows as is.
    """
    field = BY_NAME.get(step)
    return next((choice.label for choice in field.choices if choice.code == code), code) if field else code


def text_keys() -> frozenset[str]:
    """Every text key the form's records name (questions, labels, choices, validation messages)."""
    keys = {f.ask for f in FIELDS} | {f.label for f in FIELDS if f.label}
    keys |= {choice.label for f in FIELDS for choice in f.choices}
    return frozenset(keys | set(validators.TEXT_KEYS.values()))


def columns(data: dict[str, Any]) -> dict[str, Any]:
    """The answers as the columns of ``registrations`` (a missing answer is NULL)."""
    return {f.name: data.get(f.name) for f in FIELDS}


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
    """Check a typed answer for ``step`` with its field's validator."""
    check = BY_NAME[step].validator if step in BY_NAME else None
    if check is None:
        raise ValueError(f"not a typed step: {step}")
    return check(text, today)


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
