"""Inputs already handled, so that an input delivered twice is handled once.

Telegram hands an update out again when the bot was killed before confirming it.
Handling it twice would, in the form, take a last name for the first name. Each
update is handled in one transaction that also records its id and the replies
given; a second delivery finds the record and only sends those replies again
(the prospect may not have received them before the crash). Rows are kept two
days (see :func:`purge_handled`): redeliveries come within seconds.

The staff desk (``bot/staff/desk.py``) records its own inputs here too: update ids
are unique across the whole bot, and its answer (group replies and a button's toast)
is a JSON object instead of a list of replies, stored with :meth:`HandledUpdates.record_answer`.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlite_utils

from bot.messages import Reply
from bot.storage.times import to_db

KEEP_DAYS = 2


class HandledUpdates:
    """Remembers handled update ids and their replies."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def replies_of(self, update_id: int) -> list[Reply] | None:
        """The replies given to an update already handled, or None if it is new."""
        answer = self.answer_of(update_id)
        return None if answer is None else [Reply.from_dict(r) for r in answer]

    def record(self, update_id: int, user_id: int, replies: list[Reply], at: dt.datetime) -> None:
        """Note that an update was handled, with what was answered."""
        self.record_answer(update_id, user_id, [r.to_dict() for r in replies], at)

    def answer_of(self, update_id: int) -> Any | None:
        """The JSON answer recorded for an update already handled, or None if it is new."""
        row = self.db.execute("SELECT replies FROM handled_updates WHERE update_id = ?", [update_id]).fetchone()
        return json.loads(row[0]) if row else None

    def record_answer(self, update_id: int, user_id: int, answer: Any, at: dt.datetime) -> None:
        """Note that an update was handled, with its answer in any JSON-ready shape.

        ``user_id`` is whose input it was: ``/supprimer`` erases that person's rows.
        """
        self.db.execute(
            "INSERT OR REPLACE INTO handled_updates (update_id, user_id, replies, at) VALUES (?, ?, ?, ?)",
            [update_id, user_id, json.dumps(answer, ensure_ascii=False),
             to_db(at)])


def purge_handled(db: sqlite_utils.Database, now: dt.datetime, days: int = KEEP_DAYS) -> int:
    """Forget handled updates older than ``days``; returns how many rows."""
    cutoff = to_db(now - dt.timedelta(days=days))
    return db.execute("DELETE FROM handled_updates WHERE at < ?", [cutoff]).rowcount
