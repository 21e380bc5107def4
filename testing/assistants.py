"""One way to build an :class:`~bot.conversation.engine.Assistant` in a test.

The same construction as production (``bot.composition.make_assistant``) but with the
test's knowledge store, database file and clock; ``tests/conftest.py`` offers it as the
``build_assistant`` fixture.
"""
from __future__ import annotations

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
