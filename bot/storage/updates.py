"""Inputs already handled, so that an input delivered twice is handled once.

Telegram hands an update out again when the bot was killed before confirming it.
Handling it twice would, in the form, take a last name for the first name. Each
update is handled in one transaction that also records its id and the replies
given; a second delivery finds the record and only sends those replies again
(the prospect may not have received them before the crash). Rows are kept two
days (see :func:`purge_handled`): redeliveries come within seconds.
"""
from __future__ import annotations

import datetime as dt
import json

import sqlite_utils

from bot.conversation.messages import Reply

KEEP_DAYS = 2


class HandledUpdates:
    """Remembers handled update ids and their replies."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def replies_of(self, update_id: int) -> list[Reply] | None:
        """The replies given to an update already handled, or None if it is new."""
        row = self.db.execute("SELECT replies FROM handled_updates WHERE update_id = ?", [update_id]).fetchone()
        return [Reply.from_dict(r) for r in json.loads(row[0])] if row else None

    def record(self, update_id: int, user_id: int, replies: list[Reply], at: dt.datetime) -> None:
        """Note that an update was handled, with what was answered."""
        self.db.execute(
            "INSERT OR REPLACE INTO handled_updates (update_id, user_id, replies, at) VALUES (?, ?, ?, ?)",
            [update_id, user_id, json.dumps([r.to_dict() for r in replies], ensure_ascii=False),
             at.astimezone(dt.timezone.utc).isoformat(timespec="seconds")])


def purge_handled(db: sqlite_utils.Database, now: dt.datetime, days: int = KEEP_DAYS) -> int:
    """Forget handled updates older than ``days``; returns how many rows."""
    cutoff = (now - dt.timedelta(days=days)).astimezone(dt.timezone.utc).isoformat(timespec="seconds")
    return db.execute("DELETE FROM handled_updates WHERE at < ?", [cutoff]).rowcount
