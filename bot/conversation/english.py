"""English answers: the translated entries of ``knowledge/english.yaml``, rendered in English.

The same facts fill English answers as French ones, so an English answer can never
state a figure the French one does not: only the words around them are translated.
Dates read "27 August 2026", amounts "1,823.03", and a fact written in French ("lundi
et mardi") takes its translation from ``english.yaml`` (``check`` insists on one).
"""
from __future__ import annotations

import datetime as dt
import re

from bot.knowledge.loader import PLACEHOLDER
from bot.knowledge.model import FactValue, KnowledgeBase
from bot.matching import french
from bot.matching.english import STOPWORDS

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


#: Small talk, by the key of its reply in ``texts/english.yaml`` (first found wins): a message made
#: only of these words (and grammar) is small talk, not a question.
SMALLTALK = (
    ("parle_anglais", frozenset("speak english".split())),
    ("merci", frozenset("thanks thank thx cheers ty grateful appreciate helpful".split())),
    ("au_revoir", frozenset("bye goodbye see later cya".split())),
    ("salut", frozenset("hi hello hey morning afternoon evening".split())),
    ("ok", frozenset("ok okay great cool perfect alright nice fine good got understood".split())),
)
_SMALLTALK_WORDS = frozenset(w for _, words in SMALLTALK for w in words)


def english_smalltalk(text: str) -> str | None:
    """The key of the small-talk reply when ``text`` is only thanks, a greeting, a goodbye or "ok"."""
    words = french.words(text)
    filler = {"much", "lot", "help", "good"}
    if not words or not all(w in _SMALLTALK_WORDS or w in STOPWORDS or w in filler or w in french.STOPWORDS
                            for w in words):
        return None
    return next((key for key, group in SMALLTALK if any(w in group for w in words)), None)


def english_fact(value: FactValue) -> str:
    """A fact as written in an English sentence."""
    if isinstance(value, dt.date):
        return f"{value.day} {MONTHS[value.month - 1]} {value.year}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def render_english(kb: KnowledgeBase, template: str, params: dict[str, object] | None = None) -> str:
    """Fill ``{names}`` for an English reader: parameters, then English facts, then facts."""
    params = params or {}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in params:
            return str(params[name])
        if name in kb.facts_en:
            return kb.facts_en[name]
        if name in kb.facts:
            return english_fact(kb.facts[name])
        return match.group(0)

    return PLACEHOLDER.sub(fill, template)
