"""Long polling that never loses an update, even to SIGKILL.

python-telegram-bot's ``Updater`` asks Telegram for the next updates as soon as it
has queued the previous ones, which tells Telegram they were delivered: a bot
killed while handling them loses them. This poller writes each batch to the
SQLite inbox (``bot/storage/inbox.py``) before asking for more, handles updates
concurrently but one at a time per chat (a prospect's messages stay in order),
and removes each from the inbox once handled. On start it first handles what a
crash left in the inbox.
"""
from __future__ import annotations

import asyncio
import json
import logging

from telegram import Update
from telegram.error import NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application

from bot.clock import Clock
from bot.storage.inbox import Inbox

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10
MAX_CONCURRENT = 16


class DurablePoller:
    """Fetch updates into the inbox, then hand them to the application."""

    def __init__(self, application: Application, inbox: Inbox, clock: Clock) -> None:
        self.application = application
        self.inbox = inbox
        self.clock = clock
        self._tails: dict[object, asyncio.Task] = {}
        self._slots = asyncio.Semaphore(MAX_CONCURRENT)
        self._stopping = asyncio.Event()
        self._poll: asyncio.Future | None = None

    async def run(self) -> None:
        """Poll until :meth:`stop`; returns once in-flight updates are handled."""
        bot = self.application.bot
        await bot.delete_webhook()
        for update_id, payload in self.inbox.pending():
            log.info("handling update %s left by an earlier run", update_id)
            self._schedule(Update.de_json(json.loads(payload), bot))
        last = self.inbox.last_update_id()
        offset = last + 1 if last is not None else None
        while not self._stopping.is_set():
            updates = await self._fetch(offset)
            if not updates:
                continue
            self.inbox.add([(u.update_id, u.to_json()) for u in updates], self.clock.now())
            offset = updates[-1].update_id + 1
            for update in updates:
                self._schedule(update)
        await self._drain()

    def stop(self) -> None:
        """Stop fetching: the long poll under way is cancelled, in-flight updates are finished."""
        self._stopping.set()
        if self._poll is not None:
            self._poll.cancel()

    async def _fetch(self, offset: int | None) -> list[Update]:
        self._poll = asyncio.ensure_future(self.application.bot.get_updates(
            offset=offset, timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES))
        try:
            return list(await self._poll)
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():  # the poller itself is cancelled, not just the poll
                raise
        except RetryAfter as exc:
            await asyncio.sleep(_seconds(exc.retry_after))
        except (NetworkError, TimedOut) as exc:
            log.warning("getUpdates failed (%s); retrying", type(exc).__name__)
            await asyncio.sleep(1.0)
        except TelegramError as exc:
            log.error("getUpdates refused: %s", type(exc).__name__)
            await asyncio.sleep(5.0)
        finally:
            self._poll = None
        return []

    def _schedule(self, update: Update) -> None:
        """Handle after the previous update of the same chat (or user), concurrently with others."""
        key = _order_key(update)
        previous = self._tails.get(key)
        task = asyncio.create_task(self._handle_after(previous, update))
        self._tails[key] = task
        task.add_done_callback(lambda t, k=key: self._tails.pop(k, None) if self._tails.get(k) is t else None)

    async def _handle_after(self, previous: asyncio.Task | None, update: Update) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        async with self._slots:
            try:
                await self.application.process_update(update)
            except Exception:  # process_update reports handler errors itself; this is a last guard
                log.exception("update %s could not be handled", update.update_id)
        self.inbox.done(update.update_id)

    async def _drain(self) -> None:
        tasks = list(self._tails.values())
        if tasks:
            await asyncio.wait(tasks, timeout=10)


def _order_key(update: Update) -> object:
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return ("update", update.update_id)


def _seconds(value: object) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
