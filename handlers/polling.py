"""Long polling that never loses an update, even to SIGKILL.

python-telegram-bot's ``Updater`` asks Telegram for the next updates as soon as it
has queued the previous ones, which tells Telegram they were delivered: a bot
killed while handling them loses them. This poller writes each batch to the
SQLite inbox (``bot/storage/inbox.py``) before asking for more, handles updates
concurrently but one at a time per chat (a prospect's messages stay in order),
and removes each from the inbox once handled. On start it first handles what a
crash left in the inbox.

Updates are fetched as raw JSON and parsed one by one: python-telegram-bot's
``get_updates`` parses a whole batch at once, so one update it cannot read (a field
of an unexpected type) would raise for the batch, the batch would never be
acknowledged, and the bot would crash on it at every restart while the other
prospects of the batch wait forever. Such a poison update is quarantined instead
(kept for a developer, counted, acknowledged with the rest) and staff are told.
"""
from __future__ import annotations

import asyncio
import json
import logging
import warnings
from typing import Any

from telegram import Update
from telegram.error import NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBUserWarning

from bot.clock import Clock
from bot.conversation.messages import Reply
from bot.storage.inbox import QUARANTINE_DAYS, Inbox, Poison
from handlers.context import BotApplication

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10
MAX_CONCURRENT = 16
#: Seconds a long poll may take beyond ``POLL_TIMEOUT`` before it counts as timed out.
READ_MARGIN = 10

# getUpdates is asked with ``do_api_request`` on purpose (raw JSON, parsed one update at
# a time); python-telegram-bot would otherwise warn at every poll to use get_updates.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)


class DurablePoller:
    """Fetch updates into the inbox, then hand them to the application."""

    def __init__(self, application: BotApplication, inbox: Inbox, clock: Clock) -> None:
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
            try:
                update, poison = parse_update(json.loads(payload), bot)
            except ValueError:
                update, poison = None, Poison(update_id, payload, "JSONDecodeError")
            if update is not None:
                self._schedule(update)
            else:  # stored by an earlier version that could read it: set it aside now
                self._quarantine_stored(update_id, poison)
        last = self.inbox.last_update_id()
        offset = last + 1 if last is not None else None
        while not self._stopping.is_set():
            raw = await self._fetch(offset)
            if not raw:
                continue
            updates, poisons = parse_batch(raw, bot)
            highest = max([u.update_id for u in updates] + [p.update_id for p in poisons if p.update_id is not None],
                          default=None)
            if highest is None:  # nothing with an id: cannot acknowledge, nothing to handle
                log.error("getUpdates returned %d item(s) without a usable update id", len(raw))
                await asyncio.sleep(5.0)
                continue
            self._store(updates, poisons, highest)
            offset = highest + 1
            for update in updates:
                self._schedule(update)
        await self._drain()

    def _store(self, updates: list[Update], poisons: list[Poison], highest: int) -> None:
        """Write the batch (and its poison updates, and the staff notice) in one transaction."""
        with self.inbox.db.atomic():
            added = self.inbox.add([(u.update_id, json.dumps(u.to_dict(), ensure_ascii=False)) for u in updates],
                                   self.clock.now(), highest=highest, poisons=poisons)
            if added:
                self._report_quarantine([p.update_id for p in poisons])

    def _quarantine_stored(self, update_id: int, poison: Poison | None) -> None:
        with self.inbox.db.atomic():
            self.inbox.done(update_id)
            if poison is not None and self.inbox.add([], self.clock.now(), poisons=[poison]):
                self._report_quarantine([update_id])

    def _report_quarantine(self, update_ids: list[int | None]) -> None:
        """Log (ids only) and tell staff, at most once a day, that updates were set aside."""
        log.error("update(s) %s could not be read and were quarantined (%d in all): see table quarantine",
                  ", ".join(str(i) for i in update_ids), self.inbox.quarantined_total())
        desk = self.application.bot_data.assistant.staff
        if desk is None or not desk.enabled:
            return
        try:  # the notice must never cost the batch: the updates are stored whatever happens to it
            with self.inbox.db.atomic():
                if not self.inbox.notice_due(self.clock.now()):
                    return
                text = desk.text("staff.quarantaine", n=self.inbox.quarantined_count(), jours=QUARANTINE_DAYS)
                desk.queue_staff("quarantine", Reply(text), ref="quarantine")
        except Exception as exc:  # noqa: BLE001
            log.error("staff could not be told about quarantined updates: %s", type(exc).__name__)

    def stop(self) -> None:
        """Stop fetching: the long poll under way is cancelled, in-flight updates are finished."""
        self._stopping.set()
        if self._poll is not None:
            self._poll.cancel()

    async def _fetch(self, offset: int | None) -> list[Any]:
        """The next raw updates (JSON objects), or ``[]`` after an error (retried by the caller's loop)."""
        params: dict[str, Any] = {"timeout": POLL_TIMEOUT, "allowed_updates": list(Update.ALL_TYPES)}
        if offset is not None:
            params["offset"] = offset
        self._poll = asyncio.ensure_future(self.application.bot.do_api_request(
            "getUpdates", api_kwargs=params, read_timeout=POLL_TIMEOUT + READ_MARGIN))
        try:
            result = await self._poll
            if isinstance(result, list):
                return result
            log.error("getUpdates returned a %s instead of a list", type(result).__name__)
            await asyncio.sleep(5.0)
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


def parse_update(raw: Any, bot: Any) -> tuple[Update | None, Poison | None]:
    """One raw update parsed, or why it cannot be (its id if it has one, the exception's type only).

    Everything the poller will need from the update is tried here (its JSON form, the
    key that orders it), so that an update which passes cannot fail later in the poller.
    """
    update_id = raw.get("update_id") if isinstance(raw, dict) else None
    update_id = update_id if isinstance(update_id, int) and not isinstance(update_id, bool) else None
    payload = json.dumps(raw, ensure_ascii=False, default=repr)
    if update_id is None:
        return None, Poison(None, payload, "no update_id")
    try:
        update = Update.de_json(raw, bot)
        if update is None:
            raise ValueError
        json.dumps(update.to_dict())
        _order_key(update)
    except Exception as exc:  # noqa: BLE001 - whatever the parser chokes on, the update is set aside
        return None, Poison(update_id, payload, type(exc).__name__)
    return update, None


def parse_batch(raw: list[Any], bot: Any) -> tuple[list[Update], list[Poison]]:
    """The updates of a batch that parse, and the poison ones, each parsed on its own."""
    updates: list[Update] = []
    poisons: list[Poison] = []
    for item in raw:
        update, poison = parse_update(item, bot)
        if update is not None:
            updates.append(update)
        elif poison is not None:
            poisons.append(poison)
    return updates, poisons


def _order_key(update: Update) -> object:
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return ("update", update.update_id)


def _seconds(value: object) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
