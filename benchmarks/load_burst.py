"""The lead-burst scenario of ``load.py --lead-burst N``: N leads confirmed at the same moment.

After a fair, many people confirm their pre-registration within a minute, and Telegram
lets a bot post only about 20 messages a minute in the staff group. The scenario: N
prospects fill in the real form against the real bot (Bot API double, as in the main
load test) up to its summary, wait for each other, then all press "Confirmer" at once.
Measured from that instant: when the last lead is visible in the staff group (its
reference appears in a message there), how many group messages carried them, how many
leads never appeared (lost) or appeared twice. Cards that back up are grouped up to 10
per message (``bot/staff/leads.py``): at 20 messages a minute, 200 leads fit in about
20 messages.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import re
import time
from pathlib import Path

from testing.botapi import BotApiDouble

from load_driver import ApiWatch, Conversation, start_bot
from load_scenario import STAFF_CHAT_ID, STAFF_USER_ID, build_prospects, load_texts, template_regex, text_of

REF = re.compile(r"MCO-[A-Z0-9]{6}")


async def run_burst(args: argparse.Namespace, workdir: Path) -> int:
    """Play the scenario and print its figures; returns the number of leads lost."""
    count = args.lead_burst
    texts = load_texts()
    double = BotApiDouble().start()
    watch = ApiWatch(STAFF_CHAT_ID)
    double.register_group(STAFF_CHAT_ID, "Équipe admissions",
                          members=[{"id": STAFF_USER_ID, "first_name": "Claire", "last_name": "Staff"}])
    process = start_bot("bot", double, workdir / "burst", args)
    double.add_listener(watch)
    try:
        prospects = [_form_only(p) for p in build_prospects(count, args.seed)]
        flood, confirmed = template_regex(texts["general.trop_vite"]), template_regex(texts["form.confirme"])
        conversations = [Conversation(double, p, echo=False, reply_timeout=args.reply_timeout, think=0,
                                      flood=flood, ref_pattern=confirmed, rng=random.Random(args.seed + p.user_id))
                         for p in prospects]
        filled_started = time.monotonic()
        await asyncio.gather(*(c.run() for c in conversations))
        ready = [c for c in conversations if c.outcome.finished]
        print(f"{len(ready)}/{count} prospects at the summary of the form in "
              f"{time.monotonic() - filled_started:.0f} s; all press « Confirmer » now", flush=True)
        mark, burst = double.mark(), time.monotonic()
        for conversation in ready:
            double.click_button(conversation.prospect.user_id, texts["form.bouton_confirmer"])
        refs = await _references(double, ready, mark, args.reply_timeout)
        print(f"{len(refs)} leads confirmed (last confirmation {time.monotonic() - burst:.1f} s after the burst)",
              flush=True)
        last_seen = await _wait_visible(watch, set(refs), args.lead_timeout, args.lead_idle)
        _report(watch, refs, burst, last_seen)
        return len(set(refs) - _seen(watch))
    finally:
        await asyncio.to_thread(process.stop, 15)
        double.stop()


def _form_only(prospect):
    """The prospect's steps from ``/inscription`` to the summary (the confirmation is the burst)."""
    names = [s.name for s in prospect.steps]
    return dataclasses.replace(prospect, steps=prospect.steps[names.index("inscription"):names.index("confirm")])


async def _references(double: BotApiDouble, ready: list[Conversation], mark: int, timeout: float) -> list[str]:
    """The reference each prospect was given on confirming."""
    async def one(conversation: Conversation) -> str | None:
        try:
            message = await double.wait_for_message_async(
                lambda m: REF.search(text_of(m)) is not None, chat_id=conversation.prospect.user_id, since=mark,
                timeout=timeout)
        except (AssertionError, TimeoutError):
            return None
        return REF.search(text_of(message)).group(0)

    return [ref for ref in await asyncio.gather(*(one(c) for c in ready)) if ref]


def _seen(watch: ApiWatch) -> set[str]:
    with watch._lock:
        return {ref for _at, text in watch.staff_messages for ref in REF.findall(text)}


async def _wait_visible(watch: ApiWatch, refs: set[str], timeout: float, idle: float) -> float | None:
    """Wait until every reference appeared in the staff group; the monotonic time of the last one, or None."""
    started = time.monotonic()
    last_count, last_change = 0, started
    while True:
        seen = _seen(watch) & refs
        now = time.monotonic()
        if seen == refs:
            with watch._lock:
                return max(at for at, text in watch.staff_messages if refs & set(REF.findall(text)))
        if len(seen) != last_count:
            last_count, last_change = len(seen), now
        if now - started >= timeout or now - last_change >= idle:
            return None
        await asyncio.sleep(0.1)


def _report(watch: ApiWatch, refs: list[str], burst: float, last_seen: float | None) -> None:
    with watch._lock:
        messages = [(at, text) for at, text in watch.staff_messages if REF.search(text)]
    counts = {ref: sum(text.count(ref) for _at, text in messages) for ref in refs}
    per_message = [len(set(REF.findall(text))) for _at, text in messages]
    lost = sum(1 for n in counts.values() if n == 0)
    doubled = sum(1 for n in counts.values() if n > 1)
    print()
    print(f"lead burst: {len(refs)} leads confirmed at once")
    if last_seen is None:
        print("  last lead visible in the staff group: NOT ALL (see lost)")
    else:
        print(f"  last lead visible in the staff group: {last_seen - burst:.1f} s after the burst (target ≈ 120 s)")
    print(f"  group messages carrying them: {len(messages)} (leads per message: max {max(per_message, default=0)}, "
          f"alone {sum(1 for n in per_message if n == 1)})")
    print(f"  lost: {lost}, shown more than once: {doubled}")
