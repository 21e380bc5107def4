"""End to end: real prospect messages on Telegram, through the real bot process.

Preambles, several questions in one message, a block-4 conversation, an employer
writing "vous", and a follow-up read with the context after the bot restarted. Every
assertion is on what the Bot API double received; expected texts come from the
knowledge base (facts, titles), not from this file.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.knowledge.loader import load_knowledge
from bot.knowledge.render import format_fact


ROOT = Path(__file__).resolve().parent.parent
PROSPECT = 5151


@pytest.fixture(scope="module")
def kb():
    base, problems = load_knowledge(ROOT / "knowledge")
    assert not problems
    return base


def fact(kb, name: str) -> str:
    return format_fact(kb.facts[name])


def ask(double, text: str, expect: str, user: int = PROSPECT) -> str:
    """Send a message and return the text of the reply matching ``expect``."""
    since = double.last_call().seq if double.calls() else None
    double.push_text(user, text)
    return double.wait_for_text(user, expect, since=since)["text"]


def test_a_preamble_keeps_the_question_and_says_who_asks(botapi_double, bot_process, kb) -> None:
    text = ask(botapi_double, "Bonjour, je me renseigne pour mon fils qui finit sa seconde pro. "
                              "Est-ce que la formation est payante ?", "gratuit")
    assert "votre enfant" in text, "a parent reads about their child"
    assert "Pour toi" not in text and "pas sûr" not in text


def test_three_questions_in_one_message_get_one_reply_in_order(botapi_double, bot_process, kb) -> None:
    text = ask(botapi_double, "salut ! ça dure combien de temps, on a cours quels jours, et on est payé combien ?",
               re.escape(kb.entries["remuneration"].title))
    titles = [kb.entries[e].title for e in ("duree_formation", "rythme_alternance", "remuneration")]
    positions = [text.find(t) for t in titles]
    assert -1 not in positions and positions == sorted(positions), text
    assert fact(kb, "jours_cours") in text


def test_a_block_4_conversation_stays_on_its_path(botapi_double, bot_process, kb) -> None:
    ask(botapi_double, "Bonjour, je suis vendeuse depuis 6 ans et je voudrais juste le bloc 4 en candidat libre.",
        "bloc")
    fees = ask(botapi_double, "ça coûte combien ?", re.escape(fact(kb, "bloc4_frais_inscription")))
    assert "gratuite pour les alternants" not in fees
    ask(botapi_double, "je m'inscris où ?", "rectorat")
    validity = ask(botapi_double, "et c'est valable combien de temps ?", re.escape(fact(kb, "bloc4_validite")))
    assert "Recteur" in validity


def test_an_employer_writing_vous_gets_the_company_side(botapi_double, bot_process, kb) -> None:
    cost = ask(botapi_double, "Bonjour, nous sommes une enseigne de bricolage et souhaitons recruter un alternant. "
                              "Combien cela nous coûterait-il ?", re.escape(fact(kb, "cout_entreprise_moyen")))
    assert "pas sûr" not in cost
    contact = ask(botapi_double, "Qui pouvez-vous me donner comme contact ?", re.escape(kb.facts["responsable_ufa"]))
    for tu_word in (" tu ", " ton ", " ta ", "Tu peux", "Merci de ton"):
        assert tu_word not in f" {contact} ", contact


def test_a_follow_up_after_a_restart_is_read_with_the_context(botapi_double, bot_process, kb) -> None:
    ask(botapi_double, "Bonsoir, ma fille est en terminale et cherche une alternance dans le commerce. "
                       "C'est payant ?", "gratuit")
    bot_process.restart()
    pay = ask(botapi_double, "et elle sera payée combien ?", re.escape(fact(kb, "remuneration_min")))
    assert "votre enfant" in pay and "tu es" not in pay, pay
