"""Handlers reach the bot's services through typed slots only (``handlers/context.py``).

In process, against the Bot API double: the application ``handlers/app.py`` builds, an
update processed by python-telegram-bot's own stack (the guards, then the prospect's
handler), the replies read back from the double.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from telegram import Update

from bot.config import Settings
from bot.knowledge.store import KnowledgeStore
from handlers.app import build_application
from handlers.context import BotContext, BotData
from testing.assistants import build_assistant
from testing.botapi import BotApiDouble

PROSPECT = 4242


def settings_for(double: BotApiDouble, tmp_path: Path) -> Settings:
    """The bot's settings against the double; one message per window lets a second one be flood."""
    return Settings(telegram_token=double.token, telegram_base_url=double.base_url,
                    database=tmp_path / "bot.db", flood_limit=1, flood_window=60.0)


def test_bot_data_holds_the_services_in_typed_slots_and_nothing_by_name(
        botapi_double: BotApiDouble, tmp_path: Path, knowledge: KnowledgeStore) -> None:
    settings = settings_for(botapi_double, tmp_path)
    assistant = build_assistant(knowledge, settings.database, settings=settings)
    application = build_application(settings, assistant)
    assert isinstance(application.bot_data, BotData)
    assert application.bot_data.assistant is assistant
    assert application.bot_data.flood.limit == 1
    with pytest.raises(TypeError):
        application.bot_data["assistant"]  # the old string lookup has nowhere to go
    with pytest.raises(AttributeError):
        application.bot_data.retention_months = 36  # nor can a service be added without declaring it
    assert application.context_types.context is BotContext


async def test_a_prospect_update_goes_through_the_guards_and_handler_on_the_typed_context(
        botapi_double: BotApiDouble, tmp_path: Path, knowledge: KnowledgeStore) -> None:
    settings = settings_for(botapi_double, tmp_path)
    assistant = build_assistant(knowledge, settings.database, settings=settings)
    application = build_application(settings, assistant)
    await application.initialize()
    try:
        for command in ("/start", "/aide", "/menu"):  # the second and third come too fast
            pushed = botapi_double.push_command(PROSPECT, command)
            await application.process_update(Update.de_json(pushed, application.bot))
    finally:
        await application.shutdown()
    texts = [m["text"] for m in botapi_double.messages_to(PROSPECT)]
    slow_down = assistant.faq().render.text("general.trop_vite")
    assert texts[0] != slow_down  # /start answered by the prospect's handler (context.assistant)
    assert texts[1:] == [slow_down]  # the flood guard (bot_data.flood, context.assistant) spoke once
