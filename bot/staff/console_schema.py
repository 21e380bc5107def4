"""The tables of the staff console, created by one migration (``bot/storage/db.py``)."""
from __future__ import annotations

import sqlite_utils


def create_console_tables(db: sqlite_utils.Database) -> None:
    """Knowledge edits and pending teaching choices (``bot/staff/teach.py``), answers' ratings."""
    from bot.conversation.feedback import create_feedback_table
    from bot.staff.teach import create_teach_tables

    create_teach_tables(db)
    create_feedback_table(db)
