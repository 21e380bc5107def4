"""Handlers for prospects' private chats: one per kind of update.

Each handler builds an :class:`Incoming`, asks the core, and sends the replies.
The core is synchronous and fast (matching and SQLite on the same machine), so it
is called directly: no other coroutine runs in between, which also keeps each
prospect's state consistent when updates are processed concurrently.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError, TimedOut

from bot.conversation.messages import Incoming, Kind, Person, Reply
from bot.storage.personal import checkpoint
from handlers.context import BotContext
from handlers.render import telegram_messages
from handlers.staff import send_reply

log = logging.getLogger(__name__)


def person_of(update: Update) -> Person:
    user = update.effective_user
    return Person(user_id=user.id, first_name=user.first_name or "", last_name=user.last_name or "")


#: An answer not sent after this many seconds gets feedback meanwhile: the "typing" action
#: for a message, the acknowledgement (the spinner stops) for a button. Most answers leave
#: in a few milliseconds, and Telegram counts chat actions against the bot's 30 requests
#: per second: sending "typing" before every answer would halve what a burst can get.
FEEDBACK_AFTER = 0.3
#: With this many replies waiting to be sent, an answer is slow because of Telegram's rate
#: limit, not the network: "typing" would only take a place in the same queue, so none is sent.
TYPING_WHEN_QUIET = 5
_pending_sends = 0


class FeedbackIfSlow:
    """``async with FeedbackIfSlow(show):`` runs ``show`` if the block lasts over :data:`FEEDBACK_AFTER`.

    With ``or_on_exit=True``, ``show`` runs when the block ends if it has not run
    yet (a button press must be acknowledged either way). A timer rather than a
    task: a quick answer, the usual case, costs nothing more.
    """

    def __init__(self, show: Callable[[], Awaitable[None]], or_on_exit: bool = False) -> None:
        self.show = show
        self.or_on_exit = or_on_exit
        self._timer: asyncio.TimerHandle | None = None
        self._shown: asyncio.Task | None = None

    async def __aenter__(self) -> "FeedbackIfSlow":
        self._timer = asyncio.get_running_loop().call_later(FEEDBACK_AFTER, self._start)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        if self._shown is not None:
            await self._shown  # started meanwhile: let it finish (and keep it referenced till then)
        elif self.or_on_exit:
            await self.show()

    def _start(self) -> None:
        self._shown = asyncio.create_task(self.show())


#: Waits between attempts at sending a reply when the network or Telegram fails (502, timeout).
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)


async def send_replies(context: BotContext, chat_id: int, replies: list[Reply]) -> None:
    """Send the core's replies in order, as HTML.

    429s are retried by the rate limiter; a 502 or a timeout is retried here, so a
    flaky network delays an answer instead of losing it (at worst, when Telegram
    got a message but its answer was lost, the prospect sees it twice). A prospect
    who blocked the bot is not retried.
    """
    for reply in replies:
        if reply.document is not None:  # /mesdonnees when long: a file, with a short caption
            try:
                await send_reply(context.bot, chat_id, reply)
            except Forbidden:
                log.info("reply not delivered: the prospect blocked the bot")
                return
            continue
        for text, keyboard in telegram_messages(reply):
            try:
                await _send_with_retries(context, chat_id, text, keyboard)
            except Forbidden:
                log.info("reply not delivered: the prospect blocked the bot")
                return


async def _send_with_retries(context: BotContext, chat_id: int, text: str, keyboard) -> None:
    global _pending_sends
    _pending_sends += 1
    try:
        await _send_until_sent(context, chat_id, text, keyboard)
    finally:
        _pending_sends -= 1


async def _send_until_sent(context: BotContext, chat_id: int, text: str, keyboard) -> None:
    for delay in (*RETRY_DELAYS, None):
        try:
            await context.bot.send_message(chat_id, text, reply_markup=keyboard)
            return
        except (NetworkError, TimedOut) as exc:
            if delay is None or isinstance(exc, BadRequest):  # a BadRequest is a NetworkError; Forbidden is not
                raise
            log.warning("sending a reply failed (%s); retrying in %.1fs", type(exc).__name__, delay)
            await asyncio.sleep(delay)


async def _answer(update: Update, context: BotContext, incoming: Incoming) -> None:
    assistant = context.assistant
    incoming = replace(incoming, update_id=update.update_id)
    try:
        replies = assistant.handle(incoming)
    except Exception:  # nothing was written (one transaction); say so rather than stay silent
        log.exception("handling an update failed")
        replies = [Reply(assistant.faq().render.text("general.erreur"))]
    if assistant.checkpoint_due:  # an erasure was just committed: no old page kept in the WAL
        assistant.checkpoint_due = False
        checkpoint(assistant.db)
    await send_replies(context, update.effective_chat.id, replies)


async def on_command(update: Update, context: BotContext) -> None:
    """``/start payload``, ``/menu``, ``/aide``... and any other command."""
    text = update.effective_message.text or ""
    name, *args = text[1:].split() or [""]  # a bare "/" is an unknown command, not a crash
    command = name.split("@", 1)[0].lower()
    await _answer(update, context, Incoming(person_of(update), Kind.COMMAND, command, tuple(args[:5])))


async def on_text(update: Update, context: BotContext) -> None:
    """Free text: answer, showing "typing" if the answer is slow to leave."""
    message: Message = update.effective_message
    async with FeedbackIfSlow(lambda: _typing(context, message.chat_id)):
        await _answer(update, context, Incoming(person_of(update), Kind.TEXT, message.text or ""))


async def on_edited(update: Update, context: BotContext) -> None:
    """An edited message: never read again as input (the core may note it, see ``Kind.EDITED``)."""
    message = update.edited_message
    await _answer(update, context, Incoming(person_of(update), Kind.EDITED, (message.text or "") if message else ""))


async def on_button(update: Update, context: BotContext) -> None:
    """An inline button: answer, and acknowledge the press (its spinner stops).

    The acknowledgement follows the answer, which is not kept waiting behind it, or
    comes meanwhile if the answer is slow to leave.
    """
    query = update.callback_query
    async with FeedbackIfSlow(lambda: _acknowledge(query), or_on_exit=True):
        await _answer(update, context, Incoming(person_of(update), Kind.BUTTON, query.data or ""))


async def on_contact(update: Update, context: BotContext) -> None:
    """A contact shared with the "share my number" keyboard."""
    contact = update.effective_message.contact
    await _answer(update, context, Incoming(person_of(update), Kind.CONTACT, contact.phone_number or "",
                                            contact_user_id=contact.user_id))


async def on_other(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice notes, documents...: a polite text answer."""
    message = update.effective_message
    kind = next((k for k in ("sticker", "photo", "voice", "video", "audio", "document", "location")
                 if getattr(message, k, None)), "other")
    await _answer(update, context, Incoming(person_of(update), Kind.OTHER, kind))


async def _acknowledge(query: CallbackQuery) -> None:
    """Stop the button's spinner; a failure only leaves it turning a little longer."""
    try:
        await query.answer()
    except TelegramError as exc:
        log.warning("answering a button press failed: %s", type(exc).__name__)


async def _typing(context: BotContext, chat_id: int) -> None:
    if _pending_sends >= TYPING_WHEN_QUIET:
        return
    try:
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
    except Exception as exc:  # the answer matters, the typing dots do not
        log.debug("typing action failed: %s", type(exc).__name__)
