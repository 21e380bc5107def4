"""The mechanisms that make the reading of a message generalise, each on a phrasing of its own.

Found by the held-out conversations (tests/fixtures/conversations_holdout.yaml): glued
elisions, "là-bas", SMS question words between two clauses, a message that asks nothing,
a question pointing back to the previous answer or opening on a pronoun, an age stated with
"c'est possible ?", a sentence made only of small-talk words. Run on the real knowledge base
through the same path as Telegram's (``OwnCase`` around ``Faq.answer``) with a real context.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.conversation.context import ConversationContext
from bot.conversation.faq import Answer, Faq
from bot.conversation.own_case import OwnCase
from bot.conversation.understanding import neighbours
from bot.knowledge.store import KnowledgeStore
from bot.matching import french

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 11, 22)


def say(faq: Faq, *messages: str) -> list[Answer]:
    """The answers to a conversation's messages, one context across them."""
    context = ConversationContext()
    return [OwnCase(faq).answer(m, context) for m in messages]


def test_a_glued_elision_is_cut_only_when_the_dictionary_says_so() -> None:
    assert french.words("jhesite pour lentreprise") == ["j", "hesite", "pour", "l", "entreprise"]
    assert french.words("lycee le samedi") == ["lycee", "le", "samedi"], "real words stay whole"
    assert french.words("la maternelle") == ["la", "maternelle"]


def test_la_bas_is_a_place_not_a_low_level() -> None:
    assert "bas" not in french.words("c'est comment là-bas ?")
    assert "bas" in french.words("mon niveau est bas")


def test_a_message_that_asks_nothing_is_noted_not_refused(faq: Faq) -> None:
    [answer] = say(faq, "Je suis responsable d'un rayon bricolage depuis trois ans.")
    assert answer.replies[0].text == faq.render.text("general.note_presentation")
    assert answer.entry is None, "nothing answered from the base"


def test_a_request_without_a_question_mark_is_still_a_question(faq: Faq) -> None:
    [answer] = say(faq, "j'aimerais savoir le tarif d'une pizza")
    assert answer.replies[0].text == faq.render.text("general.pas_compris")


def test_sms_question_words_cut_two_clauses(faq: Faq) -> None:
    [answer] = say(faq, "c koi le rythme et c cb le salaire")
    assert answer.entries == ("rythme_alternance", "remuneration")


def test_a_question_pointing_back_is_read_with_the_previous_answer(faq: Faq) -> None:
    first, then = say(faq, "les examens peuvent etre amenages ?", "et qui appeler pour ca ?")
    assert first.entry == "amenagement_examens"
    context = ConversationContext(last_entries=[first.entry])
    assert then.entry in neighbours(faq, context), then.entry
    assert str(faq.kb.facts["referente_handicap"]) in then.replies[0].text


def test_a_question_opening_on_a_pronoun_is_about_the_preamble(faq: Faq) -> None:
    [answer] = say(faq, "J'ai un diplôme obtenu au Cameroun. Est-il reconnu pour s'inscrire ?")
    assert answer.entry == "diplome_etranger"


def test_a_named_subject_is_not_a_pronoun_pointing_back(faq: Faq) -> None:
    [answer] = say(faq, "Mon fils sort de terminale. La formation est-elle gratuite ?")
    assert answer.entry == "cout_formation"


def test_an_age_with_c_est_possible_is_an_age_question(faq: Faq) -> None:
    [answer] = say(faq, "j'ai 35 ans et je travaille en boutique, le BTS en alternance c'est possible pour moi ?")
    assert answer.entry == "age_limite"
    assert "35" in answer.replies[0].text


def test_a_sentence_made_only_of_small_talk_words_is_small_talk(faq: Faq) -> None:
    [answer] = say(faq, "ok merci bye")
    assert answer.outcome == "smalltalk"


def test_a_courtesy_in_vous_is_small_talk_not_an_entry(faq: Faq) -> None:
    [answer] = say(faq, "Merci à vous, bonne soirée.")
    assert answer.outcome == "smalltalk" and answer.entry is None
