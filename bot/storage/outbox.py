"""Messages to deliver, kept in SQLite until they are delivered.

Whatever the bot must say to the staff group (a lead, a request for a person, a
relayed message) or relay to a prospect is first written here, in the same
transaction as the fact it reports (the lead, the handoff). A sender then delivers
the rows in order and marks each one sent with the Telegram message id it got.
If Telegram answers 429 or 502, or the staff chat id is wrong, or the process is
killed, the row simply waits for its next attempt: nothing is lost, and a row
marked sent is never sent again. Order is kept per chat (the staff group, or one
prospect's private chat): :meth:`Outbox.next_in_chat` hands out a chat's rows one
at a time, oldest first, and a row waiting for its retry holds the rows behind it.

Telegram's sendMessage has no idempotency key: if the process dies after Telegram
posted a message but before the row is marked sent, the row is sent again. That
cannot be prevented, so it is made visible. :meth:`Outbox.begin_attempt` records
that a request is leaving (``attempt_started_at``) before it leaves; every outcome
clears it. A row still carrying it when a new process starts
(:meth:`Outbox.settle_interrupted`), or whose request timed out with no answer, is
flagged ``maybe_posted``, for good: every later copy of it says it may be a
repetition (see ``StaffDesk.label_resend``).

Three more rules keep one message from holding up the others:

* A text longer than a Telegram message (measured in UTF-16 units, see
  :mod:`bot.text_units`) is split into several rows when it is queued; a row that
  Telegram refuses for good is marked ``failed`` (:meth:`Outbox.fail`) and its
  queue moves on. Only transient errors (429, 5xx, timeouts) hold a queue.
* Rows have a ``priority``: a lead (``urgent``) goes before the relays already
  queued in the staff group, which a chatty prospect can fill for minutes.
  Consecutive relays of one conversation still waiting are sent as one message
  (:meth:`Outbox.followers`).
* Once a row is delivered (or has failed), its text is dropped: only what later
  look-ups need stays (kind, ref, the Telegram message id, the ids it replies to or
  edits). A row whose text a later edit rebuilds (``keep_text``) keeps it.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils

from bot.messages import Reply
from bot.storage.rows import dicts, first_dict
from bot.storage.times import from_db, to_db
from bot.text_units import STORED_LIMIT, TELEGRAM_LIMIT, truncate_units, split_units, visible_len

#: Seconds to wait before the n-th retry: 2, 4, 8... capped at five minutes.
MAX_BACKOFF = 300.0

PENDING, SENT, FAILED = "pending", "sent", "failed"
STAFF = "staff"
PROSPECT = "prospect"
#: Row priorities, lowest first: an urgent row (a lead) overtakes the normal rows of its chat.
#: Bulk rows (reminders, campaigns) have no place in a chat's queue: one bulk lane sends them
#: (see :meth:`Outbox.due_bulk`), so they never hold a prospect's own messages.
URGENT, NORMAL, BULK = 0, 1, 2
#: The order in which a chat's pending rows go out.
_ORDER = "priority, id"


def create_outbox_table(db: sqlite_utils.Database) -> None:
    """The migration that creates the outbox (see ``bot/storage/db.py``)."""
    db["outbox"].create(
        {"id": int, "created_at": str, "audience": str, "chat_id": int, "kind": str, "ref": str,
         "payload": str, "status": str, "attempts": int, "next_attempt_at": str,
         "sent_message_id": int, "last_error": str},
        pk="id", defaults={"status": PENDING, "attempts": 0},
    )
    db["outbox"].create_index(["status", "next_attempt_at"])
    db["outbox"].create_index(["kind", "ref"])


def add_attempt_columns(db: sqlite_utils.Database) -> None:
    """The migration that lets a crash mid-request be seen (see the module docstring)."""
    db["outbox"].add_column("attempt_started_at", str)
    db["outbox"].add_column("maybe_posted", int, not_null_default=0)


def add_priority_column(db: sqlite_utils.Database) -> None:
    """The migration that lets a lead overtake relays, and drops the text of delivered rows.

    Rows already sent or failed lose their text, except the request messages of
    conversations (their text is rebuilt by later edits).
    """
    db["outbox"].add_column("priority", int, not_null_default=NORMAL)
    roots = "SELECT root_outbox_id FROM handoffs WHERE root_outbox_id IS NOT NULL" if db["handoffs"].exists() \
        else "SELECT NULL"
    for row_id, payload in db.execute(
            f"SELECT id, payload FROM outbox WHERE status != ? AND id NOT IN ({roots})", [PENDING]).fetchall():
        db.execute("UPDATE outbox SET payload = ? WHERE id = ?", [_without_text(payload), row_id])


@dataclass(frozen=True)
class Delivery:
    """One row to deliver.

    ``audience`` is ``staff`` (the chat id is read from the settings at send time,
    so fixing a wrong ``STAFF_CHAT_ID`` and restarting delivers what waited) or
    ``prospect`` (``chat_id`` is the prospect's private chat). ``reply_to`` names
    an earlier row whose Telegram message this one answers; ``thread_id`` a forum topic.
    ``maybe_posted``: an earlier attempt may have reached Telegram (the process was
    killed, or the request timed out, before its answer): a copy may already be out.
    """

    id: int
    audience: str
    chat_id: int | None
    kind: str
    ref: str | None
    reply: Reply
    reply_to: int | None
    thread_id: int | None
    attempts: int
    edit_of: int | None = None
    maybe_posted: bool = False


def _encode(reply: Reply, reply_to: int | None, thread_id: int | None, edit_of: int | None,
            keep_text: bool = False) -> str:
    data = {**reply.to_dict(), "reply_to": reply_to, "thread_id": thread_id, "edit_of": edit_of}
    if keep_text:
        data["keep_text"] = True
    return json.dumps(data, ensure_ascii=False)


def _without_text(payload: str) -> str:
    """A delivered row's payload without its text (kept when a later edit rebuilds it).

    An erased row's text is the neutral "données effacées" (see :func:`blank_row`): it is
    kept, since the edit that blanks the copy posted meanwhile is built from it.
    """
    data = json.loads(payload)
    if data.get("keep_text") or data.get(ERASED_KEY):
        return payload
    data["text"] = ""
    return json.dumps(data, ensure_ascii=False)


def _decode(row: dict[str, Any]) -> Delivery:
    data = json.loads(row["payload"])
    reply = Reply.from_dict(data)
    return Delivery(row["id"], row["audience"], row["chat_id"], row["kind"], row["ref"], reply,
                    data.get("reply_to"), data.get("thread_id"), row["attempts"], data.get("edit_of"),
                    bool(row.get("maybe_posted")))


class Outbox:
    """Queue, fetch and settle deliveries."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def put(self, audience: str, kind: str, reply: Reply, now: dt.datetime, *, chat_id: int | None = None,
            ref: str | None = None, reply_to: int | None = None, thread_id: int | None = None,
            edit_of: int | None = None, urgent: bool = False, keep_text: bool = False, bulk: bool = False) -> int:
        """Queue a message (or, with ``edit_of``, an edit of an earlier row's message); returns its row.

        A text too long for one Telegram message becomes several rows, in order, the
        buttons on the last one; the first row's id is returned. An edit cannot be
        split (it replaces one message): it is shortened instead.
        """
        stamp = to_db(now)
        if edit_of is not None:
            pieces = [truncate_units(reply.text, STORED_LIMIT)]
        else:
            pieces = split_units(reply.text, STORED_LIMIT) or [reply.text]
        first: int | None = None
        for number, piece in enumerate(pieces, start=1):
            part = Reply(piece, reply.buttons if number == len(pieces) else [])
            record = {
                "created_at": stamp, "audience": audience, "chat_id": chat_id, "kind": kind, "ref": ref,
                "payload": _encode(part, reply_to, thread_id, edit_of, keep_text), "status": PENDING,
                "attempts": 0, "next_attempt_at": stamp,
            }
            if urgent or bulk:  # NORMAL is the column's default
                record["priority"] = URGENT if urgent else BULK
            row = self.db["outbox"].insert(record).last_pk
            first = row if first is None else first
        assert first is not None
        return first

    def due(self, now: dt.datetime, limit: int = 50) -> list[Delivery]:
        """Pending rows whose next attempt is due, oldest first."""
        rows = self.db.execute(
            "SELECT * FROM outbox WHERE status = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            [PENDING, to_db(now), limit],
        )
        return [_decode(row) for row in dicts(rows)]

    def begin_attempt(self, delivery_id: int, now: dt.datetime) -> None:
        """Record that a request for this row is leaving, before it leaves.

        The connection is in autocommit mode and the core never keeps a transaction
        open across an ``await``: this is in the file before the HTTP request starts,
        so a process killed during the request leaves the mark behind.
        """
        self.db.execute("UPDATE outbox SET attempt_started_at = ? WHERE id = ?", [to_db(now), delivery_id])

    def settle_interrupted(self) -> int:
        """At start-up: rows an earlier process left in flight may be out; flag them. Returns how many.

        Call it before this process begins any attempt (only then is every mark
        found an earlier process's).
        """
        return self.db.execute(
            "UPDATE outbox SET maybe_posted = 1, attempt_started_at = NULL "
            "WHERE status = ? AND attempt_started_at IS NOT NULL", [PENDING]).rowcount

    def mark_sent(self, delivery_id: int, message_id: int | None) -> None:
        """Record the delivery and the Telegram message id it produced; the text is no longer needed."""
        self.db.execute("UPDATE outbox SET status = ?, sent_message_id = ?, last_error = NULL, "
                        "attempt_started_at = NULL WHERE id = ?", [SENT, message_id, delivery_id])
        self._drop_text(delivery_id)

    def _drop_text(self, delivery_id: int) -> None:
        """Forget what a settled row said (see the module docstring): ids and kind are enough."""
        row = self.db.execute("SELECT payload FROM outbox WHERE id = ?", [delivery_id]).fetchone()
        if row is not None:
            self.db.execute("UPDATE outbox SET payload = ? WHERE id = ?", [_without_text(row[0]), delivery_id])

    def release(self, delivery_ids: list[int], outcome_unknown: bool = False) -> None:
        """Rows whose attempt ended without them being sent (merged rows): no longer in flight.

        ``outcome_unknown``: the request may have been carried out, so they may be out.
        """
        marks = ",".join("?" * len(delivery_ids))
        self.db.execute(
            "UPDATE outbox SET maybe_posted = maybe_posted OR (attempt_started_at IS NOT NULL AND ?), "
            f"attempt_started_at = NULL WHERE id IN ({marks})", [outcome_unknown, *delivery_ids])

    def fail(self, delivery_id: int, error: str) -> None:
        """Telegram refused the row for good (a 400 no retry can fix): it stops holding its queue."""
        self.give_up(delivery_id, error)

    def shorten(self, delivery: Delivery, limit: int = TELEGRAM_LIMIT) -> Delivery:
        """The row cut to fit one message (a row queued before texts were split), saved so."""
        text = truncate_units(delivery.reply.text, limit)
        self.db.execute("UPDATE outbox SET payload = ? WHERE id = ?",
                        [_encode(Reply(text, delivery.reply.buttons), delivery.reply_to, delivery.thread_id,
                                 delivery.edit_of), delivery.id])
        return replace(delivery, reply=Reply(text, delivery.reply.buttons))

    def followers(self, head: Delivery, limit: int = STORED_LIMIT) -> list[Delivery]:
        """Rows to send in one message with ``head``: the relays of its conversation queued right after it.

        They must be of the same kind and ref, untouched so far (no attempt, no
        buttons, no edit), with no other row of the same conversation between them,
        and all together fit in ``limit`` units (joined by a line break).
        """
        if head.edit_of is not None or head.reply.buttons or head.attempts or head.maybe_posted:
            return []
        rows = self.db.execute(
            f"SELECT * FROM outbox WHERE status = ? AND audience = ? AND chat_id IS ? AND ref IS ? AND id > ? "
            f"ORDER BY {_ORDER} LIMIT 200", [PENDING, head.audience, head.chat_id, head.ref, head.id])
        size = visible_len(head.reply.text)
        found: list[Delivery] = []
        for row in dicts(rows):
            other = _decode(row)
            if (other.kind != head.kind or other.edit_of is not None or other.reply.buttons or other.attempts
                    or other.maybe_posted):
                break
            size += 1 + visible_len(other.reply.text)
            if size > limit:
                break
            found.append(other)
        return found

    def retry_later(self, delivery_id: int, now: dt.datetime, error: str, wait: float | None = None,
                    outcome_unknown: bool = False) -> float:
        """Schedule another attempt, after ``wait`` seconds or an exponential backoff.

        ``outcome_unknown``: the request got no answer (a timeout), so Telegram may
        have posted it; if an attempt had begun, the row is flagged ``maybe_posted``.
        """
        attempts = self.db.execute("SELECT attempts FROM outbox WHERE id = ?", [delivery_id]).fetchone()[0] + 1
        delay = wait if wait is not None else min(MAX_BACKOFF, 2.0 ** attempts)
        when = now + dt.timedelta(seconds=delay)
        self.db.execute(
            "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ?, "
            "maybe_posted = maybe_posted OR (attempt_started_at IS NOT NULL AND ?), attempt_started_at = NULL "
            "WHERE id = ?", [attempts, to_db(when), error[:200], outcome_unknown, delivery_id])
        return delay

    def give_up(self, delivery_id: int, error: str) -> None:
        """Stop trying (the prospect blocked the bot): the row stays for the record, without its text."""
        self.db.execute("UPDATE outbox SET status = ?, last_error = ?, attempt_started_at = NULL WHERE id = ?",
                        [FAILED, error[:200], delivery_id])
        self._drop_text(delivery_id)

    def message_id_of(self, delivery_id: int) -> int | None:
        """The Telegram message id a delivered row produced, if it was delivered."""
        row = self.db.execute("SELECT sent_message_id FROM outbox WHERE id = ?", [delivery_id]).fetchone()
        return row[0] if row else None

    def reply_of(self, delivery_id: int) -> Reply | None:
        """The message a row carries (to rebuild it in a later edit), or None (unknown, or text dropped)."""
        row = self.db.execute("SELECT payload FROM outbox WHERE id = ?", [delivery_id]).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        if not data["text"]:
            return None
        return Reply.from_dict(data)

    def due_chats(self, now: dt.datetime) -> list[tuple[str, int | None]]:
        """(audience, chat id) of every chat whose oldest pending row is due.

        Only the head of a chat's queue counts: a row in backoff holds the rows after
        it, so a chat whose head is waiting has nothing to send yet. Staff rows have
        no chat id (the staff chat is read from the settings at send time).
        """
        rows = self.db.execute(
            "SELECT audience, chat_id FROM (SELECT audience, chat_id, next_attempt_at, id, ROW_NUMBER() OVER "
            f"(PARTITION BY audience, chat_id ORDER BY {_ORDER}) AS place FROM outbox WHERE status = ? "
            "AND priority < ?) WHERE place = 1 AND next_attempt_at <= ? ORDER BY id",
            [PENDING, BULK, to_db(now)]).fetchall()
        return [(audience, chat_id) for audience, chat_id in rows]

    def next_in_chat(self, audience: str, chat_id: int | None, now: dt.datetime) -> Delivery | None:
        """The oldest pending row of one chat if it is due; None if there is none or it waits."""
        rows = self.db.execute(
            f"SELECT * FROM outbox WHERE status = ? AND audience = ? AND chat_id IS ? AND priority < ? "
            f"ORDER BY {_ORDER} LIMIT 1", [PENDING, audience, chat_id, BULK])
        head = first_dict(rows)
        if head is None:
            return None
        return _decode(head) if head["next_attempt_at"] <= to_db(now) else None

    def due_bulk(self, now: dt.datetime, exclude: set[int] | frozenset[int] = frozenset(),
                 limit: int = 50) -> list[Delivery]:
        """Due bulk rows (reminders, campaigns), oldest first, leaving out ``exclude`` (rows in flight)."""
        skip = ",".join("?" * len(exclude))
        rows = self.db.execute(
            "SELECT * FROM outbox WHERE status = ? AND priority = ? AND next_attempt_at <= ? "
            f"{f'AND id NOT IN ({skip}) ' if exclude else ''}ORDER BY id LIMIT ?",
            [PENDING, BULK, to_db(now), *sorted(exclude), limit])
        return [_decode(row) for row in dicts(rows)]

    def pending_row(self, delivery_id: int, now: dt.datetime) -> Delivery | None:
        """One row as it is now if it is still pending and due (it may have been sent, erased or delayed)."""
        row = first_dict(self.db.execute("SELECT * FROM outbox WHERE id = ? AND status = ? AND next_attempt_at <= ?",
                                         [delivery_id, PENDING, to_db(now)]))
        return _decode(row) if row is not None else None

    def seconds_until_due(self, delivery_id: int, now: dt.datetime) -> float:
        """Seconds before a pending row's next attempt (0 if due, settled or gone)."""
        row = self.db.execute("SELECT next_attempt_at FROM outbox WHERE id = ? AND status = ?",
                              [delivery_id, PENDING]).fetchone()
        if row is None:
            return 0.0
        return max(0.0, (from_db(row[0]) - now).total_seconds())

    def in_flight(self) -> list[tuple[str, str]]:
        """(audience, kind) of each pending row marked in flight: what a stopped process left (start-up)."""
        return [(audience, kind) for audience, kind in self.db.execute(
            "SELECT audience, kind FROM outbox WHERE status = ? AND attempt_started_at IS NOT NULL ORDER BY id",
            [PENDING]).fetchall()]

    def next_retry_at(self, now: dt.datetime) -> dt.datetime | None:
        """When the earliest pending row that is not due yet will be."""
        row = self.db.execute("SELECT MIN(next_attempt_at) FROM outbox WHERE status = ? AND next_attempt_at > ?",
                              [PENDING, to_db(now)]).fetchone()
        return from_db(row[0]) if row and row[0] else None

    def pending_count(self) -> int:
        """How many rows wait to be delivered."""
        return self.db.execute("SELECT COUNT(*) FROM outbox WHERE status = ?", [PENDING]).fetchone()[0]


# --- erasure (``/supprimer`` and the retention purge) -------------------------------------

#: Kind of a staff row that renames a forum topic (``thread_id``) to its text.
KIND_TOPIC_RENAME = "topic_rename"
#: Payload key of a row erased while its request was in flight: what to do once it returns
#: (an edit kind: queue an edit blanking the message; ``"delete"``: delete the row).
ERASED_KEY = "erased"


def _payload_of(raw: str | None) -> dict[str, Any]:
    """A row's payload as a dict; empty once a delivered row's payload was dropped."""
    data = json.loads(raw) if raw else {}
    return data if isinstance(data, dict) else {}


def blank_row(db: sqlite_utils.Database, row_id: int, text: str, after_send: str | None = None) -> None:
    """Replace what a row carries by ``text`` (no buttons), keeping where it goes.

    ``after_send``: the row is being sent right now; the delivery path reads it when
    the request returns (:func:`erased_in_flight`) and settles it (:func:`settle_erased`).
    """
    row = db.execute("SELECT payload FROM outbox WHERE id = ?", [row_id]).fetchone()
    if row is None:
        return
    data = _payload_of(row[0])
    blank = {"text": text, "buttons": [], "reply_to": data.get("reply_to"),
             "thread_id": data.get("thread_id"), "edit_of": data.get("edit_of")}
    if after_send:
        blank[ERASED_KEY] = after_send
    db.execute("UPDATE outbox SET payload = ? WHERE id = ?", [json.dumps(blank, ensure_ascii=False), row_id])


def erased_in_flight(db: sqlite_utils.Database, row_id: int) -> str | None:
    """What :func:`blank_row` asked to do after the send of a row erased meanwhile, or None."""
    row = db.execute("SELECT payload FROM outbox WHERE id = ?", [row_id]).fetchone()
    return _payload_of(row[0]).get(ERASED_KEY) if row else None


def settle_erased(db: sqlite_utils.Database, row_id: int, action: str, now: dt.datetime) -> None:
    """A row erased while in flight was delivered: blank the message it produced, or forget the row.

    The prospect asked for erasure while Telegram was posting the message: the copy now
    in the staff group must be blanked like the others (an edit queued with the neutral
    text the row already carries); a relay that reached the prospect is simply deleted.
    """
    if action == "delete":
        db.execute("DELETE FROM outbox WHERE id = ?", [row_id])
        return
    row = db.execute("SELECT ref, payload, sent_message_id FROM outbox WHERE id = ?", [row_id]).fetchone()
    if row is None or row[2] is None:
        return
    data = _payload_of(row[1])
    Outbox(db).put(STAFF, action, Reply(data.get("text", "")), now, ref=row[0], edit_of=data.get("edit_of") or row_id)
