"""A reminder round: what is due now goes into the outbox, once.

The round runs often (a job of the bot); each time it computes, from the current
knowledge, which occurrences of each subscription are due, and for each one either
queues it or records why not. Queuing writes the log row (unique per prospect, kind
and occurrence) and the outbox row in one transaction: a process killed mid-round
leaves both or neither, so a restart never queues a reminder twice. The outbox then
delivers it with its usual rules (retries, limits, restarts); a reminder row whose
request was in flight when the process died is not sent again (see
``handlers/delivery.py``): at most that one is lost, never doubled.

Respect is in the rules: nothing in quiet hours (the due reminder waits), at most
:data:`WEEKLY_LIMIT` a week per prospect, nothing to a prospect who blocked the bot,
and an occurrence whose moment has passed (bot down for days) is dropped.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass

from bot.clock import PARIS
from bot.conversation.faq import ENTRY
from bot.conversation.messages import Button, Reply
from bot.knowledge.render import Renderer, french_date, french_time
from bot.reminders.model import ReminderKind
from bot.reminders.schedule import Occurrence, is_quiet, occurrences
from bot.reminders.store import DROPPED, KIND_REMINDER, QUEUED, ReminderStore
from bot.storage.outbox import PROSPECT, Outbox
from bot.storage.times import from_db

log = logging.getLogger(__name__)

WEEKLY_LIMIT = 2
#: Callback data of a reminder's buttons: stop this kind, answer a follow-up.
OFF = "rp:off:"
ANSWER = "rp:a:"


@dataclass
class Decision:
    """What a round decided for one due occurrence."""

    user_id: int
    kind: ReminderKind
    occurrence: Occurrence


def due_now(store: ReminderStore, kb, now: dt.datetime) -> tuple[list[Decision], list[Decision]]:
    """(to send, to drop) for every active subscription at ``now``; the weekly limit is applied by the caller.

    Only occurrences due after the consent count; of several due at once for one kind,
    only the latest is sent (the older ones are superseded, never sent late).
    """
    send: list[Decision] = []
    drop: list[Decision] = []
    for user_id, kind_id, consent_at in store.all_active():
        kind = kb.reminders.get(kind_id)
        if kind is None:  # removed from the base: nothing to send
            continue
        consent = from_db(consent_at)
        done = store.decided(user_id, kind_id)
        due = [o for o in occurrences(kind, kb, store.events(user_id))
               if o.key not in done and consent <= o.due <= now]
        live = [o for o in due if now < o.expires]
        latest = max(live, key=lambda o: o.due) if live else None
        drop += [Decision(user_id, kind, o) for o in due if o is not latest]
        if latest is not None:
            send.append(Decision(user_id, kind, latest))
    return send, drop


def reminder_reply(render: Renderer, kind: ReminderKind, occurrence: Occurrence, today: dt.date) -> Reply:
    """The reminder as the prospect reads it: its text (dates from the base), its buttons."""
    params: dict[str, object] = {}
    if occurrence.target is not None:
        params["date"] = french_date(occurrence.target)
        params["quand"] = render.countdown(occurrence.target)
    if occurrence.hours:
        start, end = occurrence.hours.split("-")
        params["heure"] = f"{french_time(start)}–{french_time(end)}"
    text = render.text(kind.text_key, **params)
    buttons: list[list[Button]] = []
    if kind.answers:
        buttons.append([Button(render.text("rappels.bouton_trouve"), ANSWER + "trouve"),
                        Button(render.text("rappels.bouton_pas_encore"), ANSWER + "pas_encore")])
        buttons.append([Button(render.text("rappels.bouton_plus_interesse"), ANSWER + "plus_interesse")])
    buttons += [[Button(render.kb.entries[e].title, ENTRY + e)] for e in kind.entries if e in render.kb.entries]
    buttons.append([Button(render.text("rappels.bouton_ne_plus_recevoir"), OFF + kind.id)])
    return Reply(text, buttons)


def run_round(db, loaded, now: dt.datetime) -> Counter:
    """Queue what is due at ``now``; returns counts (queued, dropped, waiting...), never who."""
    counts: Counter = Counter()
    store = ReminderStore(db)
    counts["blocked"] = store.mark_blocked_from_outbox(now)
    if is_quiet(now):
        counts["quiet"] = 1
        return counts
    kb = loaded.kb
    send, drop = due_now(store, kb, now)
    outbox = Outbox(db)
    for decision in drop:
        with db.atomic():
            store.log(decision.user_id, decision.kind.id, decision.occurrence.key, DROPPED, now)
        counts["dropped"] += 1
    render = loaded.renderer(now.astimezone(PARIS).date())
    week_ago = now - dt.timedelta(days=7)
    for decision in sorted(send, key=lambda d: d.occurrence.due):
        if store.sent_since(decision.user_id, week_ago) >= WEEKLY_LIMIT:
            counts["waiting_weekly_limit"] += 1
            continue
        reply = reminder_reply(render, decision.kind, decision.occurrence, now.date())
        with db.atomic():
            row = outbox.put(PROSPECT, KIND_REMINDER, reply, now, chat_id=decision.user_id, ref=decision.kind.id,
                             bulk=True)  # the bulk lane: what answers leave of the rate, never a prospect's lane
            store.log(decision.user_id, decision.kind.id, decision.occurrence.key, QUEUED, now, row)
        counts[f"queued:{decision.kind.id}"] += 1
    return counts


def preview(db, kb, day: dt.date) -> Counter:
    """What would be sent on ``day`` (counts per kind), without sending or writing anything.

    Quiet days (Sunday) show nothing; the weekly limit is applied to that day's own reminders.
    """
    store = ReminderStore(db)
    counts: Counter = Counter()
    if day.weekday() == 6:
        return counts
    per_person: Counter = Counter()
    for user_id, kind_id, consent_at in store.all_active():
        kind = kb.reminders.get(kind_id)
        if kind is None:
            continue
        consent = from_db(consent_at)
        done = store.decided(user_id, kind_id)
        week_ago = dt.datetime.combine(day, dt.time(0, 0), tzinfo=PARIS) - dt.timedelta(days=7)
        for occurrence in occurrences(kind, kb, store.events(user_id)):
            if occurrence.key in done or occurrence.due < consent or occurrence.due.date() != day:
                continue
            if store.sent_since(user_id, week_ago) + per_person[user_id] >= WEEKLY_LIMIT:
                counts["(limite hebdomadaire)"] += 1
                continue
            per_person[user_id] += 1
            counts[kind_id] += 1
    return counts
