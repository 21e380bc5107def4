"""Tables of what prospects really type, and what the pre-registration form makes of it."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.registration.validators import (
    ALL_KEYS,
    COMPANY_MAX_LENGTH,
    NAME_MAX_LENGTH,
    Invalid,
    Valid,
    age_on,
    format_phone_for_humans,
    mentions_health,
    month_from_word,
    validate_birth_date,
    validate_company_name,
    validate_email,
    validate_name,
    validate_phone,
    validate_shared_contact,
)

TEXTS = Path(__file__).resolve().parent.parent / "knowledge" / "texts" / "validation.yaml"
TODAY = dt.date(2025, 6, 15)


def reason(result: Valid | Invalid) -> str | None:
    """The refusal key, or None when the answer was accepted."""
    return result.reason_key if isinstance(result, Invalid) else None


# ----------------------------------------------------------------------- results


def test_results_are_small_frozen_dataclasses() -> None:
    ok = Valid("Zoé")
    assert ok.value == "Zoé" and ok.note_key is None
    ko = Invalid("name_empty")
    assert ko.params == {}
    with pytest.raises(AttributeError):
        ok.value = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        ko.reason_key = "x"  # type: ignore[misc]


# ------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Zoé", "Zoé"),
        ("zoé", "Zoé"),
        ("ZOÉ", "Zoé"),
        ("N'Diaye", "N'Diaye"),
        ("N’Diaye", "N'Diaye"),  # iPhone curly apostrophe
        ("n'diaye", "N'Diaye"),
        ("N'DIAYE", "N'Diaye"),
        ("N' Diaye", "N'Diaye"),
        ("Jean-Édouard", "Jean-Édouard"),
        ("jean-édouard", "Jean-Édouard"),
        ("JEAN-ÉDOUARD", "Jean-Édouard"),
        ("Ó Briain", "Ó Briain"),
        ("ó briain", "Ó Briain"),
        ("Müller", "Müller"),
        ("MÜLLER", "Müller"),
        ("Lê", "Lê"),
        ("Le\u0302", "Lê"),  # decomposed accent, as some keyboards send it
        ("lê", "Lê"),
        ("jean-pierre", "Jean-Pierre"),
        ("Jean - Pierre", "Jean-Pierre"),
        ("Jean–Pierre", "Jean-Pierre"),  # en dash from autocorrect
        ("D'ARTAGNAN", "D'Artagnan"),
        ("o'brien", "O'Brien"),
        ("de la fontaine", "De La Fontaine"),
        ("dupont de ligonnès", "Dupont de Ligonnès"),
        ("van der berg", "Van der Berg"),
        ("jean-de-dieu", "Jean-de-Dieu"),
        ("ka'ahumanu", "Ka'ahumanu"),
        ("  Marie    Claire  ", "Marie Claire"),
        ("Dupont.", "Dupont"),  # full stop added by a double space on a phone
        ("Dupont\u00a0Martin", "Dupont Martin"),
        ("McDonald", "McDonald"),  # mixed case: the person's own capitals are kept
        ("DuPont", "DuPont"),
        ("de Gaulle", "de Gaulle"),
        ("Øyvind", "Øyvind"),
        ("Strauß", "Strauß"),
        ("Çelik", "Çelik"),
        ("Anaïs", "Anaïs"),
        ("Œdipe", "Œdipe"),
        ("Nguyễn", "Nguyễn"),
        ("Li", "Li"),
        ("𝐁𝐨𝐛", "Bob"),  # "fancy" mathematical letters from a font app
        ("Ａｌｉ", "Ali"),  # full-width letters
        ("a" * NAME_MAX_LENGTH, "A" + "a" * (NAME_MAX_LENGTH - 1)),
    ],
)
def test_name_accepted(typed: str, stored: str) -> None:
    assert validate_name(typed) == Valid(stored)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("", "name_empty"),
        ("   ", "name_empty"),
        ("...", "name_empty"),
        ("J3an", "name_digits"),
        ("Jean 2", "name_digits"),
        ("Jean²", "name_digits"),
        ("http://x.fr", "name_link"),
        ("www.dupont.fr", "name_link"),
        ("dupont.fr", "name_link"),
        ("jean@dupont", "name_link"),
        ("@jeandupont", "name_link"),
        ("<b>Bob</b>", "name_invalid_chars"),
        ("Bob>", "name_invalid_chars"),
        ("Jean_Pierre", "name_invalid_chars"),
        ("Jean/Pierre", "name_invalid_chars"),
        ("J.P. Dupont", "name_invalid_chars"),
        ('"Dupont"', "name_invalid_chars"),
        ("Zoé 😀", "name_invalid_chars"),
        ("❤️Zoé", "name_invalid_chars"),
        ("Zoé\u2800", "name_invalid_chars"),  # braille blank, an "invisible" trick
        ("-Dupont", "name_invalid_chars"),
        ("Dupont-", "name_invalid_chars"),
        ("'Dupont", "name_invalid_chars"),
        ("Jean--Pierre", "name_invalid_chars"),
        ("Jean-'Pierre", "name_invalid_chars"),
        ("-", "name_invalid_chars"),
        ("Jo\u200bhn", "text_hidden_chars"),  # zero-width space inside
        ("\ufeffDupont", "text_hidden_chars"),
        ("Dupont\u200d", "text_hidden_chars"),
        ("\u202eDupont", "text_hidden_chars"),  # right-to-left override
        ("Du\u00adpont", "text_hidden_chars"),  # soft hyphen
        ("Du\x00pont", "text_hidden_chars"),
        ("Иван", "name_not_latin"),
        ("محمد", "name_not_latin"),
        ("Zoé Ζωή", "name_not_latin"),
        ("a", "name_too_short"),
        ("A.", "name_too_short"),
        ("é", "name_too_short"),
        ("a" * 200, "name_too_long"),
        ("a" * (NAME_MAX_LENGTH + 1), "name_too_long"),
    ],
)
def test_name_refused(typed: str, key: str) -> None:
    assert reason(validate_name(typed)) == key


def test_name_refusal_names_the_offending_characters() -> None:
    assert validate_name("Bob 😀") == Invalid("name_invalid_chars", {"chars": ["😀"]})
    assert validate_name("Jo\u200bhn") == Invalid("text_hidden_chars", {"chars": ["U+200B"]})


# -------------------------------------------------------------------- birth date


@pytest.mark.parametrize(
    "typed",
    [
        "12/03/2007",
        "12-03-2007",
        "12.03.2007",
        "12 03 2007",
        "12 / 03 / 2007",
        "12/3/2007",
        "12/3/07",
        "12032007",
        "2007-03-12",
        "2007/03/12",
        "12 mars 2007",
        "12 Mars 2007",
        "12 MARS 2007",
        "12 mars 07",
        "12 mar 2007",
        "12 mars, 2007",
        "le 12 mars 2007",
        "Le 12/03/2007",
        "né le 12/03/2007",
        "Née le 12 mars 2007",
        "lundi 12 mars 2007",
        "12/03/2007.",
        " 12/03/2007 ",
        "12mars2007",
        "12-mars-2007",
        "12.mars.2007",
        "12 march 2007",
        "12 March 2007",
        "20070312",
        "12 marss 2007",  # typo
        "12 msrs 2007",
    ],
)
def test_birth_date_forms_of_12_march_2007(typed: str) -> None:
    assert validate_birth_date(typed, TODAY) == Valid(dt.date(2007, 3, 12))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1er mars 2007", dt.date(2007, 3, 1)),
        ("1 er mars 2007", dt.date(2007, 3, 1)),
        ("premier mars 2007", dt.date(2007, 3, 1)),
        ("1er janvier 2006", dt.date(2006, 1, 1)),
        ("3 janv. 2006", dt.date(2006, 1, 3)),
        ("3 jan 2006", dt.date(2006, 1, 3)),
        ("3 février 2006", dt.date(2006, 2, 3)),
        ("3 fevrier 2006", dt.date(2006, 2, 3)),
        ("3 FÉVRIER 2006", dt.date(2006, 2, 3)),
        ("3 fév 2006", dt.date(2006, 2, 3)),
        ("3 fev. 2006", dt.date(2006, 2, 3)),
        ("3 fevr 2006", dt.date(2006, 2, 3)),
        ("3 fevier 2006", dt.date(2006, 2, 3)),
        ("3 frevier 2006", dt.date(2006, 2, 3)),
        ("3 avr 2006", dt.date(2006, 4, 3)),
        ("3 avril 2006", dt.date(2006, 4, 3)),
        ("3 mai 2006", dt.date(2006, 5, 3)),
        ("3 juin 2006", dt.date(2006, 6, 3)),
        ("3 juil 2006", dt.date(2006, 7, 3)),
        ("3 juillet 2006", dt.date(2006, 7, 3)),
        ("3 juilet 2006", dt.date(2006, 7, 3)),
        ("3 août 2006", dt.date(2006, 8, 3)),
        ("3 aout 2006", dt.date(2006, 8, 3)),
        ("3 aoû 2006", dt.date(2006, 8, 3)),
        ("3 sept 2006", dt.date(2006, 9, 3)),
        ("3 sep 2006", dt.date(2006, 9, 3)),
        ("3 septembe 2006", dt.date(2006, 9, 3)),
        ("3 oct 2006", dt.date(2006, 10, 3)),
        ("3 ocotbre 2006", dt.date(2006, 10, 3)),
        ("3 nov 2006", dt.date(2006, 11, 3)),
        ("3 déc 2006", dt.date(2006, 12, 3)),
        ("3 dec 2006", dt.date(2006, 12, 3)),
        ("3 decmbre 2006", dt.date(2006, 12, 3)),
        ("3 décembre 2006", dt.date(2006, 12, 3)),
        ("31/12/2005", dt.date(2005, 12, 31)),
        ("20032007", dt.date(2007, 3, 20)),  # DDMMYYYY even though it starts with 20
        ("19052007", dt.date(2007, 5, 19)),
        ("20121995", dt.date(1995, 12, 20)),
        ("19991205", dt.date(1999, 12, 5)),  # YYYYMMDD
        ("٢٠/٠٣/٢٠٠٧", dt.date(2007, 3, 20)),  # Arabic-Indic digits
        ("05/06/98", dt.date(1998, 6, 5)),  # 98 > 25: 1998
        ("05/06/00", dt.date(2000, 6, 5)),  # 00 <= 25: 2000
        ("05/06/09", dt.date(2009, 6, 5)),
        ("29/02/2008", dt.date(2008, 2, 29)),  # leap year
        ("29 février 2004", dt.date(2004, 2, 29)),
        ("29/02/2000", dt.date(2000, 2, 29)),  # divisible by 400: leap
    ],
)
def test_birth_date_readings(typed: str, expected: dt.date) -> None:
    assert validate_birth_date(typed, TODAY).value == expected  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("31/02/2007", "date_impossible"),
        ("30/02/2008", "date_impossible"),
        ("29/02/2007", "date_impossible"),  # not a leap year
        ("29 février 2007", "date_impossible"),
        ("29/02/1900", "date_impossible"),  # divisible by 100, not by 400
        ("00/13/2007", "date_impossible"),
        ("00/03/2007", "date_impossible"),
        ("12/13/2007", "date_impossible"),
        ("03/31/2007", "date_impossible"),  # American order
        ("32/01/2007", "date_impossible"),
        ("31/04/2007", "date_impossible"),
        ("2007-02-30", "date_impossible"),
        ("32 mars 2007", "date_impossible"),
        ("0 mars 2007", "date_impossible"),
        ("demain", "date_format"),
        ("", "date_format"),
        ("12 foo 2007", "date_format"),
        ("12 jui 2007", "date_format"),  # juin or juillet?
        ("12/03/207", "date_format"),
        ("12/03/20071", "date_format"),
        ("12 mars 2007 ou 2008", "date_format"),
        ("12-03-2007 à 8h", "date_format"),
        ("2007", "date_incomplete"),
        ("17 ans", "date_incomplete"),
        ("17", "date_format"),
        ("12 mars", "date_incomplete"),
        ("mars 2007", "date_incomplete"),
        ("12/03", "date_incomplete"),
        ("16/06/2025", "date_implausible"),  # tomorrow
        ("15/06/2025", "date_implausible"),  # born today
        ("12/03/2030", "date_implausible"),
        ("12/03/26", "date_implausible"),  # 26 > 25: 1926, 99 years old
        ("12/03/1900", "date_implausible"),
        ("16/06/2011", "date_implausible"),  # 13 years old, 14 tomorrow
        ("15/06/1944", "date_implausible"),  # 81 today
        ("12/03/0000", "date_implausible"),
        ("12/03/0207", "date_implausible"),
    ],
)
def test_birth_date_refused(typed: str, key: str) -> None:
    assert reason(validate_birth_date(typed, TODAY)) == key


@pytest.mark.parametrize(
    ("birth", "today", "age"),
    [
        (dt.date(2007, 3, 12), dt.date(2025, 3, 11), 17),
        (dt.date(2007, 3, 12), dt.date(2025, 3, 12), 18),  # birthday today
        (dt.date(2007, 3, 12), dt.date(2025, 3, 13), 18),
        (dt.date(2008, 2, 29), dt.date(2024, 2, 28), 15),
        (dt.date(2008, 2, 29), dt.date(2024, 2, 29), 16),  # leap year: real birthday
        (dt.date(2008, 2, 29), dt.date(2025, 2, 28), 16),  # common year: not yet...
        (dt.date(2008, 2, 29), dt.date(2025, 3, 1), 17),  # ...on 1 March
        (dt.date(2000, 12, 31), dt.date(2025, 1, 1), 24),
        (dt.date(2000, 1, 1), dt.date(2024, 12, 31), 24),
    ],
)
def test_age_on(birth: dt.date, today: dt.date, age: int) -> None:
    assert age_on(birth, today) == age


@pytest.mark.parametrize(
    ("typed", "today", "note"),
    [
        # lower bound: 16 on the birthday, 15 the day before
        ("15/06/2009", dt.date(2025, 6, 15), None),
        ("16/06/2009", dt.date(2025, 6, 15), "age_outside_range"),
        ("14/06/2009", dt.date(2025, 6, 15), None),
        # upper bound: 29 until the day before the 30th birthday ("29 ans révolus")
        ("16/06/1995", dt.date(2025, 6, 15), None),
        ("15/06/1995", dt.date(2025, 6, 15), "age_outside_range"),
        ("14/06/1995", dt.date(2025, 6, 15), "age_outside_range"),
        # 29 February births
        ("29/02/2008", dt.date(2024, 2, 28), "age_outside_range"),  # 15
        ("29/02/2008", dt.date(2024, 2, 29), None),  # 16 today
        ("29/02/2008", dt.date(2025, 2, 28), None),  # 16
        ("29/02/2000", dt.date(2030, 2, 28), None),  # still 29
        ("29/02/2000", dt.date(2030, 3, 1), "age_outside_range"),  # 30
        # far from the bounds, still accepted
        ("12/03/2010", dt.date(2025, 6, 15), "age_outside_range"),  # 15
        ("15/06/2011", dt.date(2025, 6, 15), "age_outside_range"),  # 14 today
        ("12/03/1985", dt.date(2025, 6, 15), "age_outside_range"),  # 40
        ("16/06/1944", dt.date(2025, 6, 15), "age_outside_range"),  # 80
        ("12/03/2007", dt.date(2025, 6, 15), None),
    ],
)
def test_birth_date_age_note(typed: str, today: dt.date, note: str | None) -> None:
    result = validate_birth_date(typed, today)
    assert isinstance(result, Valid)
    assert result.note_key == note


@pytest.mark.parametrize(
    ("typed", "today", "expected"),
    [
        # 00 to today.year % 100 → 20xx, the rest → 19xx
        ("01/01/09", dt.date(2025, 6, 15), Valid(dt.date(2009, 1, 1))),
        ("01 01 10", dt.date(2026, 6, 15), Valid(dt.date(2010, 1, 1))),
        ("01/01/99", dt.date(2025, 6, 15), Valid(dt.date(1999, 1, 1))),
        ("01/01/95", dt.date(2025, 6, 15), Valid(dt.date(1995, 1, 1), "age_outside_range")),
        ("01/01/25", dt.date(2025, 6, 15), Invalid("date_implausible", {"age": 0})),  # 2025
        ("01/01/26", dt.date(2025, 6, 15), Invalid("date_implausible", {"age": 99})),  # 1926
        ("01/01/26", dt.date(2026, 6, 15), Invalid("date_implausible", {"age": 0})),  # 2026
        ("01/01/27", dt.date(2026, 6, 15), Invalid("date_implausible", {"age": 99})),  # 1927
    ],
)
def test_two_digit_year_pivots_on_today(typed: str, today: dt.date, expected: Valid | Invalid) -> None:
    assert validate_birth_date(typed, today) == expected


@pytest.mark.parametrize(
    ("word", "month"),
    [("janvier", 1), ("FÉVRIER", 2), ("mars", 3), ("mar", 3), ("mai", 5), ("aout", 8),
     ("août", 8), ("sept.", 9), ("novembre", 11), ("jui", None), ("ma", None), ("xyz", None),
     ("ans", None), ("juin", 6), ("juillet", 7)],
)
def test_month_from_word(word: str, month: int | None) -> None:
    assert month_from_word(word) == month


# ------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("jean.dupont@gmail.com", "jean.dupont@gmail.com"),
        ("  jean.dupont@gmail.com  ", "jean.dupont@gmail.com"),
        ("Jean.Dupont@GMAIL.COM", "Jean.Dupont@gmail.com"),
        ("jean.dupont@gmail.com.", "jean.dupont@gmail.com"),  # keyboard full stop
        ("mailto:jean@exemple.fr", "jean@exemple.fr"),
        ("zoé+bts@exemple.fr", "zoé+bts@exemple.fr"),
        ("jean@école.fr", "jean@école.fr"),
    ],
)
def test_email_accepted(typed: str, stored: str) -> None:
    assert validate_email(typed) == Valid(stored)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "jean",
        "jean.dupont",
        "jean@",
        "@gmail.com",
        "jean@gmail",
        "jean dupont@gmail.com",
        "jean@@gmail.com",
        "jean@gmail..com",
        "jean.@gmail.com",
        "<jean@gmail.com>",
        "Jean <jean@gmail.com>",
        "je\u200ban@gmail.com",
        "jean@gmail.com jean2@gmail.com",
    ],
)
def test_email_refused(typed: str) -> None:
    result = validate_email(typed)
    assert isinstance(result, Invalid)
    assert result.reason_key == "email_invalid"
    assert result.params["detail"]  # the library's explanation, for the logs


# ------------------------------------------------------------------------- phone


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("06-12-34-56-78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+33612345678", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("07 81 23 45 67", "+33781234567"),
        ("03 22 33 44 55", "+33322334455"),  # Amiens landline
        ("+32 470 12 34 56", "+32470123456"),
        ("+262 692 12 34 56", "+262692123456"),
        ("+44 7911 123456", "+447911123456"),
        ("０６１２３４５６７８", "+33612345678"),  # full-width digits
        ("c'est le 06 12 34 56 78", "+33612345678"),
        ("mon numéro : 06 12 34 56 78 merci", "+33612345678"),
    ],
)
def test_phone_accepted(typed: str, e164: str) -> None:
    assert validate_phone(typed) == Valid(e164)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "0612",
        "06 12 34 56 78 9",
        "06 12 34 56",
        "00 00 00 00 00",
        "+33 0 00 00 00 00",
        "12345",
        "+999 123 456 789",
        "pas de téléphone",
        "06 12 34 56 78 ou 07 81 23 45 67",
        "06 12 AB CD EF",
    ],
)
def test_phone_refused(typed: str) -> None:
    assert reason(validate_phone(typed)) == "phone_invalid"


def test_phone_region_is_used_for_national_numbers() -> None:
    assert validate_phone("0470 12 34 56", region="BE") == Valid("+32470123456")
    assert validate_phone("0470 12 34 56") == Valid("+33470123456")  # a landline near Lyon


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+33612345678", "06 12 34 56 78"),
        ("+33322334455", "03 22 33 44 55"),
        ("+262692123456", "0692 12 34 56"),  # La Réunion: dialed like a French number
        ("+32470123456", "+32 470 12 34 56"),
        ("+447911123456", "+44 7911 123456"),
        ("pas un numéro", "pas un numéro"),
    ],
)
def test_format_phone_for_humans(e164: str, shown: str) -> None:
    assert format_phone_for_humans(e164) == shown


@pytest.mark.parametrize(
    ("number", "contact_id", "sender_id", "expected"),
    [
        ("33612345678", 42, 42, Valid("+33612345678")),  # Telegram drops the "+"
        ("+33612345678", 42, 42, Valid("+33612345678")),
        ("32470123456", 42, 42, Valid("+32470123456")),
        ("0612345678", 42, 42, Valid("+33612345678")),
        (" 33612345678 ", 42, 42, Valid("+33612345678")),
        ("33612345678", 43, 42, Invalid("contact_not_own")),  # someone else's card
        ("33612345678", None, 42, Invalid("contact_not_own")),  # contact without Telegram
        ("336", 42, 42, "phone_invalid"),
    ],
)
def test_shared_contact(number: str, contact_id: int | None, sender_id: int, expected: object) -> None:
    result = validate_shared_contact(number, contact_id, sender_id)
    if isinstance(expected, str):
        assert reason(result) == expected
    else:
        assert result == expected


# ----------------------------------------------------------------------- company


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Carrefour Market", "Carrefour Market"),
        ("  Carrefour   Market\nAmiens ", "Carrefour Market Amiens"),
        ("H&M", "H&M"),
        ("L'Atelier d’Émilie", "L'Atelier d’Émilie"),  # typed apostrophes are kept as typed
        ("<b>Bob</b>", "<b>Bob</b>"),  # shown escaped, never interpreted
        ("Boulangerie <Chez Paul>", "Boulangerie <Chez Paul>"),
        ("Le Petit Café ☕", "Le Petit Café ☕"),
        ("Bricorama S.A.", "Bricorama S.A."),
        ("3M", "3M"),
        ("E.Leclerc", "E.Leclerc"),
        ("Ik", "Ik"),
        ("x" * COMPANY_MAX_LENGTH, "x" * COMPANY_MAX_LENGTH),
        ("Cafe\u0301 Noir", "Café Noir"),  # NFC
    ],
)
def test_company_accepted(typed: str, stored: str) -> None:
    assert validate_company_name(typed) == Valid(stored)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("", "company_too_short"),
        ("  ", "company_too_short"),
        ("A", "company_too_short"),
        ("x" * (COMPANY_MAX_LENGTH + 1), "company_too_long"),
        ("https://www.carrefour.fr", "company_link"),
        ("www.carrefour.fr", "company_link"),
        ("cdiscount.com", "company_link"),
        ("contact@boulangerie.fr", "company_link"),
        ("Carre\u200bfour", "text_hidden_chars"),
        ("\u202eruofrraC", "text_hidden_chars"),
        ("Carrefour\x07", "text_hidden_chars"),
        ("??", "company_invalid"),
        ("😀😀", "company_invalid"),
        ("--", "company_invalid"),
    ],
)
def test_company_refused(typed: str, key: str) -> None:
    assert reason(validate_company_name(typed)) == key


# ----------------------------------------------------------------------- health


@pytest.mark.parametrize(
    "text",
    [
        "je suis handicapé",
        "Je suis HANDICAPEE",
        "je suis en situation de handicap",
        "j'ai un handicap",
        "jai un andicap",
        "handicaap moteur",
        "hnadicap",
        "j'ai la RQTH",
        "dossier MDPH en cours",
        "dossier à la mdph",
        "je suis dyslexique",
        "Dyslexie",
        "dislexie",
        "dyspraxie",
        "je suis dys",
        "troubles dys",
        "dyscalculie",
        "TDAH",
        "j'ai un TDA/H",
        "trouble de l'attention",
        "mon fils est autiste",
        "autisme léger",
        "syndrome d'Asperger",
        "une maladie chronique",
        "je suis malade",
        "arrêt maladie",
        "diabète de type 1",
        "je suis diabétique",
        "épilepsie",
        "epileptique",
        "j'avais une AESH",
        "j'ai un PAI",
        "PAP au lycée",
        "j'ai besoin d'aménagements",
        "aménagement d'examen",
        "j'avais un aménagement",
        "tiers temps",
        "tiers-temps aux examens",
        "tier temps",
        "je suis malvoyante",
        "mal voyant",
        "je suis sourd",
        "sourde",
        "malentendant",
        "asthme",
        "hyperactif",
        "pour raisons de santé",
        "problème de santé",
        "fauteuil roulant",
        "♿",
        "j'étais en ULIS",
        "je travaille dans un ESAT",
        "en dépression",
        "hospitalisée en mai",
        "trisomie 21",
    ],
)
def test_mentions_health(text: str) -> None:
    assert mentions_health(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Dupont",
        "Carrefour Market",
        "la boutique",
        "dysfonctionnement de la caisse",
        "je suis maladroit",
        "je suis artiste",
        "une salade",
        "une balade",
        "aménagement de l'espace de vente",
        "l'aménagement du magasin",
        "aménagement du rayon",
        "le handball",
        "j'ai l'impression que oui",
        "Aah d'accord",
        "12/03/2007",
        "jean.dupont@gmail.com",
        "06 12 34 56 78",
        "je cherche une entreprise",
        "je suis en terminale STMG",
        "je veux faire un BTS MCO",
        "j'ai le permis",
        "mon tiers payant",
        "les temps partiels",
        "sourire",
        "c'est pas mal",
        "La Maladrerie",  # an Amiens neighbourhood
        "paie",
        "l'épilation",
        "mon style",
        "le sourcil",
        "une prime",
    ],
)
def test_does_not_mention_health(text: str) -> None:
    assert mentions_health(text) is False


# ------------------------------------------------------------------------ texts


def _texts() -> dict[str, str]:
    with TEXTS.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_every_key_has_a_text_and_no_text_is_orphaned() -> None:
    texts = _texts()
    assert set(texts) == set(ALL_KEYS)
    for key, text in texts.items():
        assert isinstance(text, str) and text.strip(), key
        assert "{" not in text, f"{key}: the bot does not fill placeholders in these texts"


def test_texts_state_the_limits_of_the_code() -> None:
    texts = _texts()
    assert str(NAME_MAX_LENGTH) in texts["name_too_long"]
    assert str(COMPANY_MAX_LENGTH) in texts["company_too_long"]
    assert "16" in texts["age_outside_range"] and "29" in texts["age_outside_range"]


@pytest.mark.parametrize(
    "result",
    [
        validate_name("J3an"),
        validate_name("a"),
        validate_birth_date("31/02/2007", TODAY),
        validate_birth_date("n'importe quoi", TODAY),
        validate_email("jean"),
        validate_phone("0612"),
        validate_shared_contact("33612345678", 1, 2),
        validate_company_name("A"),
    ],
)
def test_refusals_use_known_keys(result: Valid | Invalid) -> None:
    assert isinstance(result, Invalid)
    assert result.reason_key in ALL_KEYS
