"""English answers that give a date, true on the day they are read (issues 10 and 11).

"When does the course start?" and "until when can I apply?" used to get the French
answer with an "only in French" line: their French answers use the computed date
texts. The renderer now says those in English (``texts/english.yaml``, ``dates_…``;
"27 August 2026"); these tests render them on days around every date of the base.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from bot.clock import PARIS, Clock
from bot.config import Settings
from bot.conversation.engine import Assistant
from bot.conversation.messages import Incoming, Kind, Person
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import KnowledgeBase
from bot.knowledge.render import MONTHS, MONTHS_EN, Renderer, english_date
from bot.knowledge.store import KnowledgeStore
from bot.storage.db import open_database

ROOT = Path(__file__).resolve().parent.parent
DATED = ("date_rentree", "periode_candidature")
PAST = ("started", "is over", "are closed", "has passed", "ran from", "coming to an end", "my brochures are about")
COMING = ("in ", "tomorrow", "until", "Start of", "today", "Next")
DATE_EN = re.compile(r"\b(\d{1,2}) (" + "|".join(MONTHS_EN) + r") (\d{4})\b")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    base, problems = load_knowledge(ROOT / "knowledge")
    assert not problems, problems
    return base


def days(kb: KnowledgeBase) -> list[dt.date]:
    """The 1st of each month of Oct 2025 - Dec 2027, and the day before, of and after each date of the base."""
    found = {dt.date(y, m, 1) for y in (2025, 2026, 2027) for m in range(1, 13)}
    found = {d for d in found if dt.date(2025, 10, 1) <= d <= dt.date(2027, 12, 31)}
    for value in [v for v in kb.facts.values() if isinstance(v, dt.date)] + [o.date for o in kb.open_days]:
        found |= {value + dt.timedelta(days=n) for n in (-1, 0, 1)}
    return sorted(found)


def faults(text: str, today: dt.date) -> list[str]:
    found = []
    if re.search(r"\{[a-z_]+\}|english\.dates_|dates\.", text):
        found.append("placeholder or raw key left")
    if any(re.search(rf"\b{m}\b", text) for m in MONTHS if m not in ("mars",)) or re.search(r"\b(dans|jours|rentrée)\b", text):
        found.append("French left")
    if re.search(r"\b[01] days?\b|\bin 1 day\b", text):
        found.append("countdown slip")
    for line in text.split("\n"):
        for day, month, year in DATE_EN.findall(line):
            date = dt.date(int(year), MONTHS_EN.index(month) + 1, int(day))
            if date < today and any(m in line for m in COMING) and not any(m in line for m in PAST):
                found.append(f"past date presented as coming: {line}")
            if date > today and "started" in line:
                found.append(f"future date presented as past: {line}")
    return found


def test_dated_english_answers_read_right_on_every_day(kb: KnowledgeBase) -> None:
    failures = []
    checked = 0
    for today in days(kb):
        for question in ("when does the course start", "when does the course start in 2027"):
            render = Renderer(kb, today).in_english(question)
            for entry_id in DATED:
                text = render.answer(kb.english[entry_id].answer)
                checked += 1
                failures += [f"{today} {entry_id} « {question} »: {f}" for f in faults(text, today)]
            for name in ("rentree", "statut_entree", "statut_candidature", "portes_ouvertes_a_venir"):
                failures += [f"{today} {{{name}}}: {f}" for f in faults(render.answer("{" + name + "}"), today)]
    assert checked > 100
    assert not failures, f"{len(failures)} faults, e.g.:\n" + "\n".join(failures[:20])


@pytest.mark.parametrize("today, expected", [
    (dt.date(2026, 3, 1), "27 August 2026** (in about 6 months)"),
    (dt.date(2026, 8, 26), "27 August 2026** (tomorrow)"),
    (dt.date(2026, 8, 27), "starts **today**, 27 August 2026"),
    (dt.date(2026, 8, 28), "started on 27 August 2026"),
    (dt.date(2027, 9, 1), "dates of the **2027 start** are not published yet"),
])
def test_the_start_day_in_english(kb: KnowledgeBase, today: dt.date, expected: str) -> None:
    assert expected in Renderer(kb, today).in_english().answer("{rentree}")


def test_english_dates_and_open_days_are_written_the_english_way(kb: KnowledgeBase) -> None:
    assert english_date(dt.date(2026, 8, 27)) == "27 August 2026"
    assert english_date(dt.date(2026, 11, 1), weekday=True) == "Sunday 1 November 2026"
    if kb.open_days:
        first = min(kb.open_days, key=lambda o: o.date)
        text = Renderer(kb, first.date - dt.timedelta(days=1)).in_english().answer("{portes_ouvertes_a_venir}")
        assert english_date(first.date, weekday=True) in text and "(it's tomorrow)" in text


class FixedClock(Clock):
    def __init__(self, day: dt.date) -> None:
        super().__init__()
        self.day = day

    def now(self) -> dt.datetime:
        return dt.datetime(self.day.year, self.day.month, self.day.day, 10, 0, tzinfo=PARIS)


@pytest.mark.parametrize("day, question, expected", [
    (dt.date(2026, 8, 24), "When does the course start?", "27 August 2026 (in 3 days)"),
    (dt.date(2027, 9, 1), "When does the course start?", "not published yet"),
    (dt.date(2026, 5, 1), "Until when can I apply?", "Applications are **open** now".replace("**", "")),
    (dt.date(2026, 12, 5), "Until when can I apply?", "not published yet"),
])
def test_an_english_question_gets_the_dated_answer_in_english(tmp_path: Path, day: dt.date, question: str,
                                                              expected: str) -> None:
    store = KnowledgeStore(ROOT / "knowledge")
    assistant = Assistant(store, open_database(tmp_path / "bot.db"), FixedClock(day), settings=Settings())
    turn = assistant.handle_turn(Incoming(Person(51), Kind.TEXT, question))
    text = "\n".join(r.plain_text() for r in turn.replies)
    assert turn.answers[-1].entry in DATED
    assert expected in text and "only available in French" not in text, text
    assert not faults(text, day), text


def test_check_requires_every_english_date_text(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    texts = tmp_path / "knowledge" / "texts" / "english.yaml"
    texts.write_text(re.sub(r"^dates_rentree_passee:.*\n", "", texts.read_text(encoding="utf-8"), flags=re.M),
                     encoding="utf-8")
    _, problems = load_knowledge(tmp_path / "knowledge")
    assert any("english.dates_rentree_passee" in str(p) for p in problems), problems
