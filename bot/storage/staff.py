"""What the staff side keeps: the history of each lead's status, and live conversations.

Why two tables of its own:

* ``lead_events`` — a lead's current status lives in ``registrations.status`` (the
  form's table); every change is also written here with who made it (staff first
  name and Telegram id, nothing more) and when, so ``/lead REF`` can tell the story
  and ``/stats`` can count. The creation of a lead is an event too: it links the
  reference to the prospect, which is how ``/supprimer`` finds the staff messages
  to blank even after the registration row is gone.
* ``handoffs`` — one row per "I want to talk to a person" (its ``status`` is the one
  source of truth of the conversation's state, see ``bot/storage/handoff_states.py``): when it was opened and
  closed, by whom it was closed, the outbox row of the request message (the root
  staff reply to) and the forum topic it lives in, if the staff group is a forum.
  The prospect's first name is kept only to label the staff's messages.

Timestamps are UTC, like the rest of the base (``bot/storage/times.py``); they are
shown in Paris time by the staff desk.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlite_utils

from bot.messages import Reply
from bot.storage.handoff_states import (CLOSED_BY, LIVE, TRANSITIONS, HandoffEvent, HandoffState, next_state,
                                       sources_of)
from bot.storage.rows import dicts
from bot.storage.outbox import KIND_TOPIC_RENAME, PENDING, PROSPECT, SENT, STAFF, Outbox, blank_row
from bot.storage.times import to_db

#: The statuses of a lead, in the order of its life; ``nouveau`` is the form's default.
NEW, TAKEN, CONTACTED, CLOSED = "nouveau", "en_charge", "contacte", "clos"
LEAD_STATUSES: tuple[str, ...] = (NEW, TAKEN, CONTACTED, CLOSED)

#: Events of ``lead_events``: a confirmation, an update of the form, a status change.
CREATED, UPDATED, STATUS = "cree", "mis_a_jour", "statut"
#: The events a prospect's answer to a follow-up reminder writes, by answer (``bot/reminders/feature.py``):
#: texts ``staff.evenement_<event>`` and ``form.evenement_<event>``.
FOLLOW_UP_EVENTS = {"trouve": "relance_trouve", "pas_encore": "relance_pas_encore",
                    "plus_interesse": "relance_plus_interesse"}

# The handoff's stored statuses and who closed it: declared in bot/storage/handoff_states.py.
OPEN, ENDED = HandoffState.OPEN.value, HandoffState.CLOSED.value
BY_STAFF, BY_PROSPECT = CLOSED_BY[HandoffEvent.STAFF_ENDED], CLOSED_BY[HandoffEvent.PROSPECT_LEFT]
#: The statuses of a live conversation (asked, or the prospect already wrote).
LIVE_STATUSES: tuple[str, ...] = tuple(state.value for state in LIVE)

# Kinds of outbox rows written by the staff features (``ref`` says what they are about).
KIND_LEAD = "lead"  # ref = registration reference
KIND_LEAD_EDIT = "lead_edit"  # ref = registration reference, edit_of = the lead row
KIND_REQUEST = "handoff"  # ref = handoff id: the request message, root of the conversation
KIND_FROM_PROSPECT = "relay_in"  # ref = handoff id: a prospect's message relayed to staff
KIND_NOTE = "handoff_note"  # ref = handoff id: the bot's notes in the conversation
KIND_REQUEST_EDIT = "handoff_edit"  # ref = handoff id, edit_of = the request row
KIND_TO_PROSPECT = "relay_out"  # ref = handoff id: a staff answer relayed to the prospect
KIND_END = "handoff_end"  # ref = handoff id: "the team has finished, I'm back"
LEAD_KINDS = (KIND_LEAD, KIND_LEAD_EDIT)
HANDOFF_STAFF_KINDS = (KIND_REQUEST, KIND_FROM_PROSPECT, KIND_NOTE, KIND_REQUEST_EDIT)
HANDOFF_PROSPECT_KINDS = (KIND_TO_PROSPECT, KIND_END)


#: The stored form of a moment (UTC): :func:`bot.storage.times.to_db`, under the name callers knew.
stamp = to_db


def create_staff_tables(db: sqlite_utils.Database) -> None:
    """The migration that creates ``lead_events`` and ``handoffs`` (see ``bot/storage/db.py``)."""
    db["lead_events"].create(
        {"id": int, "ref": str, "user_id": int, "at": str, "event": str, "status": str,
         "staff_id": int, "staff_name": str},
        pk="id", not_null={"ref", "at", "event"},
    )
    db["lead_events"].create_index(["ref"])
    db["lead_events"].create_index(["user_id"])
    db["handoffs"].create(
        {"id": int, "user_id": int, "first_name": str, "opened_at": str, "closed_at": str,
         "status": str, "closed_by": str, "thread_id": int, "root_outbox_id": int},
        pk="id", not_null={"user_id", "opened_at", "status"},
    )
    db["handoffs"].create_index(["user_id", "status"])
    db["handoffs"].create_index(["thread_id"])
    db["handoffs"].create_index(["opened_at"])


_rows = dicts  # the one row helper (bot/storage/rows.py)


class LeadStore:
    """Leads: the ``registrations`` rows, their status and its history."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def record(self, ref: str, user_id: int | None, event: str, status: str, at: dt.datetime,
               staff_id: int | None = None, staff_name: str | None = None) -> None:
        """Write one event of a lead's life."""
        self.db["lead_events"].insert({"ref": ref, "user_id": user_id, "at": stamp(at), "event": event,
                                       "status": status, "staff_id": staff_id, "staff_name": staff_name})

    def known(self, ref: str) -> bool:
        """Whether staff were already told about this reference (a confirmation then is an update)."""
        return self.db.execute("SELECT 1 FROM lead_events WHERE ref = ? LIMIT 1", [ref]).fetchone() is not None

    def set_status(self, ref: str, status: str, at: dt.datetime, staff_id: int, staff_name: str) -> bool:
        """Change a lead's status and log who did it; False when no such lead exists."""
        lead = self.get(ref)
        if lead is None:
            return False
        with self.db.atomic():
            self.db.execute("UPDATE registrations SET status = ? WHERE ref = ?", [status, ref])
            self.record(ref, lead["user_id"], STATUS, status, at, staff_id, staff_name)
        return True

    def get(self, ref: str) -> dict[str, Any] | None:
        """One lead (a registration row), by reference, case-insensitively."""
        rows = _rows(self.db.execute("SELECT * FROM registrations WHERE upper(ref) = upper(?)", [ref]))
        return rows[0] if rows else None

    def latest(self, limit: int = 15) -> list[dict[str, Any]]:
        """The most recent leads, newest first."""
        return _rows(self.db.execute(
            "SELECT * FROM registrations ORDER BY julianday(created_at) DESC, id DESC LIMIT ?", [limit]))

    def all(self) -> list[dict[str, Any]]:
        """Every lead, oldest first (the export)."""
        return _rows(self.db.execute("SELECT * FROM registrations ORDER BY julianday(created_at), id"))

    def history(self, ref: str) -> list[dict[str, Any]]:
        """The events of one lead, oldest first."""
        return _rows(self.db.execute("SELECT * FROM lead_events WHERE ref = ? ORDER BY id", [ref]))

    def last_change(self, ref: str) -> dict[str, Any] | None:
        """The latest status change made by a staff member, if any."""
        rows = _rows(self.db.execute(
            "SELECT * FROM lead_events WHERE ref = ? AND event = ? ORDER BY id DESC LIMIT 1", [ref, STATUS]))
        return rows[0] if rows else None

    def since(self, cutoff: dt.datetime) -> list[dict[str, Any]]:
        """Leads created since ``cutoff`` (status and source, for the statistics)."""
        return _rows(self.db.execute(
            "SELECT ref, status, source FROM registrations WHERE julianday(created_at) >= julianday(?)",
            [stamp(cutoff)]))


class HandoffStore:
    """Live conversations between a prospect and the staff."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def open(self, user_id: int, first_name: str, at: dt.datetime) -> int:
        """Start a conversation; it reuses the forum topic of the prospect's previous one."""
        status = TRANSITIONS[(HandoffState.NEW, HandoffEvent.ASKED)]
        return self.db["handoffs"].insert({
            "user_id": user_id, "first_name": first_name, "opened_at": stamp(at), "status": status.value,
            "thread_id": self.topic_of_user(user_id),
        }).last_pk

    def get(self, handoff_id: int) -> dict[str, Any] | None:
        """One conversation by id."""
        rows = _rows(self.db.execute("SELECT * FROM handoffs WHERE id = ?", [handoff_id]))
        return rows[0] if rows else None

    def open_of(self, user_id: int) -> dict[str, Any] | None:
        """The prospect's live conversation (open or relayed), if any."""
        rows = _rows(self.db.execute(
            f"SELECT * FROM handoffs WHERE user_id = ? AND status IN ({','.join('?' * len(LIVE_STATUSES))}) "
            "ORDER BY id DESC LIMIT 1", [user_id, *LIVE_STATUSES]))
        return rows[0] if rows else None

    def by_thread(self, thread_id: int) -> dict[str, Any] | None:
        """The latest conversation held in a forum topic."""
        rows = _rows(self.db.execute(
            "SELECT * FROM handoffs WHERE thread_id = ? ORDER BY id DESC LIMIT 1", [thread_id]))
        return rows[0] if rows else None

    def topic_of_user(self, user_id: int) -> int | None:
        """The forum topic of the prospect's latest conversation that has one."""
        row = self.db.execute(
            "SELECT thread_id FROM handoffs WHERE user_id = ? AND thread_id > 0 ORDER BY id DESC LIMIT 1",
            [user_id]).fetchone()
        return row[0] if row else None

    def set_root(self, handoff_id: int, outbox_id: int) -> None:
        """Remember the outbox row of the request message."""
        self.db.execute("UPDATE handoffs SET root_outbox_id = ? WHERE id = ?", [outbox_id, handoff_id])

    def set_thread(self, handoff_id: int, thread_id: int | None) -> None:
        """Remember the forum topic of a conversation (0: none can be created; None: forget it)."""
        self.db.execute("UPDATE handoffs SET thread_id = ? WHERE id = ?", [thread_id, handoff_id])

    def forget_thread(self, thread_id: int) -> None:
        """A topic is gone: every conversation that used it will get a new one."""
        self.db.execute("UPDATE handoffs SET thread_id = NULL WHERE thread_id = ?", [thread_id])

    def move(self, handoff_id: int, event: HandoffEvent, at: dt.datetime) -> HandoffState | None:
        """Apply ``event`` to a conversation, as the transition table allows; None when refused.

        The update is conditional on the status read, so a change made meanwhile by the
        other side makes this one refused rather than silently overwritten.
        """
        row = self.db.execute("SELECT status FROM handoffs WHERE id = ?", [handoff_id]).fetchone()
        target = next_state(row[0] if row else HandoffState.NEW, event, handoff_id)
        if row is None or target is None or target is HandoffState.ERASED:
            return None  # creating and deleting rows have their own paths (open, erase, purge)
        closed = (stamp(at), CLOSED_BY[event]) if target is HandoffState.CLOSED else (None, None)
        changed = self.db.execute(
            "UPDATE handoffs SET status = ?, closed_at = ?, closed_by = ? WHERE id = ? AND status = ?",
            [target.value, *closed, handoff_id, row[0]]).rowcount
        return target if changed else None

    def opened_since(self, cutoff: dt.datetime) -> int:
        """How many conversations were opened since ``cutoff``."""
        return self.db.execute("SELECT COUNT(*) FROM handoffs WHERE julianday(opened_at) >= julianday(?)",
                               [stamp(cutoff)]).fetchone()[0]

    def of_user(self, user_id: int) -> list[dict[str, Any]]:
        """Every conversation of a prospect."""
        return _rows(self.db.execute("SELECT * FROM handoffs WHERE user_id = ? ORDER BY id", [user_id]))


# --- erasure and retention -----------------------------------------------------------


def _staff_rows(db: sqlite_utils.Database, kinds: tuple[str, ...],
                refs: list[str]) -> list[tuple[int, str, int | None, str, int]]:
    """(id, status, sent message id, ref, in flight) of the staff rows of these kinds about these refs.

    "In flight": a request is out now, or an earlier one may have been posted (``maybe_posted``).
    """
    if not refs:
        return []
    marks = ",".join("?" * len(refs))
    kind_marks = ",".join("?" * len(kinds))
    return db.execute(
        f"SELECT id, status, sent_message_id, ref, attempt_started_at IS NOT NULL OR maybe_posted = 1 "
        f"FROM outbox WHERE audience = ? "
        f"AND kind IN ({kind_marks}) AND ref IN ({marks}) ORDER BY id", [STAFF, *kinds, *refs]).fetchall()


def blank_staff_messages(db: sqlite_utils.Database, kinds: tuple[str, ...], refs: list[str], text: str,
                         now: dt.datetime) -> int:
    """Blank every staff row about ``refs``, in the database and in the staff group.

    A pending row is dropped (nobody saw it). One being sent right now, or that may
    already be out, is blanked and flagged: the delivery path blanks its message once
    Telegram has posted it (an earlier copy is then followed by a labelled resend of the
    neutral text). A sent one keeps only ``text`` in the database, and an edit showing
    ``text`` is queued for its message (the bot cannot delete old messages).
    Returns how many rows changed.
    """
    outbox, changed = Outbox(db), 0
    edit_kind = KIND_LEAD_EDIT if kinds == LEAD_KINDS else KIND_REQUEST_EDIT
    blanked: set[int] = set()
    for row_id, status, message_id, ref, in_flight in _staff_rows(db, kinds, refs):
        target = _edit_target(db, row_id)
        if status == PENDING and not in_flight:
            changed += db.execute("DELETE FROM outbox WHERE id = ?", [row_id]).rowcount
            continue
        blank_row(db, row_id, text, after_send=edit_kind if status == PENDING else None)
        changed += 1
        if status == PENDING or message_id is None or target in blanked:
            continue
        blanked.add(target)
        outbox.put(STAFF, edit_kind, Reply(text), now, ref=ref, edit_of=target)
    return changed


def _edit_target(db: sqlite_utils.Database, row_id: int) -> int:
    """The row that first produced the message a row shows (an edit's ``edit_of``, or itself)."""
    payload = db.execute("SELECT payload FROM outbox WHERE id = ?", [row_id]).fetchone()[0]
    data = json.loads(payload) if payload else {}
    return (data.get("edit_of") if isinstance(data, dict) else None) or row_id


def rename_topics(db: sqlite_utils.Database, user_id: int, name: str, now: dt.datetime) -> int:
    """Queue the renaming of the prospect's forum topics (named after their first name) to ``name``."""
    threads = [r[0] for r in db.execute(
        "SELECT DISTINCT thread_id FROM handoffs WHERE user_id = ? AND thread_id > 0", [user_id])]
    for thread_id in threads:
        Outbox(db).put(STAFF, KIND_TOPIC_RENAME, Reply(name), now, ref=None, thread_id=thread_id)
    return len(threads)


def erase_prospect_rows(db: sqlite_utils.Database, user_id: int) -> int:
    """The rows for the prospect's private chat (staff answers): deleted, or flagged when in flight."""
    changed = 0
    for row_id, in_flight in db.execute("SELECT id, attempt_started_at FROM outbox WHERE audience = ? AND "
                                        "chat_id = ?", [PROSPECT, user_id]).fetchall():
        if in_flight is not None:
            blank_row(db, row_id, "", after_send="delete")
        else:
            db.execute("DELETE FROM outbox WHERE id = ?", [row_id])
        changed += 1
    return changed


def erase_staff_data(db: sqlite_utils.Database, user_id: int, now: dt.datetime, lead_text: str,
                     handoff_text: str, topic_name: str = "") -> int:
    """Everything the staff side keeps about one prospect: conversations, relays, lead history.

    Rows to the prospect are deleted; the staff messages that show their data (lead
    notifications, requests, relayed messages, forum topic names) are blanked.
    """
    refs = [r[0] for r in db.execute("SELECT DISTINCT ref FROM lead_events WHERE user_id = ?", [user_id])]
    refs += [r[0] for r in db.execute("SELECT ref FROM registrations WHERE user_id = ?", [user_id])
             if r[0] not in refs]
    handoff_ids = [str(r[0]) for r in db.execute("SELECT id FROM handoffs WHERE user_id = ?", [user_id])]
    changed = blank_staff_messages(db, LEAD_KINDS, refs, lead_text, now)
    changed += blank_staff_messages(db, HANDOFF_STAFF_KINDS, handoff_ids, handoff_text, now)
    if topic_name:
        changed += rename_topics(db, user_id, topic_name, now)
    changed += erase_prospect_rows(db, user_id)
    changed += db.execute("DELETE FROM lead_events WHERE user_id = ?", [user_id]).rowcount
    changed += db.execute("DELETE FROM handoffs WHERE user_id = ?", [user_id]).rowcount
    return changed


def forget_lead(db: sqlite_utils.Database, ref: str, now: dt.datetime, lead_text: str) -> int:
    """Retention of one pre-registration: blank its staff messages, then drop its history."""
    changed = blank_staff_messages(db, LEAD_KINDS, [ref], lead_text, now)
    return changed + db.execute("DELETE FROM lead_events WHERE ref = ?", [ref]).rowcount


def purge_staff_data(db: sqlite_utils.Database, cutoff: dt.datetime) -> dict[str, int]:
    """Retention: conversations ended before ``cutoff``, and the history of leads that no longer exist.

    The people concerned are erased whole by :func:`bot.storage.personal.purge`; this
    keeps the old behaviour for what is left (an ended conversation of someone still active).
    """
    purgeable = [state.value for state in sources_of(HandoffEvent.PURGED)]  # ended ones, per the table
    handoffs = db.execute(
        f"DELETE FROM handoffs WHERE status IN ({','.join('?' * len(purgeable))}) "
        "AND julianday(closed_at) < julianday(?)", [*purgeable, stamp(cutoff)]).rowcount
    events = db.execute("DELETE FROM lead_events WHERE ref NOT IN (SELECT ref FROM registrations)").rowcount
    return {"handoffs": handoffs, "lead_events": events}


def staff_row_of_message(db: sqlite_utils.Database, message_id: int) -> dict[str, Any] | None:
    """The staff outbox row behind a message of the staff group: its kind, ref, and the row to edit.

    ``target`` is the row whose message it is (an edit row points to the row it edited).
    """
    row = db.execute(
        "SELECT id, kind, ref, payload FROM outbox WHERE audience = ? AND sent_message_id = ? "
        "ORDER BY id DESC LIMIT 1", [STAFF, message_id]).fetchone()
    if row is None:
        return None
    row_id, kind, ref, payload = row
    return {"id": row_id, "kind": kind, "ref": ref, "target": json.loads(payload).get("edit_of") or row_id}


# --- lead cards sent together (``bot/staff/leads.py``) ------------------------------------------


def waiting_leads(db: sqlite_utils.Database, head_id: int, maybe_posted: bool, limit: int) -> list[tuple[int, str]]:
    """(id, ref) of the lead cards waiting in the staff queue from ``head_id`` on, in their order.

    Only rows no request is carrying (not in flight), and alike in ``maybe_posted``: a
    card that may already be out is sent again only with others that may be too, under
    one "sent again" label, never mixed with new ones.
    """
    return [(row[0], row[1]) for row in db.execute(
        "SELECT id, ref FROM outbox WHERE audience = ? AND kind = ? AND status = ? AND attempt_started_at IS NULL "
        "AND maybe_posted = ? AND id >= ? ORDER BY priority, id LIMIT ?",
        [STAFF, KIND_LEAD, PENDING, int(maybe_posted), head_id, limit]).fetchall()]


def lead_message_members(db: sqlite_utils.Database, row_id: int) -> list[tuple[int, str, bool]]:
    """(id, ref, blanked) of the lead cards posted in the same Telegram message as row ``row_id``.

    One row for a card sent alone, up to ten for cards sent together. ``blanked``: the
    card was erased (its row then keeps the neutral text, see :func:`blank_row`; a
    delivered card's text is otherwise dropped).
    """
    rows = db.execute(
        "SELECT o.id, o.ref, o.payload FROM outbox t JOIN outbox o ON o.sent_message_id = t.sent_message_id "
        "WHERE t.id = ? AND t.sent_message_id IS NOT NULL AND o.audience = ? AND o.kind = ? ORDER BY o.id",
        [row_id, STAFF, KIND_LEAD]).fetchall()
    return [(member, ref, bool(json.loads(payload or "{}").get("text"))) for member, ref, payload in rows]


def lead_card(db: sqlite_utils.Database, ref: str) -> int | None:
    """The row of the latest card of a lead that reached the group (alone or with others), if any."""
    row = db.execute("SELECT id FROM outbox WHERE audience = ? AND kind = ? AND ref = ? AND status = ? "
                     "AND sent_message_id IS NOT NULL ORDER BY id DESC LIMIT 1",
                     [STAFF, KIND_LEAD, ref, SENT]).fetchone()
    return row[0] if row else None
