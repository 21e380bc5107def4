"""The features plugged into the conversation core, in one list.

Each feature is a function that receives the :class:`~bot.conversation.engine.Assistant`
and registers its commands, buttons and modes on it. Adding a feature is adding a
line here; the core's routing does not change.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from bot.conversation.engine import Assistant

Feature = Callable[["Assistant"], None]


def default_features() -> list[Feature]:
    """The features of the production bot, in the order they are installed."""
    from bot.registration.flow import install as registration  # imported here: it imports the engine's types
    from bot.staff.desk import install as staff  # after the form: it wraps /start and subscribes to confirmations

    from bot.reminders.feature import install as reminders  # after staff: a follow-up answer notes the lead

    return [registration, staff, reminders]
