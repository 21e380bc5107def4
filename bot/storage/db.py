"""Opening the SQLite file and keeping its schema up to date.

One file holds everything that must survive a restart. The schema is created and
migrated by the code at start: each migration below runs once, in order, and
``PRAGMA user_version`` remembers how far the file has gone, so an old database is
brought up to date by simply starting the new bot.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import stat
from pathlib import Path
from typing import Callable

import sqlite_utils

from bot.storage.console_schema import add_edit_state, create_console_tables
from bot.storage.inbox import create_inbox_tables, create_quarantine_table
from bot.storage.outbox import add_attempt_columns, add_priority_column, create_outbox_table
from bot.storage.reminders_schema import create_campaign_table, create_reminder_tables
from bot.storage.staff import create_staff_tables
from bot.storage.times import legacy_paris_to_db

Migration = Callable[[sqlite_utils.Database], None]

log = logging.getLogger(__name__)

#: The database and its -wal/-shm files: read and written by the bot's user only (they hold personal data).
FILE_MODE = 0o600
#: A folder the bot creates for its database.
DIR_MODE = 0o700


class CorruptDatabase(Exception):
    """The database file fails SQLite's integrity check: serving from it would spread the damage."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        super().__init__(f"{path}: {len(problems)} problem(s)")
        self.path = path
        self.problems = problems


def _v1_questions_and_prospects(db: sqlite_utils.Database) -> None:
    """Questions asked (for the unanswered list and stats) and who came from where."""
    db["prospects"].create(
        {"user_id": int, "source": str, "first_seen": str, "last_seen": str},
        pk="user_id",
    )
    db["questions"].create(
        {"id": int, "at": str, "user_id": int, "text": str, "entry": str, "score": float,
         "outcome": str},
        pk="id",
    )
    db["questions"].create_index(["at"])
    db["questions"].create_index(["user_id"])
    db["sessions"].create({"user_id": int, "state": str, "updated_at": str}, pk="user_id")


def _v2_outbox(db: sqlite_utils.Database) -> None:
    """Messages waiting to be delivered (staff notifications, relays)."""
    create_outbox_table(db)


def _v3_registrations_and_drafts(db: sqlite_utils.Database) -> None:
    """Pre-registrations, and the form a prospect is filling in (kept so a restart loses nothing).

    ``registrations`` holds one row per prospect (``user_id`` unique: applying again
    updates it) under a short public reference; ``drafts`` holds the answers given so
    far and the step reached, as JSON, until the prospect confirms or cancels.
    """
    db["registrations"].create(
        {"id": int, "ref": str, "user_id": int, "last_name": str, "first_name": str,
         "birth_date": str, "email": str, "phone": str, "diploma": str, "situation": str,
         "company": str, "company_name": str, "heard": str, "source": str, "consent_at": str,
         "created_at": str, "updated_at": str, "status": str},
        pk="id", not_null={"ref", "user_id", "status"}, defaults={"status": "nouveau"},
    )
    db["registrations"].create_index(["ref"], unique=True)
    db["registrations"].create_index(["user_id"], unique=True)
    db["registrations"].create_index(["updated_at"])
    db["drafts"].create(
        {"user_id": int, "data": str, "step": str, "consent_at": str, "updated_at": str},
        pk="user_id", not_null={"data", "step"},
    )


def _v4_staff(db: sqlite_utils.Database) -> None:
    """Lead status history and live conversations with staff (see ``bot/storage/staff.py``)."""
    create_staff_tables(db)


def _v5_handled_updates(db: sqlite_utils.Database) -> None:
    """Inputs already handled, with the replies given: a redelivered update is not handled twice."""
    db["handled_updates"].create({"update_id": int, "user_id": int, "replies": str, "at": str}, pk="update_id")
    db["handled_updates"].create_index(["at"])
    db["handled_updates"].create_index(["user_id"])


def _v6_inbox(db: sqlite_utils.Database) -> None:
    """Updates received and not yet handled (see ``bot/storage/inbox.py``)."""
    create_inbox_tables(db)


def _v7_outbox_attempts(db: sqlite_utils.Database) -> None:
    """Outbox rows remember a request in flight: a copy re-sent after a crash is labelled, never silent."""
    add_attempt_columns(db)


def _v8_registration_intake(db: sqlite_utils.Database) -> None:
    """The intake a pre-registration aims at ("2026-2027"): staff must tell this year's from next year's."""
    db["registrations"].add_column("intake", str)


def _v9_outbox_priority(db: sqlite_utils.Database) -> None:
    """Leads overtake queued relays, and delivered rows keep no text (see ``bot/storage/outbox.py``)."""
    add_priority_column(db)


def _v10_quarantine(db: sqlite_utils.Database) -> None:
    """Updates that cannot be parsed, set aside instead of crashing the poller (``bot/storage/inbox.py``)."""
    create_quarantine_table(db)


def _v11_console(db: sqlite_utils.Database) -> None:
    """The staff console: knowledge edits made from the group, feedback, lead follow-up, alerts."""
    create_console_tables(db)


def _v12_reminders(db: sqlite_utils.Database) -> None:
    """Opt-in reminders: consent, events, and what was sent once (see ``bot/reminders/store.py``)."""
    create_reminder_tables(db)
    create_campaign_table(db)


#: The columns older versions wrote in Paris time (the outbox, inbox, quarantine and
#: handled updates were UTC already): rewritten in UTC by :func:`_v13_utc_timestamps`.
PARIS_TIME_COLUMNS: dict[str, tuple[str, ...]] = {
    "prospects": ("first_seen", "last_seen"),
    "questions": ("at",),
    "sessions": ("updated_at",),
    "registrations": ("consent_at", "created_at", "updated_at"),
    "drafts": ("consent_at", "updated_at"),
    "lead_events": ("at",),
    "handoffs": ("opened_at", "closed_at"),
    "knowledge_edits": ("at", "undone_at"),
    "teach_pending": ("created_at",),
    "feedback": ("at",),
    "reminder_subscriptions": ("consent_at", "stopped_at"),
    "reminder_people": ("blocked_at",),
    "reminder_events": ("at",),
    "reminder_log": ("at",),
    "campaigns": ("created_at", "confirmed_at"),
}


def _v13_utc_timestamps(db: sqlite_utils.Database) -> None:
    """Every timestamp in UTC (``bot/storage/times.py``): the Paris-time columns are rewritten.

    A Paris string with its offset names one instant, so the rewrite is exact, the
    late-October hour that happens twice included; one without an offset is read
    as Paris time (:func:`bot.storage.times.legacy_paris_to_db`).
    """
    for table, columns in PARIS_TIME_COLUMNS.items():
        if not db[table].exists():
            continue
        for column in columns:
            rows = db.execute(f"SELECT rowid, {column} FROM {table} WHERE {column} IS NOT NULL").fetchall()
            changed = [(new, rowid) for rowid, old in rows
                       if isinstance(old, str) and (new := legacy_paris_to_db(old)) != old]
            db.conn.executemany(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", changed)


def _v14_knowledge_edit_state(db: sqlite_utils.Database) -> None:
    """Knowledge edits recorded before their file is written (``bot/staff/teach.py``)."""
    add_edit_state(db)


MIGRATIONS: list[Migration] = [_v1_questions_and_prospects, _v2_outbox, _v3_registrations_and_drafts,
                               _v4_staff, _v5_handled_updates, _v6_inbox, _v7_outbox_attempts,
                               _v8_registration_intake, _v9_outbox_priority, _v10_quarantine,
                               _v11_console, _v12_reminders, _v13_utc_timestamps,
                               _v14_knowledge_edit_state]


def open_database(path: Path | str, migrations: list[Migration] | None = None) -> sqlite_utils.Database:
    """Open (creating when needed) the database at ``path``, checked, in WAL mode, migrated.

    WAL lets the staff exports read while prospects' answers are written, and a
    process killed mid-write leaves the file consistent. The file holds personal
    data, so it and its folder are private to the bot's user (:func:`make_private`).
    A file with damaged pages raises :class:`CorruptDatabase` before anything is
    written to it (:func:`check_integrity`).
    """
    migrations = MIGRATIONS if migrations is None else migrations
    if str(path) != ":memory:":
        make_private(Path(path))
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    if str(path) != ":memory:":
        check_integrity(conn, path)
    db = sqlite_utils.Database(conn)
    if str(path) != ":memory:":
        db.enable_wal()
    conn.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows and freed pages are overwritten with zeros: an erased prospect's
    # data must not stay readable in the file (see ``bot/storage/personal.py``).
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute("PRAGMA foreign_keys=ON")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, migration in enumerate(migrations[version:], start=version + 1):
        with conn:
            conn.execute("BEGIN")
            migration(db)
            conn.execute(f"PRAGMA user_version={number}")
    return db


def make_private(path: Path) -> None:
    """Create the database's folder (0700) and file (0600); make an existing file and its -wal/-shm 0600.

    SQLite creates the -wal and -shm files with the database file's permissions, so
    setting the file's mode before connecting covers them; existing ones (left by an
    older version) are fixed too. An existing folder is made 0700 only if it holds
    nothing but this database's files (``data/`` of an older install); a shared folder
    is left alone, with a warning when others can list it.
    """
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, mode=DIR_MODE)
        folder.chmod(DIR_MODE)  # mkdir's mode is filtered by the umask
    elif folder.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        if all(entry.name.startswith(path.name) for entry in folder.iterdir()):
            folder.chmod(DIR_MODE)
        else:
            log.warning("the database folder is open to other users: chmod 700 it, or move the database")
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))  # an empty file is an empty database
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        if file.exists() and stat.S_IMODE(file.stat().st_mode) != FILE_MODE:
            file.chmod(FILE_MODE)


def check_integrity(conn: sqlite3.Connection, path: Path | str) -> None:
    """Raise :class:`CorruptDatabase` unless ``PRAGMA quick_check`` finds the file sound.

    ``quick_check`` reads every page (it skips only the index-content cross-check of
    ``integrity_check``): a few milliseconds for this bot's sizes, once per start.
    """
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check(20)")]
    except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
        conn.close()
        raise CorruptDatabase(path, [type(exc).__name__]) from exc
    if problems != ["ok"]:
        conn.close()
        raise CorruptDatabase(path, problems)
