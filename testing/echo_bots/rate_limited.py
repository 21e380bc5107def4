"""Echo bot with PTB's AIORateLimiter, to prove the double's 429 answers get retried.

Why a separate script: the benchmark echo bot must stay bare; this one adds only the
rate limiter, configured to retry (``max_retries`` is 0 by default in PTB, i.e. a
429 would be raised, not retried).  Configured like the echo bot by
TELEGRAM_BOT_TOKEN and TELEGRAM_BASE_URL.
"""
from __future__ import annotations

import logging
import os

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply with the same text."""
    if update.effective_message and update.effective_message.text:
        await update.effective_message.reply_text(update.effective_message.text)


def main() -> None:
    """Poll until SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    application = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_BASE_URL"])
        .rate_limiter(AIORateLimiter(max_retries=3))
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling()


if __name__ == "__main__":
    main()
