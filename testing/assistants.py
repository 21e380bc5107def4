"""One way to build an :class:`~bot.conversation.engine.Assistant` in a test.

The same construction as production (``bot.composition.make_assistant``) but with the
test's knowledge store, database file and clock; ``tests/conftest.py`` offers it as the
``build_assistant`` fixture.
"""
from __future__ import annotations

from bot.conversation.faq import Answer

from bot.knowledge.render import format_fact

import dataclasses
from pathlib import Path
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from bot.conversation.engine import Assistant
from bot.knowledge.store import KnowledgeStore
from bot.storage.db import open_database

#: The project's own knowledge base.
KNOWLEDGE_DIR = Path(__file__).resolve().parent.parent / "knowledge"


def build_assistant(knowledge: KnowledgeStore, path: Path, clock: Clock | None = None, *,
                    retention_months: int = 36, settings: Settings | None = None, **options: Any) -> Assistant:
    """An assistant on the SQLite file ``path``; ``options`` are :class:`Settings` fields."""
    if options:
        settings = dataclasses.replace(settings or Settings(), **options)
    return Assistant(knowledge, open_database(path), clock or Clock(), retention_months=retention_months,
                     settings=settings)


def fact(store: KnowledgeStore, name: str) -> str:
    """A fact of the base as an answer shows it ("03 22 82 84 70", "27 août 2026")."""
    return format_fact(store.current.kb.facts[name])


def text_of(answer: Answer) -> str:
    """All the text a prospect reads for an answer, without markup."""
    return "\n".join(r.plain_text() for r in answer.replies)
