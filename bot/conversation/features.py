"""The features plugged into the conversation core, in one list.

Each feature is a function that receives the :class:`~bot.conversation.engine.Assistant`
and registers its commands, buttons and modes on it. Adding a feature is adding a
line here; the core's routing does not change.

This is the one place where the core learns of the packages above it (the form, the
staff desk): ``.importlinter`` allows exactly these imports. The features name the
core's types from ``bot.conversation.turn``, never from the engine, so there is no cycle.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from bot.conversation.feedback import install as feedback
from bot.registration.flow import install as registration
from bot.reminders.feature import install as reminders  # after staff: a follow-up answer notes the lead
from bot.staff.desk import install as staff

if TYPE_CHECKING:
    from bot.conversation.engine import Assistant

Feature = Callable[["Assistant"], None]


def default_features() -> list[Feature]:
    """The features of the production bot, in the order they are installed.

    The staff desk comes after the form: it wraps /start and subscribes to confirmations;
    reminders come after the staff desk: a follow-up answer notes the lead.
    """
    return [registration, staff, feedback, reminders]
