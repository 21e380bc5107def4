"""Bare python-telegram-bot echo bot: the latency floor for the load benchmark.

Why: the admissions bot's response time under load is only meaningful next to what
PTB itself costs — long polling, update dispatch, one ``sendMessage`` per update.
This bot does nothing else: it echoes every text message and answers every callback
query (``text`` = the callback data).  Run it against the Bot API double::

    TELEGRAM_BOT_TOKEN=... TELEGRAM_BASE_URL=http://127.0.0.1:PORT/bot \
        python testing/echo_bots/echo.py

Optional: ``ECHO_CONCURRENT_UPDATES`` (PTB ``concurrent_updates``; default 1 = PTB's
default sequential processing, use the same value as the real bot for a fair
floor), ``ECHO_RATE_LIMITER=1`` (the admissions bot's own limiter for answers,
``handlers/budget.py``: PTB's ``AIORateLimiter`` for groups and 429s, the bot-wide budget of
``TELEGRAM_RATE`` messages a second, default 30) and ``LOG_LEVEL`` (default WARNING).
"""
from __future__ import annotations

import logging
import os
import sys

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers.budget import ANSWER, BudgetLimiter, SendBudget


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the same text."""
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the callback query, echoing its data as the notification text."""
    query = update.callback_query
    if query is not None:
        await query.answer(text=query.data or "")


async def announce(application: Application) -> None:
    """Say on stdout that the bot is about to poll (useful in benchmark logs)."""
    print(f"echo bot @{application.bot.username} polling", flush=True)


def build_application(token: str, base_url: str, concurrent_updates: int = 1,
                      rate_limited: bool = False) -> Application:
    """The echo application; ``rate_limited`` puts it behind the admissions bot's limiter for answers."""
    limiter = BudgetLimiter(SendBudget(float(os.environ.get("TELEGRAM_RATE", "30"))), ANSWER, max_retries=5)
    application = (
        Application.builder()
        .token(token)
        .base_url(base_url)
        .concurrent_updates(concurrent_updates)
        .rate_limiter(limiter if rate_limited else None)
        .post_init(announce)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(answer))
    return application


def main() -> int:
    """Read the environment and poll until SIGINT/SIGTERM."""
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        print("TELEGRAM_BOT_TOKEN is not set", file=sys.stderr)
        return 2
    base_url = os.environ.get("TELEGRAM_BASE_URL", "").strip() or "https://api.telegram.org/bot"
    concurrent = int(os.environ.get("ECHO_CONCURRENT_UPDATES", "1") or 1)
    rate_limited = os.environ.get("ECHO_RATE_LIMITER", "0") == "1"
    build_application(token, base_url, concurrent, rate_limited).run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
