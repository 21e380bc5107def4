"""Who asked for which reminder, and what was sent: the SQLite side of reminders.

* ``reminder_subscriptions``: one row per prospect and kind, with the date of consent
  (``consent_at``) and, once stopped, ``stopped_at``: nothing is sent without consent.
* ``reminder_people``: a prospect who blocked the bot (never retried).
* ``reminder_events``: the moments reminders count from (the pre-registration).
* ``reminder_log``: every occurrence decided (queued, or dropped because too late),
  unique per prospect, kind and occurrence: with the outbox row written in the same
  transaction, a round killed at any point never queues the same reminder twice.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlite_utils

from bot.storage.times import from_db, to_db

QUEUED, DROPPED = "queued", "dropped"
KIND_REMINDER = "reminder"


class ReminderStore:
    """Subscriptions, events and the log of one database."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    # --- consent -----------------------------------------------------------------------
    def subscribe(self, user_id: int, kinds: list[str], now: dt.datetime) -> list[str]:
        """Record consent for ``kinds`` (now); returns those that were not active already."""
        added = []
        for kind in kinds:
            row = self.db.execute("SELECT stopped_at FROM reminder_subscriptions WHERE user_id = ? AND kind = ?",
                                  [user_id, kind]).fetchone()
            if row is not None and row[0] is None:
                continue
            self.db.execute("INSERT OR REPLACE INTO reminder_subscriptions (user_id, kind, consent_at, stopped_at) "
                            "VALUES (?, ?, ?, NULL)", [user_id, kind, to_db(now)])
            added.append(kind)
        if added:
            self.db.execute("DELETE FROM reminder_people WHERE user_id = ?", [user_id])  # they are talking again
        return added

    def stop(self, user_id: int, kinds: list[str] | None, now: dt.datetime) -> int:
        """Stop some kinds (all with None); returns how many were active."""
        sql = "UPDATE reminder_subscriptions SET stopped_at = ? WHERE user_id = ? AND stopped_at IS NULL"
        params: list[Any] = [to_db(now), user_id]
        if kinds is not None:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            params += kinds
        return self.db.execute(sql, params).rowcount

    def active(self, user_id: int) -> dict[str, str]:
        """The kinds this prospect receives, with the date of consent."""
        return dict(self.db.execute("SELECT kind, consent_at FROM reminder_subscriptions WHERE user_id = ? "
                                    "AND stopped_at IS NULL ORDER BY consent_at", [user_id]).fetchall())

    def all_active(self) -> list[tuple[int, str, str]]:
        """(user, kind, consent) of every active subscription of a prospect not known to have blocked the bot."""
        return self.db.execute(
            "SELECT s.user_id, s.kind, s.consent_at FROM reminder_subscriptions s WHERE s.stopped_at IS NULL "
            "AND s.user_id NOT IN (SELECT user_id FROM reminder_people WHERE blocked_at IS NOT NULL) "
            "ORDER BY s.user_id, s.kind").fetchall()

    # --- blocked -----------------------------------------------------------------------
    def mark_blocked_from_outbox(self, now: dt.datetime) -> int:
        """Prospects the outbox found unreachable (403: they blocked the bot) are marked, never retried.

        Read from the reminders and campaign messages the outbox gave up on.
        """
        return self.db.execute(
            "INSERT OR IGNORE INTO reminder_people (user_id, blocked_at) "
            "SELECT DISTINCT chat_id, ? FROM outbox WHERE audience = 'prospect' AND kind IN ('reminder', 'campaign') "
            "AND status = 'failed' AND last_error LIKE '403%'", [to_db(now)]).rowcount

    def blocked(self, user_id: int) -> bool:
        return self.db.execute("SELECT 1 FROM reminder_people WHERE user_id = ? AND blocked_at IS NOT NULL",
                               [user_id]).fetchone() is not None

    # --- events ------------------------------------------------------------------------
    def record_event(self, user_id: int, event: str, at: dt.datetime) -> None:
        """The first time an event happened (a pre-registration updated later keeps its first date)."""
        self.db.execute("INSERT OR IGNORE INTO reminder_events (user_id, event, at) VALUES (?, ?, ?)",
                        [user_id, event, to_db(at)])

    def events(self, user_id: int) -> dict[str, dt.datetime]:
        return {event: from_db(at) for event, at in self.db.execute(
            "SELECT event, at FROM reminder_events WHERE user_id = ?", [user_id]).fetchall()}

    # --- the log -----------------------------------------------------------------------
    def decided(self, user_id: int, kind: str) -> set[str]:
        """The occurrences of a kind already queued or dropped for this prospect."""
        return {r[0] for r in self.db.execute("SELECT occurrence FROM reminder_log WHERE user_id = ? AND kind = ?",
                                              [user_id, kind]).fetchall()}

    def log(self, user_id: int, kind: str, occurrence: str, status: str, now: dt.datetime,
            outbox_id: int | None = None) -> None:
        self.db["reminder_log"].insert({"user_id": user_id, "kind": kind, "occurrence": occurrence,
                                        "status": status, "at": to_db(now), "outbox_id": outbox_id})

    def sent_since(self, user_id: int, since: dt.datetime) -> int:
        """Reminders queued for this prospect since ``since`` (the weekly limit)."""
        return self.db.execute("SELECT COUNT(*) FROM reminder_log WHERE user_id = ? AND status = ? "
                               "AND julianday(at) >= julianday(?)",
                               [user_id, QUEUED, to_db(since)]).fetchone()[0]

    def last_sent(self, user_id: int, kind: str) -> dt.datetime | None:
        row = self.db.execute("SELECT MAX(at) FROM reminder_log WHERE user_id = ? AND kind = ? AND status = ?",
                              [user_id, kind, QUEUED]).fetchone()
        return from_db(row[0]) if row and row[0] else None

    def sent_to(self, user_id: int) -> list[tuple[str, str]]:
        """(kind, date) of every reminder sent to this prospect (``/mesdonnees``)."""
        return self.db.execute("SELECT kind, at FROM reminder_log WHERE user_id = ? AND status = ? ORDER BY id",
                               [user_id, QUEUED]).fetchall()

    def campaigns_received(self, user_id: int) -> int:
        """Messages of staff campaigns sent to this prospect (``/mesdonnees``)."""
        return self.db.execute("SELECT COUNT(*) FROM outbox WHERE audience = 'prospect' AND chat_id = ? "
                               "AND kind = 'campaign' AND status = 'sent'", [user_id]).fetchone()[0]

    def subscriptions(self, user_id: int) -> list[tuple[str, str, str | None]]:
        return self.db.execute("SELECT kind, consent_at, stopped_at FROM reminder_subscriptions WHERE user_id = ? "
                               "ORDER BY consent_at", [user_id]).fetchall()


def erase_reminders(db: sqlite_utils.Database, user_id: int) -> int:
    """``/supprimer`` and the retention purge: every reminder row of the person goes.

    So do their reminder and campaign messages still in the outbox: one not yet sent
    must not reach a person who asked to be forgotten.
    """
    outbox = db.execute("DELETE FROM outbox WHERE audience = 'prospect' AND chat_id = ? "
                        "AND kind IN ('reminder', 'campaign')", [user_id]).rowcount
    return outbox + sum(db.execute(f"DELETE FROM {table} WHERE user_id = ?", [user_id]).rowcount
                        for table in ("reminder_subscriptions", "reminder_people", "reminder_events", "reminder_log"))
