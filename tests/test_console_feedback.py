"""👍/👎 under FAQ answers (``bot/conversation/feedback.py``), /sans_reponse and /stats."""
from __future__ import annotations

from pathlib import Path

from bot.conversation.engine import Assistant
from bot.conversation.messages import Incoming, Kind
from test_console_teach import ZOE, assistant, folder, staff  # noqa: F401 (fixtures)

KNOWN = "c'est payant la formation ?"


def ask(assistant: Assistant, text: str):
    return assistant.handle(Incoming(ZOE, Kind.TEXT, text))


def rating_buttons(replies) -> list[str]:
    return [b.data for r in replies for row in r.buttons for b in row if b.data.startswith("fb:")]


def test_asked_under_an_answer_never_twice_in_a_row(assistant: Assistant) -> None:
    first = rating_buttons(ask(assistant, KNOWN))
    assert len(first) == 2
    assert rating_buttons(ask(assistant, "c quoi le rythme de l'alternance")) == []
    assert len(rating_buttons(ask(assistant, "le salaire c'est combien"))) == 2
    assert rating_buttons(ask(assistant, "on fait du sport pendant les cours")) == []  # no entry: no rating


def test_thumbs_down_goes_to_sans_reponse_and_stats(assistant: Assistant) -> None:
    down = [d for d in rating_buttons(ask(assistant, KNOWN)) if d.startswith("fb:0")][0]
    thanks = assistant.handle(Incoming(ZOE, Kind.BUTTON, down))
    assert "améliorer" in thanks[0].text
    assistant.handle(Incoming(ZOE, Kind.BUTTON, down))  # a second tap counts once
    report = staff(assistant, command="sans_reponse")
    assert KNOWN in report.replies[0].text and "a reçu" in report.replies[0].text
    stats = staff(assistant, command="stats").replies[0].text
    assert "Avis sur les réponses : 1, jugées utiles : 0 %" in stats
    assert rating_buttons(ask(assistant, "c quoi le rythme de l'alternance")) == []  # asked last time
    up = [d for d in rating_buttons(ask(assistant, "le salaire c'est combien")) if d.startswith("fb:1")]
    assistant.handle(Incoming(ZOE, Kind.BUTTON, up[0]))
    assert "jugées utiles : 50 %" in staff(assistant, command="stats").replies[0].text
