"""Everything stored about one person, erased in one go (``/supprimer``).

Why one function: the right to erasure must not depend on someone remembering every
table. Each feature that keeps something about a prospect registers an *eraser*
here (:func:`register_eraser`); :func:`erase_person` runs them all in a single
transaction, so an erasure is complete or does not happen. The staff handoff will
add its own tables this way.
"""
from __future__ import annotations

import logging
from typing import Callable

import sqlite_utils

from bot.storage.questions import QuestionLog

log = logging.getLogger(__name__)

#: Deletes (or unlinks) one person's rows in one table; returns how many rows changed.
Eraser = Callable[[sqlite_utils.Database, int], int]


def _delete_from(table: str) -> Eraser:
    def erase(db: sqlite_utils.Database, user_id: int) -> int:
        return db.execute(f"DELETE FROM {table} WHERE user_id = ?", [user_id]).rowcount
    return erase


def _unlink_questions(db: sqlite_utils.Database, user_id: int) -> int:
    """Questions stay (anonymous, they improve the FAQ) but lose the link to the person."""
    return QuestionLog(db).forget_user(user_id)


_ERASERS: dict[str, Eraser] = {
    "registrations": _delete_from("registrations"),
    "drafts": _delete_from("drafts"),
    "sessions": _delete_from("sessions"),
    "prospects": _delete_from("prospects"),
    "questions": _unlink_questions,
    "handled_updates": _delete_from("handled_updates"),
}


def register_eraser(name: str, eraser: Eraser) -> None:
    """Add (or replace) the eraser of a feature's table; ``name`` labels it in the result."""
    _ERASERS[name] = eraser


def unregister_eraser(name: str) -> None:
    """Remove a feature's eraser (a feature uninstalled, a test cleaning up)."""
    _ERASERS.pop(name, None)


def erasers() -> dict[str, Eraser]:
    """The registered erasers, by name (a copy)."""
    return dict(_ERASERS)


def erase_person(db: sqlite_utils.Database, user_id: int) -> dict[str, int]:
    """Erase everything stored about ``user_id``, atomically; rows changed per eraser."""
    counts: dict[str, int] = {}
    with db.atomic():
        for name, eraser in _ERASERS.items():
            counts[name] = eraser(db, user_id)
    log.info("personal data erased: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts
