"""Checks for each field of the pre-registration form, one typed answer at a time.

Why this module exists: prospects answer on a phone, in casual French, with
autocorrect, smart quotes, copy-pasted invisible characters and the odd emoji. The
school needs clean, comparable values (a real date, an E.164 phone number, a name
as it would appear on a list) and the prospect needs to be told precisely what to
fix. So every validator here is a pure function of the typed text (plus ``today``
where age matters): it returns :class:`Valid` with the cleaned value, or
:class:`Invalid` with a *key* into ``knowledge/texts/validation.yaml``. No French
sentence, no Telegram object and no database live here, which keeps all of it
testable with plain tables of inputs.

:func:`mentions_health` is the odd one out: it does not validate a field, it lets
the bot refuse to *store* an answer that reveals a disability or a health
condition (sensitive data under the GDPR) and point the prospect to the
disability contact instead.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import email_validator
import phonenumbers
from rapidfuzz.distance import OSA

from bot.matching.health import mentions_health  # noqa: F401  (moved: the conversation reads it too)

T = TypeVar("T")

# --------------------------------------------------------------------------- keys
# Every key below must exist in knowledge/texts/validation.yaml (a test checks it).

NAME_EMPTY = "name_empty"
NAME_TOO_SHORT = "name_too_short"
NAME_TOO_LONG = "name_too_long"
NAME_DIGITS = "name_digits"
NAME_LINK = "name_link"
NAME_INVALID_CHARS = "name_invalid_chars"
NAME_NOT_LATIN = "name_not_latin"
TEXT_HIDDEN_CHARS = "text_hidden_chars"
DATE_FORMAT = "date_format"
DATE_INCOMPLETE = "date_incomplete"
DATE_IMPOSSIBLE = "date_impossible"
DATE_IMPLAUSIBLE = "date_implausible"
AGE_OUTSIDE_RANGE = "age_outside_range"
EMAIL_INVALID = "email_invalid"
PHONE_INVALID = "phone_invalid"
CONTACT_NOT_OWN = "contact_not_own"
COMPANY_TOO_SHORT = "company_too_short"
COMPANY_TOO_LONG = "company_too_long"
COMPANY_LINK = "company_link"
COMPANY_INVALID = "company_invalid"

#: The text of each reason/note key, as a whole literal (the text-key inventory reads them).
TEXT_KEYS: dict[str, str] = {
    NAME_EMPTY: "validation.name_empty",
    NAME_TOO_SHORT: "validation.name_too_short",
    NAME_TOO_LONG: "validation.name_too_long",
    NAME_DIGITS: "validation.name_digits",
    NAME_LINK: "validation.name_link",
    NAME_INVALID_CHARS: "validation.name_invalid_chars",
    NAME_NOT_LATIN: "validation.name_not_latin",
    TEXT_HIDDEN_CHARS: "validation.text_hidden_chars",
    DATE_FORMAT: "validation.date_format",
    DATE_INCOMPLETE: "validation.date_incomplete",
    DATE_IMPOSSIBLE: "validation.date_impossible",
    DATE_IMPLAUSIBLE: "validation.date_implausible",
    AGE_OUTSIDE_RANGE: "validation.age_outside_range",
    EMAIL_INVALID: "validation.email_invalid",
    PHONE_INVALID: "validation.phone_invalid",
    CONTACT_NOT_OWN: "validation.contact_not_own",
    COMPANY_TOO_SHORT: "validation.company_too_short",
    COMPANY_TOO_LONG: "validation.company_too_long",
    COMPANY_LINK: "validation.company_link",
    COMPANY_INVALID: "validation.company_invalid",
}

ALL_KEYS: frozenset[str] = frozenset(TEXT_KEYS)
"""Every reason/note key a validator of this module can return."""

NAME_MAX_LENGTH = 60
COMPANY_MIN_LENGTH = 2
COMPANY_MAX_LENGTH = 100
AGE_MIN, AGE_MAX = 16, 29  # the apprenticeship's normal range, bounds included ("29 ans révolus")
PLAUSIBLE_AGE_MIN, PLAUSIBLE_AGE_MAX = 14, 80  # outside this, the date is surely a typo


# ------------------------------------------------------------------------ results


@dataclass(frozen=True)
class Valid(Generic[T]):
    """The answer is accepted; ``value`` is what to store.

    ``note_key``, when set, names a message the bot shows *before carrying on*
    (e.g. ``age_outside_range``); it never blocks the form.
    """

    value: T
    note_key: str | None = None


@dataclass(frozen=True)
class Invalid:
    """The answer is refused; ``reason_key`` names the message that says what to fix.

    ``params`` carries details for logs or tests (the offending characters, the
    library's explanation...); the prospect only ever sees the keyed message.
    """

    reason_key: str
    params: dict[str, Any] = field(default_factory=dict)


ValidationResult = Valid[Any] | Invalid


# ------------------------------------------------------------------ shared helpers

_WHITESPACE = re.compile(r"\s+")
_LINK = re.compile(
    r"@|://|\bwww\.|\b[\w-]+\.(?:fr|com|net|org|eu|be|ch|io|co|me|info|biz|ly|gg|app|dev|xyz|tv)\b",
    re.IGNORECASE,
)
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})


def _collapse_spaces(text: str) -> str:
    """Every run of whitespace (incl. newlines, no-break spaces) becomes one space; ends stripped."""
    return _WHITESPACE.sub(" ", text).strip()


def _hidden_chars(text: str) -> list[str]:
    """Code points of control, format (zero-width, bidi), private-use or unassigned characters."""
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in _INVISIBLE_CATEGORIES]


def _looks_like_link(text: str) -> bool:
    """An e-mail address, a URL or a bare domain name such as ``exemple.fr``."""
    return _LINK.search(text) is not None


def _strip_accents(text: str) -> str:
    """``Février`` → ``Fevrier``: decompose, then drop the combining marks."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --------------------------------------------------------------------------- names
#
# Rules (same function for the last name and the first name):
# * Apostrophe look-alikes (’ ‘ ʼ ` ´ ′) become the ASCII ', dash look-alikes (‐ ‑ – — −)
#   become the ASCII -, then the text is NFKC-normalized (so a decomposed "Lê" or
#   full-width letters become ordinary ones) and whitespace is collapsed. Trailing
#   dots are dropped (phones add one after a double space). Spaces around - and '
#   are removed: "Jean - Pierre" → "Jean-Pierre", "N' Diaye" → "N'Diaye".
# * Allowed: Latin letters (any accent, ø, ß, æ, œ...), combining accents, -, ' and
#   single spaces between letter groups. Two letters at least, 60 characters at most.
# * Capitalization is the person's own unless the name is entirely lower or entirely
#   upper case; then it is rebuilt: each word and each hyphenated part gets a capital
#   ("jean-pierre" → "Jean-Pierre", "MÜLLER" → "Müller"), so does the letter after
#   a one-letter elision ("D'ARTAGNAN" → "D'Artagnan", "n'diaye" → "N'Diaye",
#   "o'brien" → "O'Brien") but not after a longer one ("ka'ahumanu" → "Ka'ahumanu").
#   Particles (de, des, du, d', van, von, der, den, ten, ter, zu, y) stay lower case
#   except as the very first word, which is always capitalized as it heads the field
#   in a list: "de la fontaine" → "De La Fontaine", "dupont de ligonnès" →
#   "Dupont de Ligonnès", "van der berg" → "Van der Berg", "jean-de-dieu" → "Jean-de-Dieu".

_APOSTROPHE_LOOKALIKES = "’‘ʼ`´′"
_DASH_LOOKALIKES = "‐‑‒–—−"
_NAME_TRANSLATION = str.maketrans(
    {**{c: "'" for c in _APOSTROPHE_LOOKALIKES}, **{c: "-" for c in _DASH_LOOKALIKES}}
)
_SPACES_AROUND_SEPARATORS = re.compile(r" ?([-']) ?")
_NAME_PARTICLES = frozenset({"de", "des", "du", "d", "van", "von", "der", "den", "ten", "ter", "zu", "y"})


def _is_latin_letter(c: str) -> bool:
    return c.isalpha() and "LATIN" in unicodedata.name(c, "")


def _is_name_accent(c: str) -> bool:
    """Combining diacritics that survive NFC (e.g. some Vietnamese or Yoruba accents)."""
    return unicodedata.combining(c) != 0 and ("\u0300" <= c <= "\u036f" or "\u1dc0" <= c <= "\u1dff")


def _clean_name_text(text: str) -> str:
    cleaned = unicodedata.normalize("NFKC", text.translate(_NAME_TRANSLATION))
    cleaned = _collapse_spaces(cleaned)
    return cleaned.rstrip(". ")


def _name_characters_problem(name: str) -> Invalid | None:
    """Refuses digits, symbols, emoji and non-Latin letters; ``None`` when every character is fine."""
    digits = sorted({c for c in name if unicodedata.category(c).startswith("N")})
    if digits:
        return Invalid(NAME_DIGITS, {"chars": digits})
    symbols: set[str] = set()
    foreign: set[str] = set()
    previous = ""
    for c in name:
        if _is_latin_letter(c) or c in "-' " or (_is_name_accent(c) and previous.isalpha()):
            pass
        elif c.isalpha():
            foreign.add(c)
        else:
            symbols.add(c)
        previous = c if not unicodedata.combining(c) else previous
    if symbols:
        return Invalid(NAME_INVALID_CHARS, {"chars": sorted(symbols)})
    if foreign:
        return Invalid(NAME_NOT_LATIN, {"chars": sorted(foreign)})
    return None


def _badly_placed_separator(name: str) -> bool:
    """A name starts and ends with a letter and never has two separators in a row."""
    if name[0] in "-'" or name[-1] in "-'":
        return True
    return re.search(r"[-' ]{2,}", name) is not None


def _capitalize(part: str) -> str:
    return part[:1].upper() + part[1:].lower()


def _recase_word(word: str, first: bool) -> str:
    """Recase one hyphen-free, space-free chunk such as ``d'artagnan`` or ``dupont``."""
    segments = word.split("'")
    out: list[str] = []
    for index, segment in enumerate(segments):
        if index == 0:
            is_particle = segment.lower() in _NAME_PARTICLES
            out.append(segment.lower() if is_particle and not first else _capitalize(segment))
        elif len(segments[index - 1]) == 1:
            out.append(_capitalize(segment))
        else:
            out.append(segment.lower())
    return "'".join(out)


def _recase_name(name: str) -> str:
    """Rebuilds the capitals of an all-lower or all-upper name (rules in the comment above)."""
    words: list[str] = []
    for word_index, word in enumerate(name.split(" ")):
        parts = [
            _recase_word(part, first=(word_index == 0 and part_index == 0))
            for part_index, part in enumerate(word.split("-"))
        ]
        words.append("-".join(parts))
    return " ".join(words)


def _needs_recasing(name: str) -> bool:
    letters = [c for c in name if c.isalpha()]
    return not (any(c.isupper() for c in letters) and any(c.islower() for c in letters))


def validate_name(text: str) -> ValidationResult:
    """Checks and tidies a last name or a first name (one at a time).

    Returns ``Valid(str)`` with the cleaned name (ASCII apostrophe, single spaces,
    capitals rebuilt only if the name was typed all lower or all upper case), or
    ``Invalid`` with one of ``name_empty``, ``text_hidden_chars``, ``name_link``,
    ``name_too_long``, ``name_digits``, ``name_invalid_chars``, ``name_not_latin``,
    ``name_too_short``.
    """
    name = _clean_name_text(text)
    if not name:
        return Invalid(NAME_EMPTY)
    hidden = _hidden_chars(name)
    if hidden:
        return Invalid(TEXT_HIDDEN_CHARS, {"chars": hidden})
    if _looks_like_link(name):
        return Invalid(NAME_LINK)
    if len(name) > NAME_MAX_LENGTH:
        return Invalid(NAME_TOO_LONG, {"max": NAME_MAX_LENGTH, "length": len(name)})
    problem = _name_characters_problem(name)
    if problem is not None:
        return problem
    name = _SPACES_AROUND_SEPARATORS.sub(r"\1", name)
    if _badly_placed_separator(name):
        return Invalid(NAME_INVALID_CHARS, {"chars": []})
    if sum(1 for c in name if c.isalpha()) < 2:
        return Invalid(NAME_TOO_SHORT)
    if _needs_recasing(name):
        name = _recase_name(name)
    return Valid(name)


# --------------------------------------------------------------------- birth date
#
# Accepted shapes (day always before month, as in France):
#   12/03/2007  12-03-2007  12.03.2007  12 03 2007  12/3/07  12032007
#   2007-03-12 and 20070312 (ISO, year first)
#   12 mars 2007  12 mars 07  1er mars 2007  premier mars 2007  12 fév. 2007  12-mars-2007
#   with optional "le", "né(e) le" or a weekday in front.
# Month names: accents optional, any case, abbreviations (janv, fev, fevr, avr, juil,
# aou, sept, sep, oct, nov, dec...) as any unambiguous prefix of three letters or
# more, typos at one edit (two for words of six letters or more, e.g. "fevier",
# "septembe", "ocotbre", "decmbre"), and the English names spelled exactly.
# Two-digit years: 00 to (today.year % 100) mean 20xx, the others 19xx; with
# today in 2025, "07" is 2007 and "98" is 1998 (and "25" is 2025, then refused as
# implausible).
# Age is counted in completed years; someone born on 29 February has their
# birthday on 1 March in common years (the usual French reading).

_MONTHS = (
    "janvier", "fevrier", "mars", "avril", "mai", "juin",
    "juillet", "aout", "septembre", "octobre", "novembre", "decembre",
)
_MONTH_ALIASES = {
    "sep": 9, "sept": 9, "fev": 2, "fevr": 2, "jan": 1, "janv": 1, "dec": 12,
    # English names, exact only (a phone set to English autocorrects to them)
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}
_WEEKDAYS = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
_DATE_PREFIX = re.compile(
    rf"^(?:je suis )?(?:(?:nee?|ne\(e\))\s+)?(?:le\s+)?(?:{_WEEKDAYS}\s+)?"
)
_ISO = re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})\s*[-/. ]\s*(\d{1,2})\s*[-/. ]\s*(\d+)")
_COMPACT = re.compile(r"(\d{2})(\d{2})(\d{4})")
_TEXTUAL = re.compile(r"(\d{1,2}|premier)\s*(?:er|ere|eme|e)?[\s/.-]*([a-z]+)[\s/.-]*(\d+)")
# Something date-like but missing a part: an age, a lone year, a day and month, a month and year.
_INCOMPLETE = re.compile(
    r"\d{1,3}\s*ans?|\d{4}|(?:\d{1,2}|premier)\s*(?:er)?\s*[a-z]+"
    r"|[a-z]+\.?\s*\d{2,4}|\d{1,2}\s*[-/. ]\s*\d{1,2}"
)


def _normalize_date_text(text: str) -> str:
    folded = _strip_accents(unicodedata.normalize("NFKC", text)).casefold()
    folded = _collapse_spaces(folded.replace(",", " ")).rstrip(". ")
    return _DATE_PREFIX.sub("", folded, count=1).strip()


def month_from_word(word: str) -> int | None:
    """The month number (1–12) of a French month name, abbreviation or near-typo; ``None`` if unsure."""
    word = _strip_accents(word).casefold().rstrip(".")
    if word in _MONTHS:
        return _MONTHS.index(word) + 1
    if word in _MONTH_ALIASES:
        return _MONTH_ALIASES[word]
    if len(word) >= 3:
        prefixed = [i for i, name in enumerate(_MONTHS) if name.startswith(word)]
        if len(prefixed) == 1:
            return prefixed[0] + 1
        if len(prefixed) > 1:  # "jui": juin or juillet?
            return None
    allowed = 1 if len(word) < 6 else 2
    distances = [OSA.distance(word, name) for name in _MONTHS]
    best = min(distances)
    if len(word) >= 3 and best <= allowed and distances.count(best) == 1:
        return distances.index(best) + 1
    return None


def _expand_year(year_text: str, today: dt.date) -> int | None:
    """Four digits as they are; two digits pivoting on ``today``'s year; anything else is unreadable."""
    if len(year_text) == 4:
        return int(year_text)
    if len(year_text) == 2:
        short = int(year_text)
        return 2000 + short if short <= today.year % 100 else 1900 + short
    return None


def _parse_date_parts(text: str, today: dt.date) -> tuple[int, int, int] | None:
    """(year, month, day) read from the normalized text, not yet checked for existence."""
    if match := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
        return year, month, day
    if _COMPACT.fullmatch(text) and text[:2] in ("19", "20") and text[4:6] not in ("19", "20"):
        return int(text[:4]), int(text[4:6]), int(text[6:])  # 20070312, year first
    match = _NUMERIC.fullmatch(text) or _COMPACT.fullmatch(text)
    if match:
        day_text, month_text, year_text = match.groups()
        year = _expand_year(year_text, today)
        return None if year is None else (year, int(month_text), int(day_text))
    if match := _TEXTUAL.fullmatch(text):
        day_text, month_word, year_text = match.groups()
        month = month_from_word(month_word)
        year = _expand_year(year_text, today)
        if month is None or year is None:
            return None
        return year, month, 1 if day_text == "premier" else int(day_text)
    return None


def age_on(birth: dt.date, today: dt.date) -> int:
    """Completed years on ``today``; a 29 February birthday falls on 1 March in common years."""
    had_birthday = (today.month, today.day) >= (birth.month, birth.day)
    return today.year - birth.year - (0 if had_birthday else 1)


def validate_birth_date(text: str, today: dt.date) -> ValidationResult:
    """Reads a birth date typed in any usual French way and checks it against ``today``.

    Returns ``Valid(datetime.date)``, with ``note_key="age_outside_range"`` when the
    age is outside 16–29 (the applicant is never refused for their age), or
    ``Invalid`` with ``date_format`` (unreadable), ``date_incomplete`` (a year, an
    age, a day without year...), ``date_impossible`` (31/02, month 13...) or
    ``date_implausible`` (in the future, younger than 14 or older than 80).
    """
    normalized = _normalize_date_text(text)
    parts = _parse_date_parts(normalized, today)
    if parts is None:
        reason = DATE_INCOMPLETE if _INCOMPLETE.fullmatch(normalized) else DATE_FORMAT
        return Invalid(reason)
    year, month, day = parts
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return Invalid(DATE_IMPOSSIBLE, {"day": day, "month": month, "year": year})
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        return Invalid(DATE_IMPLAUSIBLE, {"year": year})
    try:
        birth = dt.date(year, month, day)
    except ValueError:
        return Invalid(DATE_IMPOSSIBLE, {"day": day, "month": month, "year": year})
    if birth > today:
        return Invalid(DATE_IMPLAUSIBLE, {"future": True})
    age = age_on(birth, today)
    if not PLAUSIBLE_AGE_MIN <= age <= PLAUSIBLE_AGE_MAX:
        return Invalid(DATE_IMPLAUSIBLE, {"age": age})
    if not AGE_MIN <= age <= AGE_MAX:
        return Valid(birth, note_key=AGE_OUTSIDE_RANGE)
    return Valid(birth)


# -------------------------------------------------------------------------- e-mail


def validate_email(text: str) -> ValidationResult:
    """Checks the syntax of an e-mail address (no DNS lookup, no network).

    Surrounding spaces, a ``mailto:`` prefix and a final dot (added by phone
    keyboards) are dropped first. Returns ``Valid(str)`` with the address as
    normalized by ``email_validator`` (domain lower-cased, Unicode normalized), or
    ``Invalid("email_invalid", {"detail": <the library's English explanation>})``.
    """
    candidate = text.strip()
    if candidate.casefold().startswith("mailto:"):
        candidate = candidate[len("mailto:"):].strip()
    if "@" in candidate:
        candidate = candidate.rstrip(".")
    try:
        result = email_validator.validate_email(candidate, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        return Invalid(EMAIL_INVALID, {"detail": str(error)})
    return Valid(result.normalized)


# --------------------------------------------------------------------------- phone
#
# A phone answer is the number alone ("06 12 34 56 78", "+33 6 12 34 56 78",
# "0033 6...", "06.12.34.56.78", "+33 (0)6...") or a short sentence holding exactly
# one number ("c'est le 06 12 34 56 78"). Numbers without "+" or "00" are read as
# numbers of ``region`` (France by default). Two numbers in one answer are refused:
# the bot cannot guess which one to keep.

_PHONE_ONLY = re.compile(r"\+?[\d\s().\-/]+")
# France and the overseas departments that share its national dialing (0 prefix).
_FRENCH_NUMBERING_REGIONS = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"})


def _parse_phone(text: str, region: str) -> phonenumbers.PhoneNumber | Invalid:
    if _PHONE_ONLY.fullmatch(text):
        try:
            return phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException as error:
            return Invalid(PHONE_INVALID, {"detail": str(error)})
    found = [m.number for m in phonenumbers.PhoneNumberMatcher(text, region)]
    if len(found) == 1:
        return found[0]
    return Invalid(PHONE_INVALID, {"detail": f"{len(found)} numbers found in the text"})


def validate_phone(text: str, region: str = "FR") -> ValidationResult:
    """Checks a typed phone number with ``phonenumbers`` (metadata only, no network).

    Returns ``Valid(str)`` with the number in E.164 (``+33612345678``) or
    ``Invalid("phone_invalid", {"detail": ...})``.
    """
    candidate = _collapse_spaces(unicodedata.normalize("NFKC", text))
    if not candidate:
        return Invalid(PHONE_INVALID, {"detail": "empty"})
    parsed = _parse_phone(candidate, region)
    if isinstance(parsed, Invalid):
        return parsed
    if not phonenumbers.is_valid_number(parsed):
        return Invalid(PHONE_INVALID, {"detail": "not a valid number"})
    return Valid(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def format_phone_for_humans(e164: str) -> str:
    """``+33612345678`` → ``06 12 34 56 78``; foreign numbers in international format.

    French overseas numbers (Réunion, Guadeloupe...) also get the national format,
    which is how they are dialed from France. Text that is not a number comes back
    unchanged.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = phonenumbers.region_code_for_number(number)
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region in _FRENCH_NUMBERING_REGIONS
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def validate_shared_contact(
    phone_number: str, contact_user_id: int | None, sender_user_id: int
) -> ValidationResult:
    """Accepts a contact shared through Telegram only if it is the sender's own.

    Telegram's "share my number" button sends a contact whose ``user_id`` is the
    sender's; any other contact (someone from the address book, or a contact with
    no Telegram account, ``None``) gives ``Invalid("contact_not_own")``. The number
    is then checked like a typed one; Telegram often sends it in international
    form without the "+" (``33612345678``), which is restored here.
    """
    if contact_user_id is None or contact_user_id != sender_user_id:
        return Invalid(CONTACT_NOT_OWN)
    number = phone_number.strip()
    if number and number[0].isdigit() and not number.startswith("0"):
        number = "+" + number
    return validate_phone(number)


# ------------------------------------------------------------------------- company
#
# A company name is free text: "Carrefour Market", "L'Atelier d'Émilie", "H&M",
# "Boulangerie <Chez Paul>". It is returned as typed (NFC, single spaces) and may
# contain anything printable, symbols and emoji included, because the front ends
# escape every prospect-typed text before display. Refused: fewer than 2 or more
# than 100 characters, invisible characters (control, zero-width, bidi), links,
# e-mail addresses and bare domains ("cdiscount.com": the staff want a name), and
# text without a single letter or digit.


def validate_company_name(text: str) -> ValidationResult:
    """Checks a host company's name; returns ``Valid(str)`` with the tidied text.

    Reasons: ``text_hidden_chars``, ``company_link``, ``company_too_short``,
    ``company_too_long``, ``company_invalid`` (no letter or digit at all).
    """
    name = _collapse_spaces(unicodedata.normalize("NFC", text))
    hidden = _hidden_chars(name)
    if hidden:
        return Invalid(TEXT_HIDDEN_CHARS, {"chars": hidden})
    if _looks_like_link(name):
        return Invalid(COMPANY_LINK)
    if len(name) < COMPANY_MIN_LENGTH:
        return Invalid(COMPANY_TOO_SHORT, {"min": COMPANY_MIN_LENGTH})
    if len(name) > COMPANY_MAX_LENGTH:
        return Invalid(COMPANY_TOO_LONG, {"max": COMPANY_MAX_LENGTH, "length": len(name)})
    if not any(c.isalnum() for c in name):
        return Invalid(COMPANY_INVALID)
    return Valid(name)
