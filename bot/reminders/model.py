"""The kinds of reminder: defined with the knowledge base that reads them (``bot/knowledge/reminder_model.py``)."""
from __future__ import annotations

from bot.knowledge.reminder_model import *  # noqa: F401,F403  (the reminders package's own name for them)
from bot.knowledge.reminder_model import ANSWERS, EVENTS, OFFERS, ReminderKind, Trigger  # noqa: F401
