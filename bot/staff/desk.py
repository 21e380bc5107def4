"""The staff's colleague: what the bot does in the admissions team's group.

Why a desk of its own, beside the prospects' :class:`~bot.conversation.engine.Assistant`:
staff messages are not a prospect's conversation (no state, no FAQ), and who may
do what is decided here, once — a staff command works only in the staff group
(``STAFF_CHAT_ID``) and only for ``STAFF_USER_IDS`` (every member of the group when
that list is empty). Anyone else gets the same "unknown command" a prospect gets:
nothing tells them that staff commands exist.

Like the rest of ``bot/``, nothing here knows Telegram: the handlers translate an
update into a :class:`StaffInput` and send the :class:`StaffResult` back. Whatever
must reach the group or a prospect *later* (a lead, a relayed message, an edit) is
written to the outbox in the same transaction as the fact it reports, and the
Telegram side delivers it with retries.

A staff input is handled once, like a prospect's (``bot/storage/updates.py``): the
bot may be killed after a relay was queued but before the update was marked done,
and the update then comes again. :meth:`StaffDesk.handle` runs in one transaction
that also records the update id with the answer given, whenever the input wrote
anything; a redelivered input finds that record, changes nothing, queues nothing,
and gets its first answer again. An input that wrote nothing (``/leads``, ``/lead``,
``/export``, ``/stats``...) is not recorded: running it again is harmless, and its
answer may hold a prospect's data (``/lead``) or a file (``/export``) that must not
be copied into ``handled_updates``.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from typing import TYPE_CHECKING, Any

import sqlite_utils

from bot.conversation import faq as faq_module
from bot.conversation.messages import Reply
from bot.knowledge.render import Renderer, french_date
from bot.staff.alerts import DELIVERY, KIND_ALERT, Alerts
from bot.staff.commands import StaffCommands
from bot.staff.followup import FollowUp
from bot.staff.handoff import HandoffDesk
from bot.staff.hours import OfficeHours
from bot.staff.leads import LeadDesk
from bot.staff.teach import TeachDesk
from bot.staff.types import PREFIX, StaffInput, StaffResult, clean  # noqa: F401  (their old home: still importable here)
from bot.storage.outbox import KIND_TOPIC_RENAME, PROSPECT, STAFF, Delivery
from bot.storage.staff import KIND_LEAD, KIND_REQUEST, erase_staff_data, forget_lead
from bot.storage.times import in_paris

if TYPE_CHECKING:
    from bot.staff.campaigns import CampaignDesk
    from bot.conversation.engine import Assistant

#: Outbox kind of the notice that a message could not be delivered (ref = the row concerned).
KIND_DELIVERY_NOTICE = "delivery_notice"


class StaffDesk:
    """Leads, live conversations and staff commands, bound to one :class:`Assistant`."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self.hours = OfficeHours.from_settings(self.settings)
        self.leads = LeadDesk(self)
        self.handoffs = HandoffDesk(self)
        self.teach = TeachDesk(self)
        self.followup = FollowUp(self)
        self.alerts = Alerts(self)
        self.commands = StaffCommands(self)
        #: Buttons of other features, by callback-data prefix.
        self.button_owners: dict[str, Any] = {}
        #: ``/campagne``, once the reminders feature installed it (``bot/staff/campaigns.py``).
        self.campaigns: CampaignDesk | None = None
        #: The staff group's administrators: the staff when ``STAFF_USER_IDS`` is empty.
        self.group_admins: frozenset[int] = frozenset()

    # --- who and where -----------------------------------------------------------------

    @property
    def staff_chat_id(self) -> int | None:
        """The staff group, or None when none is configured."""
        return self.settings.staff_chat_id

    @property
    def enabled(self) -> bool:
        """Whether there is a staff group to notify."""
        return self.staff_chat_id is not None

    def is_staff(self, user_id: int) -> bool:
        """A member of ``STAFF_USER_IDS``; when the list is empty, an administrator of the staff group.

        Being in the group is not enough: a group gathers interns, former staff and
        guests, and staff commands export every pre-registration. The administrators
        are read from Telegram by the front end (:meth:`set_group_admins`); until they
        are known, nobody is staff.
        """
        if self.settings.staff_user_ids:
            return user_id in self.settings.staff_user_ids
        return user_id in self.group_admins

    def set_group_admins(self, user_ids: frozenset[int]) -> None:
        """The staff group's administrators (people, not bots), as Telegram last listed them."""
        self.group_admins = frozenset(user_ids)

    def accepts(self, chat_id: int, user_id: int) -> bool:
        """Whether a staff command or button from this user in this chat is obeyed."""
        return self.enabled and chat_id == self.staff_chat_id and self.is_staff(user_id)

    # --- entry point -------------------------------------------------------------------

    def handle(self, inp: StaffInput) -> StaffResult:
        """Handle a command, a button press or a message from the staff group, once per update id.

        Everything the input changes (outbox rows, lead status, conversation state) is
        written in one transaction with the update id and the answer: a process killed
        at any moment leaves all of it or none, and a redelivered input gets its first
        answer again instead of relaying or changing a status a second time.
        """
        if not self.accepts(inp.chat_id, inp.user_id):
            return self.refusal(inp)
        if self.teach.owns(inp):  # its own steps and transactions (see bot/staff/teach.py)
            return self.teach.run_button(inp, self.assistant.db)
        with self.assistant.db.atomic():
            earlier = self._earlier_answer(inp)
            if earlier is not None:
                return earlier
            changes = self._changes()
            result = self._route(inp)
            if self._changes() != changes:
                self._remember(inp, result)
        return result

    def is_heavy(self, inp: StaffInput) -> bool:
        """Whether this input is a heavy read-only command (see :meth:`handle_heavy`)."""
        return self.accepts(inp.chat_id, inp.user_id) and self.commands.is_heavy(inp)

    def handle_heavy(self, inp: StaffInput) -> StaffResult:
        """A heavy read-only command (``/sans_reponse``, ``/stats``), safe to call from a worker thread.

        With 3,000 distinct questions, ``/sans_reponse`` takes seconds of CPU: run on
        the event loop, it made every prospect wait that long. The caller runs this in
        a thread; it reads through a connection of its own (SQLite connections must
        not be shared across threads mid-transaction; WAL lets it read while the bot
        writes). Nothing is written, so nothing is recorded for a redelivered update.
        """
        if not self.accepts(inp.chat_id, inp.user_id):
            return self.refusal(inp)
        path = self.assistant.db.execute("PRAGMA database_list").fetchone()[2]
        if not path:  # an in-memory database has no second connection: read it here
            return self.commands.run(inp)
        reader = sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30))
        try:
            return self.commands.run_heavy(inp, reader)
        finally:
            reader.conn.close()

    def is_teaching(self, inp: StaffInput) -> bool:
        """Whether this input is a teaching button (see :meth:`handle_teaching`)."""
        return self.accepts(inp.chat_id, inp.user_id) and self.teach.owns(inp)

    def handle_teaching(self, inp: StaffInput) -> StaffResult:
        """A teaching button, safe to call from a worker thread: the base's check takes ~1.5 s of CPU.

        Run on the event loop, it made every prospect wait that long. It writes, so it
        gets a read-write connection of its own (closed after); teachings are serialised
        by the teaching desk's lock.
        """
        if not self.accepts(inp.chat_id, inp.user_id):
            return self.refusal(inp)
        path = self.assistant.db.execute("PRAGMA database_list").fetchone()[2]
        if not path:  # an in-memory database has no second connection
            return self.teach.run_button(inp, self.assistant.db)
        writer = sqlite_utils.Database(sqlite3.connect(path, isolation_level=None, timeout=30))
        try:
            return self.teach.run_button(inp, writer)
        finally:
            writer.conn.close()

    def complete_heavy(self, result: StaffResult) -> StaffResult:
        """Finish a heavy command's result on the event loop's thread (it may write: teaching codes)."""
        return self.commands.complete(result)

    def _earlier_answer(self, inp: StaffInput) -> StaffResult | None:
        """The answer already given to this update id, or None if it is new (or has no id)."""
        if inp.update_id is None:
            return None
        earlier = self.assistant.handled.answer_of(inp.update_id)
        return None if earlier is None else StaffResult.from_dict(earlier)

    def _changes(self) -> int:
        """Rows changed so far on the connection (SQLite's ``total_changes``).

        Read before and after an input, it tells whether the input wrote anything,
        without each action having to declare it: a writing action added later is
        covered without anyone remembering to flag it.
        """
        return self.assistant.db.conn.total_changes

    def _remember(self, inp: StaffInput, result: StaffResult) -> None:
        """Record the update id with its answer (inside the input's transaction)."""
        if inp.update_id is not None:
            self.assistant.handled.record_answer(inp.update_id, inp.user_id, result.to_dict(), self.now())

    def _route(self, inp: StaffInput) -> StaffResult:
        """Who handles an input: a button's owner, the command table, or the live conversations."""
        if inp.callback_data:
            return self._button(inp)
        if inp.edited:
            return self.handoffs.staff_edit(inp)
        if inp.command:
            return self.commands.run(inp)
        return self.handoffs.staff_message(inp)

    def refusal(self, inp: StaffInput) -> StaffResult:
        """What anyone else gets: the prospects' "unknown command", or a stale-button toast."""
        if inp.callback_data:
            return StaffResult(notice=self.text("staff.bouton_indisponible"))
        if inp.command:
            return StaffResult([Reply(self.text("general.commande_inconnue"))])
        return StaffResult(handled=False)

    def _button(self, inp: StaffInput) -> StaffResult:
        data = inp.callback_data
        if data.startswith(self.leads.PREFIX):
            return self.leads.on_button(inp)
        if data.startswith(self.handoffs.STAFF_PREFIX):
            return self.handoffs.on_staff_button(inp)
        if data.startswith(self.teach.PREFIX):
            return self.teach.on_button(inp)
        owner = next((o for p, o in self.button_owners.items() if data.startswith(p)), None)
        if owner is not None:  # features added later (campaigns)
            return owner(inp)
        return StaffResult(notice=self.text("staff.bouton_indisponible"))

    # --- helpers for the parts -----------------------------------------------------------

    def render(self) -> Renderer:
        """The texts of the knowledge in use, as of today."""
        return self.assistant.knowledge.current.renderer(self.assistant.clock.today())

    def text(self, key: str, **params: object) -> str:
        """One sentence of ``knowledge/texts/*.yaml``, filled in."""
        return self.render().text(key, **params)

    def now(self) -> dt.datetime:
        """The current Paris time."""
        return self.assistant.clock.now()

    def who(self, inp: StaffInput) -> str:
        """A staff member as shown in the group: first name and Telegram id, nothing more."""
        return self.text("staff.qui", prenom=clean(inp.first_name, 40) or "?", id=inp.user_id)

    def moment(self, stamp: str | None) -> str:
        """A stored timestamp (UTC) as ``3 mars 2026 à 14h05``, Paris time."""
        if not stamp:
            return "—"
        try:
            at = in_paris(stamp)
        except ValueError:
            return stamp
        return self.text("staff.le", date=french_date(at.date()), heure=f"{at.hour}h{at.minute:02d}")

    def queue_staff(self, kind: str, reply: Reply, *, ref: str, reply_to: int | None = None,
                    edit_of: int | None = None) -> int:
        """Queue a message (or an edit) for the staff group and wake the deliverer.

        A lead goes before the relays already queued (a chatty prospect must not delay
        it); a request keeps its text after delivery, because its later edits rebuild it.
        """
        row = self.assistant.outbox.put(STAFF, kind, reply, self.now(), ref=ref, reply_to=reply_to,
                                        edit_of=edit_of, urgent=kind == KIND_LEAD, keep_text=kind == KIND_REQUEST)
        self.assistant.wake_delivery()
        return row

    def queue_prospect(self, user_id: int, kind: str, reply: Reply, *, ref: str) -> int:
        """Queue a message for a prospect's private chat and wake the deliverer."""
        row = self.assistant.outbox.put(PROSPECT, kind, reply, self.now(), chat_id=user_id, ref=ref)
        self.assistant.wake_delivery()
        return row

    def label_resend(self, delivery: Delivery) -> Delivery:
        """A row sent again when an earlier copy may be out already: staff are told so on its first line.

        Telegram has no idempotency key, so after a crash (or a timeout) mid-request
        the message may be posted twice; the label makes sure a second copy of a lead
        is never taken for a second lead. Edits are left alone: editing a message
        twice shows the same text once. So are messages to prospects: a staff answer
        shown twice in a private chat is plainly the same message, and a technical
        warning there would puzzle a 17-year-old more than the repetition does.
        """
        if delivery.audience != STAFF or delivery.edit_of is not None or delivery.kind == KIND_TOPIC_RENAME:
            return delivery
        text = f"{self.text('staff.renvoi_doublon_possible')}\n{delivery.reply.text}"
        return dataclasses.replace(delivery, reply=dataclasses.replace(delivery.reply, text=text))

    def delivery_problem(self, delivery: Delivery, problem: str) -> None:
        """Tell the group that a message was refused by Telegram (or cut to fit): an alert, once an hour at most.

        Only the row number and where it was going: no name, no text (the notice is
        about the delivery, and the group may hold people who never saw the message).
        A notice about a notice is not sent (it could loop).
        """
        if delivery.kind in (KIND_DELIVERY_NOTICE, KIND_ALERT) or not self.enabled:
            return
        to_group = delivery.audience == STAFF
        if problem == "shortened":
            key = "staff.envoi_coupe_groupe" if to_group else "staff.envoi_coupe_candidat"
        else:
            key = "staff.envoi_refuse_groupe" if to_group else "staff.envoi_refuse_candidat"
        self.alerts.post(DELIVERY, Reply(self.text(key, n=delivery.id)), outbox_kind=KIND_DELIVERY_NOTICE)

    def erase(self, db: sqlite_utils.Database, user_id: int) -> int:
        """The ``/supprimer`` eraser of the staff tables (see :func:`erase_staff_data`)."""
        changed = erase_staff_data(db, user_id, self.now(), self.text("staff.lead_efface"),
                                   self.text("staff.conversation_effacee"), self.text("staff.sujet_efface"))
        self.assistant.wake_delivery()  # the blanking edits go out as soon as the erasure is committed
        return changed

    def forget_lead(self, ref: str) -> int:
        """Retention of one pre-registration: its card in the group is blanked (see :func:`forget_lead`)."""
        changed = forget_lead(self.assistant.db, ref, self.now(), self.text("staff.lead_efface"))
        self.assistant.wake_delivery()
        return changed


def install(assistant: Assistant) -> StaffDesk:
    """Plug the staff features into the assistant (see ``bot/conversation/features.py``)."""
    desk = StaffDesk(assistant)
    assistant.staff = desk  # read by the Telegram wiring and the CLI
    handoffs = desk.handoffs
    assistant.on_confirmed.append(desk.leads.on_confirmed)
    assistant.commands["conseiller"] = handoffs.request
    assistant.commands["fin"] = handoffs.leave_command
    assistant.buttons[faq_module.HUMAN] = handoffs.request
    assistant.button_prefixes[handoffs.PROSPECT_PREFIX] = handoffs.on_prospect_button
    assistant.modes[handoffs.MODE] = handoffs.on_prospect_message
    assistant.text_interceptors.append(handoffs.intercept)
    assistant.edit_handlers[handoffs.MODE] = handoffs.on_prospect_edit
    for name in ("menu", "start"):
        assistant.commands[name] = handoffs.leaving_first(assistant.commands[name])
    assistant.buttons[faq_module.MENU] = handoffs.leaving_first(assistant.buttons[faq_module.MENU])
    assistant.erasers["staff"] = desk.erase
    desk.teach.reconcile()  # edits a killed process left half done (see bot/staff/teach.py)
    return desk
