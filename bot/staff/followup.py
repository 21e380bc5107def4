"""Leads followed until someone has called them: assignment, ``/mes_leads``, recalls, the daily digest.

"Je m'en occupe" already writes who took the lead in ``lead_events``: the assignee is
whoever set that status last, so assignment needs no table of its own and the lead's
history stays the one source of truth.

:meth:`FollowUp.tick` runs every minute (a job of the Telegram front end; a test
calls it with its own clock). Both what it posts go through the outbox, and the
outbox row itself records that it was posted (kind + ``ref``): a restart, or two ticks
in the same minute, never recall a lead twice nor post two digests the same day.

* A lead untouched (no event) for :data:`RECALL_WORKING_DAYS` working days
  (``OFFICE_DAYS``), still new or taken, is recalled once in the group, naming the
  assignee if any.
* On working days at ``DIGEST_TIME`` (default 08:30 Paris), a digest: new leads since
  the last digest, leads waiting, open conversations no staff member answered yet,
  the top unanswered questions, the reminders and campaign messages sent (counts
  only, read from the outbox: what was delivered, not what was merely queued).
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from bot.conversation.messages import Reply
from bot.staff.campaigns import KIND_CAMPAIGN
from bot.staff.types import StaffInput, StaffResult, clean
from bot.storage.outbox import SENT, STAFF
from bot.storage.staff import (
    CONTACTED,
    CREATED,
    KIND_TO_PROSPECT,
    LIVE_STATUSES,
    NEW,
    STATUS,
    TAKEN,
    stamp,
)
from bot.storage.times import in_paris

if TYPE_CHECKING:
    from bot.staff.desk import StaffDesk

KIND_RECALL = "lead_recall"  # ref = registration reference
KIND_DIGEST = "digest"  # ref = the day, YYYY-MM-DD
#: Outbox kind of a reminder (``bot/reminders`` sits above this layer: its kind is named, not imported).
KIND_REMINDER = "reminder"
RECALL_WORKING_DAYS = 2
#: Statuses still waiting for a call (contacted and closed leads are not recalled).
WAITING = (NEW, TAKEN)
MAX_LISTED, TOP_QUESTIONS = 10, 3
#: Teaching choices (a question's text) are forgotten after this many days: the buttons then expire.
PENDING_DAYS = 7


def add_working_days(start: dt.datetime, days: int, working: frozenset[int]) -> dt.datetime:
    """``start`` moved ``days`` working days later, same time of day (Friday 10h + 2 = Tuesday 10h)."""
    moment, counted = start, 0
    for _ in range(days * 7 + 7):
        if counted >= days:
            break
        moment += dt.timedelta(days=1)
        if moment.isoweekday() in working:
            counted += 1
    return moment


class FollowUp:
    """Assignment queries, recalls and the digest, bound to the staff desk."""

    def __init__(self, desk: StaffDesk) -> None:
        self.desk = desk

    @property
    def db(self) -> Any:
        return self.desk.assistant.db

    # --- assignment ------------------------------------------------------------------------

    def assignee(self, ref: str) -> dict[str, Any] | None:
        """The staff member who last pressed "Je m'en occupe" on the lead (id and name), if any."""
        row = self.db.execute("SELECT staff_id, staff_name FROM lead_events WHERE ref = ? AND event = ? "
                              "AND status = ? ORDER BY id DESC LIMIT 1", [ref, STATUS, TAKEN]).fetchone()
        return None if row is None else {"staff_id": row[0], "staff_name": row[1]}

    def mine_command(self, inp: StaffInput) -> StaffResult:
        """``/mes_leads``: the leads the staff member took and nobody has closed yet."""
        rows = self.db.execute(
            "SELECT r.ref, r.first_name, r.last_name, r.status, r.created_at FROM registrations r "
            "WHERE r.status IN (?, ?) AND (SELECT e.staff_id FROM lead_events e WHERE e.ref = r.ref AND "
            "e.event = ? AND e.status = ? ORDER BY e.id DESC LIMIT 1) = ? ORDER BY r.id",
            [TAKEN, CONTACTED, STATUS, TAKEN, inp.user_id]).fetchall()
        if not rows:
            return StaffResult([Reply(self.desk.text("staff.mes_leads_aucun"))])
        render = self.desk.render()
        lines = [render.text("staff.mes_leads_titre", n=len(rows))]
        for ref, first, last, status, created in rows:
            lines.append(render.text("staff.mes_leads_ligne", ref=ref, prenom=clean(first, 40) or "—",
                                     nom=clean(last, 40) or "—", statut=self.desk.leads.status_label(status),
                                     date=self.desk.moment(created)))
        return StaffResult([Reply("\n".join(lines))])

    # --- the minute tick ---------------------------------------------------------------------

    def tick(self) -> int:
        """Queue the recalls due and today's digest if due; returns how many messages were queued."""
        if not self.desk.enabled:
            return 0
        with self.db.atomic():
            queued = self.recall_due()
            queued += self.digest_if_due()
            self.db.execute("DELETE FROM teach_pending WHERE julianday(created_at) < julianday(?)",
                            [stamp(self.desk.now() - dt.timedelta(days=PENDING_DAYS))])
        return queued + self.desk.alerts.check_integrity()

    def _posted(self, kind: str, ref: str) -> bool:
        return self.db.execute("SELECT 1 FROM outbox WHERE audience = ? AND kind = ? AND ref = ? LIMIT 1",
                               [STAFF, kind, ref]).fetchone() is not None

    def recall_due(self) -> int:
        """Recall, once each, the waiting leads untouched for two working days."""
        now = self.desk.now()
        rows = self.db.execute(
            "SELECT r.ref, r.created_at, (SELECT MAX(e.at) FROM lead_events e WHERE e.ref = r.ref) "
            "FROM registrations r WHERE r.status IN (?, ?) AND NOT EXISTS (SELECT 1 FROM outbox o WHERE "
            "o.audience = ? AND o.kind = ? AND o.ref = r.ref)", [*WAITING, STAFF, KIND_RECALL]).fetchall()
        queued = 0
        for ref, created, last_event in rows:
            touched = max(filter(None, (created, last_event)), default=None)
            if touched is None:
                continue
            last = in_paris(touched)  # working days and the time of day are Paris ones
            if add_working_days(last, RECALL_WORKING_DAYS, self.desk.hours.days) > now:
                continue
            self.desk.queue_staff(KIND_RECALL, self.recall(ref, last), ref=ref)
            queued += 1
        return queued

    def recall(self, ref: str, since: dt.datetime) -> Reply:
        """The recall message: the reference, since when, and to whom (the assignee, if any)."""
        who = self.assignee(ref)
        if who is None:
            return Reply(self.desk.text("staff.relance_lead", ref=ref, date=self.desk.moment(stamp(since))))
        qui = self.desk.text("staff.qui", prenom=clean(who["staff_name"], 40) or "?", id=who["staff_id"])
        return Reply(self.desk.text("staff.relance_lead_pris", ref=ref, date=self.desk.moment(stamp(since)), qui=qui))

    def digest_if_due(self) -> int:
        """Today's digest, on a working day from ``DIGEST_TIME`` on, once."""
        now = self.desk.now()
        day = now.date().isoformat()
        at = self.desk.settings.digest_time
        if at is None or now.isoweekday() not in self.desk.hours.days or now.time().replace(tzinfo=None) < at:
            return 0
        if self._posted(KIND_DIGEST, day):
            return 0
        self.desk.queue_staff(KIND_DIGEST, Reply(self.digest_text()), ref=day)
        return 1

    def _last_digest(self) -> str | None:
        row = self.db.execute("SELECT MAX(created_at) FROM outbox WHERE audience = ? AND kind = ?",
                              [STAFF, KIND_DIGEST]).fetchone()
        return row[0] if row else None

    def sent_since(self, since: str) -> dict[str, int]:
        """Reminders (``n``) and campaign messages (``envoyes``) delivered since ``since``, and from how
        many campaigns (``total``): placeholders the texts already know.

        Counted from the outbox (delivered rows only: a reminder dropped at a crash or a
        blocked prospect is not "sent"); counts only, nothing about who received them.
        """
        reminders = self.db.execute(
            "SELECT COUNT(*) FROM outbox WHERE kind = ? AND status = ? AND julianday(created_at) >= julianday(?)",
            [KIND_REMINDER, SENT, since]).fetchone()[0]
        messages, campaigns = self.db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT ref) FROM outbox WHERE kind = ? AND status = ? "
            "AND julianday(created_at) >= julianday(?)", [KIND_CAMPAIGN, SENT, since]).fetchone()
        return {"n": reminders, "total": campaigns, "envoyes": messages}

    def digest_text(self) -> str:
        """New leads, leads waiting, open conversations without a staff answer, sendings, top unanswered questions."""
        render = self.desk.render()
        now = self.desk.now()
        since = self._last_digest() or stamp(now - dt.timedelta(days=1))
        new = self.db.execute("SELECT COUNT(*) FROM lead_events WHERE event = ? AND julianday(at) >= julianday(?)",
                              [CREATED, since]).fetchone()[0]
        waiting = [row[0] for row in self.db.execute(
            "SELECT ref FROM registrations WHERE status = ? ORDER BY id", [NEW]).fetchall()]
        silent = self.db.execute(
            f"SELECT COUNT(*) FROM handoffs h WHERE h.status IN ({','.join('?' * len(LIVE_STATUSES))}) "
            "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.kind = ? AND o.ref = CAST(h.id AS TEXT))",
            [*LIVE_STATUSES, KIND_TO_PROSPECT]).fetchone()[0]
        lines = [render.text("staff.digest_titre", date=self.desk.moment(stamp(now))),
                 render.text("staff.digest_nouveaux", n=new),
                 render.text("staff.digest_en_attente", n=len(waiting),
                             liste=", ".join(waiting[:MAX_LISTED]) + (" …" if len(waiting) > MAX_LISTED else ""))
                 if waiting else render.text("staff.digest_en_attente_aucun"),
                 render.text("staff.digest_conversations", n=silent),
                 render.text("staff.digest_envois", **self.sent_since(since))]
        _, groups = self.desk.commands.unanswered_report(7)
        if groups:
            lines.append(render.text("staff.digest_questions"))
            lines += [render.text("staff.sans_reponse_groupe", n=g.count, question=clean(g.example, 120))
                      for g in groups[:TOP_QUESTIONS]]
        return "\n".join(lines)
