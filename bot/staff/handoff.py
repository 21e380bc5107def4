"""Talking to a person: from "je veux parler à quelqu'un" to "la conversation est terminée".

How a conversation goes:

1. The prospect asks (``conseiller`` button, ``/conseiller``, or in words — see
   :mod:`bot.staff.intent`). A ``handoffs`` row is opened and the request is queued
   for the staff group in the same transaction, with the prospect's first name (as
   Telegram gives it), their last questions to the bot, their reference if they
   pre-registered, and a "Terminer" button. The prospect's state gets
   ``mode = "handoff"``; they are told when to expect an answer (office hours).
2. While the mode is set, the prospect's text messages are relayed to the group,
   as replies to the request (or inside the prospect's forum topic). Buttons and
   commands still work as usual.
3. A staff member answers by replying to any message of the conversation in the
   group (or by writing in the topic); the answer is relayed to the prospect
   through the outbox (retried, in order; a 403 tells the group it was not delivered).
4. The conversation ends when a staff member presses "Terminer" or sends ``/fin``
   (as a reply, or in the topic): the prospect is told the bot is back. The
   prospect may also leave, with the "Revenir au bot" button, ``/fin``, ``/menu``,
   ``/start`` or a menu button: staff are told in the conversation.

An ended conversation is not a dead end: a staff member who replies in it again
reaches the prospect and reopens it (unless the prospect is in the middle of the
pre-registration form, whose answers must not go to the group: the answer is then
relayed without reopening).

The states and events of a conversation are declared once, as a table, in
:mod:`bot.storage.handoff_states` (diagram: ``docs/handoff.md``); the ``handoffs`` row is
their one source of truth. The session's ``mode`` is only the engine's routing slot,
rebuilt from the row by :meth:`HandoffDesk.follow` after each change (see there why it
is kept at all).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from bot.conversation.messages import Button, Kind, Reply
from bot.staff.types import PREFIX, StaffInput, StaffResult, clean
from bot.matching.health import mentions_health
from bot.staff.intent import wants_a_person
from bot.storage.outbox import STAFF, Delivery
from bot.storage.registrations import RegistrationStore
from bot.storage.handoff_states import LIVE, HandoffEvent, HandoffState
from bot.text_units import TOPIC_NAME_LIMIT, cut_plain_units
from bot.storage.staff import (
    HANDOFF_STAFF_KINDS,
    KIND_END,
    KIND_FROM_PROSPECT,
    KIND_NOTE,
    KIND_REQUEST,
    KIND_REQUEST_EDIT,
    KIND_TO_PROSPECT,
    HandoffStore,
    staff_row_of_message,
)

if TYPE_CHECKING:
    from bot.conversation.turn import Turn
    from bot.staff.desk import StaffDesk

Handler = Callable[["Turn"], None]

#: Longest relayed message: a whole Telegram message (4,096 UTF-16 units is at most 4,096 characters);
#: with the label around it, the outbox splits it in two rows rather than cut it.
MAX_RELAY = 4096
#: A staff message starting with one of these is an internal note: never relayed to the prospect.
NOTE_MARKS = ("!", "#note")


def is_note(text: str) -> bool:
    """Whether a staff message is an internal note (see :data:`NOTE_MARKS`)."""
    return text.lstrip().lower().startswith(NOTE_MARKS)


#: How many of the prospect's last questions the request shows, and how long each may be.
RECENT_QUESTIONS = 5
QUESTION_CHARS = 200


class HandoffDesk:
    """Both ends of the live conversations."""

    MODE = "handoff"
    PROSPECT_PREFIX = "h:"
    QUIT = "h:quit"
    STAFF_PREFIX = PREFIX + "h:"
    END = STAFF_PREFIX + "end:"  # + handoff id
    QUESTIONS = STAFF_PREFIX + "q:"  # + handoff id: show the prospect's last questions
    #: The session key that held the acknowledgement before the row did (removed when met).
    OLD_ACK = "handoff_ack"

    def __init__(self, desk: StaffDesk) -> None:
        self.desk = desk
        self.assistant = desk.assistant
        self.store = HandoffStore(desk.assistant.db)

    # --- the prospect asks -----------------------------------------------------------------

    def intercept(self, turn: Turn) -> bool:
        """Free text asking for a person opens a conversation instead of being matched."""
        if not wants_a_person(turn.msg.payload):
            return False
        self.request(turn)
        return True

    def request(self, turn: Turn) -> None:
        """``conseiller`` button, ``/conseiller`` or asked in words: open (or recall) a conversation."""
        if not self.desk.enabled:
            turn.say(turn.faq.menu_reply("staff.sans_equipe"))
            return
        current = self.store.open_of(turn.user_id)
        if current is not None:
            self.follow(turn.state, current, take=True)
            turn.say(Reply(self.desk.text("staff.deja_en_contact"), self._quit_button()))
            return
        with self.assistant.db.atomic():
            name = clean(turn.msg.person.first_name, 40) or self.desk.text("staff.sans_prenom")
            handoff_id = self.store.open(turn.user_id, name, self.desk.now())
            root = self.desk.queue_staff(KIND_REQUEST, self._request(turn, handoff_id, name), ref=str(handoff_id))
            self.store.set_root(handoff_id, root)
        self.follow(turn.state, self.store.get(handoff_id), take=True)
        turn.say(Reply(self._opening_text(), self._quit_button()))

    def _opening_text(self) -> str:
        """What the prospect is told: an answer soon, or when the team is back."""
        render, now, hours = self.desk.render(), self.desk.now(), self.desk.hours
        if hours.is_open(now):
            return render.text("staff.demande_ouverte", horaires=hours.describe(render))
        return render.text("staff.demande_hors_horaires", horaires=hours.describe(render),
                           date=hours.when(render, now))

    def _request(self, turn: Turn, handoff_id: int, name: str) -> Reply:
        """The request as the staff group sees it: who, what they asked, how to answer."""
        render = self.desk.render()
        lines = [render.text("staff.demande_titre", prenom=name, n=handoff_id)]
        if not self.desk.hours.is_open(self.desk.now()):
            lines.append(render.text("staff.demande_hors_horaires_note"))
        registration = RegistrationStore(self.assistant.db).registration(turn.user_id)
        if registration is not None:
            lines.append(render.text("staff.demande_inscrit", ref=registration["ref"]))
        buttons = [[Button(render.text("staff.bouton_terminer"), f"{self.END}{handoff_id}")]]
        recent = self.assistant.questions.recent_of(turn.user_id, RECENT_QUESTIONS)
        if recent:  # a count, not the texts: a question may tell more than the prospect meant staff to read
            lines.append(render.text("staff.demande_questions", n=len(recent)))
            buttons[0].append(Button(render.text("staff.bouton_questions"), f"{self.QUESTIONS}{handoff_id}"))
        else:
            lines.append(render.text("staff.demande_aucun_echange"))
        lines.append(render.text("staff.demande_aide"))
        return Reply("\n".join(lines), buttons)

    def questions_text(self, handoff_id: int) -> str:
        """The prospect's last questions to the bot, shown when a staff member asks for them.

        Questions that mention health stay hidden (their text was not even stored,
        or the word list grew since): staff see only that there was one.
        """
        handoff = self.store.get(handoff_id)
        if handoff is None:
            return self.desk.text("staff.conversation_introuvable")
        render = self.desk.render()
        marker = render.text("general.question_sante_retiree")
        words = self.assistant.knowledge.current.kb.health_words
        lines = [render.text("staff.questions_titre", prenom=handoff["first_name"], n=handoff_id)]
        for q in self.assistant.questions.recent_of(handoff["user_id"], RECENT_QUESTIONS):
            if q["text"] == marker or mentions_health(q["text"], words):
                lines.append(render.text("staff.question_masquee"))
            else:
                lines.append(render.text("staff.demande_echange", question=clean(q["text"], QUESTION_CHARS),
                                         valeur=self._outcome(q)))
        if len(lines) == 1:
            lines.append(render.text("staff.demande_aucun_echange"))
        return "\n".join(lines)

    def _outcome(self, question: dict[str, Any]) -> str:
        entry = self.assistant.knowledge.current.kb.entries.get(question.get("entry") or "")
        if question.get("outcome") == "answered" and entry is not None:
            return self.desk.text("staff.issue_repondu", sujet=entry.title)
        if question.get("outcome") == "smalltalk":
            return self.desk.text("staff.issue_smalltalk")
        return self.desk.text("staff.issue_sans_reponse")

    def _quit_button(self) -> list[list[Button]]:
        return [[Button(self.desk.text("staff.bouton_quitter"), self.QUIT)]]

    # --- the prospect writes or leaves ---------------------------------------------------

    def on_prospect_message(self, turn: Turn) -> None:
        """The ``handoff`` mode: relay text to the group; anything else cannot be relayed."""
        current = self.store.open_of(turn.user_id)
        if current is None:  # ended meanwhile (or erased): back to the bot
            self.follow(turn.state, None)
            if turn.msg.kind is Kind.TEXT:
                if not self.intercept(turn):
                    self.assistant.answer_question(turn, turn.msg.payload)
            else:
                turn.say(turn.faq.menu_reply("general.pas_du_texte"))
            return
        if turn.msg.kind is not Kind.TEXT:
            turn.say(Reply(self.desk.text("staff.texte_seulement")))
            return
        message = self.desk.text("staff.message_candidat", prenom=current["first_name"], n=current["id"],
                                 message=clean(turn.msg.payload, MAX_RELAY))
        self.desk.queue_staff(KIND_FROM_PROSPECT, Reply(message), ref=str(current["id"]),
                              reply_to=current["root_outbox_id"])
        if current["status"] == HandoffState.OPEN and self.store.move(
                current["id"], HandoffEvent.PROSPECT_WROTE, self.desk.now()):
            turn.say(Reply(self.desk.text("staff.transmis"), self._quit_button()))

    def on_prospect_edit(self, turn: Turn) -> None:
        """The prospect edited a message during a conversation: staff get the new version, marked as such."""
        current = self.store.open_of(turn.user_id)
        if current is None or not turn.msg.payload.strip():
            return
        message = self.desk.text("staff.message_candidat_modifie", prenom=current["first_name"], n=current["id"],
                                 message=clean(turn.msg.payload, MAX_RELAY))
        self.desk.queue_staff(KIND_FROM_PROSPECT, Reply(message), ref=str(current["id"]),
                              reply_to=current["root_outbox_id"])

    def on_prospect_button(self, turn: Turn) -> None:
        """The prospect's ``h:`` buttons: only "Revenir au bot"."""
        if turn.msg.payload == self.QUIT:
            self.leave(turn)
        else:
            turn.say(turn.faq.menu_reply("general.bouton_perime"))

    def leave_command(self, turn: Turn) -> None:
        """``/fin`` in a private chat: leave the conversation, if there is one."""
        if self.store.open_of(turn.user_id) is None:
            self.follow(turn.state, None)
            turn.say(Reply(self.desk.text("staff.rien_a_terminer")))
            return
        self.leave(turn)

    def leave(self, turn: Turn) -> None:
        """The prospect goes back to the bot; the group is told."""
        self._close_by_prospect(turn)
        turn.say(turn.faq.menu_reply("staff.revenu"))

    def leaving_first(self, original: Handler) -> Handler:
        """Wrap ``/menu``, ``/start`` and the menu button: they end the conversation first."""
        def handler(turn: Turn) -> None:
            if turn.state.get("mode") == self.MODE and self._close_by_prospect(turn):
                turn.say(Reply(self.desk.text("staff.quitte_par_menu")))
            original(turn)
        return handler

    def _close_by_prospect(self, turn: Turn) -> bool:
        """End the prospect's open conversation, if any; True when there was one."""
        current = self.store.open_of(turn.user_id)
        self.follow(turn.state, None)  # whatever happens below, the prospect is back with the bot
        if current is None:
            return False
        with self.assistant.db.atomic():
            if not self.store.move(current["id"], HandoffEvent.PROSPECT_LEFT, self.desk.now()):
                return False
            note = self.desk.text("staff.candidat_parti", prenom=current["first_name"], n=current["id"])
            self.desk.queue_staff(KIND_NOTE, Reply(note), ref=str(current["id"]), reply_to=current["root_outbox_id"])
            self._edit_root(current, self.desk.text("staff.etat_parti"), with_button=False)
        return True

    def follow(self, state: dict[str, Any], handoff: dict[str, Any] | None, take: bool = False) -> bool:
        """Rebuild the session's routing slot from the conversation's row; False if another mode holds it.

        Why the session keeps ``mode = "handoff"`` at all: the engine routes a prospect's
        free text by ``state["mode"]``, a slot the form shares (a prospect in the form
        must have their answers read by the form, even with a conversation still open,
        and is not pulled out of it by a staff reply). So the slot says who reads the
        prospect's text, not where the conversation is: it is written only here, from
        the row, after each change, and a live row whose slot the form took stays
        reachable by staff. ``take``: the prospect asked for a person themselves, which
        takes the slot from any other mode.
        """
        state.pop(self.OLD_ACK, None)
        if handoff is None or handoff["status"] not in LIVE:
            if state.get("mode") == self.MODE:
                del state["mode"]
            return True
        if not take and self._slot_taken(state):
            return False
        state["mode"] = self.MODE
        return True

    def _slot_taken(self, state: dict[str, Any]) -> bool:
        """Whether another mode (the form) reads the prospect's free text."""
        return state.get("mode") not in (None, self.MODE)

    # --- the staff answer or end ----------------------------------------------------------

    def staff_message(self, inp: StaffInput) -> StaffResult:
        """A staff message in a conversation (reply or topic): relay it to the prospect.

        A message starting with one of :data:`NOTE_MARKS` is an internal note: it
        stays in the group, nothing is relayed and the bot says nothing.
        """
        if is_note(inp.text):
            return StaffResult(handled=False)
        known, handoff = self._handoff_of(inp)
        if not known:
            return StaffResult(handled=False)
        if handoff is None:
            return StaffResult([Reply(self.desk.text("staff.conversation_introuvable"))])
        if not inp.text.strip():
            return StaffResult([Reply(self.desk.text("staff.texte_seulement_staff"))])
        reopened = False
        with self.assistant.db.atomic():
            if handoff["status"] not in LIVE:
                reopened = self._reopen(handoff, inp)
            answer = self.desk.text("staff.reponse_equipe", prenom=clean(inp.first_name, 40) or "?",
                                    message=clean(inp.text, MAX_RELAY))
            self.desk.queue_prospect(handoff["user_id"], KIND_TO_PROSPECT, Reply(answer), ref=str(handoff["id"]))
        if reopened:
            return StaffResult([Reply(self.desk.text("staff.conversation_rouverte", n=handoff["id"]))])
        return StaffResult()

    def staff_edit(self, inp: StaffInput) -> StaffResult:
        """A staff member edited a message of a conversation: the prospect gets it as a correction.

        Their first copy cannot be edited (it is the bot's message, sent long ago);
        a "Correction" message that quotes the new text is clear and never silent.
        Edits of internal notes, and of messages outside a conversation, stay in the group.
        """
        if is_note(inp.text) or not inp.text.strip() or inp.text.startswith("/"):
            return StaffResult(handled=False)
        known, handoff = self._handoff_of(inp)
        if not known or handoff is None:
            return StaffResult(handled=False)
        correction = self.desk.text("staff.correction_equipe", prenom=clean(inp.first_name, 40) or "?",
                                    message=clean(inp.text, MAX_RELAY))
        self.desk.queue_prospect(handoff["user_id"], KIND_TO_PROSPECT, Reply(correction), ref=str(handoff["id"]))
        return StaffResult(handled=False)

    def end_command(self, inp: StaffInput) -> StaffResult:
        """``/fin`` in the group, as a reply to the conversation or inside its topic."""
        known, handoff = self._handoff_of(inp)
        if not known:
            return StaffResult([Reply(self.desk.text("staff.fin_mode_emploi"))])
        if handoff is None:
            return StaffResult([Reply(self.desk.text("staff.conversation_introuvable"))])
        return StaffResult([Reply(self.end(handoff["id"], inp))])

    def on_staff_button(self, inp: StaffInput) -> StaffResult:
        """The "Terminer" and "Voir ses questions" buttons of a request."""
        if inp.callback_data.startswith(self.QUESTIONS):
            raw = inp.callback_data[len(self.QUESTIONS):]
            if not raw.isdigit():
                return StaffResult(notice=self.desk.text("staff.bouton_indisponible"))
            return StaffResult([Reply(self.questions_text(int(raw)))])
        raw = inp.callback_data[len(self.END):] if inp.callback_data.startswith(self.END) else ""
        if not raw.isdigit():
            return StaffResult(notice=self.desk.text("staff.bouton_indisponible"))
        return StaffResult(notice=self.end(int(raw), inp))

    def end(self, handoff_id: int, inp: StaffInput) -> str:
        """End a conversation from the staff side; returns what to tell the staff member."""
        handoff = self.store.get(handoff_id)
        if handoff is None:
            return self.desk.text("staff.conversation_introuvable")
        if handoff["status"] not in LIVE:
            return self.desk.text("staff.deja_terminee", n=handoff_id)
        who = self.desk.who(inp)
        with self.assistant.db.atomic():
            if not self.store.move(handoff_id, HandoffEvent.STAFF_ENDED, self.desk.now()):
                return self.desk.text("staff.deja_terminee", n=handoff_id)
            self._follow_saved(handoff["user_id"], self.store.get(handoff_id))
            goodbye = self.assistant.faq().menu_reply("staff.fin_prospect")
            self.desk.queue_prospect(handoff["user_id"], KIND_END, goodbye, ref=str(handoff_id))
            self._edit_root(handoff, self.desk.text("staff.etat_termine", qui=who), with_button=False)
        return self.desk.text("staff.terminee", n=handoff_id, qui=who)

    def _reopen(self, handoff: dict[str, Any], inp: StaffInput) -> bool:
        """A staff member wrote in an ended conversation: reopen it, unless the prospect is in the form."""
        if self._slot_taken(self.assistant.sessions.load(handoff["user_id"])):
            return False  # the form reads the prospect's text: the answer is relayed without reopening
        if not self.store.move(handoff["id"], HandoffEvent.STAFF_REOPENED, self.desk.now()):
            return False
        self._follow_saved(handoff["user_id"], self.store.get(handoff["id"]))
        self._edit_root(handoff, self.desk.text("staff.etat_rouvert", qui=self.desk.who(inp)), with_button=True)
        return True

    def _follow_saved(self, user_id: int, handoff: dict[str, Any] | None) -> None:
        """:meth:`follow` on the prospect's saved session (a change made from the staff side)."""
        sessions = self.assistant.sessions
        state = sessions.load(user_id)
        self.follow(state, handoff)
        sessions.save(user_id, state, self.desk.now())

    def _edit_root(self, handoff: dict[str, Any], status: str, with_button: bool) -> None:
        """Show the conversation's state under the request message (rebuilt from the original)."""
        root = handoff.get("root_outbox_id")
        original = self.assistant.outbox.reply_of(root) if root else None
        if original is None:
            return
        reply = Reply(f"{original.text}\n\n{status}", original.buttons if with_button else [])
        self.desk.queue_staff(KIND_REQUEST_EDIT, reply, ref=str(handoff["id"]), edit_of=root)

    def _handoff_of(self, inp: StaffInput) -> tuple[bool, dict[str, Any] | None]:
        """Which conversation a staff message belongs to: (is it one, the conversation if it still exists)."""
        if inp.message_thread_id:
            handoff = self.store.by_thread(inp.message_thread_id)
            if handoff is not None:
                return True, handoff
        if inp.reply_to_message_id:
            row = staff_row_of_message(self.assistant.db, inp.reply_to_message_id)
            if row is not None and row["kind"] in HANDOFF_STAFF_KINDS and str(row["ref"]).isdigit():
                return True, self.store.get(int(row["ref"]))
        return False, None

    # --- hooks of the delivery layer ---------------------------------------------------------

    def undeliverable(self, delivery: Delivery) -> None:
        """A relay could not reach the prospect (they blocked the bot): tell the conversation."""
        if delivery.kind != KIND_TO_PROSPECT or not str(delivery.ref).isdigit():
            return
        handoff = self.store.get(int(delivery.ref))
        if handoff is None:
            return
        note = self.desk.text("staff.non_remis", prenom=handoff["first_name"], n=handoff["id"])
        self.desk.queue_staff(KIND_NOTE, Reply(note), ref=str(handoff["id"]), reply_to=handoff["root_outbox_id"])

    def topic_need(self, delivery: Delivery) -> tuple[int, int | None, str] | None:
        """For a conversation's staff message: (conversation id, its topic if known, a topic name).

        None for any other row. A topic id of 0 means "no topic" (it could not be created).
        """
        if delivery.audience != STAFF or delivery.kind not in HANDOFF_STAFF_KINDS or delivery.edit_of:
            return None
        if delivery.thread_id is not None or not str(delivery.ref).isdigit():
            return None
        handoff = self.store.get(int(delivery.ref))
        if handoff is None:
            return None
        name = cut_plain_units(self.desk.text("staff.sujet", prenom=handoff["first_name"], n=handoff["id"]),
                               TOPIC_NAME_LIMIT)
        return handoff["id"], handoff["thread_id"], name

    def set_topic(self, handoff_id: int, thread_id: int) -> None:
        """Remember the forum topic created for a conversation (0: none could be)."""
        self.store.set_thread(handoff_id, thread_id)

    def topic_lost(self, delivery: Delivery) -> None:
        """Telegram says the topic is gone: the next attempt creates a new one."""
        if str(delivery.ref).isdigit():
            handoff = self.store.get(int(delivery.ref))
            if handoff is not None and handoff["thread_id"]:
                self.store.forget_thread(handoff["thread_id"])
