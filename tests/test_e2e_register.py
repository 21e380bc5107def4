"""End to end: a parent writing "vous" on Telegram never reads "tu" (issue 10, point 6).

The real bot process and python-telegram-bot stack, against the Bot API double: a
parent asks the common questions, taps a button under the pay answer and opens the menu;
every message the double received for them is checked with the "tu" finder that
``check`` uses. Expected answers are found through the knowledge base's facts.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.knowledge.loader import load_knowledge
from bot.knowledge.register import tu_forms
from bot.knowledge.render import format_fact
from e2e_support import bot_process, bot_process_factory, botapi_double  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parent.parent
PARENT = 6262


@pytest.fixture(scope="module")
def kb():
    base, problems = load_knowledge(ROOT / "knowledge")
    assert not problems
    return base


def ask(double, text: str, expect: str) -> dict:
    """Send a message and return the reply matching ``expect``."""
    since = double.last_call().seq if double.calls() else None
    double.push_text(PARENT, text)
    return double.wait_for_text(PARENT, expect, since=since)


def test_a_parent_writing_vous_reads_vous_or_neutral_french_only(botapi_double, bot_process, kb) -> None:
    fact = lambda name: re.escape(format_fact(kb.facts[name]))  # noqa: E731
    replies = [
        ask(botapi_double, "Bonjour, je me renseigne pour mon fils. Quels jours aurait-il cours ?", fact("jours_cours")),
        ask(botapi_double, "La formation est-elle payante pour nous ?", "gratuit"),
        ask(botapi_double, "Combien serait-il payé ?", fact("remuneration_min")),
        ask(botapi_double, "Quelles sont les étapes de l'admission ?", "Demi-journée"),
        ask(botapi_double, "Y a-t-il des journées portes ouvertes ?", "portes ouvertes"),
        ask(botapi_double, "Il est dyslexique, sera-t-il accompagné ?", re.escape(kb.facts["referente_handicap"])),
        ask(botapi_double, "Pouvez-vous m'aider pour une question de poterie ?", "reformuler"),
    ]
    since = botapi_double.last_call().seq
    botapi_double.push_callback(PARENT, "e:contrat_apprentissage", replies[2]["message_id"])
    replies.append(botapi_double.wait_for_text(PARENT, "contrat d'apprentissage", since=since))
    since = botapi_double.last_call().seq
    botapi_double.push_command(PARENT, "/menu")
    replies.append(botapi_double.wait_for_text(PARENT, "thème", since=since))
    for message in replies:
        assert tu_forms(message["text"]) == [], message["text"]
    assert "votre enfant" in replies[1]["text"] and "Choisissez" in replies[-1]["text"]
