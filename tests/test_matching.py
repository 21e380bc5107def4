"""The matcher on the real knowledge base: casual French, typos, out-of-scope questions.

The accuracy floors below guard against a change (to the matcher or to the YAML)
that makes the bot worse on questions nobody tuned it on; the figures themselves
are printed by ``benchmarks/accuracy.py``.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.conversation.faq import Faq
from bot.knowledge.model import Entry
from bot.knowledge.store import KnowledgeStore, Loaded
from bot.matching import french
from bot.matching.matcher import Matcher

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def loaded() -> Loaded:
    return KnowledgeStore(ROOT / "knowledge").current


def answer(loaded: Loaded, question: str, day: dt.date = dt.date(2026, 11, 22)):
    return Faq(loaded, loaded.renderer(day)).answer(question)


def test_words_fold_accents_sms_and_elisions() -> None:
    assert french.words("Ça coûte combien l'alternance ?") == ["ca", "coute", "combien", "l", "alternance"]
    assert french.words("jpeux venir, ya koi 2ans") == ["je", "peux", "venir", "il", "y", "a", "quoi", "2", "ans"]
    assert french.words("sa\u200blaire") == ["salaire"]
    assert french.stem("durée") == french.stem("dure") == french.stem("duree")


@pytest.mark.parametrize("question, entry", [
    ("c combien le salaire", "remuneration"),
    ("C'EST COMBIEN LE SALAIRE ???", "remuneration"),
    ("c combien le salere", "remuneration"),  # typo
    ("ya cours quels jours", "rythme_alternance"),
    ("jpeux encore minscrire sans patron", "inscription_encore_possible|sans_entreprise"),
    ("code rncp", "diplome_reconnu"),
    ("jpo", "portes_ouvertes"),
    ("rqth", "handicap_accueil"),
])
def test_casual_questions_find_their_entry(loaded: Loaded, question: str, entry: str) -> None:
    got = answer(loaded, question)
    assert got.entry in entry.split("|"), (got.outcome, got.candidates, got.score)


@pytest.mark.parametrize("question", [
    "combien coûte une pizza", "un BTS SIO ?", "une licence de droit à la Sorbonne",
    "quel temps fera-t-il demain", "t'as une copine ?", "combien coute une ps5",
])
def test_out_of_scope_questions_get_no_answer_from_the_base(loaded: Loaded, question: str) -> None:
    assert answer(loaded, question).entry is None


def test_small_talk_is_answered_without_an_entry(loaded: Loaded) -> None:
    for question in ("bonjour", "merci beaucoup", "qui es-tu ?", "au revoir"):
        got = answer(loaded, question)
        assert got.outcome == "smalltalk" and got.entry is None, question


def test_two_equally_likely_entries_make_the_bot_ask() -> None:
    entries = [
        Entry(id="prix_self", answer="1,60 €", title="Self", questions=["prix du repas au self", "le self coute combien"]),
        Entry(id="prix_cafet", answer="1,60 €", title="Cafet", questions=["prix du repas a la cafet", "la cafet coute combien"]),
    ]
    match = Matcher(entries).match("prix du repas")
    assert match.entry_id is None and set(match.candidates) == {"prix_self", "prix_cafet"}


def test_open_days_that_have_passed_are_never_offered(loaded: Loaded) -> None:
    before = answer(loaded, "c quand les portes ouvertes", dt.date(2026, 3, 1)).replies[0].text
    assert "20 mars 2026" in before and "16 janvier" not in before
    after = answer(loaded, "c quand les portes ouvertes", dt.date(2026, 11, 22)).replies[0].text
    assert "mars" not in after and "Aucune date" in after


def test_joining_late_depends_on_today(loaded: Loaded) -> None:
    question = "j'ai toujours pas d'entreprise, je peux encore rentrer ?"
    assert "encore" in answer(loaded, question, dt.date(2026, 11, 22)).replies[0].text
    assert "est passée" in answer(loaded, question, dt.date(2026, 12, 5)).replies[0].text


def test_results_never_give_a_figure(loaded: Loaded) -> None:
    text = answer(loaded, "taux de reussite").replies[0].plain_text()
    assert "%" not in text and "ne donne pas" in text


def test_held_out_and_leave_one_out_accuracy_floors() -> None:
    result = subprocess.run([sys.executable, "benchmarks/accuracy.py"], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    held, loo = result.stdout.strip().splitlines()
    in_scope = float(held.split("(")[1].split("%")[0])
    out_of_scope = float(held.rsplit("(", 1)[1].split("%")[0])
    leave_one_out = float(loo.split("(")[1].split("%")[0])
    assert in_scope >= 75 and out_of_scope >= 88 and leave_one_out >= 90, result.stdout


def test_ask_json_reads_stdin_one_object_per_line() -> None:
    result = subprocess.run([sys.executable, "run_bot.py", "ask", "--json", "--today", "2026-03-01"], cwd=ROOT,
                            input="prochaines portes ouvertes\nbonjour\n", capture_output=True, text=True,
                            check=True)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in rows] == ["prochaines portes ouvertes", "bonjour"]
    assert rows[0]["entry"] == "portes_ouvertes" and "20 mars" in rows[0]["answer"]
    assert "**" not in rows[0]["answer"]
    assert rows[1]["entry"] is None and rows[1]["score"] >= 0


def test_holdout_file_names_real_entries(loaded: Loaded) -> None:
    items = yaml.safe_load((ROOT / "tests/fixtures/holdout_questions.yaml").read_text())["items"]
    ids = {e for item in items if not item.get("oos")
           for e in (item["entry"] if isinstance(item["entry"], list) else [item["entry"]])}
    assert ids <= set(loaded.kb.entries)
