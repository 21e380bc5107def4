"""Telegram adapters of the staff side: the staff group's updates in, the desk's answers out.

What lives here and nowhere else, because it is Telegram:

* :func:`guard` — in a handler group before all others: an update from the staff
  group by someone who is not staff is refused (the prospects' "unknown command"
  for a command, a neutral toast for a button, silence otherwise) and stopped with
  ``ApplicationHandlerStop``, so no staff handler ever sees it;
* :func:`on_command`, :func:`on_message`, :func:`on_button` — the staff group's
  commands, messages (replies and forum topics) and buttons, translated into a
  :class:`~bot.staff.desk.StaffInput` for the core, with the update id so that an
  update handled again after a crash relays or changes nothing twice;
* :class:`ForumTopics` — the delivery hook that puts each conversation in its own
  forum topic when the staff group is a forum (``is_forum``, asked once with
  ``getChat``), creating the topic with ``createForumTopic`` when its first message
  is delivered; if the bot may not create topics, the conversation stays in the
  general thread;
* :func:`set_staff_commands` — the command list shown in the staff group only.
"""
from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Bot, InputFile, Message, ReplyParameters, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.conversation.messages import Reply
from bot.staff.desk import StaffDesk, StaffInput, StaffResult
from bot.storage.outbox import Delivery
from bot.text_units import truncate_units, visible_len
from handlers.context import BotApplication, BotContext
from handlers.render import telegram_messages, to_html

log = logging.getLogger(__name__)

#: Telegram's caption limit: a longer text goes in its own message after the document.
CAPTION_LIMIT = 1024
#: Telegram's limit for the toast answering a button (measured in UTF-16 units, like every length).
TOAST_LIMIT = 200
#: Retry delays (seconds) for the staff command list when the group cannot be reached at start.
COMMANDS_RETRY = (30, 120, 600, 1800)


# --- updates in ----------------------------------------------------------------------------


def staff_input(update: Update, bot_username: str | None) -> StaffInput | None:
    """The core's view of a staff group update; None for a command meant for another bot."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return None
    query = update.callback_query
    if query is not None:
        message = query.message if isinstance(query.message, Message) else None
        return StaffInput(chat.id, user.id, user.first_name or "", callback_data=query.data or "",
                          message_id=query.message.message_id if query.message else None,
                          message_thread_id=_thread_of(message), update_id=update.update_id)
    message = update.effective_message
    if message is None:
        return None
    text = message.text or ""
    if not text and message.effective_attachment is None:
        return None  # a service message (topic renamed, member joined...): nothing to relay
    command, args = "", ()
    if text.startswith("/") and text[1:].strip():
        name, *words = text[1:].split()
        command, _, target = name.partition("@")
        if target and bot_username and target.lower() != bot_username.lower():
            return None
        command, args = command.lower(), tuple(words[:5])
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    if update.edited_message is not None:  # an edit: its new text, never a command to run again
        return StaffInput(chat.id, user.id, user.first_name or "", text=text, message_id=message.message_id,
                          reply_to_message_id=reply_to, message_thread_id=_thread_of(message),
                          update_id=update.update_id, edited=True)
    return StaffInput(chat.id, user.id, user.first_name or "", text=text,  # /campagne reads its whole text
                      command=command, args=args, message_id=message.message_id,
                      reply_to_message_id=reply_to, message_thread_id=_thread_of(message),
                      update_id=update.update_id)


def _thread_of(message: Message | None) -> int | None:
    """The forum topic of a message (reply threads of ordinary groups are not topics)."""
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


async def guard(update: Update, context: BotContext) -> None:
    """Stop every staff-group update from someone who is not staff, revealing nothing."""
    desk = context.desk
    chat, user = update.effective_chat, update.effective_user
    if desk is None or not desk.enabled or chat is None or chat.id != desk.staff_chat_id:
        return
    if user is not None and desk.is_staff(user.id):
        return
    log.info("staff group: update %s from a non-staff user refused", update.update_id)
    inp = staff_input(update, context.bot.username)
    if inp is not None:
        await _answer(update, context, desk.refusal(inp))
    elif update.callback_query is not None:
        await _answer_query(update, "")
    raise ApplicationHandlerStop


async def on_command(update: Update, context: BotContext) -> None:
    """A command in the staff group (the guard let only staff through)."""
    await _handle(update, context)


async def on_message(update: Update, context: BotContext) -> None:
    """Any other message in the staff group: an answer to a prospect, or staff talking."""
    await _handle(update, context)


async def on_button(update: Update, context: BotContext) -> None:
    """A button pressed in the staff group (:class:`StaffButtonHandler` lets no other through)."""
    await _handle(update, context)


class StaffButtonHandler(CallbackQueryHandler[BotContext, None]):
    """A ``CallbackQueryHandler`` for one chat: buttons pressed elsewhere go on to the prospects'."""

    def __init__(self, callback: Callable[[Update, BotContext], Coroutine[Any, Any, None]], chat_id: int) -> None:
        super().__init__(callback)
        self.chat_id = chat_id

    def check_update(self, update: object) -> object:
        """Like the parent, and only for updates from :attr:`chat_id`."""
        if not isinstance(update, Update) or update.effective_chat is None:
            return None
        if update.effective_chat.id != self.chat_id:
            return None
        return super().check_update(update)


async def _handle(update: Update, context: BotContext) -> None:
    desk = context.desk
    inp = staff_input(update, context.bot.username)
    if desk is None or inp is None:
        return
    if desk.is_heavy(inp):  # seconds of work: off the event loop, so prospects keep getting answers
        result = desk.complete_heavy(await asyncio.to_thread(desk.handle_heavy, inp))
    elif desk.is_teaching(inp):  # the base's full check: off the event loop too, one at a time
        result = await asyncio.to_thread(desk.handle_teaching, inp)
    else:
        result = desk.handle(inp)
    if result.handled:
        await _answer(update, context, result)


# --- answers out ---------------------------------------------------------------------------


async def _answer(update: Update, context: BotContext, result: StaffResult) -> None:
    """The toast of a button, and the replies in the same chat and topic as the update."""
    if update.callback_query is not None:
        await _answer_query(update, result.notice)
    if not result.replies or update.effective_chat is None:
        return
    message = update.effective_message
    thread = _thread_of(message)
    reply_to = message.message_id if message is not None and update.callback_query is None else None
    for reply in result.replies:
        await send_reply(context.bot, update.effective_chat.id, reply, thread_id=thread, reply_to=reply_to)


async def _answer_query(update: Update, notice: str) -> None:
    try:
        await update.callback_query.answer(truncate_units(notice, TOAST_LIMIT) or None)
    except TelegramError as exc:  # a query older than a few minutes cannot be answered any more
        log.info("callback answer failed: %s", type(exc).__name__)


async def send_reply(bot: Bot, chat_id: int, reply: Reply, *, thread_id: int | None = None,
                     reply_to: int | None = None) -> None:
    """Send one core reply: its document with the text as caption, or its text (split if long)."""
    quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    if reply.document is not None:
        name, content = reply.document
        caption = to_html(reply.text) if visible_len(reply.text) <= CAPTION_LIMIT else None
        await bot.send_document(chat_id, InputFile(io.BytesIO(content), filename=name), caption=caption,
                                message_thread_id=thread_id,
                                reply_parameters=quote)
        if caption is not None:
            return
        reply = dataclasses.replace(reply, document=None)
    for text, keyboard in telegram_messages(reply):
        await bot.send_message(chat_id, text, reply_markup=keyboard,
                               message_thread_id=thread_id, reply_parameters=quote)


# --- forum topics (a delivery hook) --------------------------------------------------------


class ForumTopics:
    """Puts each conversation's staff messages in the prospect's own forum topic."""

    def __init__(self, bot: Bot, desk: StaffDesk) -> None:
        self.bot = bot
        self.desk = desk
        self._forum: bool | None = None

    async def is_forum(self) -> bool:
        """Whether the staff group is a forum (asked once; an error is retried with the row)."""
        if self._forum is None:
            chat = await self.bot.get_chat(self.desk.staff_chat_id)
            self._forum = bool(chat.is_forum)
        return self._forum

    async def prepare(self, delivery: Delivery) -> Delivery:
        """The row with the topic of its conversation, creating the topic on first use."""
        need = self.desk.handoffs.topic_need(delivery)
        if need is None:
            return delivery
        handoff_id, thread_id, name = need
        if thread_id is None:
            if not await self.is_forum():
                return delivery
            try:
                topic = await self.bot.create_forum_topic(self.desk.staff_chat_id, name)
            except BadRequest as exc:  # no right to manage topics: stay in the general thread
                log.warning("forum topic not created (%s): conversation %s stays in the general thread",
                            exc, handoff_id)
                self.desk.handoffs.set_topic(handoff_id, 0)
                return delivery
            thread_id = topic.message_thread_id
            self.desk.handoffs.set_topic(handoff_id, thread_id)
        return delivery if thread_id == 0 else dataclasses.replace(delivery, thread_id=thread_id)


# --- wiring ----------------------------------------------------------------------------------


def delivery_hooks(bot: Bot, assistant: object) -> dict[str, object]:
    """The Deliverer's staff hooks: 403 notices, forum topics, lost topics, labelled resends, refusals.

    None without the staff feature.
    """
    desk: StaffDesk | None = assistant.staff
    if desk is None:
        return {}
    topics = ForumTopics(bot, desk)

    async def prepare(delivery: Delivery) -> Delivery:
        """An edit of a message holding several lead cards is rebuilt whole; then its forum topic."""
        return await topics.prepare(desk.leads.regroup(delivery))

    return {"on_undeliverable": desk.handoffs.undeliverable, "prepare": prepare,
            "on_thread_lost": desk.handoffs.topic_lost, "label_resend": desk.label_resend,
            "on_problem": desk.delivery_problem, "batch": desk.leads.batch}


def register(application: BotApplication, staff_chat_id: int | None) -> None:
    """Add the guard (group -3, before every other) and the staff group's handlers.

    Call it before the prospects' handlers are added: the staff handlers take group 0's
    first places, and only ever match updates from the staff group.
    """
    if staff_chat_id is None:
        return
    application.add_handler(TypeHandler(Update, guard), group=-3)
    in_staff = filters.Chat(chat_id=staff_chat_id) & filters.UpdateType.MESSAGE
    application.add_handler(StaffButtonHandler(on_button, staff_chat_id))
    application.add_handler(MessageHandler(in_staff & filters.COMMAND, on_command))
    application.add_handler(MessageHandler(in_staff & ~filters.COMMAND, on_message))
    edited = filters.Chat(chat_id=staff_chat_id) & filters.UpdateType.EDITED_MESSAGE
    application.add_handler(MessageHandler(edited, on_message))  # a staff answer corrected: see staff_edit


async def set_staff_commands(application: BotApplication, attempt: int = 0) -> None:
    """Show the staff commands in the staff group only; retried later if the group is unreachable."""
    desk = application.bot_data.assistant.staff
    if desk is None or desk.staff_chat_id is None:
        return
    commands = [BotCommand(name, description[:256]) for name, description in desk.commands.menu()]
    try:
        await application.bot.set_my_commands(commands, scope=BotCommandScopeChat(desk.staff_chat_id))
    except TelegramError as exc:
        delay = COMMANDS_RETRY[min(attempt, len(COMMANDS_RETRY) - 1)]
        log.warning("staff command list not set (%s); retry in %ss", type(exc).__name__, delay)

        async def retry(context: BotContext) -> None:
            await set_staff_commands(context.application, attempt + 1)

        if application.job_queue is not None:
            application.job_queue.run_once(retry, delay, name="staff-commands")
