"""A staff update delivered twice is handled once.

After a SIGKILL, every update the inbox had not marked done is handled again at the
next start (``handlers/polling.py``). For a staff member's reply that means a second
relay to the prospect, for a status button a status set again over a later one.
These tests feed ``StaffDesk.handle()`` the same update id twice, on a real SQLite
file and the real ``knowledge/``, and read the outbox and the lead tables as the
deliverer would (helpers shared with ``tests/test_staff.py``).
"""
from __future__ import annotations

import pytest

from bot.conversation.engine import Assistant
from bot.conversation.messages import Kind
from test_staff import (  # noqa: F401 (the knowledge and assistant fixtures)
    assistant,
    deliver_all,
    knowledge,
    message_of,
    open_conversation,
    outbox_rows,
    pre_register,
    say,
    staff,
)


def handled_count(assistant: Assistant) -> int:
    return assistant.db.execute("SELECT COUNT(*) FROM handled_updates").fetchone()[0]


def test_a_redelivered_staff_reply_is_relayed_once(assistant: Assistant) -> None:
    open_conversation(assistant)
    deliver_all(assistant)
    request = message_of(assistant, "handoff")
    first = staff(assistant, text="Oui, il y a un internat.", reply_to_message_id=request, update_id=501)
    again = staff(assistant, text="Oui, il y a un internat.", reply_to_message_id=request, update_id=501)
    assert len(outbox_rows(assistant, "relay_out")) == 1, "the prospect gets the answer once"
    assert again == first
    other = staff(assistant, text="Et une cantine.", reply_to_message_id=request, update_id=502)
    assert other.handled and len(outbox_rows(assistant, "relay_out")) == 2, "a new update id is a new answer"


def test_a_redelivered_reply_that_reopened_a_conversation_says_so_again_and_queues_nothing(
        assistant: Assistant) -> None:
    open_conversation(assistant)
    deliver_all(assistant)
    request = message_of(assistant, "handoff")
    say(assistant, Kind.BUTTON, "h:quit")
    first = staff(assistant, text="Je vous rappelle ?", reply_to_message_id=request, update_id=601)
    rows = len(outbox_rows(assistant))
    again = staff(assistant, text="Je vous rappelle ?", reply_to_message_id=request, update_id=601)
    assert "rouverte" in first.replies[0].text and again == first, "the first answer, sent again"
    assert len(outbox_rows(assistant)) == rows, "no relay, no edit queued again"
    assert len(outbox_rows(assistant, "relay_out")) == 1


def test_a_redelivered_status_button_does_not_undo_a_later_one(assistant: Assistant) -> None:
    ref = pre_register(assistant)
    deliver_all(assistant)
    lead = message_of(assistant, "lead")
    taken = staff(assistant, callback_data=f"s:l:en_charge:{ref}", message_id=lead, update_id=701)
    staff(assistant, callback_data=f"s:l:contacte:{ref}", message_id=lead, update_id=702)
    again = staff(assistant, callback_data=f"s:l:en_charge:{ref}", message_id=lead, update_id=701)
    assert again == taken and "Pris en charge" in again.notice
    assert assistant.db.execute("SELECT status FROM registrations").fetchone() == ("contacte",)
    events = assistant.db.execute("SELECT status FROM lead_events WHERE event = 'statut' ORDER BY id").fetchall()
    assert events == [("en_charge",), ("contacte",)], "each change written once"
    assert len(outbox_rows(assistant, "lead_edit")) == 2, "each change announced once"


@pytest.mark.parametrize("how", ["command", "button"])
def test_a_redelivered_end_ends_once_and_answers_the_same(assistant: Assistant, how: str) -> None:
    open_conversation(assistant)
    deliver_all(assistant)
    request = message_of(assistant, "handoff")
    fields = ({"command": "fin", "reply_to_message_id": request} if how == "command"
              else {"callback_data": "s:h:end:1", "message_id": request})
    first = staff(assistant, update_id=801, **fields)
    rows = len(outbox_rows(assistant))
    again = staff(assistant, update_id=801, **fields)
    assert again == first, "not « déjà terminée »: the same answer as the first time"
    assert "terminée par Marie" in (first.notice or first.replies[0].text)
    assert len(outbox_rows(assistant)) == rows and len(outbox_rows(assistant, "handoff_end")) == 1


def test_the_record_is_written_with_the_relay_or_neither_is(assistant: Assistant,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    open_conversation(assistant)
    deliver_all(assistant)
    request = message_of(assistant, "handoff")
    handled = assistant.handled

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed while recording")

    monkeypatch.setattr(handled, "record_answer", crash)
    with pytest.raises(RuntimeError):
        staff(assistant, text="Bonjour", reply_to_message_id=request, update_id=901)
    assert outbox_rows(assistant, "relay_out") == [], "the relay was rolled back with the record"
    monkeypatch.undo()
    staff(assistant, text="Bonjour", reply_to_message_id=request, update_id=901)
    assert len(outbox_rows(assistant, "relay_out")) == 1, "handled for real when it comes again"


def test_commands_that_change_nothing_are_run_again_and_keep_nothing(assistant: Assistant) -> None:
    ref = pre_register(assistant)
    before = handled_count(assistant)
    detail = staff(assistant, command="lead", args=(ref,), update_id=1001)
    export = staff(assistant, command="export", update_id=1002)
    assert handled_count(assistant) == before, "no copy of a lead's details in handled_updates"
    assert staff(assistant, command="lead", args=(ref,), update_id=1001) == detail
    assert staff(assistant, command="export", update_id=1002).replies[0].document == export.replies[0].document
    assert not staff(assistant, text="on en parle ?", update_id=1003).handled
    assert handled_count(assistant) == before


def test_inputs_without_an_update_id_are_never_recorded(assistant: Assistant) -> None:
    open_conversation(assistant)
    deliver_all(assistant)
    before = handled_count(assistant)
    staff(assistant, text="Bonjour", reply_to_message_id=message_of(assistant, "handoff"))
    assert handled_count(assistant) == before and len(outbox_rows(assistant, "relay_out")) == 1
