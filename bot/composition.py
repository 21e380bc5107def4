"""How the assistant is put together, for every front end (CLI, terminal chat, Telegram).

Here rather than in ``bot/cli.py`` so that the Telegram side (``handlers/app.py``)
builds its assistant and runs the daily purge without importing the command line,
which itself starts the Telegram side: that was an import cycle.
"""
from __future__ import annotations

from bot.clock import Clock
from bot.config import Settings
from bot.conversation.engine import Assistant
from bot.knowledge.store import KnowledgeStore
from bot.storage.db import open_database
from bot.storage.inbox import Inbox
from bot.storage.personal import checkpoint, purge


def make_assistant(settings: Settings, clock: Clock | None = None, database: str | None = None) -> Assistant:
    """The assistant with its knowledge and database, as every front end needs it."""
    knowledge = KnowledgeStore(settings.knowledge_dir)
    db = open_database(database or settings.database)
    clock = clock or Clock(start=settings.bot_clock)  # BOT_CLOCK: tests and demonstrations move "now"
    return Assistant(knowledge, db, clock, retention_months=settings.retention_months,
                     settings=settings)


def retention_purge(assistant: Assistant) -> dict[str, int]:
    """The retention purge, the same for ``run_bot.py purge`` and the bot's daily job.

    Counts only: nothing about the people concerned. Their copies in the staff group
    are blanked through the outbox (delivered when the bot runs).
    """
    staff = assistant.staff
    counts = purge(assistant.db, assistant.clock.now(), assistant.retention_months,
                   assistant.settings.question_retention_days, staff.forget_lead if staff is not None else None,
                   assistant.erasers)
    counts["inbox"] = Inbox(assistant.db).purge(assistant.clock.now())  # raw updates hold what people typed
    counts["quarantine"] = Inbox(assistant.db).purge_quarantine(assistant.clock.now())  # so do poison updates
    checkpoint(assistant.db)
    return counts
