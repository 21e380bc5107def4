"""The tables of the staff console, created by one migration (``bot/storage/db.py``).

They live in storage, like every migration's schema, so that the storage layer never
imports the features above it: ``bot/staff/teach.py`` (``knowledge_edits``, the history
of ``/modifs``, and ``teach_pending``, what a teaching button points to) and
``bot/conversation/feedback.py`` (``feedback``, one rating per question row).
"""
from __future__ import annotations

import sqlite_utils


def create_console_tables(db: sqlite_utils.Database) -> None:
    """Knowledge edits and pending teaching choices, and the answers' ratings."""
    db["knowledge_edits"].create(
        {"id": int, "at": str, "staff_id": int, "staff_name": str, "action": str, "item": str,
         "file": str, "question": str, "before": str, "after": str, "undone_at": str, "undo_of": int},
        pk="id")
    db["teach_pending"].create({"code": str, "question": str, "count": int, "candidates": str,
                                "created_at": str}, pk="code")
    db["teach_pending"].create_index(["created_at"])
    # ``question_id`` unique: a second tap on the same answer changes nothing.
    db["feedback"].create({"id": int, "at": str, "question_id": int, "entry": str, "useful": int}, pk="id")
    db["feedback"].create_index(["question_id"], unique=True)
    db["feedback"].create_index(["at"])


def add_edit_state(db: sqlite_utils.Database) -> None:
    """``knowledge_edits.pending``: an edit is recorded before its file is written, and marked done after.

    A process killed between the two leaves a pending row that the next start
    reconciles with the file (``bot/staff/teach.py``): no line added without its row.
    """
    db["knowledge_edits"].add_column("pending", int, not_null_default=0)
