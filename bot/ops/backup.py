"""Backups of the SQLite database: a consistent copy while the bot runs, and its restoration.

Why SQLite's online backup API (``sqlite3.Connection.backup``) rather than copying the
file: the bot writes through a write-ahead log, so ``cp bot.db`` can catch the main
file without the transactions still in ``bot.db-wal``, or half of a checkpoint. The
backup API reads one consistent snapshot (a WAL reader never blocks the bot's
writers) and writes a single self-contained file.

A backup holds personal data (pre-registrations, conversations with staff): it is
written with mode 0600, through a temporary file renamed at the end, so a reader
never sees a half-written or world-readable copy.
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.request import pathname2url

import sqlite_utils

from bot.ops.running import exclusive_lock


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message says why (no personal data in it)."""


@dataclass(frozen=True)
class Summary:
    """What a database file holds, in counts only (safe to print)."""

    schema_version: int
    registrations: int
    size_bytes: int


def integrity_problems(path: Path | str) -> list[str]:
    """``PRAGMA integrity_check`` of ``path``, opened read-only: ``[]`` when the file is sound."""
    try:
        conn = sqlite3.connect(f"file:{pathname2url(str(Path(path).resolve()))}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return [f"ouverture impossible ({exc.__class__.__name__})"]
    try:
        rows = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
        return [str(exc)]
    finally:
        conn.close()
    return [] if rows == ["ok"] else rows


def summary(path: Path | str) -> Summary:
    """Schema version, number of pre-registrations and size of a (sound) database file."""
    conn = sqlite3.connect(f"file:{pathname2url(str(Path(path).resolve()))}?mode=ro", uri=True)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        count = conn.execute("SELECT COUNT(*) FROM registrations").fetchone()[0] if "registrations" in tables else 0
    finally:
        conn.close()
    return Summary(version, count, Path(path).stat().st_size)


def backup(database: Path | str, target: Path | str) -> Summary:
    """Copy ``database`` to ``target`` (mode 0600) while the bot may be running; checked before it lands.

    The copy is made in a temporary file beside ``target`` and renamed over it only
    once ``PRAGMA integrity_check`` passed: a failed backup never replaces a good one.
    """
    database, target = Path(database), Path(target)
    if not database.is_file():
        raise BackupError(f"pas de base de données à {database}")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    os.close(fd)  # mkstemp created it with mode 0600: SQLite writes into that file
    try:
        source = sqlite3.connect(str(database), timeout=30)
        copy = sqlite3.connect(temporary)
        try:
            source.backup(copy)  # one step: one consistent snapshot, the bot's writes go on meanwhile
            copy.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file, no -wal beside it
        except sqlite3.Error as exc:  # SQLite's messages name no data ("database disk image is malformed"…)
            raise BackupError(f"SQLite : {exc}") from None
        finally:
            copy.close()
            source.close()
        problems = integrity_problems(temporary)
        if problems:
            raise BackupError("la copie ne passe pas le contrôle d'intégrité : " + "; ".join(problems[:3]))
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return summary(target)


def restore(source: Path | str, database: Path | str) -> Summary:
    """Replace ``database`` by the backup ``source``, refusing while a bot runs on it.

    ``source`` must pass ``PRAGMA integrity_check`` and be one of this bot's databases
    before anything is touched. The copy goes through the backup API into the
    database's own connection, so its ``-wal`` and ``-shm`` files stay consistent.
    The caller then migrates the schema and applies the retention purge: data
    restored from an old backup must not outlive the period announced to prospects.
    """
    source, database = Path(source), Path(database)
    if not source.is_file():
        raise BackupError(f"pas de fichier {source}")
    problems = integrity_problems(source)
    if problems:
        raise BackupError("la sauvegarde ne passe pas le contrôle d'intégrité : " + "; ".join(problems[:3]))
    if summary(source).schema_version < 1:
        raise BackupError(f"{source} n'est pas une base de ce bot (aucun schéma)")
    with exclusive_lock(database):  # raises DatabaseBusy while a bot runs
        database.parent.mkdir(parents=True, exist_ok=True)
        backup_conn = sqlite3.connect(f"file:{pathname2url(str(source.resolve()))}?mode=ro", uri=True)
        live = sqlite3.connect(str(database), timeout=30)
        try:
            backup_conn.backup(live)
        except sqlite3.Error as exc:  # SQLite's messages name no data ("database is locked"…)
            raise BackupError(f"SQLite : {exc}") from None
        finally:
            live.close()
            backup_conn.close()
        os.chmod(database, 0o600)
    return summary(database)


def settle_restored(db: sqlite_utils.Database, now: dt.datetime) -> dict[str, int]:
    """After a restore: what was in flight when the backup was taken must not be doubled silently.

    The process that was running then probably sent the outbox's pending messages
    after the backup: each is flagged ``maybe_posted``, so a copy sent again to the
    staff group says it may be a repetition (``bot/storage/outbox.py``). Updates in
    the inbox are handled again (the state restored with them expects them), except
    those older than the inbox's own time limit: a week-old backup must not answer
    week-old messages.
    """
    from bot.storage.inbox import Inbox
    from bot.storage.outbox import PENDING

    flagged = db.execute("UPDATE outbox SET maybe_posted = 1 WHERE status = ?", [PENDING]).rowcount
    return {"outbox": flagged, "inbox": Inbox(db).purge(now)}
