"""Delivering the outbox to Telegram, with retries that survive anything.

One background task per process looks for chats with due rows in
:mod:`bot.storage.outbox` and starts a *lane* for each: a task that sends that
chat's rows one after the other, oldest first, until none is due or one fails (a
row in backoff holds the rows behind it). Lanes of different chats run side by
side, and a new lane starts without waiting for the others: the staff group,
limited by Telegram to ~20 messages a minute, may have a backlog of minutes, and a
staff member's answer to a prospect must not queue behind it. Failures only delay
their own chat the same way (a 502 or 429 on the staff group holds up no prospect),
and prospects' own replies never go through here at all. The loop wakes up when the
core queues something (:meth:`Deliverer.kick`) and at least every few seconds for
retries.

Each request is marked in flight in SQLite before it leaves
(:meth:`~bot.storage.outbox.Outbox.begin_attempt`). The first round of a process
flags what an earlier one left in flight, and a timeout flags its row too: Telegram
may have posted it. Such a row is sent again through the ``label_resend`` hook, so
staff see that it may be a repetition instead of a second lead; a reminder or campaign
row is not sent again at all (lost rather than doubled, and counted). The start-up log
says which, by kind.

Reminders and campaigns (rows of priority ``BULK``, or of an :data:`AT_MOST_ONCE` kind) have
no lane per chat: one *bulk lane* sends them, oldest first, at most ``bulk_in_flight``
requests at a time (a row in flight at a crash is lost, never doubled, so that number is
what a kill can lose). Each takes its token from the bot-wide :class:`~handlers.budget.SendBudget`
at bulk priority before it is marked in flight: prospects' answers and the other lanes go
first, a campaign only uses what they leave, and never holds a prospect's own lane. A 429 or
a transient error on a bulk row pauses the bulk lane for as long as that row must wait.

Only transient errors hold a lane (429, 5xx, timeouts, the network, and a staff
group that cannot be reached at all, which would refuse every row alike). A row
Telegram refuses for good (a 400 such as "message is too long", or a prospect who
blocked the bot or is gone) is settled and the lane moves on; staff are told once,
in a short notice without personal data. A row still too long for one message (queued by an
older version) is shortened first. Consecutive relays of one conversation still
waiting go out as one message.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from typing import Awaitable, Callable

import httpx
from telegram import Bot, ReplyParameters
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError, TimedOut

from bot.clock import Clock
from bot.storage.outbox import KIND_TOPIC_RENAME, PROSPECT, STAFF, Delivery, Outbox, erased_in_flight, settle_erased
from bot.text_units import TELEGRAM_LIMIT, TOPIC_NAME_LIMIT, cut_plain_units, truncate_units, visible_len
from handlers.budget import BULK, PAID, SendBudget
from handlers.render import markup, to_html

log = logging.getLogger(__name__)

IDLE_WAKEUP = 5.0

#: Called when a prospect cannot be reached (blocked the bot): (delivery) -> None.
Undeliverable = Callable[[Delivery], None]
#: Called before each send; may return the row completed (e.g. with its forum topic, created then).
Prepare = Callable[[Delivery], Awaitable[Delivery]]
#: Called before a send: the rows to send as one message with this one, and that message; None: as usual.
Batch = Callable[[Delivery], "tuple[list[Delivery], Delivery] | None"]
#: Called when Telegram says a row's forum topic is gone (deleted or closed by someone).
ThreadLost = Callable[[Delivery], None]
#: Called before sending a row whose earlier copy may be out: returns the row as it must go now.
LabelResend = Callable[[Delivery], Delivery]
#: A chat's queue: (audience, chat id as stored; None for the staff group).
ChatKey = tuple[str, int | None]
#: Kinds of row better lost than sent twice (a reminder): one in flight at a crash is not sent again.
AT_MOST_ONCE = frozenset({"reminder", "campaign"})
#: Errors of an edit that no retry can fix: the message was deleted, or is too old to be edited.
_EDIT_IMPOSSIBLE = ("message to edit not found", "message can't be edited")
_THREAD_GONE = ("thread not found", "topic_deleted", "topic_closed")
#: Errors about the chat itself, not the row: the group is misconfigured, or the prospect is gone.
_GROUP_UNREACHABLE = ("chat not found", "bot was kicked", "not enough rights", "have no rights",
                      "chat_write_forbidden", "group chat was upgraded")
#: What :attr:`Deliverer.on_problem` is told: a row refused for good, or cut to fit.
FAILED_FOR_GOOD, SHORTENED = "failed", "shortened"
#: Called once when a row was refused for good or had to be shortened: (delivery, problem) -> None.
Problem = Callable[[Delivery, str], None]


class Deliverer:
    """Sends due outbox rows; one instance per running bot."""

    def __init__(self, bot: Bot, outbox: Outbox, clock: Clock, staff_chat_id: int | None,
                 on_undeliverable: Undeliverable | None = None, prepare: Prepare | None = None,
                 on_thread_lost: ThreadLost | None = None, label_resend: LabelResend | None = None,
                 on_problem: Problem | None = None, batch: Batch | None = None,
                 budget: SendBudget | None = None, bulk_in_flight: int = 1,
                 bulk_rate: float | None = None) -> None:
        self.bot = bot
        self.outbox = outbox
        self.clock = clock
        self.staff_chat_id = staff_chat_id
        self.on_undeliverable = on_undeliverable
        self.prepare = prepare
        self.on_thread_lost = on_thread_lost
        self.label_resend = label_resend
        self.on_problem = on_problem
        self.batch = batch
        self._settled = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._lanes: dict[ChatKey, asyncio.Task[int]] = {}
        #: The bot-wide rate: bulk rows take their token before they are marked in flight.
        self.budget = budget
        #: Bulk rows' own ceiling (``CAMPAIGN_RATE``), taken before the bot-wide budget: a campaign in a
        #: quiet moment goes at this rate, not at the whole of Telegram's allowance.
        self.bulk_ceiling = SendBudget(bulk_rate, reserve=0) if bulk_rate else None
        #: Requests of bulk rows in flight at once: what a kill -9 can lose (1: at most one).
        self._bulk_slots = asyncio.Semaphore(max(1, bulk_in_flight))
        self._bulk_lane_task: asyncio.Task[int] | None = None
        self._bulk_busy: set[int] = set()
        self._bulk_running: set[asyncio.Task[bool]] = set()

    def kick(self) -> None:
        """Ask for a delivery round now (the core just queued something)."""
        self._wake.set()

    def start(self) -> None:
        """Start the background loop (from ``post_init``)."""
        self._task = asyncio.create_task(self._loop(), name="outbox-delivery")

    async def stop(self) -> None:
        """Stop the loop and its lanes (from ``post_shutdown``); undelivered rows wait in SQLite."""
        tasks = [task for task in (self._task, self._bulk_lane_task, *self._lanes.values(), *self._bulk_running)
                 if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            self._wake.clear()  # before the round: a kick during the round starts another one
            try:
                self._start_lanes()
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
        """One round, waited for: every chat's due rows, chats side by side; returns how many were sent."""
        return sum(await asyncio.gather(*self._start_lanes()))

    def _start_lanes(self) -> list[asyncio.Task[int]]:
        """Start a lane for each chat with a due row and no lane running; returns the new lanes.

        A chat whose lane is still busy gets no second one (that would break its order):
        the running lane looks for its chat's next row after each send, so it picks up
        what was queued meanwhile.
        """
        self._settle_interrupted()
        started = []
        for key in self.outbox.due_chats(self.clock.now()):
            target = self._target(key)
            if key in self._lanes or target is None:  # busy, or staff rows with no staff group set
                continue
            lane = asyncio.create_task(self._lane(key, target), name=f"outbox-lane-{key[0]}")
            self._lanes[key] = lane
            started.append(lane)
        if (self._bulk_lane_task is None or self._bulk_lane_task.done()) and \
                self.outbox.due_bulk(self.clock.now(), limit=1):
            self._bulk_lane_task = asyncio.create_task(self._bulk_lane(), name="outbox-bulk-lane")
            started.append(self._bulk_lane_task)
        return started

    async def _bulk_lane(self) -> int:
        """Send the due reminder and campaign rows, oldest first, ``bulk_in_flight`` at a time.

        They have no order to keep between them (each is one prospect's own message), so a
        row in backoff holds no other; but a failure pauses the lane as long as the row must
        wait (a 429's ``retry_after``, a backoff), since the next rows would likely fail alike.
        Returns how many were sent.
        """
        sent = 0
        running = self._bulk_running
        try:
            while rows := self.outbox.due_bulk(self.clock.now(), exclude=self._bulk_busy):
                for row in rows:
                    await self._bulk_slots.acquire()
                    delivery = self.outbox.pending_row(row.id, self.clock.now())  # still due, not erased meanwhile
                    if delivery is None or delivery.chat_id is None:
                        self._bulk_slots.release()
                        continue
                    self._bulk_busy.add(delivery.id)
                    task = asyncio.create_task(self._bulk_one(delivery))
                    running.add(task)
                    task.add_done_callback(running.discard)
            for ok in await asyncio.gather(*running):
                sent += ok
        except Exception:  # never let a surprise stop the loop
            log.exception("bulk delivery lane failed")
        finally:
            self.kick()  # rows queued while the lane was finishing find no lane: the next round starts one
        return sent

    async def _bulk_one(self, delivery: Delivery) -> bool:
        """One bulk row, its slot held; after a failure the lane waits until the row is due again."""
        try:
            assert delivery.chat_id is not None
            if await self._send(delivery, delivery.chat_id, slot_held=True):
                return True
            wait = self.outbox.seconds_until_due(delivery.id, self.clock.now())
            if wait > 0:
                await asyncio.sleep(wait)  # the slot stays taken: the lane pauses with it
            return False
        except Exception:
            log.exception("bulk delivery %s failed", delivery.id)
            return False
        finally:
            self._bulk_busy.discard(delivery.id)
            self._bulk_slots.release()

    async def _lane(self, key: ChatKey, target: int) -> int:
        """Send one queue's due rows to ``target`` in order, until none is left or one fails.

        Returns how many were sent.
        """
        sent = 0
        try:
            while (delivery := self.outbox.next_in_chat(*key, self.clock.now())) is not None:
                if not await self._send(delivery, target):
                    break  # in backoff now: it holds the rest of its chat
                sent += 1
        except Exception:  # one chat's surprise must not stop the others, nor the loop
            log.exception("delivery lane failed")
        finally:
            # Removed in the same step as the last look at the queue: a row queued after
            # that look finds no lane and starts a new one.
            del self._lanes[key]
        return sent

    def _settle_interrupted(self) -> None:
        """Once, before this process's first attempt: flag what an earlier process left in flight."""
        if self._settled:
            return
        self._settled = True
        left = self.outbox.in_flight()
        self.outbox.settle_interrupted()
        for count, what in _interrupted_summary(left):
            log.warning("%d outbox row(s) were being sent when the bot stopped: %s", count, what)

    def _target(self, key: ChatKey) -> int | None:
        """The Telegram chat of a queue: the configured staff group, or the prospect's chat."""
        audience, chat_id = key
        return self.staff_chat_id if audience == STAFF else chat_id

    async def _send(self, delivery: Delivery, chat_id: int, slot_held: bool = False) -> bool:
        """Send one row (with the relays merged into it); False when its queue must wait (transient error).

        A row Telegram refuses for good never holds its queue: it is marked failed,
        staff are told once (:attr:`on_problem`), and True lets the lane go on.
        """
        if delivery.maybe_posted and delivery.kind in AT_MOST_ONCE:  # may be out already: lost, never doubled
            self.outbox.fail(delivery.id, "in flight when the process stopped")
            log.info("delivery %s (%s): in flight at a crash, not sent again", delivery.id, delivery.kind)
            return True
        group, delivery = self._group(delivery)
        try:
            # Bulk rows in flight are counted (one by default): a kill can lose at most those, never double them.
            bounded = delivery.kind in AT_MOST_ONCE and not slot_held  # left by an older version in a chat's lane
            async with self._bulk_slots if bounded else contextlib.nullcontext():
                message_id = await self._call(delivery, chat_id, [row.id for row in group])
        except RetryAfter as exc:
            wait = exc.retry_after.total_seconds() if hasattr(exc.retry_after, "total_seconds") else exc.retry_after
            self.outbox.retry_later(delivery.id, self.clock.now(), "429", float(wait))
            self._release(group)
            return False
        except Forbidden as exc:
            self._release(group)
            return self._forbidden(delivery, str(exc))
        except BadRequest as exc:
            self._release(group)
            return self._bad_request(delivery, exc)
        except TimedOut as exc:
            unknown = _may_have_reached_telegram(exc)
            self._retry(delivery, "TimedOut", outcome_unknown=unknown)
            self._release(group, outcome_unknown=unknown)
            return False
        except TelegramError as exc:  # NetworkError, 5xx...: transient
            self._retry(delivery, type(exc).__name__)
            self._release(group)
            return False
        settled = False
        for row in group:
            erased = erased_in_flight(self.outbox.db, row.id)  # /supprimer while the request was out
            self.outbox.mark_sent(row.id, message_id)
            if erased:
                settle_erased(self.outbox.db, row.id, erased, self.clock.now())
                settled = True
        if settled:
            self.kick()
        return True

    def _group(self, delivery: Delivery) -> tuple[list[Delivery], Delivery]:
        """The rows that go as one message with ``delivery`` (lead cards backed up, a chatty prospect's
        relays), and the message itself."""
        batched = self.batch(delivery) if self.batch is not None else None
        if batched is not None:
            return batched
        group = [delivery, *self.outbox.followers(delivery)]
        if len(group) > 1:
            text = "\n".join(row.reply.text for row in group)
            delivery = dataclasses.replace(delivery, reply=dataclasses.replace(delivery.reply, text=text))
        return group, delivery

    def _release(self, group: list[Delivery], outcome_unknown: bool = False) -> None:
        """Rows merged into a message that did not go: they wait in their queue, untouched."""
        if len(group) > 1:
            self.outbox.release([row.id for row in group[1:]], outcome_unknown)

    def _bad_request(self, delivery: Delivery, exc: BadRequest) -> bool:
        """A 400: settled, retried (a lost forum topic) or failed for good; never retried as is."""
        error = str(exc).lower()
        if "message is not modified" in error:
            self.outbox.mark_sent(delivery.id, None)
            return True
        if delivery.edit_of is not None and any(e in error for e in _EDIT_IMPOSSIBLE):
            log.warning("delivery %s (%s): edit impossible, dropped: %s", delivery.id, delivery.kind, exc)
            self.outbox.mark_sent(delivery.id, None)
            return True
        if self.on_thread_lost and any(e in error for e in _THREAD_GONE):
            self.on_thread_lost(delivery)  # the next attempt goes to a new topic
            self._retry(delivery, f"400 {exc}")
            return False
        if delivery.audience == STAFF and any(e in error for e in _GROUP_UNREACHABLE):
            # Not this row's fault: every staff row would fail alike, and failing them all
            # would lose every lead. They wait (capped backoff) until the setting is fixed.
            self._retry(delivery, f"400 {exc}")
            return False
        if delivery.audience == PROSPECT and any(e in error for e in _GROUP_UNREACHABLE):
            return self._forbidden(delivery, str(exc))
        self._fail(delivery, f"400 {exc}")
        return True

    def _fail(self, delivery: Delivery, error: str) -> None:
        """Give up a row Telegram will never accept, and tell staff (once: the row is never tried again)."""
        self.outbox.fail(delivery.id, error)
        log.warning("delivery %s (%s) refused for good: %s", delivery.id, delivery.kind, error)
        if self.on_problem is not None:
            self.on_problem(delivery, FAILED_FOR_GOOD)
            self.kick()

    async def _call(self, delivery: Delivery, chat_id: int, ids: list[int]) -> int | None:
        if visible_len(delivery.reply.text) > TELEGRAM_LIMIT:  # queued before texts were split
            delivery = self.outbox.shorten(delivery)
            log.warning("delivery %s (%s): too long for one message, shortened", delivery.id, delivery.kind)
            if self.on_problem is not None:
                self.on_problem(delivery, SHORTENED)
        if self.prepare is not None:
            delivery = await self.prepare(delivery)
        if delivery.maybe_posted and self.label_resend is not None:
            delivery = self.label_resend(delivery)
        text, keyboard = to_html(truncate_units(delivery.reply.text)), markup(delivery.reply)
        extra = {}
        if self.budget is not None and delivery.kind in AT_MOST_ONCE:
            # The tokens first, the in-flight mark after: waiting behind answers is not being in flight.
            if self.bulk_ceiling is not None:
                await self.bulk_ceiling.acquire(BULK)
            await self.budget.acquire(BULK)
            extra["rate_limit_args"] = PAID
        for row_id in ids:
            self.outbox.begin_attempt(row_id, self.clock.now())
        if delivery.kind == KIND_TOPIC_RENAME:
            return await self._rename_topic(delivery, chat_id)
        if delivery.edit_of is not None:
            target = self.outbox.message_id_of(delivery.edit_of)
            if target is None:
                return None
            await self.bot.edit_message_text(text, chat_id, target, reply_markup=keyboard)
            return target
        reply_to = self.outbox.message_id_of(delivery.reply_to) if delivery.reply_to else None
        message = await self.bot.send_message(
            chat_id, text, reply_markup=keyboard,
            message_thread_id=delivery.thread_id,
            reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None,
            **extra,
        )
        return message.message_id

    async def _rename_topic(self, delivery: Delivery, chat_id: int) -> None:
        """Rename a forum topic (its name showed a prospect's first name, now erased).

        A topic deleted meanwhile, or a name already right, leaves nothing to do.
        """
        try:
            await self.bot.edit_forum_topic(chat_id, delivery.thread_id, name=cut_plain_units(delivery.reply.text, TOPIC_NAME_LIMIT))
        except BadRequest as exc:
            log.info("delivery %s: topic not renamed (%s)", delivery.id, type(exc).__name__)
        return None

    def _retry(self, delivery: Delivery, error: str, outcome_unknown: bool = False) -> None:
        delay = self.outbox.retry_later(delivery.id, self.clock.now(), error, outcome_unknown=outcome_unknown)
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


def _interrupted_summary(left: list[tuple[str, str]]) -> list[tuple[int, str]]:
    """What becomes of the rows an earlier process left in flight, by kind of row, for the start-up log.

    Reminders and campaigns are not sent again (lost at most, counted as failed in their
    figures); staff messages are sent again with a label (edits plainly, an edit shown twice
    is one); messages to prospects are sent again without one.
    """
    lost = sum(1 for _, kind in left if kind in AT_MOST_ONCE)
    staff = sum(1 for audience, kind in left if audience == STAFF and kind not in AT_MOST_ONCE)
    prospects = len(left) - lost - staff
    summary = [(lost, "reminders/campaign messages, not sent again (each counted as lost)"),
               (staff, "staff messages, sent again (labelled as a possible repeat; edits applied again)"),
               (prospects, "messages to prospects, sent again without a label")]
    return [(count, what) for count, what in summary if count]


def _may_have_reached_telegram(exc: TimedOut) -> bool:
    """Whether a timed-out request may have been carried out (only a pool or connect timeout says no)."""
    return not isinstance(exc.__cause__, (httpx.PoolTimeout, httpx.ConnectTimeout))
