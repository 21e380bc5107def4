"""A core :class:`Reply` as Telegram HTML with inline buttons.

Every text is escaped first, then the core's only markup (``**bold**``) becomes
``<b>``: nothing a prospect typed can ever be interpreted by Telegram. Texts longer
than Telegram's limit (4,096 UTF-16 code units after entity parsing) are split on
line boundaries, before conversion, by :mod:`bot.text_units`.
"""
from __future__ import annotations

import html
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from telegram import ReplyKeyboardRemove
from telegram.constants import ParseMode
from telegram.ext import Defaults

from bot.conversation.messages import Reply
from bot.text_units import TELEGRAM_LIMIT, split_units

#: Every text the bot sends is the HTML :func:`to_html` makes: said once, for both of its clients
#: (the application's bot and the outbox's), instead of ``parse_mode=`` at each call.
HTML_DEFAULTS = Defaults(parse_mode=ParseMode.HTML)

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def to_html(text: str) -> str:
    """Escape ``text`` for Telegram's HTML mode and turn ``**x**`` into ``<b>x</b>``."""
    return _BOLD.sub(r"<b>\1</b>", html.escape(text, quote=False))


def split_text(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Cut a long core text into pieces Telegram accepts (measured in UTF-16 units, tags excluded)."""
    return split_units(text, limit)


def markup(reply: Reply) -> ReplyMarkup:
    """The keyboard of a reply: inline buttons, the share-contact keyboard, or its removal."""
    if reply.contact_button:
        return ReplyKeyboardMarkup([[KeyboardButton(reply.contact_button, request_contact=True)]],
                                   resize_keyboard=True, one_time_keyboard=True)
    if reply.buttons:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.label[:64], callback_data=b.data) for b in row] for row in reply.buttons]
        )
    if reply.remove_keyboard:
        return ReplyKeyboardRemove()
    return None


def telegram_messages(reply: Reply) -> list[tuple[str, ReplyMarkup]]:
    """The (HTML text, keyboard) messages for one reply; the keyboard goes on the last one.

    The text is split before conversion: a tag is only ever produced inside one
    piece, so no piece can carry an unclosed ``<b>`` (a bold span cut in two is
    closed and reopened).
    """
    pieces = split_text(reply.text)
    return [(to_html(p), markup(reply) if i == len(pieces) - 1 else None) for i, p in enumerate(pieces)]
