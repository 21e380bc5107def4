"""Wiring: the python-telegram-bot ``Application``, built in one place.

Reading order for a newcomer: :func:`build_application` lists every handler and
what it reacts to; :func:`post_init` sets the command lists; :func:`run_telegram`
starts long polling.
"""
from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeAllPrivateChats, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.config import Settings
from bot.conversation.engine import Assistant
from handlers import prospect
from handlers.delivery import Deliverer

log = logging.getLogger(__name__)

#: The commands shown to prospects in Telegram's menu (name, description).
PROSPECT_COMMANDS = [
    ("start", "Accueil"),
    ("menu", "Les thèmes"),
    ("aide", "Ce que je sais faire"),
]


async def post_init(application: Application) -> None:
    """Set the command list shown to prospects and start delivering the outbox."""
    commands = [BotCommand(name, description) for name, description in PROSPECT_COMMANDS]
    await application.bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats())
    application.bot_data["deliverer"].start()


async def post_shutdown(application: Application) -> None:
    """Stop the delivery loop; what was not delivered waits in SQLite for the next start."""
    await application.bot_data["deliverer"].stop()


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error without any personal data and keep the bot running."""
    log.error("error while handling an update: %s", type(context.error).__name__, exc_info=context.error)


def build_application(settings: Settings, assistant: Assistant) -> Application:
    """The Telegram application with every handler registered."""
    application = (
        Application.builder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_base_url)
        .rate_limiter(AIORateLimiter(max_retries=5))
        .concurrent_updates(True)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    deliverer = Deliverer(application.bot, assistant.outbox, assistant.clock, settings.staff_chat_id)
    assistant.wake_delivery = deliverer.kick
    application.bot_data["assistant"] = assistant
    application.bot_data["deliverer"] = deliverer
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(private & filters.COMMAND, prospect.on_command))
    application.add_handler(MessageHandler(private & filters.TEXT, prospect.on_text))
    application.add_handler(MessageHandler(private & filters.CONTACT, prospect.on_contact))
    application.add_handler(CallbackQueryHandler(prospect.on_button))
    application.add_handler(MessageHandler(private & ~filters.COMMAND & ~filters.TEXT & ~filters.CONTACT,
                                           prospect.on_other))
    application.add_error_handler(on_error)
    return application


def run_telegram(settings: Settings) -> None:
    """Run the bot with long polling until interrupted."""
    from bot.cli import make_assistant

    application = build_application(settings, make_assistant(settings))
    application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
