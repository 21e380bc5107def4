"""Where each prospect is in the conversation, kept in SQLite so a restart loses nothing.

The state is a small JSON document (mode, form step, pending choices...). It is
read and written around every message, so a bot killed between two messages picks
the conversation up exactly where it was.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlite_utils

from bot.storage.times import to_db


class SessionStore:
    """Reads and writes one JSON state per prospect."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def load(self, user_id: int) -> dict[str, Any]:
        """The prospect's state, or an empty one."""
        row = self.db.execute("SELECT state FROM sessions WHERE user_id = ?", [user_id]).fetchone()
        return json.loads(row[0]) if row else {}

    def save(self, user_id: int, state: dict[str, Any], at: dt.datetime) -> None:
        """Replace the prospect's state (an empty state deletes the row)."""
        if not state:
            self.delete(user_id)
            return
        # Plain SQL: sqlite-utils' upsert reads the schema on every call, and this runs on every message.
        self.db.execute(
            "INSERT INTO sessions (user_id, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            [user_id, json.dumps(state, ensure_ascii=False, default=str), to_db(at)],
        )

    def delete(self, user_id: int) -> None:
        """Forget the prospect's state."""
        self.db.execute("DELETE FROM sessions WHERE user_id = ?", [user_id])


class ProspectStore:
    """Remembers where a prospect came from (the deep-link source of ``/start``)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def seen(self, user_id: int, at: dt.datetime, source: str | None = None) -> None:
        """Note a visit; the first source is kept, a later deep link does not overwrite it."""
        stamp = to_db(at)
        row = self.db.execute("SELECT source FROM prospects WHERE user_id = ?", [user_id]).fetchone()
        if row is None:
            self.db.execute("INSERT INTO prospects (user_id, source, first_seen, last_seen) VALUES (?, ?, ?, ?)",
                            [user_id, source, stamp, stamp])
        else:
            self.db.execute(
                "UPDATE prospects SET last_seen = ?, source = COALESCE(source, ?) WHERE user_id = ?",
                [stamp, source, user_id],
            )

    def source(self, user_id: int) -> str | None:
        """The deep-link source the prospect first came with, if any."""
        row = self.db.execute("SELECT source FROM prospects WHERE user_id = ?", [user_id]).fetchone()
        return row[0] if row else None

    def forget(self, user_id: int) -> None:
        """Delete everything about the prospect kept here."""
        self.db.execute("DELETE FROM prospects WHERE user_id = ?", [user_id])
