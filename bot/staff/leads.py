"""Leads: every confirmed pre-registration announced to the staff group, and its status.

The notification is queued in the outbox inside the confirmation's own transaction
(the form calls ``assistant.on_confirmed`` there), so a lead is never announced
without being saved, nor saved without being announced — even if the staff group
is unreachable for hours or the bot restarts in between.

A status button ("Je m'en occupe", "Contacté", "Clos") changes ``registrations.status``,
writes who did it in ``lead_events`` and queues an edit of the lead's card (an
``edit_of`` outbox row): the three are one transaction, so a restart never loses a
status change and the message always ends up showing it.

Cards sent together. Telegram lets a bot post about 20 messages a minute in a group:
200 leads after a fair, one card each, would take ten minutes. When at least
:data:`GROUP_FROM` cards wait in the staff queue, up to :data:`GROUP_SIZE` of them go
as one message (:meth:`LeadDesk.batch`, called by the deliverer at send time), each
part with its reference, status and contact, and its own command ``/lead_7k3q9p``:
Telegram makes it tappable, and it answers with the full card and its status
buttons. Buttons inside the grouped message were weighed and left out: three per
lead make a 30-button keyboard where a slip of the thumb changes someone else's
lead, and a keyboard cannot sit beside the part it acts on. Every part stays its own
outbox row (its own ref): a status change or an erasure edits the shared message,
rebuilt at send time from the database (:meth:`LeadDesk.regroup`), so the other
leads of the message are shown unchanged and an erased one only as "données effacées".
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from bot.conversation.messages import Button, Reply
from bot.knowledge.render import Renderer
from bot.registration import steps
from bot.registration.display import shown_value
from bot.staff.types import PREFIX, StaffInput, StaffResult, clean
from bot.storage.outbox import STAFF, Delivery
from bot.storage.registrations import REFERENCE_PREFIX
from bot.storage.staff import (
    CLOSED,
    CONTACTED,
    CREATED,
    KIND_LEAD,
    KIND_LEAD_EDIT,
    LEAD_KINDS,
    LEAD_STATUSES,
    TAKEN,
    UPDATED,
    LeadStore,
    lead_card,
    lead_message_members,
    staff_row_of_message,
    waiting_leads,
)
from bot.text_units import TELEGRAM_LIMIT, truncate_units

if TYPE_CHECKING:
    from bot.conversation.turn import Turn
    from bot.staff.desk import StaffDesk

#: The statuses staff set with the buttons, in the order of the buttons.
BUTTON_STATUSES = (TAKEN, CONTACTED, CLOSED)
#: Cards waiting from which they are sent together, and how many go in one message.
GROUP_FROM, GROUP_SIZE = 5, 10
#: Room kept in a grouped message for the "sent again after an outage" label.
LABEL_ROOM = 200
#: A lead's own command in a grouped message: ``/lead_`` + its reference without ``MCO-``.
LINK = "lead_"


def field_value(render: Renderer, name: str, data: dict[str, Any]) -> str:
    """A stored answer as staff read it (the prospect's own wording, made safe and cut)."""
    return clean(shown_value(render, name, data), 120)


class LeadDesk:
    """Lead notifications and status buttons."""

    PREFIX = PREFIX + "l:"  # + status + ":" + reference

    def __init__(self, desk: StaffDesk) -> None:
        self.desk = desk
        self.store = LeadStore(desk.assistant.db)

    # --- announcing ----------------------------------------------------------------------

    def on_confirmed(self, turn: Turn, row: dict[str, Any]) -> None:
        """The form's hook: log the lead and queue its notification (same transaction)."""
        if not self.desk.enabled:
            return
        updated = self.store.known(row["ref"])
        self.store.record(row["ref"], row["user_id"], UPDATED if updated else CREATED, row["status"],
                          self.desk.now())
        self.desk.queue_staff(KIND_LEAD, self.notification(row), ref=row["ref"])

    def notification(self, lead: dict[str, Any]) -> Reply:
        """The lead as the staff group shows it, with the status buttons."""
        return Reply(self.text(lead), self.buttons(lead["ref"], lead["status"]))

    def text(self, lead: dict[str, Any]) -> str:
        """Details, source, reference, date and status (all prospect text as plain text)."""
        render = self.desk.render()
        updated = any(e["event"] == UPDATED for e in self.store.history(lead["ref"]))
        key = "staff.lead_mise_a_jour" if updated else "staff.lead_nouveau"
        lines = [render.text(key, ref=lead["ref"])]
        for field in steps.SHOWN_FIELDS:
            lines.append(render.text("staff.ligne", champ=render.text(field.label or field.name),
                                     valeur=field_value(render, field.name, lead)))
        lines.append(self._source(render, lead))
        lines.append(render.text("staff.lead_recue", date=self.desk.moment(lead.get("created_at"))))
        lines.append(self._status_line(render, lead))
        return "\n".join(lines)

    def buttons(self, ref: str, status: str) -> list[list[Button]]:
        """The status buttons, without the current status."""
        render = self.desk.render()
        row = [Button(render.text(f"staff.bouton_{s}"), f"{self.PREFIX}{s}:{ref}")
               for s in BUTTON_STATUSES if s != status]
        return [row]

    def _source(self, render: Renderer, lead: dict[str, Any]) -> str:
        if lead.get("source"):
            return render.text("staff.lead_source", source=clean(lead["source"], 64))
        return render.text("staff.lead_sans_source")

    def _status_line(self, render: Renderer, lead: dict[str, Any]) -> str:
        status = self.status_label(lead["status"])
        change = self.store.last_change(lead["ref"])
        if change is None:
            return render.text("staff.lead_statut", statut=status)
        qui = render.text("staff.qui", prenom=clean(change["staff_name"], 40) or "?", id=change["staff_id"])
        return render.text("staff.lead_statut_par", statut=status, qui=qui, date=self.desk.moment(change["at"]))

    def status_label(self, status: str) -> str:
        """The label of a status code (the code itself for a status this version does not know)."""
        return self.desk.text(f"staff.statut_{status}") if status in LEAD_STATUSES else status

    # --- cards sent together ---------------------------------------------------------------

    def batch(self, delivery: Delivery) -> tuple[list[Delivery], Delivery] | None:
        """The rows to send as one message with ``delivery`` and what that message says, or None.

        The deliverer's hook, at send time. A card of a lead alone (fewer than
        :data:`GROUP_FROM` waiting) is rendered again from the database, so a status
        set meanwhile (``/lead``) shows; from :data:`GROUP_FROM` on, up to
        :data:`GROUP_SIZE` waiting cards become one message. None: send the row as stored.
        """
        if delivery.audience != STAFF or delivery.kind != KIND_LEAD or delivery.edit_of is not None:
            return None
        head = self.store.get(delivery.ref or "")
        if head is None:
            return None
        waiting = waiting_leads(self.desk.assistant.db, delivery.id, delivery.maybe_posted, GROUP_SIZE)
        if len(waiting) < GROUP_FROM:
            return [delivery], dataclasses.replace(delivery, reply=self.notification(head))
        rows, leads = [delivery], [head]
        for row_id, ref in waiting:
            lead = self.store.get(ref) if row_id != delivery.id else None
            if lead is None or any(known["ref"] == lead["ref"] for known in leads):
                continue  # the head, a card without its lead, or a second card of a lead: later, alone
            rows.append(dataclasses.replace(delivery, id=row_id, ref=ref))
            leads.append(lead)
        if len(rows) == 1:
            return rows, dataclasses.replace(delivery, reply=self.notification(head))
        return rows, dataclasses.replace(delivery, reply=Reply(self.group_text(leads)))

    def regroup(self, delivery: Delivery) -> Delivery:
        """An edit of a message holding several cards: its whole text, rebuilt from the database.

        A status change or an erasure is queued as an edit of one card's row; when that
        card shares its message with others, the edit must keep them: the message is
        rebuilt with every part as it stands now (an erased lead as "données effacées").
        """
        if delivery.audience != STAFF or delivery.kind != KIND_LEAD_EDIT or delivery.edit_of is None:
            return delivery
        members = lead_message_members(self.desk.assistant.db, delivery.edit_of)
        if len(members) < 2:
            return delivery
        leads = [None if blanked else self.store.get(ref) for _row, ref, blanked in members]
        return dataclasses.replace(delivery, reply=Reply(self.group_text(leads)))

    def group_text(self, leads: list[dict[str, Any] | None]) -> str:
        """The grouped message: a title, then one part per lead (None: an erased one), each bounded.

        Each part is cut to an equal share of what a message holds, so that no status
        change can ever push the message beyond Telegram's limit (and a cut would lose
        the leads at its end).
        """
        render = self.desk.render()
        title = render.text("staff.lead_groupe_titre", n=len(leads))
        share = (TELEGRAM_LIMIT - LABEL_ROOM - len(title)) // GROUP_SIZE - 2
        parts = [truncate_units(self.part(render, lead) if lead else render.text("staff.lead_efface"), share)
                 for lead in leads]
        return "\n\n".join([title, *parts])

    def part(self, render: Renderer, lead: dict[str, Any]) -> str:
        """One lead in a grouped message: reference, name and own command first, then status and contact."""
        code = lead["ref"][len(REFERENCE_PREFIX):].lower() if lead["ref"].startswith(REFERENCE_PREFIX) else ""
        lines = [render.text("staff.lead_groupe_tete", ref=lead["ref"], prenom=clean(lead.get("first_name"), 40),
                             nom=clean(lead.get("last_name"), 40), code=f"{LINK}{code}"),
                 self._status_line(render, lead)]
        for record in (steps.BY_NAME[steps.PHONE], steps.BY_NAME[steps.EMAIL]):
            assert record.label is not None  # both have a label of their own (their record says so)
            lines.append(render.text("staff.ligne", champ=render.text(record.label),
                                     valeur=clean(shown_value(render, record.name, lead), 60)))
        lines.append(self._source(render, lead))
        return "\n".join(lines)

    # --- status buttons ------------------------------------------------------------------

    def on_button(self, inp: StaffInput) -> StaffResult:
        """A status button: store the change, queue the edit of the pressed message, say so."""
        status, _, ref = inp.callback_data[len(self.PREFIX):].partition(":")
        if status not in BUTTON_STATUSES:
            return StaffResult(notice=self.desk.text("staff.bouton_indisponible"))
        lead = self.store.get(ref)
        if lead is None:
            return StaffResult(notice=self.desk.text("staff.lead_introuvable", ref=ref))
        if lead["status"] == status:
            return StaffResult(notice=self.desk.text("staff.lead_deja", statut=self.status_label(status)))
        db = self.desk.assistant.db
        with db.atomic():
            self.store.set_status(lead["ref"], status, self.desk.now(), inp.user_id, clean(inp.first_name, 40))
            lead = self.store.get(lead["ref"]) or lead
            source = staff_row_of_message(db, inp.message_id) if inp.message_id is not None else None
            if source is not None and source["kind"] in LEAD_KINDS:
                target: int | None = source["target"]
            else:  # pressed under ``/lead``: the card in the group (alone or with others) follows
                target = lead_card(db, lead["ref"])
            if target is not None:
                self.desk.queue_staff(KIND_LEAD_EDIT, self.notification(lead), ref=lead["ref"], edit_of=target)
        return StaffResult(notice=self.desk.text("staff.lead_statut_change", ref=lead["ref"],
                                                 statut=self.status_label(status)))

    # --- commands --------------------------------------------------------------------------

    def list_text(self, limit: int = 15) -> str:
        """``/leads``: the latest leads, one line each."""
        leads = self.store.latest(limit)
        if not leads:
            return self.desk.text("staff.leads_aucun")
        render = self.desk.render()
        lines = [render.text("staff.leads_titre", n=len(leads))]
        for lead in leads:
            lines.append(render.text(
                "staff.leads_ligne", ref=lead["ref"], prenom=clean(lead.get("first_name"), 40) or "—",
                nom=clean(lead.get("last_name"), 40) or "—", statut=self.status_label(lead["status"]),
                date=self.desk.moment(lead.get("created_at")),
                source=clean(lead.get("source"), 64) or render.text("staff.source_directe")))
        lines.append(render.text("staff.leads_fin"))
        return "\n".join(lines)

    def detail(self, ref: str) -> Reply:
        """``/lead REF`` (or ``/lead_7k3q9p`` from a grouped message): the card in full, with its buttons."""
        lead = self.store.get(_normal_ref(ref))
        if lead is None:
            return Reply(self.detail_text(ref))
        return Reply(self.detail_text(ref), self.buttons(lead["ref"], lead["status"]))

    def detail_text(self, ref: str) -> str:
        """``/lead REF``: one lead in full, with its history."""
        lead = self.store.get(_normal_ref(ref))
        if lead is None:
            return self.desk.text("staff.lead_introuvable", ref=clean(ref, 20))
        render = self.desk.render()
        lines = [self.text(lead), "", render.text("staff.historique")]
        for event in self.store.history(lead["ref"]):
            if event["event"] in (CREATED, UPDATED) or event["event"].startswith("relance_"):  # reminders' answers
                what = render.text(f"staff.evenement_{event['event']}")
            else:
                qui = render.text("staff.qui", prenom=clean(event["staff_name"], 40) or "?", id=event["staff_id"])
                what = render.text("staff.evenement_statut", statut=self.status_label(event["status"]), qui=qui)
            lines.append(render.text("staff.ligne", champ=self.desk.moment(event["at"]), valeur=what))
        return "\n".join(lines)


def _normal_ref(ref: str) -> str:
    """``mco-7k3q9p`` or ``7K3Q9P`` -> ``MCO-7K3Q9P``."""
    ref = ref.strip().upper()
    return ref if ref.startswith(REFERENCE_PREFIX) else REFERENCE_PREFIX + ref
