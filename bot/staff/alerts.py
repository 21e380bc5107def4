"""Alerts in the staff group: something went wrong that the team (or its technician) should know.

Unexpected errors, a message Telegram refused for good, a damaged database... each is
worth one short message, and none must flood the group: a fault that repeats every
second would otherwise post 3,600 messages an hour and hide the leads. So an alert
of a given kind is posted at most once per hour (:data:`EVERY`), through the outbox
(delivered with retries like everything else); the outbox row itself, (kind, ``ref`` =
the alert's kind, ``created_at``), is the memory of when it was last posted, so a
restart loop cannot repeat it either.

An alert says what happened and where to look, never who or what was written: the
group may hold people who must not read a prospect's message, and the text of an
exception may quote one. Only the exception's type is named.

Two notices already rate-limit themselves and stay where they are: the quarantine of
poison updates (``handlers/polling.py``, once a day) and the out-of-date knowledge
base (``bot/staff/stale_notice.py``, once a week).
"""
from __future__ import annotations

import datetime as dt
import sqlite3
from typing import TYPE_CHECKING

from bot.conversation.messages import Reply
from bot.storage.outbox import STAFF
from bot.storage.times import from_db

if TYPE_CHECKING:
    from bot.staff.desk import StaffDesk

KIND_ALERT = "alert"
#: At most one alert of a kind in this long.
EVERY = dt.timedelta(hours=1)
#: How often the database's integrity is checked while the bot runs.
INTEGRITY_EVERY = dt.timedelta(hours=1)
ERROR, DELIVERY, INTEGRITY = "erreur", "livraison", "integrite"


class Alerts:
    """Rate-limited alerts for the staff group."""

    def __init__(self, desk: StaffDesk) -> None:
        self.desk = desk
        self._integrity_checked: dt.datetime | None = None

    def post(self, kind: str, reply: Reply, outbox_kind: str = KIND_ALERT) -> bool:
        """Queue ``reply`` unless an alert of ``kind`` was queued less than an hour ago; True if queued."""
        if not self.desk.enabled:
            return False
        db = self.desk.assistant.db
        now = self.desk.now()
        with db.atomic():
            row = db.execute("SELECT MAX(created_at) FROM outbox WHERE audience = ? AND kind = ? AND ref = ?",
                             [STAFF, outbox_kind, kind]).fetchone()
            if row and row[0] and now - from_db(row[0]) < EVERY:
                return False
            self.desk.queue_staff(outbox_kind, reply, ref=kind)
        return True

    def unexpected_error(self, error: BaseException | None) -> bool:
        """An exception nobody caught while handling an update or running a job (its type only)."""
        name = type(error).__name__ if error is not None else "?"
        return self.post(ERROR, Reply(self.desk.text("staff.alerte_erreur", nom=name)))

    def check_integrity(self) -> bool:
        """Hourly ``PRAGMA quick_check`` while running (the start already checks); alert if damaged."""
        now = self.desk.now()
        if self._integrity_checked is not None and now - self._integrity_checked < INTEGRITY_EVERY:
            return False
        self._integrity_checked = now
        try:
            result = [r[0] for r in self.desk.assistant.db.execute("PRAGMA quick_check(5)").fetchall()]
        except sqlite3.DatabaseError as exc:
            result = [type(exc).__name__]
        if result == ["ok"]:
            return False
        return self.post(INTEGRITY, Reply(self.desk.text("staff.alerte_integrite", n=len(result))))
