"""Lead follow-up (``bot/staff/followup.py``): assignment, /mes_leads, the 2-working-day recall, the digest."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.clock import PARIS
from bot.conversation.engine import Assistant
from bot.conversation.messages import Incoming, Kind
from bot.staff.followup import KIND_DIGEST, KIND_RECALL, add_working_days
from bot.storage.staff import KIND_LEAD
from test_staff import (MARIE, MONDAY_10H, ZOE, assistant, build, deliver_all, knowledge,  # noqa: F401
                        message_of, outbox_rows, pre_register, staff)

FRIDAY_10H = dt.datetime(2026, 3, 6, 10, 0, tzinfo=PARIS)


def test_working_days_skip_the_weekend() -> None:
    days = frozenset(range(1, 6))
    assert add_working_days(FRIDAY_10H, 2, days) == dt.datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)
    assert add_working_days(MONDAY_10H, 2, days) == dt.datetime(2026, 3, 4, 10, 0, tzinfo=PARIS)


def test_assignment_and_mes_leads(assistant: Assistant) -> None:
    ref = pre_register(assistant)
    deliver_all(assistant)
    assert "aucune" in staff(assistant, command="mes_leads").replies[0].text
    staff(assistant, callback_data=f"s:l:en_charge:{ref}", message_id=message_of(assistant, KIND_LEAD))
    mine = staff(assistant, command="mes_leads").replies[0].text
    assert ref in mine and "Zoé" in mine


def test_recalled_once_after_two_working_days_to_the_assignee(assistant: Assistant) -> None:
    clock = assistant.clock
    ref = pre_register(assistant)
    deliver_all(assistant)
    staff(assistant, callback_data=f"s:l:en_charge:{ref}", message_id=message_of(assistant, KIND_LEAD))
    followup = assistant.staff.followup
    clock.at = MONDAY_10H + dt.timedelta(days=1, hours=23)  # Tuesday 9h: one working day and 23 hours
    followup.tick()
    assert outbox_rows(assistant, KIND_RECALL) == []
    clock.at = MONDAY_10H + dt.timedelta(days=2, minutes=1)
    followup.tick()
    followup.tick()
    [recall] = outbox_rows(assistant, KIND_RECALL)
    assert ref in recall["text"] and "Marie" in recall["text"]
    clock.at += dt.timedelta(days=5)
    followup.tick()
    assert len(outbox_rows(assistant, KIND_RECALL)) == 1


def test_a_closed_lead_is_not_recalled(assistant: Assistant) -> None:
    ref = pre_register(assistant)
    deliver_all(assistant)
    staff(assistant, callback_data=f"s:l:clos:{ref}", message_id=message_of(assistant, KIND_LEAD))
    assistant.clock.at = MONDAY_10H + dt.timedelta(days=3)
    assistant.staff.followup.tick()
    assert outbox_rows(assistant, KIND_RECALL) == []


def test_daily_digest_on_working_days_at_digest_time(knowledge, tmp_path: Path) -> None:  # noqa: F811
    assistant = build(knowledge, tmp_path / "bot.db", digest_time=dt.time(8, 30))
    pre_register(assistant)
    assistant.handle(Incoming(ZOE, Kind.TEXT, "on fait du sport pendant les cours"))
    followup = assistant.staff.followup
    clock = assistant.clock
    clock.at = dt.datetime(2026, 3, 3, 8, 29, tzinfo=PARIS)
    followup.tick()
    assert outbox_rows(assistant, KIND_DIGEST) == []
    clock.at = dt.datetime(2026, 3, 3, 8, 30, tzinfo=PARIS)
    followup.tick()
    followup.tick()
    [digest] = outbox_rows(assistant, KIND_DIGEST)
    text = digest["text"]
    assert "Nouvelles pré-inscriptions depuis le dernier point : 1" in text
    assert "En attente de prise en charge : 1 (MCO-" in text
    assert "sans réponse de l'équipe : 0" in text
    assert "on fait du sport pendant les cours" in text
    clock.at = dt.datetime(2026, 3, 7, 9, 0, tzinfo=PARIS)  # Saturday: no digest
    followup.tick()
    assert len(outbox_rows(assistant, KIND_DIGEST)) == 1
    clock.at = dt.datetime(2026, 3, 9, 9, 0, tzinfo=PARIS)  # Monday: since the last digest
    followup.tick()
    assert "depuis le dernier point : 0" in outbox_rows(assistant, KIND_DIGEST)[-1]["text"]
