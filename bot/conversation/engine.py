"""The conversation core: one :class:`Incoming` in, the replies out.

:class:`Assistant` is what both front ends call (Telegram handlers and the terminal
chat). It loads the prospect's state from SQLite, routes the message (command,
button, free text, anything else), saves the state back and returns the replies.
Keeping the state in the database on every turn is what makes a restart invisible.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, Callable

import sqlite_utils

from bot.clock import Clock
from bot.config import Settings
from bot.conversation import faq as faq_module
from bot.conversation.context import ConversationContext
from bot.conversation.faq import Answer, Faq
from bot.conversation.features import default_features
from bot.conversation.messages import Incoming, Kind, Reply
from bot.conversation.own_case import OwnCase
from bot.conversation.turn import Handler, Turn
from bot.knowledge.store import KnowledgeStore
from bot.matching.health import mentions_health
from bot.storage.outbox import Outbox
from bot.storage.personal import Eraser, erase_person
from bot.storage.questions import QuestionLog
from bot.storage.sessions import ProspectStore, SessionStore
from bot.storage.updates import HandledUpdates

if TYPE_CHECKING:
    from bot.staff.desk import StaffDesk
    from bot.reminders.feature import Reminders

log = logging.getLogger(__name__)

#: The deep-link payload of ``/start``: letters, digits, ``_`` and ``-``, 64 at most (Telegram's rule).
SOURCE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


class Assistant:
    """The admissions assistant, without any messaging platform."""

    def __init__(self, knowledge: KnowledgeStore, db: sqlite_utils.Database, clock: Clock | None = None,
                 retention_months: int = 36, settings: Settings | None = None) -> None:
        self.knowledge = knowledge
        self.db = db
        self.clock = clock or Clock()
        #: The process settings the features read (staff chat, office hours...).
        self.settings = settings or Settings()
        #: How long a prospect's data is kept after its last update (``Settings.retention_months``).
        self.retention_months = retention_months
        self.questions = QuestionLog(db)
        self.sessions = SessionStore(db)
        self.prospects = ProspectStore(db)
        self.outbox = Outbox(db)
        self.handled = HandledUpdates(db)
        #: Set by the front end: called after something was queued in the outbox.
        self.wake_delivery: Callable[[], None] = lambda: None
        self.commands: dict[str, Handler] = {
            "start": self._start,
            "menu": self._menu,
            "aide": self._help,
            "help": self._help,
        }
        self.buttons: dict[str, Handler] = {faq_module.MENU: self._menu}
        #: Buttons whose data starts with a prefix (``"f:"`` -> the form's handler).
        self.button_prefixes: dict[str, Handler] = {}
        #: Who handles free text and contacts while ``state["mode"]`` is set (form, handoff...).
        self.modes: dict[str, Handler] = {}
        #: Called with the turn and the registration row after each confirmed pre-registration.
        self.on_confirmed: list[Callable[[Turn, dict[str, Any]], None]] = []
        #: Who hears of an edited message while ``state["mode"]`` is set (an edit is never re-read as input).
        self.edit_handlers: dict[str, Handler] = {}
        #: Asked in turn before a free-text question is matched; one returning True took the message.
        self.text_interceptors: list[Callable[[Turn], bool]] = []
        #: The staff desk, once its feature installed it (``bot/staff/desk.py``).
        self.staff: StaffDesk | None = None
        #: Set by an erasure: the front end checkpoints the WAL once the turn is committed.
        self.checkpoint_due = False
        #: Called after a free-text question was answered and logged (feedback buttons, reminder offers).
        self.after_answer: list[Callable[[Turn, Answer], None]] = []
        #: The opt-in reminders, once their feature installed them (``bot/reminders/feature.py``).
        self.reminders: Reminders | None = None
        #: Erasers of the features' tables (``/supprimer``, retention), run before the core's: see
        #: ``bot/storage/personal.py``. Kept here, per assistant, never in a process-wide registry.
        self.erasers: dict[str, Eraser] = {}
        #: Extra lines of ``/mesdonnees``, one function per feature that stores something about a person.
        self.data_sections: list[Callable[[Turn], list[str]]] = []
        for install in default_features():
            install(self)

    # --- the entry points --------------------------------------------------------------

    def faq(self) -> Faq:
        """A question answerer over the current knowledge, as of today (Paris)."""
        loaded = self.knowledge.current
        return Faq(loaded, loaded.renderer(self.clock.today()))

    def erase_person(self, user_id: int) -> dict[str, int]:
        """Erase everything stored about ``user_id`` (core tables and every feature's): ``/supprimer``."""
        return erase_person(self.db, user_id, self.erasers)

    def ask(self, text: str) -> Answer:
        """Answer a question without any prospect or state (``run_bot.py ask``)."""
        return OwnCase(self.faq()).answer(text, ConversationContext())

    def handle(self, msg: Incoming) -> list[Reply]:
        """Handle one thing a prospect sent and return what to send back.

        Everything one input changes (state, form, lead, outbox, question log) is
        written in one transaction with the input's id: a process killed at any
        moment leaves either all of it or none, and a redelivered input gets its
        first replies again instead of being handled twice.
        """
        return self.handle_turn(msg).replies

    def handle_turn(self, msg: Incoming) -> Turn:
        """:meth:`handle`, returning the whole turn (its replies and the answers behind them)."""
        with self.db.atomic():
            if msg.update_id is not None:
                earlier = self.handled.replies_of(msg.update_id)
                if earlier is not None:
                    return Turn(msg=msg, state={}, faq=self.faq(), replies=earlier)
            turn = Turn(msg=msg, state=self.sessions.load(msg.person.user_id), faq=self.faq())
            # Menus and buttons too say "vous" to who writes "vous" (a parent, a company).
            turn.faq.render.register = self._context(turn).address
            self._route(turn)
            self.sessions.save(turn.user_id, turn.state, self.clock.now())
            if msg.update_id is not None:
                self.handled.record(msg.update_id, turn.user_id, turn.replies, self.clock.now())
        return turn

    # --- routing ---------------------------------------------------------------------

    def _route(self, turn: Turn) -> None:
        kind = turn.msg.kind
        if kind is Kind.EDITED:  # read as new input, an old answer would answer the current step
            handler = self.edit_handlers.get(turn.state.get("mode", ""))
            if handler is not None:
                handler(turn)
            return
        if kind is Kind.COMMAND:
            handler = self.commands.get(turn.msg.payload.lower(), self._unknown_command)
            handler(turn)
        elif kind is Kind.BUTTON:
            self._button(turn)
        elif turn.state.get("mode") in self.modes:
            self.modes[turn.state["mode"]](turn)
        elif kind is Kind.TEXT:
            self._text(turn)
        else:
            turn.say(turn.faq.menu_reply("general.pas_du_texte"))

    def _button(self, turn: Turn) -> None:
        data = turn.msg.payload
        prefix = next((p for p in self.button_prefixes if data.startswith(p)), None)
        if data in self.buttons:
            self.buttons[data](turn)
        elif prefix is not None:
            self.button_prefixes[prefix](turn)
        elif data.startswith(faq_module.ENTRY) and data[2:] in turn.faq.kb.entries:
            turn.say(turn.faq.entry_reply(data[2:], context=self._context(turn)))
        elif data.startswith(faq_module.TOPIC) and (reply := turn.faq.topic_reply(data[2:])):
            turn.say(reply)
        else:
            turn.say(turn.faq.menu_reply("general.bouton_perime"))

    def _text(self, turn: Turn) -> None:
        if any(intercept(turn) for intercept in self.text_interceptors):
            return
        self.answer_question(turn, turn.msg.payload)

    def _context(self, turn: Turn) -> ConversationContext:
        """The conversation's context as stored in the session (empty once faded)."""
        fade = dt.timedelta(minutes=self.settings.context_fade_minutes)
        return ConversationContext.from_state(turn.state, self.clock.now(), fade)

    def answer_question(self, turn: Turn, text: str) -> Answer:
        """Answer free text in the conversation's context and log the question (text, entry, score).

        The context (who asks, their track, the entries answered, their age and
        language) is read from the session state and written back to it, so it survives
        a restart; after ``Settings.context_fade_minutes`` of silence it starts afresh.
        """
        now = self.clock.now()
        fade = dt.timedelta(minutes=self.settings.context_fade_minutes)
        context = ConversationContext.from_state(turn.state, now, fade)
        answer = OwnCase(turn.faq).answer(text, context)
        context.save_to(turn.state, now)
        turn.answers.append(answer)
        if len(text) > faq_module.MAX_QUESTION_CHARS:
            turn.say(Reply(turn.faq.render.text("general.message_tronque")))
        turn.replies.extend(answer.replies)
        # No health detail is ever stored, even in the question log (staff read it in
        # /sans_reponse): the question is answered, its text replaced by a marker.
        health = mentions_health(text, turn.faq.kb.health_words)
        kept = turn.faq.render.text("general.question_sante_retiree") if health else text
        self.questions.record(turn.user_id, kept, answer.entry, answer.score, answer.outcome,
                              self.clock.now())
        for hook in self.after_answer:  # after the log: a rating button names the question's row
            hook(turn, answer)
        return answer

    # --- commands --------------------------------------------------------------------

    def _start(self, turn: Turn) -> None:
        payload = turn.msg.args[0] if turn.msg.args else ""
        source = payload if payload and len(payload) <= 64 and set(payload) <= SOURCE_CHARS else None
        self.prospects.seen(turn.user_id, self.clock.now(), source)
        name = turn.msg.person.first_name.strip()[:40] or "à toi"
        turn.say(turn.faq.menu_reply("general.bienvenue", prenom=name))

    def _menu(self, turn: Turn) -> None:
        turn.say(turn.faq.menu_reply())

    def _help(self, turn: Turn) -> None:
        turn.say(Reply(turn.faq.render.text("general.aide")))

    def _unknown_command(self, turn: Turn) -> None:
        turn.say(turn.faq.menu_reply("general.commande_inconnue"))
