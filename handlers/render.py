"""A core :class:`Reply` as Telegram HTML with inline buttons.

Every text is escaped first, then the core's only markup (``**bold**``) becomes
``<b>``: nothing a prospect typed can ever be interpreted by Telegram. Texts longer
than Telegram's 4096-character limit are split on line boundaries.
"""
from __future__ import annotations

import html
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from telegram import ReplyKeyboardRemove

from bot.conversation.messages import Reply

TELEGRAM_LIMIT = 4096
#: Room left under the limit for the tags the conversion adds.
CHUNK = 3800
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def to_html(text: str) -> str:
    """Escape ``text`` for Telegram's HTML mode and turn ``**x**`` into ``<b>x</b>``."""
    return _BOLD.sub(r"<b>\1</b>", html.escape(text, quote=False))


def split_text(text: str, limit: int = CHUNK) -> list[str]:
    """Cut a long text into pieces under ``limit``, preferably between lines."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    pieces.append(text)
    return [p for p in pieces if p]


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
    piece, so no piece can carry an unclosed ``<b>``.
    """
    pieces = split_text(reply.text)
    return [(to_html(p), markup(reply) if i == len(pieces) - 1 else None) for i, p in enumerate(pieces)]
