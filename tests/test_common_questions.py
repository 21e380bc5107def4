"""Common questions that landed on the wrong entry (issue 11, "Wrong entries for common questions").

Each is fixed at its cause, and checked here through the real paths (``Faq.answer``
on the real base, the :class:`Assistant` with a real SQLite file for the age):

- "c'est où ?": "où" folded to "ou" ("or"), a stop word, so the question said nothing;
- "il faut un cv ?", "je peux faire une vae ?": small talk must not win on "cv"/"va";
- "j'ai 31 ans, c'est trop tard ?": the age answer, said once (both clauses became it);
- on the block-4 path, "l'examen se déroule comment ?": "se déroule" only occurred in the
  admission process's examples, not as the "se passe" it means.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.clock import PARIS, Clock
from bot.config import Settings
from bot.conversation.context import ConversationContext
from bot.conversation.engine import Assistant
from bot.conversation.faq import Faq
from bot.conversation.messages import Incoming, Kind, Person
from bot.knowledge.store import KnowledgeStore
from bot.matching import french
from bot.storage.db import open_database
from testing.assistants import fact, text_of

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 11, 22)


@pytest.mark.parametrize("question", ["c'est où ?", "c ou ?", "vous êtes où ?", "Où est l'école ?",
                                      "la formation se passe où"])
def test_where_is_it_gets_the_place(faq: Faq, knowledge: KnowledgeStore, question: str) -> None:
    answer = faq.answer(question)
    assert answer.entry == "lieu_formation", (question, text_of(answer))
    assert fact(knowledge, "ville") in text_of(answer)


def test_ou_meaning_or_stays_a_stop_word() -> None:
    assert "ou" in french.words("c'est complet ou pas ?")
    assert "ou" in french.words("un oral ou un écrit")
    assert "ou" in french.words("ou alors c'est payant ?")
    assert french.WHERE in french.words("je m'inscris où ?") and french.WHERE in french.words("vous êtes ou ?")


class FixedClock(Clock):
    def now(self) -> dt.datetime:
        return dt.datetime(2026, 11, 22, 10, 0, tzinfo=PARIS)


@pytest.fixture
def assistant(knowledge: KnowledgeStore, tmp_path: Path) -> Assistant:
    return Assistant(knowledge, open_database(tmp_path / "bot.db"), FixedClock(), settings=Settings())


@pytest.mark.parametrize("question, entry", [("il faut un cv ?", "pieces_dossier"), ("faut un cv", "pieces_dossier"),
                                             ("je peux faire une vae ?", "vae"), ("une vae c possible ?", "vae")])
def test_short_cv_and_vae_questions_are_not_small_talk(assistant: Assistant, question: str, entry: str) -> None:
    turn = assistant.handle_turn(Incoming(Person(41), Kind.TEXT, question))
    assert turn.answers[-1].outcome == "answered" and turn.answers[-1].entry == entry
    assert "Ça va" not in turn.replies[0].plain_text()


@pytest.mark.parametrize("question", ["j'ai 31 ans, c'est trop tard ?", "J'ai 31 ans. C'est trop tard ?",
                                      "jai 31 ans c trop tard ?"])
def test_too_late_at_31_is_the_age_answer_said_once(assistant: Assistant, knowledge: KnowledgeStore,
                                                     question: str) -> None:
    turn = assistant.handle_turn(Incoming(Person(42), Kind.TEXT, question))
    answer = turn.answers[-1]
    assert answer.entry == "age_limite" and list(answer.entries or ["age_limite"]) == ["age_limite"]
    text = "\n".join(r.plain_text() for r in turn.replies)
    assert text.count("31 ans") == 1 and fact(knowledge, "age_max") in text, text
    assert "30 novembre" not in text, "not the late-entry rule"


def test_block_4_exam_question_gets_the_block_4_exam(faq: Faq, knowledge: KnowledgeStore) -> None:
    context = ConversationContext()
    faq.answer("je voudrais seulement le bloc 4, en candidat libre", context)
    for question in ("l'examen se déroule comment ?", "comment se passe l'examen ?", "et l'épreuve, c'est quoi ?"):
        answer = faq.answer(question, context)
        assert answer.entry == "bloc4_epreuve", (question, text_of(answer))
        assert fact(knowledge, "bloc4_duree_epreuve") in text_of(answer)
    # without the track, the same words are about the BTS exams, not the admission process
    assert faq.answer("l'examen se déroule comment ?").entry == "evaluation_examens"
    assert faq.answer("le déroulement de la sélection ?").entry == "processus_admission"
