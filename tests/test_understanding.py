"""Reading real prospect messages: preambles, several questions, context, register, honesty.

Run on the real knowledge base (what prospects get), through ``Faq.answer`` and the
:class:`Assistant` with a real SQLite file. Expected texts are read from the base
(titles, facts), never written here.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.clock import PARIS, Clock
from bot.config import Settings
from bot.conversation.context import ConversationContext
from bot.conversation.engine import Assistant
from bot.conversation.faq import Faq
from bot.conversation.messages import Incoming, Kind, Person
from bot.conversation.understanding import clauses, sentences
from bot.knowledge.store import KnowledgeStore
from bot.storage.db import open_database
from testing.assistants import build_assistant, fact, text_of

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 11, 22)


# --- cutting a message ---------------------------------------------------------------


def test_sentences_and_clauses_are_cut_where_a_person_would() -> None:
    assert sentences("Bonjour. Je me renseigne pour mon fils. C'est payant ?") == [
        "Bonjour.", "Je me renseigne pour mon fils.", "C'est payant ?"]
    assert clauses("c quoi le rythme, combien on gagne, et ya des portes ouvertes ?") == [
        "c quoi le rythme", "combien on gagne", "ya des portes ouvertes ?"]
    # "pour l'entreprise" completes the clause before it; "et" only cuts before a question
    assert clauses("ça coûte combien, pour l'entreprise ?") == ["ça coûte combien pour l'entreprise ?"]
    assert clauses("je peux faire le bts et continuer en licence ?") == [
        "je peux faire le bts et continuer en licence ?"]


# --- preambles -----------------------------------------------------------------------


def test_a_preamble_does_not_drown_the_question(faq: Faq, knowledge: KnowledgeStore) -> None:
    answer = faq.answer("Bonsoir ! Je suis en première STMG et je réfléchis à mon orientation, "
                        "j'hésite encore beaucoup. Les cours c'est quels jours ?")
    assert answer.entry == "rythme_alternance"
    assert fact(knowledge, "jours_cours") in text_of(answer)


def test_the_preamble_points_to_its_topic(faq: Faq, knowledge: KnowledgeStore) -> None:
    """A sentence about a disability makes "qui contacter" the disability contact's question."""
    context = ConversationContext()
    answer = faq.answer("Bonjour, ma fille est dyslexique et a une reconnaissance MDPH. "
                        "Qui peut-on appeler pour en parler ?", context)
    assert answer.entry == "handicap_accueil"
    assert fact(knowledge, "tel_referente_handicap") in text_of(answer)
    assert context.audience == "parent"


# --- several questions ---------------------------------------------------------------


def test_three_questions_get_three_blocks_in_the_order_asked(faq: Faq, knowledge: KnowledgeStore) -> None:
    answer = faq.answer("salut, c quoi le rythme, combien on gagne, et ya des portes ouvertes ?")
    assert answer.entries == ("rythme_alternance", "remuneration", "portes_ouvertes")
    assert len(answer.replies) == 1, "one reply, one block per answer"
    text = text_of(answer)
    titles = [knowledge.current.kb.entries[e].title for e in answer.entries]
    positions = [text.index(t) for t in titles]
    assert positions == sorted(positions)


def test_a_part_not_understood_is_named(faq: Faq, knowledge: KnowledgeStore) -> None:
    answer = faq.answer("c quoi le rythme ? et est-ce que vous organisez des voyages au japon ?")
    assert answer.entries == ("rythme_alternance",)
    text = text_of(answer)
    assert "« est-ce que vous organisez des voyages au japon »" in text
    assert fact(knowledge, "tel_standard") in text


# --- small talk and what the brochures do not say ------------------------------------


@pytest.mark.parametrize("question, entry", [("je peux faire une vae ?", "vae"),
                                             ("il faut un cv ?", "pieces_dossier")])
def test_small_talk_does_not_win_on_a_short_word(faq: Faq, question: str, entry: str) -> None:
    assert faq.answer(question).entry == entry


def test_thanks_then_goodbye_is_small_talk(faq: Faq, knowledge: KnowledgeStore) -> None:
    answer = faq.answer("Merci beaucoup pour tout, bonne soirée")
    assert answer.outcome == "smalltalk" and answer.entry is None


@pytest.mark.parametrize("question", ["vous êtes combien d'élèves en classe ?", "y a un parking vélo ?",
                                      "l'école a un internat ?"])
def test_questions_the_brochures_do_not_cover_get_an_honest_answer(faq: Faq, knowledge: KnowledgeStore,
                                                                   question: str) -> None:
    answer = faq.answer(question)
    assert answer.entry is None and answer.outcome == "fallback"
    assert "pas dans les brochures" in text_of(answer) or "pas décrit" in text_of(answer)
    assert fact(knowledge, "tel_standard") in text_of(answer)


# --- tracks, audiences, register -----------------------------------------------------


def test_block_4_track_changes_cost_registration_and_validity(faq: Faq, knowledge: KnowledgeStore) -> None:
    context = ConversationContext()
    faq.answer("je voudrais uniquement le bloc 4, en candidat libre", context)
    assert context.track == "bloc4"
    assert faq.answer("c'est payant ?", context).entry == "bloc4_frais"
    assert faq.answer("comment je candidate ?", context).entry == "bloc4_inscription"
    assert faq.answer("et le diplôme obtenu est valable longtemps ?", context).entry == "bloc4_resultat"
    # without the track, the same questions are about the apprenticeship
    assert faq.answer("c'est payant ?").entry == "cout_formation"


def test_an_employer_gets_the_company_side_in_vous(faq: Faq, knowledge: KnowledgeStore) -> None:
    context = ConversationContext()
    answer = faq.answer("Bonjour, je suis gérante d'un magasin de chaussures et je cherche un apprenti. "
                        "Quel est le coût de la formation ?", context)
    assert context.audience == "entreprise" and context.register is None or context.register == "vous"
    assert answer.entry == "cout_entreprise"
    contact = faq.answer("Qui puis-je joindre ?", context)
    assert knowledge.current.kb.facts["responsable_ufa"] in text_of(contact)
    assert " tu " not in f" {text_of(contact)} " and "Tu peux" not in text_of(contact)


def test_a_parent_reads_about_their_child(faq: Faq) -> None:
    context = ConversationContext()
    answer = faq.answer("Bonjour, mon fils voudrait faire ce BTS. Il sera payé combien ?", context)
    assert answer.entry == "remuneration"
    assert "votre enfant" in text_of(answer) and "tu es" not in text_of(answer)


def test_vous_gets_the_vous_texts(faq: Faq) -> None:
    context = ConversationContext()
    answer = faq.answer("Pourriez-vous me dire si vous proposez des cours de poterie ?", context)
    assert context.register == "vous"
    assert answer.outcome == "fallback" and "Essayez de reformuler" in text_of(answer)


# --- follow-ups ----------------------------------------------------------------------


def test_a_follow_up_is_read_after_the_previous_answer(faq: Faq, knowledge: KnowledgeStore) -> None:
    context = ConversationContext()
    faq.answer("vous avez cours quels jours ?", context)
    assert context.last_entries == ["rythme_alternance"]
    follow = faq.answer("et le samedi ?", context)
    assert follow.entry == "rythme_alternance"


# --- the context in the session state ------------------------------------------------


class MovableClock(Clock):
    def __init__(self, at: dt.datetime) -> None:
        super().__init__()
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


def test_the_context_is_stored_in_sqlite_and_fades_after_silence(knowledge: KnowledgeStore, tmp_path: Path) -> None:
    clock = MovableClock(dt.datetime(2026, 11, 22, 10, 0, tzinfo=PARIS))
    settings = Settings(context_fade_minutes=60)
    path = tmp_path / "bot.db"
    assistant = build_assistant(knowledge, path, clock, settings=settings)
    person = Person(77)
    assistant.handle(Incoming(person, Kind.TEXT, "je veux passer seulement le bloc 4 en candidat libre"))
    # a new process, the same database: the track is still there
    again = build_assistant(knowledge, path, clock, settings=settings)
    clock.at += dt.timedelta(minutes=30)
    turn = again.handle_turn(Incoming(person, Kind.TEXT, "c'est payant ?"))
    assert turn.answers[-1].entry == "bloc4_frais"
    saved = json.loads(open_database(path).execute("SELECT state FROM sessions").fetchone()[0])
    assert saved["context"]["track"] == "bloc4"
    # after more than an hour of silence, the conversation starts afresh
    clock.at += dt.timedelta(minutes=61)
    turn = again.handle_turn(Incoming(person, Kind.TEXT, "c'est payant ?"))
    assert turn.answers[-1].entry == "cout_formation"


def test_a_stored_context_with_odd_values_is_read_safely() -> None:
    state = {"context": {"track": "bloc9", "audience": 3, "last_entries": "x", "age": "31", "lang": "de",
                         "from_the_future": True}}
    context = ConversationContext.from_state(state)
    assert context == ConversationContext()


# --- the command line ----------------------------------------------------------------


def test_ask_dialogue_gives_one_row_per_turn_and_a_fresh_prospect_after_a_blank_line() -> None:
    turns = "je veux seulement le bloc 4 en candidat libre\nc'est payant ?\n\nc'est payant ?\n"
    done = subprocess.run([sys.executable, "run_bot.py", "ask", "--json", "--dialogue", "--today", DAY.isoformat()],
                          cwd=ROOT, input=turns, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "BOT_DATABASE": ":memory:"})
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["question"] for r in rows] == ["je veux seulement le bloc 4 en candidat libre", "c'est payant ?",
                                             "c'est payant ?"]
    assert rows[1]["entries"] == ["bloc4_frais"]
    assert rows[2]["entries"] == ["cout_formation"], "a blank line starts a new prospect"
    assert all(set(r) >= {"question", "answer", "entries", "score"} for r in rows)
    assert "**" not in rows[1]["answer"]


def test_ask_json_lists_the_entries() -> None:
    done = subprocess.run([sys.executable, "run_bot.py", "ask", "--json", "--today", DAY.isoformat(),
                           "c'est payé combien et ya cours quels jours ?"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    row = json.loads(done.stdout)
    assert row["entries"] == ["remuneration", "rythme_alternance"] and row["entry"] == "remuneration"


@pytest.mark.parametrize("first", ["c combien le salaire en alternance ?", "je veux juste le bloc 4 en candidat libre"])
def test_the_context_never_makes_an_out_of_scope_question_answered(faq: Faq, first: str) -> None:
    """The context orders what the words support; "une pizza" is still not ours after the salary."""
    context = ConversationContext()
    assert faq.answer(first, context).entry is not None
    answer = faq.answer("combien coûte une pizza", context)
    assert answer.entry is None and answer.outcome == "fallback"


def test_a_track_named_in_the_message_itself_counts_even_with_unknown_words(faq: Faq) -> None:
    context = ConversationContext()
    answer = faq.answer("Bonjour, je suis vendeuse depuis 6 ans et je voudrais juste le bloc 4 en candidat libre.",
                        context)
    assert answer.entry == "bloc4_candidat_libre" and context.track == "bloc4"


def test_a_time_is_not_cut_as_a_sentence() -> None:
    assert sentences("les cours finissent à 17:00 le lundi ?") == ["les cours finissent à 17:00 le lundi ?"]


def test_a_fourth_question_is_named_not_dropped(faq: Faq, knowledge: KnowledgeStore) -> None:
    answer = faq.answer("c quoi le rythme ? combien on gagne ? ya des portes ouvertes ? et il faut le bac ?")
    assert len(answer.entries) == 3
    assert "« il faut le bac »" in text_of(answer)
