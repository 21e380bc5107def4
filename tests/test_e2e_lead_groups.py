"""End to end: lead cards backed up behind the staff group's rate limit go out grouped.

200 pre-registrations confirmed while the bot was away (the real form, in the core,
on the bot's own database file) wait in the outbox; the real bot process then
delivers them through python-telegram-bot and the Bot API double: grouped ten to a
message, every reference once, each with its own ``/lead_…`` command. A status set
from that command's card, and an erasure (``/supprimer``), edit the right part of the
shared message and leave the others as they were.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import test_staff
from bot.clock import Clock
from bot.conversation.messages import Person
from bot.knowledge.store import KnowledgeStore
from bot.registration import steps
from bot.text_units import TELEGRAM_LIMIT, utf16_len
from e2e_support import PROJECT_ROOT, bot_process_factory, botapi_double  # noqa: F401 (fixtures)
from test_e2e_staff import MARIE, REF, STAFF, buttons, command, db_rows, press, start_bot

LEADS = 200
FIRST_USER = 90_000


def confirm_leads(tmp_path: Path, count: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[int, str]]:
    """``count`` pre-registrations through the real form on the bot's database: ref -> (user id, last name)."""
    knowledge = KnowledgeStore(PROJECT_ROOT / "knowledge")
    assistant = test_staff.build(knowledge, tmp_path / "bot.db", Clock(), staff_chat_id=STAFF, staff_user_ids=(MARIE,))
    monkeypatch.setitem(test_staff.PRESS, steps.INTAKE, steps.INTAKE_NEXT)  # asked on today's real date or not
    leads = {}
    for number in range(count):
        name = "Nom" + "".join("abcdefghij"[int(digit)] for digit in f"{number:03d}")  # letters only, all distinct
        monkeypatch.setitem(test_staff.GOOD, steps.LAST_NAME, name)
        user = FIRST_USER + number
        ref = test_staff.pre_register(assistant, Person(user, "Inès", name))
        leads[ref] = (user, name)
    assistant.db.conn.close()
    return leads


def grouped_messages(double: Any) -> list[dict]:
    return [m for m in double.messages_to(STAFF) if REF.search(m.get("text") or "")]


def message_with(double: Any, ref: str) -> dict:
    [message] = [m for m in grouped_messages(double) if ref in m["text"]]
    return message


def part_of(text: str, ref: str) -> str:
    """The part of a grouped message about one lead (parts are separated by a blank line)."""
    return next(part for part in text.split("\n\n") if ref in part)


def test_a_burst_of_200_leads_is_grouped_and_each_lead_keeps_its_own_actions(
        botapi_double: Any, bot_process_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    double = botapi_double
    leads = confirm_leads(tmp_path, LEADS, monkeypatch)
    start_bot(bot_process_factory, double)

    def all_visible() -> bool:
        text = "\n".join(m["text"] for m in grouped_messages(double))
        return all(ref in text for ref in leads)

    double.wait_until(all_visible, 60, "every lead in the group")
    messages = grouped_messages(double)
    assert len(messages) <= 25, len(messages)
    texts = [m["text"] for m in messages]
    for ref in leads:
        assert sum(t.count(ref) for t in texts) == 1, ref
        code = ref.removeprefix("MCO-").lower()
        assert f"/lead_{code}" in part_of(message_with(double, ref)["text"], ref)
    assert all(utf16_len(t) <= TELEGRAM_LIMIT for t in texts)
    assert db_rows(tmp_path, "SELECT COUNT(*) FROM outbox WHERE kind = 'lead' AND status = 'sent'") == [(LEADS,)]

    # A status set from one lead's own command edits its part of the shared message, and only it.
    taken, erased = list(leads)[57], list(leads)[58]
    shared = message_with(double, taken)
    neighbours = [part for part in shared["text"].split("\n\n")[1:] if taken not in part]
    card = command(double, MARIE, f"/lead_{taken.removeprefix('MCO-').lower()}", re.escape(leads[taken][1]),
                   chat_id=STAFF)
    assert "🙋 Je m'en occupe" in buttons(card)
    mark = double.mark()
    double.click_button(MARIE, "🙋 Je m'en occupe", chat_id=STAFF, message_id=card["message_id"])
    double.wait_for(lambda c: c.params.get("message_id") == shared["message_id"], method="editMessageText",
                    since=mark, timeout=20)
    edited = double.message(STAFF, shared["message_id"])["text"]
    assert "Pris en charge" in part_of(edited, taken) and "Marie" in part_of(edited, taken)
    assert [part for part in edited.split("\n\n")[1:] if taken not in part] == neighbours
    assert db_rows(tmp_path, "SELECT status FROM registrations WHERE ref = ?", taken) == [("en_charge",)]

    # An erasure blanks that lead's part only; the status set above stays.
    user, name = leads[erased]
    assert name in edited
    command(double, user, "/supprimer", "tout effacer", first_name="Inès")
    press(double, user, "🗑️ Oui, tout effacer", "C'est fait")
    double.wait_until(lambda: name not in double.message(STAFF, shared["message_id"])["text"], 20, "part blanked")
    blanked = double.message(STAFF, shared["message_id"])["text"]
    assert erased not in blanked and "données effacées" in blanked
    assert "Pris en charge" in part_of(blanked, taken)
    others = [ref for ref in leads if ref in shared["text"] and ref not in (taken, erased)]
    assert others and all(ref in blanked and leads[ref][1] in blanked for ref in others)
    assert utf16_len(blanked) <= TELEGRAM_LIMIT


def test_kill_9_while_a_grouped_message_or_its_edit_is_out_loses_no_lead_and_changes_nothing_twice(
        botapi_double: Any, bot_process_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    double = botapi_double
    leads = confirm_leads(tmp_path, 10, monkeypatch)
    double.inject("sendMessage", chat_id=STAFF, hang=True, applied=True, times=1)  # posted, never answered
    bot = start_bot(bot_process_factory, double)
    first = list(leads)[0]
    double.wait_until(lambda: grouped_messages(double), 20, "the grouped message posted")
    bot.kill()
    bot.start()
    bot.wait_ready()
    double.wait_until(lambda: len(grouped_messages(double)) == 2, 20, "the labelled resend")
    original, resend = grouped_messages(double)
    assert "Renvoi après une coupure" in resend["text"] and "Renvoi" not in original["text"]
    assert all(resend["text"].count(ref) == 1 for ref in leads)
    assert resend["text"].count("Renvoi") == 1  # one label for the message, not one per lead

    double.inject("editMessageText", chat_id=STAFF, status=502, times=None)
    card = command(double, MARIE, f"/lead_{first.removeprefix('MCO-').lower()}", re.escape(first), chat_id=STAFF)
    mark = double.mark()
    double.click_button(MARIE, "✅ Clos", chat_id=STAFF, message_id=card["message_id"])
    double.wait_for(lambda c: c.status == 502, method="editMessageText", since=mark, timeout=20)
    bot.kill()
    double.clear_faults()
    bot.start()
    bot.wait_ready()
    double.wait_until(lambda: "Clos" in part_of(double.message(STAFF, resend["message_id"])["text"], first),
                      20, "the status in its part after the restart")
    edited = double.message(STAFF, resend["message_id"])["text"]
    assert all(ref in edited for ref in leads) and edited.count("Clos") == 1
    assert db_rows(tmp_path, "SELECT COUNT(*) FROM lead_events WHERE ref = ? AND event = 'statut'", first) == [(1,)]
