"""The log of questions prospects asked: the raw material of the next FAQ edit.

Each row keeps the question, the entry matched (or none) and the score, and the
prospect's id only so that ``/supprimer`` can find them; nothing else about them.
A question may hold what the prospect typed about themselves (a name, a phone
number): rows are deleted by ``/supprimer`` and after ``QUESTION_RETENTION_DAYS``.
"""
from __future__ import annotations

import datetime as dt

import sqlite_utils

from bot.storage.times import to_db


class QuestionLog:
    """Records questions and reads them back for the staff's statistics."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def record(self, user_id: int | None, text: str, entry: str | None, score: float,
               outcome: str, at: dt.datetime) -> None:
        """Store one question; ``outcome`` is answered, ambiguous, fallback or smalltalk."""
        self.db.execute(  # plain SQL: sqlite-utils' insert reads the schema on every call
            "INSERT INTO questions (at, user_id, text, entry, score, outcome) VALUES (?, ?, ?, ?, ?, ?)",
            [to_db(at), user_id, text[:1000], entry, round(score, 4), outcome],
        )

    def erase_user(self, user_id: int) -> int:
        """Delete a prospect's questions (``/supprimer``): a question may hold their name or number."""
        return self.db.execute("DELETE FROM questions WHERE user_id = ?", [user_id]).rowcount

    def purge_older_than(self, cutoff: dt.datetime) -> int:
        """Retention of the question log (``QUESTION_RETENTION_DAYS``): delete older questions."""
        return self.db.execute("DELETE FROM questions WHERE julianday(at) < julianday(?)",
                               [to_db(cutoff)]).rowcount

    def of_user(self, user_id: int) -> list[dict]:
        """Every question of a prospect still stored, oldest first (``/mesdonnees``)."""
        rows = self.db.execute("SELECT at, text FROM questions WHERE user_id = ? ORDER BY id", [user_id]).fetchall()
        return [{"at": at, "text": text} for at, text in rows]

    def forget_user(self, user_id: int) -> int:
        """Cut the link between a prospect and their questions; returns how many rows."""
        cursor = self.db.execute("UPDATE questions SET user_id = NULL WHERE user_id = ?", [user_id])
        return cursor.rowcount

    def recent_of(self, user_id: int, limit: int = 5) -> list[dict]:
        """A prospect's last questions, oldest first (the context staff see on a handoff)."""
        rows = self.db.execute(
            "SELECT at, text, entry, outcome FROM questions WHERE user_id = ? ORDER BY id DESC LIMIT ?",
            [user_id, limit],
        ).fetchall()
        return [dict(zip(("at", "text", "entry", "outcome"), row)) for row in reversed(rows)]

    def count_of(self, user_id: int) -> int:
        """How many logged questions are linked to the prospect (shown by ``/mesdonnees``)."""
        return self.db.execute("SELECT COUNT(*) FROM questions WHERE user_id = ?", [user_id]).fetchone()[0]
