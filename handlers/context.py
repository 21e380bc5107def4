"""What every handler and job receives: the bot's services, each in a typed place.

Why: handlers used to find the assistant, the outbox's deliverer, flood control and
the log salt in ``bot_data``, a dict keyed by strings. A misspelt key or a service
never stored showed only at run time, in the middle of an update, and nothing said
what was there or of which type. python-telegram-bot lets an application choose the
class of its ``bot_data`` and of its callbacks' ``context`` (``ContextTypes``, as in
its ``contexttypesbot.py`` example):

- :class:`BotData` holds each service in a named, typed slot. It has ``__slots__``
  and no ``[]``: ``bot_data["assistant"]`` raises, so the typed slots are the only
  way in and a new service must be declared here;
- :class:`BotContext` is the ``context`` of every handler, error handler and job,
  with the services handlers use most as properties (``context.assistant``).

``handlers/app.py`` wires both once (:data:`CONTEXT_TYPES`) and fills the slots with
:meth:`BotData.install`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.conversation.engine import Assistant
from bot.conversation.flood import FloodControl
from bot.staff.desk import StaffDesk
from handlers.delivery import Deliverer

if TYPE_CHECKING:  # staff_admins' callbacks take a BotContext: a run-time import would be a cycle
    from handlers.staff_admins import StaffAdmins


class BotData:
    """The bot's services, one typed slot each (the application's ``bot_data``).

    python-telegram-bot builds it without arguments when the application is built,
    before the services exist: :meth:`install` fills them right after. Reading a
    service before that raises ``AttributeError``, as it should.
    """

    __slots__ = ("assistant", "deliverer", "flood", "log_salt", "staff_chat_id", "staff_admins",
                 "spared_chats", "left_chats")

    #: The core.
    assistant: Assistant
    #: The outbox's delivery loop, with its own client (``handlers/delivery.py``).
    deliverer: Deliverer
    #: Per-prospect flood control (``handlers/guards.py``).
    flood: FloodControl
    #: Keys the pseudonyms of Telegram ids in the log (derived from the token: stable across restarts).
    log_salt: str
    #: The staff group (None: no staff group).
    staff_chat_id: int | None
    #: Who is staff when they are the group's administrators (None: ``STAFF_USER_IDS`` says it).
    staff_admins: StaffAdmins | None
    #: Groups the bot stays in though they are not the staff group (the staff group under a new id).
    spared_chats: set[int]
    #: Stray groups already left in this run (left once, whatever else comes from them).
    left_chats: set[int]

    def __init__(self) -> None:
        self.log_salt = ""
        self.staff_chat_id = None
        self.staff_admins = None
        self.spared_chats = set()
        self.left_chats = set()

    def install(self, assistant: Assistant, deliverer: Deliverer, flood: FloodControl, *,
                log_salt: str, staff_chat_id: int | None) -> None:
        """Put the services in their slots (once, when the application is built)."""
        self.assistant = assistant
        self.deliverer = deliverer
        self.flood = flood
        self.log_salt = log_salt
        self.staff_chat_id = staff_chat_id


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]):
    """The ``context`` of every callback: python-telegram-bot's, plus the services by name."""

    @property
    def assistant(self) -> Assistant:
        """The core."""
        return self.bot_data.assistant

    @property
    def desk(self) -> StaffDesk | None:
        """The staff desk installed on the assistant (None if the feature is not installed)."""
        return self.bot_data.assistant.staff


#: The application, for functions that get it rather than a context: what they use is its typed
#: ``bot_data`` (the context type is left open, as ``context.application`` leaves it in PTB's types).
BotApplication: TypeAlias = Application[ExtBot[Any], Any, dict[Any, Any], dict[Any, Any], BotData, Any]

#: Given to ``Application.builder().context_types(...)`` in ``handlers/app.py``.
CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)
