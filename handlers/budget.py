"""Telegram's bot-wide message rate, shared by every sender of the process, by priority.

Telegram lets a bot send about 30 messages a second in all chats together; beyond it
answers 429 to everyone. The bot has two clients (prospects' answers, and the outbox's
own for staff notifications, relays, reminders and campaigns), so the allowance must be
one budget that both draw from, not a limiter each: a campaign of 5,000 messages would
otherwise take the whole rate from prospects, or be held to a small share of it forever.

:class:`SendBudget` is a token bucket refilled at ``rate`` tokens a second. Each request
that Telegram counts (one addressed to a chat) takes one token, in order of priority:
prospects' answers (:data:`ANSWER`), then the outbox's messages (:data:`OUTBOX`), then
bulk rows (:data:`BULK`: reminders and campaigns). Bulk takes only what is left and
never the last :attr:`SendBudget.reserve` tokens, so an answer finds a token at once even
in the middle of a campaign; in a quiet moment bulk runs at the full rate.

:class:`BudgetLimiter` is the python-telegram-bot adapter: each client keeps PTB's
``AIORateLimiter`` for what it does well (the per-group limit of ~20 a minute, waiting out
a 429) with its own overall limit switched off, and draws every chat request from the
shared budget right before it leaves.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import Any, Callable, Coroutine

from telegram.ext import AIORateLimiter, BaseRateLimiter

#: Priorities, highest first. PAID: the caller already took the token (see Deliverer).
ANSWER, OUTBOX, BULK = 0, 1, 2
PAID = -1
PRIORITIES = (ANSWER, OUTBOX, BULK)
#: Tokens bulk never takes: what an answer finds at once while a campaign runs.
RESERVE = 3


class SendBudget:
    """A token bucket shared by all senders, served by priority (first come first served within one)."""

    def __init__(self, rate: float, reserve: int = RESERVE) -> None:
        if rate <= 0:
            raise ValueError("the rate must be positive")
        self.rate = float(rate)
        self.reserve = reserve
        #: One second's worth, like PTB's limiter; at least enough for the reserve plus one bulk request.
        self.capacity = max(self.rate, reserve + 1.0)
        self._tokens = self.capacity
        self._stamp = time.monotonic()
        self._queues: dict[int, deque[asyncio.Future[None]]] = {p: deque() for p in PRIORITIES}
        self._dispatcher: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        #: How many tokens each priority took (figures for benchmarks and tests).
        self.taken: dict[int, int] = {p: 0 for p in PRIORITIES}

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def _need(self, priority: int) -> float:
        """Tokens that must be there for ``priority`` to take one (bulk leaves the reserve)."""
        return 1.0 + self.reserve if priority == BULK else 1.0

    def _take(self, priority: int) -> None:
        self._tokens -= 1.0
        self.taken[priority] += 1

    async def acquire(self, priority: int) -> None:
        """Wait for a token: never before a waiting request of the same or a higher priority."""
        self._refill()
        if not any(self._queues[p] for p in PRIORITIES if p <= priority) and self._tokens >= self._need(priority):
            self._take(priority)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues[priority].append(waiter)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="send-budget")
        else:
            self._changed.set()  # a higher priority may have arrived: recompute the wait
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._tokens += 1.0  # granted as it was cancelled: give the token back
                self.taken[priority] -= 1
            raise

    async def _dispatch(self) -> None:
        """Hand tokens to the waiters, highest priority first, as the bucket refills."""
        while True:
            head = next(((p, q) for p, q in ((p, self._queues[p]) for p in PRIORITIES) if q), None)
            if head is None:
                return
            priority, queue = head
            if queue[0].done():  # cancelled while waiting
                queue.popleft()
                continue
            self._refill()
            need = self._need(priority)
            if self._tokens >= need:
                self._take(priority)
                queue.popleft().set_result(None)
                continue
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), (need - self._tokens) / self.rate)


Callback = Callable[..., Coroutine[Any, Any, Any]]


class BudgetLimiter(BaseRateLimiter[int]):
    """A client's rate limiter: PTB's per-group limit and 429 handling, the shared budget for the rest.

    ``rate_limit_args`` of a request (a bot method's ``rate_limit_args=``) is its priority;
    the client's ``priority`` when not given. :data:`PAID`: the caller took the token itself.
    """

    def __init__(self, budget: SendBudget, priority: int, max_retries: int = 0) -> None:
        self.budget = budget
        self.priority = priority
        self.inner = AIORateLimiter(overall_max_rate=0, max_retries=max_retries)

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def process_request(self, callback: Callback, args: Any, kwargs: dict[str, Any], endpoint: str,
                              data: dict[str, Any], rate_limit_args: int | None) -> Any:
        priority = self.priority if rate_limit_args is None else rate_limit_args
        if data.get("chat_id") is None or priority == PAID:  # Telegram counts messages to chats only
            return await self.inner.process_request(callback, args, kwargs, endpoint, data, None)

        async def counted(*call_args: Any, **call_kwargs: Any) -> Any:
            # Inside PTB's limiter: after the group's wait, so the token is spent when the request leaves
            # (and again for a retry after a 429: Telegram counts that one too).
            await self.budget.acquire(priority)
            return await callback(*call_args, **call_kwargs)

        return await self.inner.process_request(counted, args, kwargs, endpoint, data, None)
