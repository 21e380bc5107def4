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

An update the poller cannot parse is *quarantined* instead (table ``quarantine``):
kept as received, with its id and the exception's type, for a developer to look at,
and acknowledged with its batch so that it never blocks the others. It may hold
personal data too, so it is dropped after :data:`QUARANTINE_DAYS` days.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

import sqlite_utils

from bot.storage.times import to_db

KEEP_HOURS = 24
#: How long a quarantined update is kept for a developer (it may hold personal data).
QUARANTINE_DAYS = 7
#: Staff are told about quarantined updates at most once in this many hours.
NOTICE_EVERY_HOURS = 24


@dataclass(frozen=True)
class Poison:
    """An update that does not parse: its id (None if it has none), the raw JSON, why (a type name only)."""

    update_id: int | None
    payload: str
    error: str


def create_inbox_tables(db: sqlite_utils.Database) -> None:
    """The migration that creates the inbox and the last received update id."""
    db["inbox"].create({"update_id": int, "payload": str, "received_at": str}, pk="update_id")
    db["poll_state"].create({"key": str, "value": int}, pk="key")


def create_quarantine_table(db: sqlite_utils.Database) -> None:
    """The migration that adds the quarantine of updates that cannot be parsed."""
    db["quarantine"].create({"id": int, "update_id": int, "payload": str, "error": str, "received_at": str},
                            pk="id")
    db["quarantine"].create_index(["update_id"], unique=True)


class Inbox:
    """Store, list and settle received updates."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def last_update_id(self) -> int | None:
        """The highest update id ever stored (Telegram may forget everything up to it)."""
        row = self.db.execute("SELECT value FROM poll_state WHERE key = 'last_update_id'").fetchone()
        return row[0] if row else None

    def add(self, updates: list[tuple[int, str]], now: dt.datetime, *, highest: int | None = None,
            poisons: Iterable[Poison] = ()) -> int:
        """Store a batch of (update id, JSON), its poison updates and the new highest id, in one transaction.

        Returns how many poison updates were quarantined for the first time (one
        received again, after a crash before the acknowledgement, is not counted twice).
        """
        stamp = to_db(now)
        poisons = list(poisons)
        ids = [update_id for update_id, _ in updates] + [p.update_id for p in poisons if p.update_id is not None]
        if highest is None and ids:
            highest = max(ids)
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)",
                [(update_id, payload, stamp) for update_id, payload in updates])
            added = 0
            for poison in poisons:
                added += self.db.execute(
                    "INSERT OR IGNORE INTO quarantine (update_id, payload, error, received_at) VALUES (?, ?, ?, ?)",
                    [poison.update_id, poison.payload, poison.error, stamp]).rowcount
            if added:
                self._bump("quarantined_total", added)
            if highest is not None:
                self.db.execute(
                    "INSERT INTO poll_state (key, value) VALUES ('last_update_id', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = MAX(value, excluded.value)", [highest])
        return added

    def _bump(self, key: str, by: int) -> None:
        self.db.execute("INSERT INTO poll_state (key, value) VALUES (?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value", [key, by])

    def quarantined_total(self) -> int:
        """How many updates were ever quarantined (the rows themselves expire)."""
        row = self.db.execute("SELECT value FROM poll_state WHERE key = 'quarantined_total'").fetchone()
        return row[0] if row else 0

    def quarantined_count(self) -> int:
        """How many quarantined updates are kept now."""
        return self.db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0]

    def notice_due(self, now: dt.datetime) -> bool:
        """Whether staff should be told now (not told in the last :data:`NOTICE_EVERY_HOURS`); records it."""
        moment = int(now.timestamp())
        row = self.db.execute("SELECT value FROM poll_state WHERE key = 'quarantine_notice_at'").fetchone()
        if row is not None and moment - row[0] < NOTICE_EVERY_HOURS * 3600:
            return False
        self.db.execute("INSERT INTO poll_state (key, value) VALUES ('quarantine_notice_at', ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [moment])
        return True

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
        cutoff = to_db(now - dt.timedelta(hours=hours))
        return self.db.execute("DELETE FROM inbox WHERE received_at < ?", [cutoff]).rowcount

    def purge_quarantine(self, now: dt.datetime, days: int = QUARANTINE_DAYS) -> int:
        """Drop quarantined updates older than ``days`` (they may hold personal data)."""
        cutoff = to_db(now - dt.timedelta(days=days))
        return self.db.execute("DELETE FROM quarantine WHERE received_at < ?", [cutoff]).rowcount

