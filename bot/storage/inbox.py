"""Updates received and not yet fully handled, kept until they are.

Telegram considers an update delivered as soon as the bot asks for the next ones.
python-telegram-bot's own poller asks again at once, while the previous updates
are still being handled, so a process killed at that moment loses them. The bot's
poller (``handlers/polling.py``) first writes each batch here, together with the
highest update id received, then asks for more; each update leaves the inbox once
handled. After a crash, what is still here is handled again (:mod:`bot.storage.updates`
makes that safe for prospects' and staff inputs alike).

The inbox holds raw updates, so messages' text: rows live for the time of one
update's handling, and are dropped after a day whatever happens.
"""
from __future__ import annotations

import datetime as dt

import sqlite_utils

KEEP_HOURS = 24


def create_inbox_tables(db: sqlite_utils.Database) -> None:
    """The migration that creates the inbox and the last received update id."""
    db["inbox"].create({"update_id": int, "payload": str, "received_at": str}, pk="update_id")
    db["poll_state"].create({"key": str, "value": int}, pk="key")


class Inbox:
    """Store, list and settle received updates."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def last_update_id(self) -> int | None:
        """The highest update id ever stored (Telegram may forget everything up to it)."""
        row = self.db.execute("SELECT value FROM poll_state WHERE key = 'last_update_id'").fetchone()
        return row[0] if row else None

    def add(self, updates: list[tuple[int, str]], now: dt.datetime) -> None:
        """Store a batch of (update id, JSON) and the new highest id, in one transaction."""
        if not updates:
            return
        stamp = now.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)",
                [(update_id, payload, stamp) for update_id, payload in updates])
            highest = max(update_id for update_id, _ in updates)
            self.db.execute(
                "INSERT INTO poll_state (key, value) VALUES ('last_update_id', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = MAX(value, excluded.value)", [highest])

    def receive(self, update_id: int, payload: str, now: dt.datetime) -> bool:
        """Store one update pushed to the webhook; False if it is already here (Telegram re-sent it).

        Telegram re-sends an update whose delivery it saw fail, even when the bot stored
        it before dying: the second copy must not be handled again.
        """
        with self.db.atomic():
            if self.db.execute("SELECT 1 FROM inbox WHERE update_id = ?", [update_id]).fetchone():
                return False
            self.add([(update_id, payload)], now)
        return True

    def count(self) -> int:
        """How many updates wait to be handled (the backlog ``/healthz`` reports)."""
        return self.db.execute("SELECT COUNT(*) FROM inbox").fetchone()[0]

    def pending(self) -> list[tuple[int, str]]:
        """Updates received but not handled (after a crash), oldest first."""
        return self.db.execute("SELECT update_id, payload FROM inbox ORDER BY update_id").fetchall()

    def done(self, update_id: int) -> None:
        """An update is handled: forget it."""
        self.db.execute("DELETE FROM inbox WHERE update_id = ?", [update_id])

    def purge(self, now: dt.datetime, hours: int = KEEP_HOURS) -> int:
        """Drop rows older than ``hours`` (an update that crashes the bot every time)."""
        cutoff = (now - dt.timedelta(hours=hours)).astimezone(dt.timezone.utc).isoformat(timespec="seconds")
        return self.db.execute("DELETE FROM inbox WHERE received_at < ?", [cutoff]).rowcount
