"""Telling the staff group, once a week, that the knowledge base is out of date.

``check`` prints the same warnings, but nobody runs it when nothing seems broken: the
bot keeps answering "les dates de la rentrée 2027 ne sont pas encore publiées" for
months. One message per ISO week (the outbox row's ``ref`` is the week) keeps the
reminder visible without flooding the group, survives restarts, and stops by itself
once the base is updated and reloaded.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from bot.conversation.messages import Reply
from bot.knowledge.staleness import staleness_warnings
from bot.storage.outbox import STAFF

if TYPE_CHECKING:
    from bot.staff.desk import StaffDesk

KIND_STALE = "knowledge_stale"


def notify_if_stale(desk: "StaffDesk") -> bool:
    """Queue this week's notice when the base is out of date and none was queued yet; True if queued."""
    if not desk.enabled:
        return False
    now = desk.now()
    warnings = staleness_warnings(desk.assistant.knowledge.current.kb, now.date())
    if not warnings:
        return False
    year, week, _ = now.isocalendar()
    ref = f"{year}-W{week:02d}"
    already = desk.assistant.db.execute(
        "SELECT 1 FROM outbox WHERE audience = ? AND kind = ? AND ref = ? LIMIT 1", [STAFF, KIND_STALE, ref]
    ).fetchone()
    if already:
        return False
    render = desk.render()
    lines = [render.text("staff.base_perimee")] + [f"• {w.message} ({w.path}:{w.line})" for w in warnings]
    with desk.assistant.db.atomic():
        desk.queue_staff(KIND_STALE, Reply("\n".join(lines)), ref=ref)
    return True
