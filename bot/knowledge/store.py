"""The knowledge base currently in use, its matchers, and safe reloading.

A reload that finds a problem keeps the base the bot had: a staff member's typo in
a YAML file must never take answers away from prospects.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import Entry, KnowledgeBase, Problem
from bot.knowledge.render import Renderer
from bot.matching import french
from bot.matching.cues import Cues
from bot.matching.english import STOPWORDS as ENGLISH_STOPWORDS
from bot.matching.matcher import Matcher

log = logging.getLogger(__name__)



def smalltalk_stopwords(kb: KnowledgeBase) -> frozenset[str]:
    """The FAQ's stop words minus those small talk is made of ("merci", "qui", "ok"...).

    For the FAQ, "bonjour" or "merci" say nothing about the topic; for small talk
    they are the whole message. Deriving the list from the small-talk examples
    keeps it right when a maintainer adds an intent.
    """
    used = {w for entry in kb.smalltalk.values() for q in entry.questions for w in french.words(q)}
    return (french.STOPWORDS - used) | french.GRAMMAR


def english_matcher(kb: KnowledgeBase) -> Matcher:
    """A matcher over the English example questions (French stemming is only a suffix cut: harmless)."""
    entries = [Entry(id=e.id, answer=e.answer, questions=e.questions) for e in kb.english.values()]
    return Matcher(entries, kb.synonyms_en, stopwords=ENGLISH_STOPWORDS | french.GRAMMAR)


@dataclass
class Loaded:
    """A knowledge base with the matchers built from it."""

    kb: KnowledgeBase
    faq: Matcher
    smalltalk: Matcher
    #: Over the English example questions of ``english.yaml`` (None: no English).
    english: Matcher | None = None
    #: The phrases of ``context.yaml``, compiled once per load.
    cues: "Cues | None" = None
    #: Every word of the small-talk examples: a message made only of these (and stop words) is small talk.
    smalltalk_words: frozenset[str] = frozenset()

    @classmethod
    def build(cls, kb: KnowledgeBase) -> "Loaded":
        """Index a knowledge base (a few tens of milliseconds for the real one)."""
        return cls(
            kb=kb,
            # "Not covered" questions compete with the entries on the same words, so that
            # "combien d'élèves par classe" finds its honest answer rather than a neighbour.
            faq=Matcher([*kb.entries.values(), *kb.not_covered.values()], kb.synonyms),
            smalltalk=Matcher(kb.smalltalk.values(), [], stopwords=smalltalk_stopwords(kb)),
            english=english_matcher(kb) if kb.english else None,
            cues=Cues(kb.cues),
            smalltalk_words=frozenset(w for e in kb.smalltalk.values() for q in e.questions
                                      for w in french.words(q)),
        )

    def renderer(self, today: dt.date) -> Renderer:
        """A renderer of this base's texts as of ``today``."""
        return Renderer(self.kb, today)


class KnowledgeProblems(Exception):
    """The folder has problems and there is no earlier base to keep: the bot must not start.

    Starting on a partial base once showed the raw key ``form.notice`` instead of the
    privacy notice; refusing, with each problem as ``path:line: message``, is safer.
    """

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in knowledge/")
        self.problems = problems


class KnowledgeStore:
    """Holds the knowledge in use; :meth:`reload` swaps it only when the new one is sound."""

    def __init__(self, directory: Path, strict: bool = True) -> None:
        """Load ``directory``; with ``strict`` (the default) raise :class:`KnowledgeProblems` on any problem."""
        self.directory = directory
        kb, problems = load_knowledge(directory)
        for problem in problems:
            log.error("knowledge: %s", problem)
        if problems and strict:
            raise KnowledgeProblems(problems)
        self.current = Loaded.build(kb)
        self.startup_problems = problems

    def reload(self) -> list[Problem]:
        """Load the folder again; keep the old base and return the problems if any."""
        kb, problems = load_knowledge(self.directory)
        if problems:
            return problems
        self.current = Loaded.build(kb)
        return []

