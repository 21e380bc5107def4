"""The knowledge base as the rest of the core sees it, once loaded and checked."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from typing import Union

FactValue = Union[str, int, float, dt.date]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in ``knowledge/``, printed as ``path:line: message``."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Topic:
    """A button of the topic menu."""

    id: str
    label: str
    line: int = 0


@dataclass
class Entry:
    """One answer of the FAQ with the questions that lead to it.

    ``kind`` is ``"faq"`` for the knowledge entries and ``"smalltalk"`` for the
    greetings and thanks that get a friendly reply but no knowledge answer.
    """

    id: str
    answer: str
    questions: list[str]
    title: str = ""
    topic: str = ""
    keywords: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    kind: str = "faq"
    #: The path this entry belongs to (``"bloc4"``): preferred on that path, set aside off it.
    track: str = ""
    #: Who this entry is for (``"entreprise"``, ``"parent"``): preferred when that person asks.
    audience: str = ""
    #: Other wordings of ``answer`` for a context: ``{"vous": ..., "entreprise": ..., "bloc4": ...}``.
    variants: dict[str, str] = field(default_factory=dict)
    #: In a context, another entry answers the same question: ``{"bloc4": "bloc4_frais"}``.
    instead: dict[str, str] = field(default_factory=dict)
    path: str = ""
    line: int = 0
    line_of_topic: int = 0
    question_lines: list[int] = field(default_factory=list)
    #: Why this answer may exceed the 6 lines of the style guide (empty: it may not).
    long_because: str = ""


@dataclass(frozen=True)
class FactSource:
    """Where a fact was read and when someone last checked it there (``source:``, ``checked:``)."""

    source: str
    checked: dt.date | None
    line: int = 0


@dataclass(frozen=True)
class OpenDay:
    """One open day (journée portes ouvertes)."""

    date: dt.date
    start: str
    end: str


@dataclass(frozen=True)
class OfficialFact:
    """A fact from an official source other than the brochures (law, SMIC...).

    It carries where it comes from and the day someone checked it, so that staff
    know what to re-check and ``check`` can say when it is getting old. ``value`` is
    a tuple of numbers for a table row (the percentages of one age band).
    """

    id: str
    value: FactValue | tuple[float, ...]
    source: str
    checked: dt.date
    path: str = ""
    line: int = 0


@dataclass
class EnglishEntry:
    """The English side of one FAQ entry: example questions, and its answer when translated."""

    id: str
    questions: list[str]
    answer: str = ""
    path: str = ""
    line: int = 0


@dataclass
class KnowledgeBase:
    """Everything loaded from ``knowledge/``.

    ``entries`` holds the FAQ entries by id, in file order; ``smalltalk`` the
    small-talk intents; ``texts`` the sentences the bot itself says, by dotted key
    (``general.fallback`` is key ``fallback`` of ``texts/general.yaml``).
    """

    facts: dict[str, FactValue] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)
    smalltalk: dict[str, Entry] = field(default_factory=dict)
    topics: list[Topic] = field(default_factory=list)
    synonyms: list[list[str]] = field(default_factory=list)
    open_days: list[OpenDay] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    #: Words and phrases that reveal health or disability (``sante.yaml``): such text is never stored.
    health_words: tuple[str, ...] = ()
    #: Facts from official sources (``official_facts.yaml``); the scalar ones are also in ``facts``.
    official: dict[str, OfficialFact] = field(default_factory=dict)
    #: English questions and answers by entry id (``english.yaml``).
    english: dict[str, EnglishEntry] = field(default_factory=dict)
    #: English wording of the text facts English answers use (``english.yaml``).
    facts_en: dict[str, str] = field(default_factory=dict)
    #: Groups of English words that mean the same for our questions (``english.yaml``).
    synonyms_en: list[list[str]] = field(default_factory=list)
    #: Facts written as ``{value, source, checked}``: their source and check date.
    fact_sources: dict[str, FactSource] = field(default_factory=dict)
    #: The line of each fact in ``facts.yaml`` (for ``check``'s warnings).
    fact_lines: dict[str, int] = field(default_factory=dict)
    #: Questions the brochures do not answer, each with an honest reply (``not_covered.yaml``).
    not_covered: dict[str, Entry] = field(default_factory=dict)
    #: Phrases that tell who is asking or which path they want (``context.yaml``):
    #: ``{"audience.parent": [...], "track.bloc4": [...], "register.vous": [...]}``.
    cues: dict[str, list[str]] = field(default_factory=dict)
    #: The kinds of opt-in reminder by id (``reminders.yaml``, see ``bot/reminders/``).
    reminders: dict[str, Any] = field(default_factory=dict)

    def entries_of_topic(self, topic_id: str) -> list[Entry]:
        """The entries listed under a topic of the menu, in file order."""
        return [e for e in self.entries.values() if e.topic == topic_id]

    def topic(self, topic_id: str) -> Topic | None:
        """The topic with that id, if any."""
        return next((t for t in self.topics if t.id == topic_id), None)
