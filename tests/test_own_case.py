"""The prospect's own case: an age said in passing, the legal minimum pay, English.

Through the real core (:class:`Assistant` on a real SQLite file, the real knowledge
base), except for the pure readers (age, contract year, language) tested on their own.
"""
from __future__ import annotations

import dataclasses

import datetime as dt
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.clock import Clock
from bot.conversation.age import find_age
from bot.conversation.engine import Assistant
from bot.conversation.language import detect_language
from bot.conversation.messages import Incoming, Kind, Person
from bot.conversation.pay import find_contract_year
from bot.conversation.context import ConversationContext
from bot.knowledge.loader import load_knowledge, official_fact_warnings
from bot.registration.flow import ERASE_YES
from bot.knowledge.store import KnowledgeStore
from testing.assistants import build_assistant

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 22)
PROSPECT = Person(user_id=77, first_name="Inès")


class Chat:
    """One prospect talking to the assistant; a new :class:`Chat` on the same file is a restart."""

    def __init__(self, knowledge: KnowledgeStore, path: Path) -> None:
        self.path = path
        self.assistant = build_assistant(knowledge, path, Clock(TODAY))

    def say(self, text: str) -> str:
        replies = self.assistant.handle(Incoming(PROSPECT, Kind.TEXT, text))
        return "\n".join(r.plain_text() for r in replies)

    def context(self) -> dict:
        row = sqlite3.connect(self.path).execute("SELECT state FROM sessions WHERE user_id = ?",
                                                 [PROSPECT.user_id]).fetchone()
        return json.loads(row[0]).get("context", {}) if row else {}


@pytest.fixture
def chat(knowledge: KnowledgeStore, tmp_path: Path) -> Chat:
    return Chat(knowledge, tmp_path / "bot.db")


def smic(knowledge: KnowledgeStore) -> float:
    return float(knowledge.current.kb.official["smic_mensuel_brut"].value)


def euros(amount: float) -> str:
    """An amount as the French answers write it (1 823,03)."""
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",")


# --- reading the message ---------------------------------------------------------------


@pytest.mark.parametrize("text, age", [
    ("j'ai 31 ans", 31), ("ma fille a 17 ans", 17), ("g 16ans", 16), ("I'm 25", 25),
    ("c'est encore possible à 28 ans ?", 28), ("je serai payé combien à 17 ans ?", 17),
    ("Bonjour, j’ai 28 ans, je travaille en restauration", 28), ("mon fils de 16 ans", 16),
    ("I am 19 years old", 19), ("my son is 17", 17), ("how much at 27?", 27), ("17 ans, je peux ?", 17),
])
def test_an_age_said_about_a_person_is_found(text: str, age: int) -> None:
    assert find_age(text) == age


@pytest.mark.parametrize("text", [
    "il y a 15 ans", "j'ai 10 ans d'expérience dans la vente", "c'est de 16 à 29 ans ?", "le bloc est valable 5 ans",
    "la formation dure 2 ans", "entre 16 et 29 ans ?", "at 10 am", "c combien le salaire", "depuis 12 ans",
    "j'ai plus de 29 ans et une rqth", "c'est ouvert aux plus de 30 ans ?",
])
def test_durations_and_ranges_are_not_ages(text: str) -> None:
    assert find_age(text) is None


@pytest.mark.parametrize("text, year", [
    ("et en 2e année ?", 2), ("en deuxieme annee", 2), ("la 1ere année", 1), ("and in the second year?", 2),
    ("3eme annee", 3), ("le bts dure 2 ans", None),
])
def test_the_contract_year_asked_is_found(text: str, year: int | None) -> None:
    assert find_contract_year(text) == year


@pytest.mark.parametrize("text, lang", [
    ("Hello, when does the course start?", "en"), ("how much?", "en"), ("salary?", "en"), ("Is it free?", "en"),
    ("c combien ?", "fr"), ("c'est quoi le job après ?", "fr"), ("je suis manager dans le e-commerce", "fr"),
    ("je bosse en start-up, le week-end aussi", "fr"), ("le training c quand", "fr"),
    ("job ?", None), ("hello", None), ("ok", None), ("👍", None), ("hey", None), ("thanks", None),
])
def test_english_is_told_from_french_with_english_words(text: str, lang: str | None) -> None:
    assert detect_language(text) == lang


# --- the age ---------------------------------------------------------------------------


def test_an_age_in_range_is_told_it_can_apply(chat: Chat) -> None:
    said = chat.say("c'est encore possible à 28 ans ?")
    assert "28 ans" in said and "possible" in said
    assert not re.search(r"ne (peux|pourras) pas|trop tard|dépassée", said)


def test_an_age_with_a_calendar_question_gets_both_answers(chat: Chat) -> None:
    said = chat.say("à 28 ans, est-il encore temps de s'inscrire ?")
    assert "28 ans, c'est possible" in said and "30 novembre 2026" in said


def test_over_the_limit_gets_the_exceptions_under_16_gets_not_yet(chat: Chat) -> None:
    over = chat.say("j'ai 34 ans, je peux postuler ?")
    assert "29 ans" in over and "handicap" in over and "sportifs de haut niveau" in over
    young = chat.say("jai 15 ans c possible")
    assert "15 ans" in young and "16 ans" in young and "tôt" in young


def test_an_age_said_earlier_answers_a_later_question(chat: Chat, knowledge: KnowledgeStore, tmp_path: Path) -> None:
    chat.say("ma fille a 17 ans")
    assert chat.context()["age"] == 17
    restarted = Chat(knowledge, tmp_path / "bot.db")  # the context is in SQLite: a restart keeps it
    said = restarted.say("quel âge faut-il avoir ?")
    assert "17 ans" in said and "possible" in said


def test_a_high_level_athlete_over_the_limit_can_apply(chat: Chat) -> None:
    said = chat.say("je suis sportif de haut niveau et j'ai 32 ans, je peux m'inscrire ?")
    assert "32 ans, c'est possible" in said and "ne s'applique pas" in said


def test_the_remembered_age_is_shown_by_mesdonnees_and_erased_by_supprimer(chat: Chat) -> None:
    chat.say("j'ai 23 ans")
    shown = chat.assistant.handle(Incoming(PROSPECT, Kind.COMMAND, "mesdonnees"))
    assert "23 ans" in "\n".join(r.plain_text() for r in shown)
    chat.assistant.handle(Incoming(PROSPECT, Kind.COMMAND, "supprimer"))
    chat.assistant.handle(Incoming(PROSPECT, Kind.BUTTON, ERASE_YES))
    assert chat.context().get("age") is None


def test_a_disability_is_answered_but_never_stored(chat: Chat) -> None:
    said = chat.say("j'ai 35 ans et une RQTH, c'est possible ?")
    assert "35 ans, c'est possible" in said and "handicap" in said
    dump = json.dumps(chat.context()) + str(sqlite3.connect(chat.path).execute("SELECT * FROM sessions").fetchall())
    assert "rqth" not in dump.lower() and "handicap" not in dump.lower()
    # Only the context record's own fields (who asks, track, register, entries, age, language).
    assert set(chat.context()) <= {f.name for f in dataclasses.fields(ConversationContext)}


# --- the pay ---------------------------------------------------------------------------


@pytest.mark.parametrize("age, first, second", [(17, 27, 39), (20, 43, 51), (23, 53, 61), (27, 100, 100)])
def test_pay_for_an_age_is_the_legal_minimum_next_to_the_brochure(chat: Chat, knowledge: KnowledgeStore,
                                                                   age: int, first: int, second: int) -> None:
    said = chat.say(f"je serai payé combien à {age} ans ?")
    assert f"{first} % du SMIC" in said and euros(round(smic(knowledge) * first / 100, 2)) in said
    assert f"{second} % du SMIC" in said
    assert "496 €" in said and "1612 €" in said  # the brochure's range, next to it
    assert "minimum fixé par la loi" in said and "pas un chiffre de l'école" in said
    assert "D6222-26" in said and "30 novembre 2026" in said  # the source and the day it was checked


def test_the_year_follow_up_gives_that_year(chat: Chat, knowledge: KnowledgeStore) -> None:
    chat.say("j'ai 20 ans")
    first = chat.say("c combien le salaire ?")
    assert "43 % du SMIC" in first
    second = chat.say("et en 2e année ?")
    assert "51 % du SMIC" in second and euros(round(smic(knowledge) * 51 / 100, 2)) in second
    assert "43 %" not in second and "496 €" in second


def test_an_age_alone_is_about_the_age_not_the_pay(chat: Chat) -> None:
    said = chat.say("j'ai 19 ans")
    assert "19 ans, c'est possible" in said and "% du SMIC" not in said


def test_a_year_follow_up_is_told_from_a_question_about_that_year(chat: Chat) -> None:
    chat.say("j'ai 19 ans")
    chat.say("c'est payé combien ?")
    assert "51 % du SMIC" in chat.say("et en deuxième année ?")  # the base alone reads it as the programme
    assert "% du SMIC" not in chat.say("et en 2e année on étudie quoi ?")


def test_a_sentence_stating_the_age_does_not_drown_the_question(chat: Chat) -> None:
    said = chat.say("Bonjour, mon fils a 20 ans. Il sera payé combien la première année ?")
    assert "43 % du SMIC" in said and "51 %" not in said  # the first year only, as asked


def test_an_age_in_passing_does_not_replace_the_question_asked(chat: Chat) -> None:
    # "encore" here is about the company, not about being still allowed at this age.
    said = chat.say("slt jai 19 ans jveux faire le bts mais jai pas de patron encore cmt je fais")
    assert "contrat d'apprentissage" in said and "c'est possible" not in said
    assert "c'est possible" in chat.say("j'ai 27 ans, est-ce que je peux encore faire le BTS ?")


def test_pay_without_an_age_asks_for_it(chat: Chat) -> None:
    said = chat.say("c combien le salaire ?")
    assert "496 €" in said and "j'ai 19 ans" in said and "% du SMIC" not in said


# --- English ---------------------------------------------------------------------------


def test_at_least_twenty_entries_have_an_english_answer(knowledge: KnowledgeStore) -> None:
    assert sum(1 for e in knowledge.current.kb.english.values() if e.answer) >= 20


def test_an_english_question_gets_an_english_answer(chat: Chat) -> None:
    said = chat.say("Hello, what is the schedule?")
    assert "Monday and Tuesday" in said and "lundi" not in said
    assert chat.context()["lang"] == "en"
    assert "Monday and Tuesday" in chat.say("which days are classes?")


def test_a_dated_answer_is_in_english_and_still_true_on_the_day(chat: Chat) -> None:
    # The start-date answer is computed for the day it is read (coming, today, past, next intake
    # unpublished); its date texts now exist in English too (texts/english.yaml, dates_...).
    said = chat.say("Hello, when does the course start?")
    assert "only available in French" not in said and "27 August 2026" in said and "août" not in said


def test_an_untranslated_entry_is_french_with_one_english_line(chat: Chat, knowledge: KnowledgeStore) -> None:
    said = chat.say("what documents do I need")
    assert "only available in French" in said
    assert "ENIC-NARIC" in said and knowledge.current.kb.facts["tel_standard"] in said


def test_english_pay_and_age(chat: Chat) -> None:
    said = chat.say("how much will I earn at 19?")
    assert "43 % of the SMIC" in said and "not a figure from the school" in said
    assert "you can apply" in chat.say("I'm 25, can I apply?")


def test_english_follow_ups_and_small_talk(chat: Chat) -> None:
    chat.say("I'm 17")
    chat.say("how much will I be paid?")
    assert "39 % of the SMIC" in chat.say("and in the second year?")
    assert "You're welcome" in chat.say("thanks a lot")
    assert "in English" in chat.say("Bonjour, do you speak English?")


def test_english_synonyms_widen_the_examples(chat: Chat) -> None:
    assert "Monday and Tuesday" in chat.say("on which days are the lectures held?")  # "lectures", "held": synonyms only


def test_an_unclear_english_question_offers_a_choice_in_english(chat: Chat, knowledge: KnowledgeStore) -> None:
    replies = chat.assistant.handle(Incoming(PROSPECT, Kind.TEXT, "what will I study?"))
    assert "Which of these do you mean" in replies[0].text
    titles = {b.label for b in replies[0].flat_buttons()}
    assert titles & {e.title for e in knowledge.current.kb.entries.values()}


def test_an_english_question_out_of_scope_gets_the_english_fallback_with_the_contact(chat: Chat) -> None:
    said = chat.say("what is the weather like today?")
    assert "Sorry" in said and "03 22 82 84 70" in said


def test_french_after_english_switches_back(chat: Chat) -> None:
    chat.say("Hello, when does the course start?")
    said = chat.say("et c'est combien le salaire ?")
    assert "selon la grille légale" in said and chat.context()["lang"] == "fr"


# --- the knowledge base: official facts and translations are checked --------------------


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", target)
    return target


def problems_of(directory: Path) -> list[str]:
    return [str(p) for p in load_knowledge(directory)[1]]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


@pytest.mark.parametrize("field", ["source", "checked"])
def test_an_official_fact_without_source_or_checked_date_is_refused(kb_dir: Path, field: str) -> None:
    path = kb_dir / "official_facts.yaml"
    line = line_of(path, "smic_mensuel_brut:")
    text = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i in range(line, len(text)) if text[i].strip().startswith(f"{field}:"))
    del text[index]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    [problem] = problems_of(kb_dir)
    assert problem.startswith(f"knowledge/official_facts.yaml:{line}: le fait officiel « smic_mensuel_brut » "
                              f"n'a pas de « {field} »")


def test_an_official_fact_checked_over_a_year_ago_is_a_warning(knowledge: KnowledgeStore) -> None:
    kb = knowledge.current.kb
    assert official_fact_warnings(kb, dt.date(2026, 12, 1)) == []
    late = official_fact_warnings(kb, dt.date(2027, 12, 1))
    assert late and all("il y a plus d'un an" in str(w) for w in late)
    assert str(late[0]).startswith("knowledge/official_facts.yaml:")


def test_an_english_answer_cannot_state_a_figure_of_its_own(kb_dir: Path) -> None:
    path = kb_dir / "english.yaml"
    edit(path, "For apprentices, the training is **free** 🎉", "For apprentices, the training costs 90 €")
    line = line_of(path, "For apprentices, the training costs") - 1
    assert problems_of(kb_dir) == [f"knowledge/english.yaml:{line}: le nombre « 90 » n'est pas dans la réponse "
                                   "française : utilisez les {faits} de facts.yaml"]


def test_an_english_answer_cannot_use_a_fact_the_french_one_does_not(kb_dir: Path) -> None:
    edit(kb_dir / "english.yaml", "For apprentices, the training is **free** 🎉", "Free 🎉 Call {tel_mobile_responsable}")
    [problem] = problems_of(kb_dir)
    assert "{tel_mobile_responsable} n'est pas dans la réponse française de « cout_formation »" in problem


def test_a_french_text_fact_in_an_english_answer_needs_its_translation(kb_dir: Path) -> None:
    edit(kb_dir / "english.yaml", '  jours_cours: "Monday and Tuesday"\n', "")
    problems = problems_of(kb_dir)
    assert problems and all("le fait {jours_cours} est écrit en français" in p for p in problems)


def test_a_fact_translation_keeps_the_french_figures(kb_dir: Path) -> None:
    edit(kb_dir / "english.yaml", '"24 months"', '"18 months"')
    problems = problems_of(kb_dir)
    assert "« duree_formation » n'a pas les mêmes chiffres" in problems[0]


def test_an_english_synonym_group_needs_two_words(kb_dir: Path) -> None:
    edit(kb_dir / "english.yaml", "  - [school, campus, college]\n", "  - [school]\n")
    [problem] = problems_of(kb_dir)
    assert problem.startswith("knowledge/english.yaml:") and "au moins deux mots" in problem


def test_an_english_entry_must_name_a_french_entry(kb_dir: Path) -> None:
    edit(kb_dir / "english.yaml", "  - id: remuneration\n", "  - id: remuneraton\n")
    [problem] = problems_of(kb_dir)
    assert problem.startswith("knowledge/english.yaml:") and "entrée inconnue « remuneraton »" in problem
