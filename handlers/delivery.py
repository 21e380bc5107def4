"""Delivering the outbox to Telegram, with retries that survive anything.

One background task per process sends the due rows of :mod:`bot.storage.outbox`
in order. A failure only delays the rows of the chat that failed: a staff group
that answers 502 or 429 never holds up a prospect's relayed answer, and prospects'
own replies never go through here at all. It wakes up when the core queues
something (:meth:`Deliverer.kick`) and at least every few seconds for retries.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from telegram import Bot, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.clock import Clock
from bot.storage.outbox import PROSPECT, STAFF, Delivery, Outbox
from handlers.render import markup, to_html

log = logging.getLogger(__name__)

IDLE_WAKEUP = 5.0

#: Called when a prospect cannot be reached (blocked the bot): (delivery) -> None.
Undeliverable = Callable[[Delivery], None]
#: Called before each send; may return the row completed (e.g. with its forum topic, created then).
Prepare = Callable[[Delivery], Awaitable[Delivery]]
#: Called when Telegram says a row's forum topic is gone (deleted or closed by someone).
ThreadLost = Callable[[Delivery], None]
#: Errors of an edit that no retry can fix: the message was deleted, or is too old to be edited.
_EDIT_IMPOSSIBLE = ("message to edit not found", "message can't be edited")
_THREAD_GONE = ("thread not found", "topic_deleted", "topic_closed")


class Deliverer:
    """Sends due outbox rows; one instance per running bot."""

    def __init__(self, bot: Bot, outbox: Outbox, clock: Clock, staff_chat_id: int | None,
                 on_undeliverable: Undeliverable | None = None, prepare: Prepare | None = None,
                 on_thread_lost: ThreadLost | None = None) -> None:
        self.bot = bot
        self.outbox = outbox
        self.clock = clock
        self.staff_chat_id = staff_chat_id
        self.on_undeliverable = on_undeliverable
        self.prepare = prepare
        self.on_thread_lost = on_thread_lost
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def kick(self) -> None:
        """Ask for a delivery round now (the core just queued something)."""
        self._wake.set()

    def start(self) -> None:
        """Start the background loop (from ``post_init``)."""
        self._task = asyncio.create_task(self._loop(), name="outbox-delivery")

    async def stop(self) -> None:
        """Stop the loop (from ``post_shutdown``); undelivered rows wait in SQLite."""
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            self._wake.clear()  # before the round: a kick during the round starts another one
            try:
                await self.deliver_due()
            except Exception:  # never let the delivery loop die
                log.exception("delivery round failed")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._pause())
            except asyncio.TimeoutError:
                pass

    def _pause(self) -> float:
        """Seconds until the next retry is due (a retry in 2 s happens in 2 s), at most IDLE_WAKEUP."""
        now = self.clock.now()
        upcoming = self.outbox.next_retry_at(now)
        if upcoming is None:
            return IDLE_WAKEUP
        return min(IDLE_WAKEUP, max(0.05, (upcoming - now).total_seconds()))

    async def deliver_due(self) -> int:
        """Send every due row, in order per chat; returns how many were sent."""
        sent = 0
        held: set[object] = set()
        now = self.clock.now()
        waiting = self.outbox.first_waiting(now)  # rows in backoff hold the later rows of their chat
        for delivery in self.outbox.due(now, limit=200):
            chat_id = self._chat_of(delivery)
            first = waiting.get((delivery.audience, None if delivery.audience == STAFF else delivery.chat_id))
            if first is not None and first < delivery.id:
                held.add(chat_id)
            if chat_id is None or chat_id in held:
                held.add(chat_id)
                continue
            if await self._send(delivery, chat_id):
                sent += 1
            else:
                held.add(chat_id)  # keep the order: later rows of this chat wait too
        return sent

    def _chat_of(self, delivery: Delivery) -> int | None:
        return self.staff_chat_id if delivery.audience == STAFF else delivery.chat_id

    async def _send(self, delivery: Delivery, chat_id: int) -> bool:
        try:
            message_id = await self._call(delivery, chat_id)
        except RetryAfter as exc:
            wait = exc.retry_after.total_seconds() if hasattr(exc.retry_after, "total_seconds") else exc.retry_after
            self.outbox.retry_later(delivery.id, self.clock.now(), "429", float(wait))
            return False
        except Forbidden as exc:
            return self._forbidden(delivery, str(exc))
        except BadRequest as exc:
            if "message is not modified" in str(exc).lower():
                self.outbox.mark_sent(delivery.id, None)
                return True
            if delivery.edit_of is not None and any(e in str(exc).lower() for e in _EDIT_IMPOSSIBLE):
                log.warning("delivery %s (%s): edit impossible, dropped: %s", delivery.id, delivery.kind, exc)
                self.outbox.mark_sent(delivery.id, None)
                return True
            if self.on_thread_lost and any(e in str(exc).lower() for e in _THREAD_GONE):
                self.on_thread_lost(delivery)
            self._retry(delivery, f"400 {exc}")
            return False
        except TelegramError as exc:
            self._retry(delivery, type(exc).__name__)
            return False
        self.outbox.mark_sent(delivery.id, message_id)
        return True

    async def _call(self, delivery: Delivery, chat_id: int) -> int | None:
        if self.prepare is not None:
            delivery = await self.prepare(delivery)
        text, keyboard = to_html(delivery.reply.text), markup(delivery.reply)
        if delivery.edit_of is not None:
            target = self.outbox.message_id_of(delivery.edit_of)
            if target is None:
                return None
            await self.bot.edit_message_text(text, chat_id, target, parse_mode=ParseMode.HTML, reply_markup=keyboard)
            return target
        reply_to = self.outbox.message_id_of(delivery.reply_to) if delivery.reply_to else None
        message = await self.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard,
            message_thread_id=delivery.thread_id,
            reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None,
        )
        return message.message_id

    def _retry(self, delivery: Delivery, error: str) -> None:
        delay = self.outbox.retry_later(delivery.id, self.clock.now(), error)
        log.warning("delivery %s (%s) failed: %s; retry in %.0fs", delivery.id, delivery.kind, error, delay)

    def _forbidden(self, delivery: Delivery, error: str) -> bool:
        if delivery.audience == PROSPECT:
            self.outbox.give_up(delivery.id, "403 blocked")
            log.info("delivery %s: prospect unreachable (blocked the bot)", delivery.id)
            if self.on_undeliverable:
                self.on_undeliverable(delivery)
                self.kick()
            return True
        self._retry(delivery, f"403 {error}")
        return False


