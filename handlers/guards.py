"""Handlers that run before all others: one log line per update, and flood control.

They live in handler groups below 0 (python-telegram-bot runs groups in order), and
the flood guard stops a flooder's update with ``ApplicationHandlerStop`` so no other
handler sees it, the way the official rules-bot guards its handlers.
"""
from __future__ import annotations

import hashlib
import logging
import time

from telegram import Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.conversation.flood import FloodControl
from handlers.render import to_html

log = logging.getLogger("updates")


def pseudonym(user_id: int | None, salt: str) -> str:
    """A short stable hash of a Telegram id: lets logs follow one person without naming them."""
    if user_id is None:
        return "-"
    return hashlib.blake2b(str(user_id).encode(), key=salt.encode()[:64], digest_size=5).hexdigest()


def update_kind(update: Update) -> str:
    """What an update is, in one word, without its content."""
    if update.callback_query:
        return "button"
    message = update.effective_message
    if message is None:
        return "other"
    if message.text:
        return "command" if message.text.startswith("/") else "text"
    for kind in ("contact", "sticker", "photo", "voice", "video", "document", "location"):
        if getattr(message, kind, None):
            return kind
    return "other"


async def log_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One line per update: its kind, chat type and hashed ids; never its content."""
    salt = context.application.bot_data.get("log_salt", "")
    chat = update.effective_chat
    log.info("update %s kind=%s chat=%s user=%s", update.update_id, update_kind(update),
             chat.type if chat else "-", pseudonym(update.effective_user.id if update.effective_user else None, salt))


async def flood_guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop a prospect's update when they send too much too fast (private chats only)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != ChatType.PRIVATE:
        return
    flood: FloodControl = context.application.bot_data["flood"]
    verdict = flood.check(user.id, time.monotonic())
    if verdict.allowed:
        return
    if update.callback_query:
        await update.callback_query.answer()
    if verdict.notify:
        assistant = context.application.bot_data["assistant"]
        text = assistant.faq().render.text("general.trop_vite")
        await context.bot.send_message(chat.id, to_html(text), parse_mode=ParseMode.HTML)
    raise ApplicationHandlerStop
