"""The pre-registration records which intake the person aims at (issue 11).

Asked only when two are possible (between the start day and the late-entry
deadline); otherwise recorded without a question. Staff see it on the lead card, in
``/lead`` and in the export.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.clock import PARIS
from bot.conversation.messages import Incoming, Kind
from bot.knowledge.store import KnowledgeStore
from bot.registration import steps
from tests.test_staff import GOOD, PRESS, ROOT, ZOE, MovableClock, build, outbox_rows, say, staff


def register(assistant, intake_code: str | None) -> tuple[str, list[str]]:
    """The real form; returns the reference and the steps that were asked."""
    asked: list[str] = []
    say(assistant, Kind.COMMAND, "inscription")
    say(assistant, Kind.BUTTON, "f:ok")
    for _ in range(15):
        step = assistant.db.execute("SELECT step FROM drafts WHERE user_id = ?", [ZOE.user_id]).fetchone()[0]
        if step == steps.SUMMARY:
            break
        asked.append(step)
        if step in steps.TYPED:
            say(assistant, Kind.TEXT, GOOD[step])
        else:
            say(assistant, Kind.BUTTON, f"f:v:{step}:{intake_code if step == steps.INTAKE else PRESS[step]}")
    say(assistant, Kind.BUTTON, "f:send")
    ref = assistant.db.execute("SELECT ref FROM registrations WHERE user_id = ?", [ZOE.user_id]).fetchone()[0]
    return ref, asked


@pytest.mark.parametrize("day, code, expected, asked", [
    (dt.date(2026, 3, 2), None, "2026-2027", False),
    (dt.date(2026, 10, 5), "suivante", "2027-2028", True),
    (dt.date(2026, 10, 5), "en_cours", "2026-2027", True),
    (dt.date(2027, 1, 11), None, "2027-2028", False),
])
def test_the_intake_is_recorded_and_shown_to_staff(tmp_path: Path, day: dt.date, code: str | None,
                                                   expected: str, asked: bool) -> None:
    clock = MovableClock(dt.datetime.combine(day, dt.time(10), tzinfo=PARIS))
    assistant = build(KnowledgeStore(ROOT / "knowledge"), tmp_path / "bot.db", clock=clock)
    ref, steps_asked = register(assistant, code)
    assert (steps.INTAKE in steps_asked) is asked
    row = assistant.db.execute("SELECT intake FROM registrations WHERE ref = ?", [ref]).fetchone()
    assert row[0] == expected
    card = outbox_rows(assistant, "lead")[-1]["text"]
    assert f"rentrée {expected}" in card
    assert f"rentrée {expected}" in staff(assistant, command="lead", args=(ref,)).replies[0].text
    export = staff(assistant, command="export").replies[0]
    content = export.document[1].decode("utf-8-sig") if export.document else ""
    assert "Rentrée visée" in content and expected in content


def test_the_intake_question_offers_only_the_two_possible_intakes(tmp_path: Path) -> None:
    clock = MovableClock(dt.datetime(2026, 10, 5, 10, tzinfo=PARIS))
    assistant = build(KnowledgeStore(ROOT / "knowledge"), tmp_path / "bot.db", clock=clock)
    say(assistant, Kind.COMMAND, "inscription")
    say(assistant, Kind.BUTTON, "f:ok")
    replies = []
    for _ in range(15):
        step = assistant.db.execute("SELECT step FROM drafts WHERE user_id = ?", [ZOE.user_id]).fetchone()[0]
        if step == steps.INTAKE:
            break
        value = GOOD[step] if step in steps.TYPED else f"f:v:{step}:{PRESS[step]}"
        replies = assistant.handle(Incoming(ZOE, Kind.TEXT if step in steps.TYPED else Kind.BUTTON, value))
    question = replies[-1]
    assert "Pour quelle **rentrée**" in question.text
    assert [b.data for row in question.buttons for b in row] == ["f:v:intake:en_cours", "f:v:intake:suivante"]
    assert "2026-2027" in question.buttons[0][0].label
