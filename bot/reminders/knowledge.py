"""Reading and checking ``knowledge/reminders.yaml`` with the loader's ``file:line`` problems."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from bot.reminders.model import ANSWERS, EVENTS, OFFERS, ReminderKind, Trigger

REMINDERS_FILE = "reminders.yaml"
FIELDS = {"id": True, "offer": True, "text": True, "name": True, "trigger": True, "at": False, "entries": False, "answers": False}
TRIGGER_KEYS = {"open_days", "fact", "days_before", "after", "days", "every_days", "until_fact"}
_TIME = re.compile(r"^\d{1,2}:\d{2}$")


def read_reminders(ctx: Any, directory: Path, kb: Any) -> dict[str, ReminderKind]:
    """The kinds of reminder, checked against the facts, entries and texts already loaded.

    A missing file means no reminders (a base without them still loads).
    """
    from bot.knowledge.loader import _fields, _rel, _top, _valid_id

    path = directory / REMINDERS_FILE
    if not path.exists():
        return {}
    data = _top(ctx, path, "reminders", list)
    kinds: dict[str, ReminderKind] = {}
    for index, item in enumerate(data or []):
        line = data.line_of(index)
        fields = _fields(ctx, item, line, FIELDS, "rappel")
        if fields is None or not _valid_id(ctx, fields["id"], item.line_of("id")):
            continue
        kind = _kind(ctx, fields, item, line, kb)
        if kind is None:
            continue
        if kind.id in kinds:
            ctx.problem(line, f"rappel « {kind.id} » en double")
            continue
        kinds[kind.id] = ReminderKind(**{**kind.__dict__, "path": _rel(ctx, path), "line": line})
    return kinds


def _kind(ctx: Any, fields: dict, item: Any, line: int, kb: Any) -> ReminderKind | None:
    rid = fields["id"]
    ok = True
    if fields["offer"] not in OFFERS:
        ctx.problem(item.line_of("offer"), f"rappel « {rid} » : « offer » doit être l'un de {', '.join(OFFERS)}")
        ok = False
    trigger = _trigger(ctx, fields["trigger"], item.line_of("trigger"), rid, kb)
    at = _at(ctx, fields.get("at"), item.line_of("at") if "at" in item else line, rid)
    entries = tuple(str(e) for e in (fields.get("entries") or []))
    for name in entries:
        if name not in kb.entries:
            ctx.problem(item.line_of("entries"), f"rappel « {rid} » : entrée inconnue « {name} »")
            ok = False
    answers = _answers(ctx, fields.get("answers"), item.line_of("answers") if "answers" in item else line, rid)
    for name in ("text", "name"):
        if str(fields[name]) not in kb.texts:
            ctx.problem(item.line_of(name), f"rappel « {rid} » : texte « {fields[name]} » inconnu "
                                            "(une clé de texts/*.yaml, par exemple rappels.xxx)")
            ok = False
    if not ok or trigger is None or at is None or answers is None:
        return None
    return ReminderKind(rid, fields["offer"], trigger, str(fields["text"]), str(fields["name"]), at, entries, answers)


def _trigger(ctx: Any, raw: Any, line: int, rid: str, kb: Any) -> Trigger | None:
    if not isinstance(raw, dict) or not raw or set(raw) - TRIGGER_KEYS:
        ctx.problem(line, f"rappel « {rid} » : « trigger » s'écrit {{open_days: [2, 1]}}, "
                          "{fact: date_xxx, days_before: [14]}, {after: preinscription, days: 3} "
                          "ou {after: preinscription, every_days: 21, until_fact: date_xxx}")
        return None

    def days(value: Any) -> tuple[int, ...] | None:
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 365 for v in items):
            return None
        return tuple(items)

    def date_fact(name: Any) -> bool:
        if not isinstance(kb.facts.get(name), dt.date):
            ctx.problem(line, f"rappel « {rid} » : « {name} » n'est pas une date de facts.yaml")
            return False
        return True

    if "open_days" in raw:
        before = days(raw["open_days"])
        if before is None or len(raw) != 1:
            ctx.problem(line, f"rappel « {rid} » : open_days: [jours avant], par exemple [2, 1]")
            return None
        return Trigger(open_days=before)
    if "fact" in raw:
        before = days(raw.get("days_before", 0))
        if before is None or set(raw) - {"fact", "days_before"}:
            ctx.problem(line, f"rappel « {rid} » : {{fact: date_xxx, days_before: [jours avant]}}")
            return None
        return Trigger(fact=raw["fact"], days_before=before) if date_fact(raw["fact"]) else None
    if raw.get("after") not in EVENTS:
        ctx.problem(line, f"rappel « {rid} » : « after » doit être l'un de {', '.join(EVENTS)}")
        return None
    if "every_days" in raw:
        every = raw["every_days"]
        if not isinstance(every, int) or every < 1 or set(raw) - {"after", "every_days", "until_fact"} \
                or "until_fact" not in raw:
            ctx.problem(line, f"rappel « {rid} » : {{after: …, every_days: N, until_fact: date_xxx}}")
            return None
        return Trigger(after=raw["after"], every_days=every, until_fact=raw["until_fact"]) \
            if date_fact(raw["until_fact"]) else None
    delay = raw.get("days")
    if not isinstance(delay, int) or delay < 0 or set(raw) - {"after", "days"}:
        ctx.problem(line, f"rappel « {rid} » : {{after: …, days: N}} (N jours après)")
        return None
    return Trigger(after=raw["after"], days=delay)


def _at(ctx: Any, raw: Any, line: int, rid: str) -> dt.time | None:
    if raw is None:
        return dt.time(10, 0)
    text = str(raw).strip()
    if not _TIME.match(text):
        ctx.problem(line, f"rappel « {rid} » : heure invalide « {text} » (HH:MM)")
        return None
    moment = dt.time.fromisoformat(text.zfill(5))
    if not dt.time(9, 0) <= moment < dt.time(20, 0):
        ctx.problem(line, f"rappel « {rid} » : « at » doit être entre 09:00 et 20:00 (heures calmes)")
        return None
    return moment


def _answers(ctx: Any, raw: Any, line: int, rid: str) -> dict[str, tuple[str, ...]] | None:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) - set(ANSWERS) or not all(
            isinstance(v, list) and v and all(isinstance(p, str) and p.strip() for p in v) for v in raw.values()):
        ctx.problem(line, f"rappel « {rid} » : « answers » : {', '.join(ANSWERS)}, chacune une liste de phrases")
        return None
    return {key: tuple(p.strip() for p in value) for key, value in raw.items()}
