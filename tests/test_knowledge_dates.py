"""Every answer true on the day it is read (issue 11).

The main test renders every entry and every computed date text of the real
``knowledge/`` on days from October 2025 to December 2027 (the 1st and 15th of each
month, plus the day before, of and after every date in the base), for a plain
question and for questions about the next intake, and fails on what a prospect must
never read: a ``{placeholder}``, "1 jours", a phone or e-mail twice, "cette année"
about a past year, a past date presented as coming, a line repeated, an answer too
long without a reason written in the entry.
"""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.knowledge.intake import intake_of, possible_years, year_asked
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import KnowledgeBase
from bot.knowledge.render import MONTHS, Renderer
from bot.knowledge.store import Loaded

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES, MAX_CHARS = 6, 700
CONTACT_FACTS = ("tel_standard", "email_campus", "tel_mobile_responsable", "tel_referente_handicap")
QUESTIONS = ("", "et pour la rentrée de l'an prochain ?", "pour la rentrée 2027 ?", "la rentrée 2026 ?")
#: Words that say a date is behind us (a past date may appear only next to one of them).
PAST_MARKERS = ("a eu lieu", "est passée", "sont passées", "allaient", "sont closes", "portent sur",
                "touche à sa fin")
#: Words that present a date as still ahead.
FUTURE_MARKERS = ("dans ", "demain", "Prochaines", "jusqu'au", "Rentrée ", "aujourd'hui")
DATE_IN_TEXT = re.compile(r"\b(1er|\d{1,2}) (" + "|".join(MONTHS) + r") (\d{4})\b")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    base, problems = load_knowledge(ROOT / "knowledge")
    assert not problems, problems
    return base


def days_to_check(kb: KnowledgeBase) -> list[dt.date]:
    """The 1st and 15th of each month of Oct 2025 - Dec 2027, and around each date of the base."""
    days = {dt.date(year, month, d) for year in (2025, 2026, 2027) for month in range(1, 13) for d in (1, 15)}
    days = {d for d in days if dt.date(2025, 10, 1) <= d <= dt.date(2027, 12, 31)}
    known = [v for v in kb.facts.values() if isinstance(v, dt.date)] + [o.date for o in kb.open_days]
    for day in known:
        days |= {day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)}
    return sorted(days)


def dates_in(line: str) -> list[dt.date]:
    found = []
    for number, month, year in DATE_IN_TEXT.findall(line):
        found.append(dt.date(int(year), MONTHS.index(month) + 1, 1 if number == "1er" else int(number)))
    return found


def faults(kb: KnowledgeBase, text: str, today: dt.date, long_because: str = "") -> list[str]:
    """What is wrong with one rendered answer read on ``today``."""
    found = []
    if re.search(r"\{[a-z_]+\}", text):
        found.append("placeholder left")
    if re.search(r"\b[01] jours?\b|-\d+ jours?|\bdans 1 jour\b", text):
        found.append("countdown slip")
    for fact in CONTACT_FACTS:
        value = str(kb.facts.get(fact, "\0"))
        if text.count(value) > 1:
            found.append(f"contact {fact} said {text.count(value)} times")
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(set(lines)) != len(lines):
        found.append("a line said twice")
    intake = intake_of(kb.facts)
    if "cette année" in text and intake is not None and intake.is_over(today):
        found.append("'cette année' about a past year")
    for line in lines:
        for day in dates_in(line):
            if day < today and any(m in line for m in FUTURE_MARKERS) and not any(m in line for m in PAST_MARKERS):
                found.append(f"past date {day} presented as coming: {line}")
            if day > today and "a eu lieu" in line:
                found.append(f"future date {day} presented as past: {line}")
    if not long_because and (len(lines) > MAX_LINES or len(text) > MAX_CHARS):
        found.append(f"too long ({len(lines)} lines, {len(text)} characters)")
    return found


def test_every_entry_and_date_text_reads_right_on_every_day(kb: KnowledgeBase) -> None:
    failures: list[str] = []
    days = days_to_check(kb)
    assert len(days) > 60
    for today in days:
        for question in QUESTIONS:
            render = Renderer(kb, today, question)
            for entry in kb.entries.values():
                for fault in faults(kb, render.answer(entry.answer), today, entry.long_because):
                    failures.append(f"{today} « {question} » {entry.id}: {fault}")
            for name in ("rentree", "statut_entree", "statut_candidature", "portes_ouvertes_a_venir"):
                for fault in faults(kb, render.answer("{" + name + "}"), today):
                    failures.append(f"{today} « {question} » {{{name}}}: {fault}")
    assert not failures, f"{len(failures)} faults, e.g.:\n" + "\n".join(failures[:30])


def test_the_checker_itself_catches_each_slip(kb: KnowledgeBase) -> None:
    """Each rule fails on a sentence of the old base (so the main test can fail)."""
    today = dt.date(2026, 11, 29)
    assert faults(kb, "jusqu'au 30 novembre 2026 (encore 1 jours) : fais vite !", today)
    assert faults(kb, "Appelle le 03 22 82 84 70.\nOu le 03 22 82 84 70.", today)
    assert faults(kb, "La date limite cette année (le 30 novembre 2026) est passée.", dt.date(2027, 9, 1))
    assert faults(kb, "📅 Rentrée 2026-2027 : 27 août 2026 (dans 3 jours)", today)
    assert faults(kb, "{statut_entree}", today)
    assert faults(kb, "\n".join(["x"] + [f"ligne {n}" for n in range(7)]), today)


@pytest.mark.parametrize("today, expected, absent", [
    (dt.date(2025, 10, 15), "(dans environ 10 mois)", "316 jours"),
    (dt.date(2026, 8, 24), "(dans 3 jours)", "1 jours"),
    (dt.date(2026, 8, 26), "(demain)", "1 jour"),
    (dt.date(2026, 8, 27), "c'est **aujourd'hui**", "a eu lieu"),
    (dt.date(2026, 8, 28), "a eu lieu le 27 août 2026", "aujourd'hui"),
])
def test_start_day_countdown_in_natural_french(kb: KnowledgeBase, today: dt.date, expected: str,
                                               absent: str) -> None:
    text = Renderer(kb, today).answer("{rentree}")
    assert expected in text and absent not in text


@pytest.mark.parametrize("today, expected", [
    (dt.date(2026, 11, 27), "(dans 3 jours)"),
    (dt.date(2026, 11, 29), "(demain)"),
    (dt.date(2026, 11, 30), "(aujourd'hui, c'est le dernier jour)"),
])
def test_late_entry_countdown_and_steps(kb: KnowledgeBase, today: dt.date, expected: str) -> None:
    text = Renderer(kb, today).answer("{statut_entree}")
    assert expected in text and "30 novembre 2026" in text
    assert "entretien téléphonique" in text and "demi-journée d'admission" in text and "15 jours" in text
    assert "fais vite" not in text and "tu peux encore" not in text


def answer(kb: KnowledgeBase, question: str, today: dt.date) -> tuple[str | None, str]:
    loaded = Loaded.build(kb)
    from bot.conversation.faq import Faq

    result = Faq(loaded, loaded.renderer(today)).answer(question)
    return result.entry, "\n".join(r.plain_text() for r in result.replies)


def test_after_the_intake_the_next_dates_are_said_unpublished(kb: KnowledgeBase) -> None:
    entry, text = answer(kb, "c'est quand la rentrée", dt.date(2027, 9, 1))
    assert entry == "date_rentree"
    assert "rentrée 2027 ne sont pas encore publiées" in text and "03 22 82 84 70" in text
    assert "cette année" not in text and "Rentrée 2026-2027 : 27 août 2026" not in text
    _, text = answer(kb, "c'est trop tard pour s'inscrire ?", dt.date(2026, 12, 5))
    assert "rentrée 2027 ne sont pas encore publiées" in text and "closes" not in text


def test_a_question_about_next_year_gets_the_next_intake(kb: KnowledgeBase) -> None:
    question = "je suis en terminale, je peux m'inscrire pour la rentrée de l'an prochain ?"
    entry, text = answer(kb, question, dt.date(2026, 11, 20))
    assert entry == "inscription_encore_possible"
    assert "rentrée 2027 ne sont pas encore publiées" in text
    assert "30 novembre 2026" not in text and "fais vite" not in text
    # The same words in November 2025 are about the intake the base describes.
    _, text = answer(kb, question, dt.date(2025, 11, 20))
    assert "27 août 2026" in text and "pas encore publiées" not in text


def test_which_intake_a_question_names() -> None:
    today = dt.date(2026, 11, 20)
    assert year_asked("la rentrée de l'an prochain", today, None) == 2027
    assert year_asked("pour l'année prochaine", today, None) == 2027
    assert year_asked("la rentree 2027-2028", today, None) == 2027
    assert year_asked("c'est quand la rentrée", today, None) is None


def test_two_intakes_are_possible_only_between_the_start_and_the_late_deadline(kb: KnowledgeBase) -> None:
    intake = intake_of(kb.facts)
    assert possible_years(dt.date(2026, 3, 1), intake) == [2026]
    assert possible_years(dt.date(2026, 10, 1), intake) == [2026, 2027]
    assert possible_years(dt.date(2027, 1, 10), intake) == [2027]


def test_no_capacity_claim_and_no_qr_code(kb: KnowledgeBase) -> None:
    for question in ("il reste des places ?", "y a encore des places dispo ?"):
        entry, text = answer(kb, question, dt.date(2026, 5, 1))
        assert entry == "places_effectif" and "ne donne" in text and "nombre de places" in text
    for entry in kb.entries.values():
        assert "Scannez" not in entry.answer and "QR" not in entry.answer, entry.id


def test_the_brochures_contradictions_are_both_said(kb: KnowledgeBase) -> None:
    _, validity = answer(kb, "si je rate le bts je garde mes notes ?", dt.date(2026, 5, 1))
    assert "5 ans" in validity and "sans limite de validité" in validity and "03 22 82 84 70" in validity
    _, blocks = answer(kb, "c'est quoi les blocs de competences", dt.date(2026, 5, 1))
    assert "5 ans" in blocks and "sans limite de validité" in blocks
    _, bridges = answer(kb, "y a des passerelles ?", dt.date(2026, 5, 1))
    assert "aucune passerelle officielle" in bridges and "permettent des passerelles entre certifications" in bridges
    _, rhythm = answer(kb, "c'est quoi le rythme", dt.date(2026, 5, 1))
    assert "« 3 jours entreprise (du mercredi au samedi) »" in rhythm


def test_the_first_line_is_the_answer(kb: KnowledgeBase) -> None:
    _, pay = answer(kb, "c combien le salaire", dt.date(2026, 5, 1))
    assert pay.split("\n")[0].startswith("💶 Entre") and "Oui" not in pay.split("\n")[0]


def test_check_warns_on_an_out_of_date_base_with_exit_code_0() -> None:
    def check(day: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "run_bot.py", "check", "--no-examples", "--today", day],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)

    fresh, stale = check("2026-05-01"), check("2026-12-01")
    assert fresh.returncode == 0 and "avertissement" not in fresh.stdout
    assert stale.returncode == 0
    assert "knowledge/facts.yaml:" in stale.stdout and "rentrée 2026-2027 sont toutes passées" in stale.stdout


def test_a_sourced_fact_checked_over_a_year_ago_is_a_warning_not_an_error(tmp_path: Path) -> None:
    import shutil

    from bot.knowledge.staleness import staleness_warnings

    folder = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", folder)
    facts = folder / "facts.yaml"
    facts.write_text(facts.read_text("utf-8").replace(
        '  remuneration_min: "496 €"\n',
        '  remuneration_min:\n    value: "496 €"\n    source: "brochure BTS MCO 2026-2027"\n    checked: 2025-12-01\n'),
        "utf-8")
    kb, problems = load_knowledge(folder)
    assert not problems and kb.facts["remuneration_min"] == "496 €"
    assert staleness_warnings(kb, dt.date(2026, 6, 1)) == []
    late = [str(w) for w in staleness_warnings(kb, dt.date(2026, 12, 2))]
    assert any("remuneration_min" in w and "plus d'un an" in w for w in late), late
    facts.write_text(facts.read_text("utf-8").replace("    checked: 2025-12-01\n", "    checked: hier\n"), "utf-8")
    assert any("checked" in str(p) for p in load_knowledge(folder)[1])
