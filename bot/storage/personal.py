"""Everything stored about one person, erased in one go (``/supprimer``), and the retention purge.

Why one function: the right to erasure must not depend on someone remembering every
table. The core's tables have their erasers here (:data:`CORE_ERASERS`); each feature
that keeps something about a prospect adds its own to the assistant it plugs into
(``assistant.erasers``: the staff side's conversations, relays, lead history and the
blanking of the staff group's copies; the reminders). :func:`erase_person` runs them
all in a single transaction, so an erasure is complete or does not happen. The list
belongs to one assistant, not to the process: two assistants (a test, a CLI command
beside the bot) never erase through each other's features.

Erased means gone from the file, not just unlinked: the connection runs with
``PRAGMA secure_delete`` (``bot/storage/db.py``), so SQLite overwrites deleted rows
and freed pages with zeros, and :func:`checkpoint` copies the WAL into the main file
and truncates it, so no older copy of a page survives there either.

:func:`purge` applies the retention periods with the same erasers: a person none of
whose data changed for ``RETENTION_MONTHS`` is erased whole (staff copies included).
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable, Mapping

import sqlite_utils

from bot.storage.questions import QuestionLog
from bot.storage.times import to_db

log = logging.getLogger(__name__)

#: Deletes (or blanks) one person's rows in one table; returns how many rows changed.
Eraser = Callable[[sqlite_utils.Database, int], int]


def _delete_from(table: str) -> Eraser:
    def erase(db: sqlite_utils.Database, user_id: int) -> int:
        return db.execute(f"DELETE FROM {table} WHERE user_id = ?", [user_id]).rowcount
    return erase


def _erase_questions(db: sqlite_utils.Database, user_id: int) -> int:
    """The person's questions go: one may hold their name, e-mail or phone typed as a question."""
    return QuestionLog(db).erase_user(user_id)


def _blank_handled_updates(db: sqlite_utils.Database, user_id: int) -> int:
    """Update ids stay (a redelivered update must not be handled again); the replies go.

    A reply may repeat the person's data (the form's summary shows e-mail and phone);
    a redelivery of an erased person's update is then answered with nothing.
    """
    return db.execute("UPDATE handled_updates SET replies = '[]', user_id = NULL WHERE user_id = ?",
                      [user_id]).rowcount


def _erase_quarantine(db: sqlite_utils.Database, user_id: int) -> int:
    """Updates set aside unparsed (``bot/storage/inbox.py``) may hold what the person typed.

    They cannot be read as updates, so any whose raw text carries the person's id goes;
    another set-aside update that happens to contain the same digits goes too, which
    costs only a diagnostic copy.
    """
    return db.execute("DELETE FROM quarantine WHERE instr(payload, ?) > 0", [str(user_id)]).rowcount


#: The core's erasers, by name (the name labels the count in the result).
CORE_ERASERS: dict[str, Eraser] = {
    "registrations": _delete_from("registrations"),
    "drafts": _delete_from("drafts"),
    "sessions": _delete_from("sessions"),
    "prospects": _delete_from("prospects"),
    "questions": _erase_questions,
    "handled_updates": _blank_handled_updates,
    "quarantine": _erase_quarantine,
}


def erase_person(db: sqlite_utils.Database, user_id: int,
                 features: Mapping[str, Eraser] | None = None) -> dict[str, int]:
    """Erase everything stored about ``user_id``, atomically; rows changed per eraser.

    ``features`` are the erasers the assistant's features added (``assistant.erasers``);
    they run before the core's, since they may need the registration to find what to blank.
    """
    counts: dict[str, int] = {}
    with db.atomic():
        for name, eraser in {**(features or {}), **CORE_ERASERS}.items():
            counts[name] = eraser(db, user_id)
    log.info("personal data erased: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts


def checkpoint(db: sqlite_utils.Database) -> None:
    """Copy the WAL into the database file and truncate it: no old copy of an erased page is left.

    Call it outside any transaction (after the erasure is committed). A reader holding
    the WAL open can make it partial; the next one finishes the job.
    """
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except Exception as exc:  # never let a checkpoint break an answer
        log.warning("WAL checkpoint failed: %s", type(exc).__name__)


# --- retention -----------------------------------------------------------------------------

#: Every trace of a person, with its date: the person expires when the latest is past the cutoff.
_TRACES = """
    SELECT user_id, julianday(updated_at) AS t FROM registrations
    UNION ALL SELECT user_id, julianday(updated_at) FROM drafts
    UNION ALL SELECT user_id, julianday(updated_at) FROM sessions
    UNION ALL SELECT user_id, julianday(last_seen) FROM prospects
    UNION ALL SELECT user_id, julianday(COALESCE(closed_at, opened_at)) FROM handoffs
    UNION ALL SELECT user_id, julianday(at) FROM questions WHERE user_id IS NOT NULL
    UNION ALL SELECT user_id, julianday(at) FROM lead_events WHERE user_id IS NOT NULL
    UNION ALL SELECT user_id, julianday(COALESCE(stopped_at, consent_at)) FROM reminder_subscriptions
    UNION ALL SELECT user_id, julianday(at) FROM reminder_log
"""


def expired_people(db: sqlite_utils.Database, cutoff: dt.datetime) -> list[int]:
    """People none of whose data changed since ``cutoff`` (a row without a date counts as old)."""
    rows = db.execute(f"SELECT user_id, MAX(t) FROM ({_TRACES}) WHERE user_id IS NOT NULL GROUP BY user_id",
                      ).fetchall()
    limit = db.execute("SELECT julianday(?)", [to_db(cutoff)]).fetchone()[0]
    return [user_id for user_id, latest in rows if latest is None or latest < limit]


def purge_old_outbox(db: sqlite_utils.Database, cutoff: dt.datetime) -> int:
    """Delivered or failed rows older than ``cutoff``: their text goes (prospect rows go whole).

    Staff rows stay as empty shells: a later edit (or a staff reply to an old message)
    still finds which message they produced.
    """
    stamp = to_db(cutoff)
    deleted = db.execute("DELETE FROM outbox WHERE audience = 'prospect' AND status != 'pending' "
                         "AND created_at < ?", [stamp]).rowcount
    blanked = db.execute(
        "UPDATE outbox SET payload = json_set(payload, '$.text', '', '$.buttons', json('[]')) "
        "WHERE status != 'pending' AND created_at < ? AND json_extract(payload, '$.text') != ''",
        [stamp]).rowcount
    return deleted + blanked


def purge(db: sqlite_utils.Database, now: dt.datetime, months: int, question_days: int,
          forget_lead: Callable[[str], int] | None = None,
          features: Mapping[str, Eraser] | None = None) -> dict[str, int]:
    """Apply every retention period; returns counts per kind of record (nothing about anyone).

    * a person with no data newer than ``months`` months is erased whole, like ``/supprimer``
      (with the features' erasers ``features``: staff-group messages blanked, forum topics renamed);
    * a pre-registration (or draft) not updated for ``months`` months goes, and its
      staff-group card is blanked first (``forget_lead``), while its history still says where it is;
    * question texts older than ``question_days`` days go, whoever asked them;
    * handled updates past their two days, and old delivered outbox texts.
    """
    from bot.storage.registrations import _expired_ids, months_before, purge_expired
    from bot.storage.staff import purge_staff_data
    from bot.storage.updates import purge_handled

    cutoff = months_before(now, months)
    people = expired_people(db, cutoff)
    erased: dict[str, int] = {}
    for user_id in people:
        for name, changed in erase_person(db, user_id, features).items():
            erased[name] = erased.get(name, 0) + changed
    counts = {"personnes": len(people)}
    with db.atomic():
        if forget_lead is not None:
            for row_id in _expired_ids(db, "registrations", "id", cutoff):
                forget_lead(db.execute("SELECT ref FROM registrations WHERE id = ?", [row_id]).fetchone()[0])
        for table, deleted in purge_expired(db, now, months).items():
            counts[table] = deleted + erased.get(table, 0)
        counts.update(purge_staff_data(db, cutoff))
        counts["questions"] = QuestionLog(db).purge_older_than(now - dt.timedelta(days=question_days))
        counts["handled_updates"] = purge_handled(db, now)
        counts["outbox"] = purge_old_outbox(db, cutoff)
    checkpoint(db)
    return counts
