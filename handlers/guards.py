"""Handlers that run before all others: where an update may come from, one log line per update, flood control.

They live in handler groups below 0 (python-telegram-bot runs groups in order), and
a guard stops an update with ``ApplicationHandlerStop`` so no other handler sees it,
the way the official rules-bot guards its handlers.
"""
from __future__ import annotations

import hashlib
import logging
import time

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from handlers.context import BotContext
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


async def origin_guard(update: Update, context: BotContext) -> None:
    """Stop what the bot must not answer: groups other than the staff group, and updates without a sender.

    The bot talks to prospects in private and to the staff in their group, nowhere
    else: added to any other group (or sent a button press from one), it leaves that
    group without a word, so a stranger's group never sees a pre-registration form or
    an answer. An update with no sender (a channel post, a message without ``from``)
    cannot be answered as anyone's: it is dropped.
    """
    chat = update.effective_chat
    staff_chat = context.bot_data.staff_chat_id
    if chat is not None and chat.type != ChatType.PRIVATE and chat.id != staff_chat:
        message = update.effective_message
        spared = context.bot_data.spared_chats
        if staff_chat is not None and message is not None and message.migrate_from_chat_id == staff_chat:
            spared.add(chat.id)  # the staff group under its new id: stay, and say what to configure
            log.warning("the staff group became a supergroup: set STAFF_CHAT_ID to %s and restart", chat.id)
        if chat.id not in spared:
            await _leave(update, context, chat.id)
        raise ApplicationHandlerStop
    if update.effective_user is None:
        log.info("update %s without a sender ignored", update.update_id)
        raise ApplicationHandlerStop


async def _leave(update: Update, context: BotContext, chat_id: int) -> None:
    """Leave a stray group (once per run), after stopping the spinner of a button pressed there."""
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError as exc:
            log.info("callback answer failed: %s", type(exc).__name__)
    member = update.my_chat_member
    if member is not None and member.new_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        return  # already out of it
    left = context.bot_data.left_chats
    if chat_id in left:
        return
    left.add(chat_id)
    salt = context.bot_data.log_salt
    log.info("update %s from a group that is not the staff group (%s): leaving it",
             update.update_id, pseudonym(chat_id, salt))
    try:
        await context.bot.leave_chat(chat_id)
    except TelegramError as exc:
        left.discard(chat_id)
        log.warning("leaving a group failed: %s", type(exc).__name__)


async def log_update(update: Update, context: BotContext) -> None:
    """One line per update: its kind, chat type and hashed ids; never its content."""
    salt = context.bot_data.log_salt
    chat = update.effective_chat
    log.info("update %s kind=%s chat=%s user=%s", update.update_id, update_kind(update),
             chat.type if chat else "-", pseudonym(update.effective_user.id if update.effective_user else None, salt))


async def flood_guard(update: Update, context: BotContext) -> None:
    """Stop a prospect's update when they send too much too fast (private chats only)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != ChatType.PRIVATE:
        return
    verdict = context.bot_data.flood.check(user.id, time.monotonic())
    if verdict.allowed:
        return
    if update.callback_query:
        await update.callback_query.answer()
    if verdict.notify:
        text = context.assistant.faq().render.text("general.trop_vite")
        await context.bot.send_message(chat.id, to_html(text))
    raise ApplicationHandlerStop
