"""The tables of the opt-in reminders and the staff campaigns, created by one migration.

They live in storage, like every migration's schema, so that the storage layer never
imports the features above it (``bot/reminders/store.py`` reads and writes the
reminder tables, ``bot/staff/campaigns.py`` the ``campaigns`` table).
"""
from __future__ import annotations

import sqlite_utils


def create_reminder_tables(db: sqlite_utils.Database) -> None:
    """Consent per kind, the people's blocked mark, the events, and the log of what was sent once."""
    db["reminder_subscriptions"].create({"user_id": int, "kind": str, "consent_at": str, "stopped_at": str},
                                        pk=("user_id", "kind"))
    db["reminder_people"].create({"user_id": int, "blocked_at": str}, pk="user_id")
    db["reminder_events"].create({"user_id": int, "event": str, "at": str}, pk=("user_id", "event"))
    db["reminder_log"].create({"id": int, "user_id": int, "kind": str, "occurrence": str, "status": str,
                               "at": str, "outbox_id": int}, pk="id")
    # One row per prospect, kind and occurrence: a round killed mid-way never sends twice.
    db["reminder_log"].create_index(["user_id", "kind", "occurrence"], unique=True)
    db["reminder_log"].create_index(["user_id", "at"])


def create_campaign_table(db: sqlite_utils.Database) -> None:
    """``campaigns``: who composed what for which segment, and where its sending stands."""
    db["campaigns"].create({"id": int, "created_at": str, "created_by": int, "segment": str, "value": str,
                            "text": str, "status": str, "recipients": int, "confirmed_at": str, "reported": int},
                           pk="id", defaults={"reported": 0})
