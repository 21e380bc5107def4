"""Pre-registrations and the drafts they grow from, in SQLite.

Why two tables: a prospect fills the form over several messages, maybe over days,
maybe across a restart of the bot. Each accepted answer goes into ``drafts`` at
once, so nothing typed is ever lost; only the confirmation copies the draft into
``registrations``, under a short reference the prospect can quote on the phone.
A prospect has at most one of each: applying again updates the registration
(same reference) instead of creating a second one.

Retention: rows untouched for longer than the configured number of months are
deleted by :func:`purge_expired` (daily job and ``run_bot.py purge``).
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any, Callable

import sqlite_utils

from bot.storage.rows import first_dict
from bot.storage.times import from_db, to_db

#: Letters and digits that cannot be mistaken for one another when read aloud or
#: copied by hand (no 0/O, 1/I/L, no U/V).
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
REFERENCE_PREFIX = "MCO-"
REFERENCE_LENGTH = 6


@dataclass(frozen=True)
class Draft:
    """A form being filled in: the answers so far and the step the prospect is at."""

    user_id: int
    data: dict[str, Any]
    step: str
    consent_at: str | None
    updated_at: str


def new_reference(taken: Callable[[str], bool]) -> str:
    """A fresh reference such as ``MCO-7K3Q9P`` for which ``taken`` is false."""
    while True:
        ref = REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        if not taken(ref):
            return ref


class RegistrationStore:
    """Reads and writes drafts and pre-registrations."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    # --- drafts ----------------------------------------------------------------------

    def draft(self, user_id: int) -> Draft | None:
        """The prospect's form in progress, or None."""
        row = self.db.execute(
            "SELECT data, step, consent_at, updated_at FROM drafts WHERE user_id = ?", [user_id]
        ).fetchone()
        if row is None:
            return None
        data = json.loads(row[0]) if row[0] else {}
        return Draft(user_id, data if isinstance(data, dict) else {}, row[1], row[2], row[3])

    def save_draft(self, user_id: int, data: dict[str, Any], step: str, consent_at: str | None,
                   at: dt.datetime) -> None:
        """Create or replace the prospect's draft (answers, step reached, consent time)."""
        # Plain SQL: sqlite-utils' upsert reads the schema on every call, and this runs at every form step.
        self.db.execute(
            "INSERT INTO drafts (user_id, data, step, consent_at, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET data = excluded.data, step = excluded.step, "
            "consent_at = excluded.consent_at, updated_at = excluded.updated_at",
            [user_id, json.dumps(data, ensure_ascii=False), step, consent_at, to_db(at)],
        )

    def delete_draft(self, user_id: int) -> int:
        """Forget the prospect's draft; returns how many rows were deleted (0 or 1)."""
        return self.db.execute("DELETE FROM drafts WHERE user_id = ?", [user_id]).rowcount

    # --- registrations ---------------------------------------------------------------

    def registration(self, user_id: int) -> dict[str, Any] | None:
        """The prospect's pre-registration as a dict of columns, or None."""
        return self._one("SELECT * FROM registrations WHERE user_id = ?", [user_id])

    def by_ref(self, ref: str) -> dict[str, Any] | None:
        """The pre-registration with this reference, or None."""
        return self._one("SELECT * FROM registrations WHERE ref = ?", [ref])

    def confirm(self, user_id: int, values: dict[str, Any], source: str | None, consent_at: str | None,
                at: dt.datetime) -> dict[str, Any]:
        """Store the confirmed answers (by column, see ``steps.columns``) and return the row.

        A first confirmation creates the row with a new reference; a later one
        updates the same row (same reference, same creation date, same status).
        """
        existing = self.registration(user_id)
        if existing is None:
            row = {**values, "ref": new_reference(lambda r: self.by_ref(r) is not None),
                   "user_id": user_id, "source": source, "consent_at": consent_at,
                   "created_at": to_db(at), "updated_at": to_db(at)}
            self.db["registrations"].insert(row)
        else:
            changes = {**values, "updated_at": to_db(at),
                       "consent_at": consent_at or existing["consent_at"],
                       "source": existing["source"] or source}
            self.db["registrations"].update(existing["id"], changes)
        confirmed = self.registration(user_id)
        assert confirmed is not None
        return confirmed

    def delete_registration(self, user_id: int) -> int:
        """Delete the prospect's pre-registration; returns how many rows (0 or 1)."""
        return self.db.execute("DELETE FROM registrations WHERE user_id = ?", [user_id]).rowcount

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        return first_dict(self.db.execute(sql, params))


# --- retention ---------------------------------------------------------------------


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` minus ``months`` calendar months (31 March - 1 month = 28/29 February)."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def _expired_ids(db: sqlite_utils.Database, table: str, key: str, cutoff: dt.datetime) -> list[Any]:
    """Keys of the rows of ``table`` last updated before ``cutoff`` (or with no date at all)."""
    expired = []
    for row_key, stamp in db.execute(f"SELECT {key}, updated_at FROM {table}").fetchall():
        try:
            updated = from_db(stamp) if stamp else None
        except ValueError:
            updated = None
        if updated is None or updated < cutoff:
            expired.append(row_key)
    return expired


def purge_expired(db: sqlite_utils.Database, now: dt.datetime, months: int) -> dict[str, int]:
    """Delete pre-registrations and drafts untouched for more than ``months`` months.

    Timestamps are compared as moments (not as strings), so rows written in winter
    and summer time compare right. Returns the number of rows deleted per table;
    nothing about the people concerned.
    """
    cutoff = months_before(now, months)
    deleted: dict[str, int] = {}
    for table, key in (("registrations", "id"), ("drafts", "user_id")):
        ids = _expired_ids(db, table, key, cutoff)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            db.execute(f"DELETE FROM {table} WHERE {key} IN ({','.join('?' * len(chunk))})", chunk)
        deleted[table] = len(ids)
    return deleted
