"""The bot-wide message rate (handlers/budget.py): one budget, answers first, bulk leaves a reserve.

Ordering only, never durations: which request got its token first, and which did not have to wait.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from bot.clock import PARIS, crossed
from handlers.budget import ANSWER, BULK, OUTBOX, PAID, BudgetLimiter, SendBudget


def drained(rate: float = 50.0) -> SendBudget:
    budget = SendBudget(rate)
    budget._tokens = 0.0  # as after a burst
    return budget


def test_waiting_requests_get_tokens_by_priority_whatever_their_arrival() -> None:
    async def scenario() -> list[str]:
        budget, order = drained(), []

        async def take(priority: int, name: str) -> None:
            await budget.acquire(priority)
            order.append(name)

        tasks = [asyncio.create_task(take(p, n)) for p, n in
                 ((BULK, "campaign"), (OUTBOX, "relay"), (BULK, "campaign 2"), (ANSWER, "answer"))]
        await asyncio.gather(*tasks)
        return order

    assert asyncio.run(scenario()) == ["answer", "relay", "campaign", "campaign 2"]


def test_bulk_never_takes_the_reserve_so_an_answer_does_not_wait_during_a_campaign() -> None:
    async def scenario() -> tuple[bool, bool, dict[int, int]]:
        budget = SendBudget(0.001, reserve=3)  # refills too slowly to matter here: the bucket holds 4 tokens
        await budget.acquire(BULK)  # 4 -> 3: the reserve is what is left
        second = asyncio.create_task(budget.acquire(BULK))
        answers = [asyncio.create_task(budget.acquire(ANSWER)) for _ in range(3)]
        await asyncio.sleep(0)
        state = second.done(), all(a.done() for a in answers), dict(budget.taken)
        second.cancel()
        await asyncio.gather(second, *answers, return_exceptions=True)
        if budget._dispatcher is not None:
            budget._dispatcher.cancel()
        return state

    bulk_done, answers_done, taken = asyncio.run(scenario())
    assert not bulk_done and answers_done and taken == {ANSWER: 3, OUTBOX: 0, BULK: 1}


class Recorder:
    """A stand-in for PTB's request callback."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, name: str) -> dict[str, Any]:
        self.calls.append(name)
        return {"ok": True}


def test_the_limiter_counts_chat_requests_at_its_priority_and_trusts_paid_ones() -> None:
    async def scenario() -> SendBudget:
        budget = SendBudget(100.0)
        answers, outbox = BudgetLimiter(budget, ANSWER, max_retries=5), BudgetLimiter(budget, OUTBOX)
        callback = Recorder()
        await answers.process_request(callback, ("send",), {}, "sendMessage", {"chat_id": 5}, None)
        await answers.process_request(callback, ("toast",), {}, "answerCallbackQuery", {"callback_query_id": "1"},
                                      None)
        await outbox.process_request(callback, ("staff",), {}, "sendMessage", {"chat_id": -100}, None)
        await outbox.process_request(callback, ("bulk",), {}, "sendMessage", {"chat_id": 6}, BULK)
        await outbox.process_request(callback, ("paid",), {}, "sendMessage", {"chat_id": 7}, PAID)
        assert callback.calls == ["send", "toast", "staff", "bulk", "paid"]
        return budget

    budget = asyncio.run(scenario())
    assert budget.taken == {ANSWER: 1, OUTBOX: 1, BULK: 1}  # the toast is not a message, the paid one took its own


def test_a_daily_time_is_crossed_once_by_the_bots_clock() -> None:
    def at(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text).replace(tzinfo=PARIS)

    purge = dt.time(3, 30)
    assert crossed(at("2026-03-18T03:29:58"), at("2026-03-18T03:30:03"), purge)
    assert not crossed(at("2026-03-18T03:30:03"), at("2026-03-18T03:30:08"), purge)  # once
    assert not crossed(at("2026-03-18T03:29:00"), at("2026-03-18T03:29:59"), purge)
    assert crossed(at("2026-03-17T23:59:58"), at("2026-03-18T09:00:00"), dt.time(9, 0))  # over midnight
    utc = dt.datetime(2026, 3, 18, 2, 29, 59, tzinfo=dt.timezone.utc)  # 03:29:59 in Paris
    assert crossed(utc, utc + dt.timedelta(seconds=2), purge)
