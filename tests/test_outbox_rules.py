"""Outbox rules that keep one message from holding up the others, on a real SQLite file.

Long texts become several rows that each fit a Telegram message (in UTF-16 units);
a lead overtakes the relays queued in the staff group; consecutive relays of one
conversation are offered together; a delivered row keeps no text.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from bot.conversation.messages import Button, Reply
from bot.storage.db import MIGRATIONS, open_database
from bot.storage.outbox import STAFF, Outbox
from bot.text_units import visible_len

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone.utc)
EMOJI = "😀"


def outbox(tmp_path: Path) -> Outbox:
    return Outbox(open_database(tmp_path / "bot.db"))


def payload(box: Outbox, row: int) -> dict:
    return json.loads(box.db.execute("SELECT payload FROM outbox WHERE id = ?", [row]).fetchone()[0])


def test_a_text_too_long_for_one_message_becomes_rows_that_each_fit(tmp_path: Path) -> None:
    box = outbox(tmp_path)
    text = "💬 **Léa (n°3) :**\n" + "a" * 2900 + EMOJI * 598
    first = box.put(STAFF, "relay_in", Reply(text, [[Button("x", "s:x")]]), NOW, ref="3", reply_to=1)
    rows = [box.next_in_chat(STAFF, None, NOW)]
    box.mark_sent(first, 10)
    rows.append(box.next_in_chat(STAFF, None, NOW))
    assert rows[0].id == first and rows[1].id == first + 1
    assert all(visible_len(r.reply.text) <= 3900 for r in rows)
    assert not rows[0].reply.buttons and rows[1].reply.buttons  # the keyboard goes on the last piece
    assert rows[1].reply_to == 1 and rows[1].kind == "relay_in" and rows[1].ref == "3"


def test_a_lead_goes_before_the_relays_already_queued(tmp_path: Path) -> None:
    box = outbox(tmp_path)
    for n in range(5):
        box.put(STAFF, "relay_in", Reply(f"message {n}"), NOW, ref="3")
    box.put(STAFF, "lead_edit", Reply("edit"), NOW, ref="MCO-A", edit_of=99)
    lead = box.put(STAFF, "lead", Reply("lead MCO-B"), NOW, ref="MCO-B", urgent=True)
    assert box.due_chats(NOW) == [(STAFF, None)]
    head = box.next_in_chat(STAFF, None, NOW)
    assert head.id == lead
    box.mark_sent(lead, 1)
    assert box.next_in_chat(STAFF, None, NOW).reply.text == "message 0"


def test_consecutive_relays_of_a_conversation_are_offered_together(tmp_path: Path) -> None:
    box = outbox(tmp_path)
    ids = [box.put(STAFF, "relay_in", Reply(f"message {n}"), NOW, ref="3") for n in range(3)]
    box.put(STAFF, "relay_in", Reply("another prospect"), NOW, ref="4")
    box.put(STAFF, "handoff_note", Reply("left"), NOW, ref="3")
    late = box.put(STAFF, "relay_in", Reply("after the note"), NOW, ref="3")
    head = box.next_in_chat(STAFF, None, NOW)
    assert [f.id for f in box.followers(head)] == ids[1:]  # not across the note of the same conversation
    assert late not in [f.id for f in box.followers(head)]


def test_merging_stops_before_the_length_limit(tmp_path: Path) -> None:
    box = outbox(tmp_path)
    for _ in range(3):
        box.put(STAFF, "relay_in", Reply(EMOJI * 1000), NOW, ref="3")  # 2,000 units each
    head = box.next_in_chat(STAFF, None, NOW)
    assert box.followers(head) == []


def test_a_delivered_or_failed_row_keeps_no_text_but_a_request_does(tmp_path: Path) -> None:
    box = outbox(tmp_path)
    relay = box.put(STAFF, "relay_in", Reply("mon e-mail est lea@example.org"), NOW, ref="3", reply_to=7)
    refused = box.put(STAFF, "relay_in", Reply("refusé lea@example.org"), NOW, ref="3")
    request = box.put(STAFF, "handoff", Reply("Léa demande quelqu'un"), NOW, ref="3", keep_text=True)
    box.mark_sent(relay, 11)
    box.fail(refused, "400 Bad Request")
    box.mark_sent(request, 12)
    assert payload(box, relay)["text"] == "" and payload(box, relay)["reply_to"] == 7
    assert payload(box, refused)["text"] == ""
    assert box.db.execute("SELECT kind, ref FROM outbox WHERE audience = ? AND sent_message_id = 11",
                          [STAFF]).fetchall() == [("relay_in", "3")]
    assert box.reply_of(request).text == "Léa demande quelqu'un"
    assert not box.db.execute("SELECT 1 FROM outbox WHERE payload LIKE '%lea@example.org%'").fetchall()


def test_the_migration_drops_the_text_of_rows_delivered_before_it(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = open_database(path, MIGRATIONS[:7])
    old["outbox"].insert({"created_at": "x", "audience": STAFF, "kind": "relay_in", "ref": "3", "status": "sent",
                          "attempts": 0, "next_attempt_at": "x", "sent_message_id": 5,
                          "payload": json.dumps({"text": "secret", "buttons": [], "reply_to": None,
                                                 "thread_id": None, "edit_of": None})})
    old.conn.close()
    db = open_database(path)
    (text,) = db.execute("SELECT json_extract(payload, '$.text') FROM outbox").fetchone()
    assert text == ""


# --- the deliverer: what holds a lane, what does not -------------------------------------------


def _deliverer(tmp_path: Path):
    import asyncio

    from bot.clock import Clock
    from handlers.delivery import Deliverer
    from test_staff import FakeBot

    box = outbox(tmp_path)
    bot = FakeBot()
    problems: list[tuple[int, str]] = []
    deliverer = Deliverer(bot, box, Clock(), -100999,  # type: ignore[arg-type]
                          on_problem=lambda d, p: problems.append((d.id, p)))
    return box, bot, deliverer, problems, lambda: asyncio.run(deliverer.deliver_due())


def test_a_prospect_gone_for_good_stops_only_their_own_rows(tmp_path: Path) -> None:
    from telegram.error import BadRequest

    from bot.storage.outbox import PROSPECT

    box, bot, deliverer, problems, deliver = _deliverer(tmp_path)
    gone = box.put(PROSPECT, "relay_out", Reply("réponse"), NOW, chat_id=4242, ref="3")
    bot.fail_next = [BadRequest("Chat not found")]
    deliver()
    assert box.db.execute("SELECT status FROM outbox WHERE id = ?", [gone]).fetchone() == ("failed",)


def test_a_bad_request_fails_the_row_once_and_the_next_row_goes(tmp_path: Path) -> None:
    from telegram.error import BadRequest, NetworkError

    box, bot, deliverer, problems, deliver = _deliverer(tmp_path)
    refused = box.put(STAFF, "relay_in", Reply("refusé"), NOW, ref="3")
    box.put(STAFF, "lead", Reply("lead MCO-B"), NOW, ref="MCO-B")
    bot.fail_next = [BadRequest("Can't parse entities: unsupported start tag")]
    deliver()
    assert [text for _, text, _ in bot.sent] == ["lead MCO-B"]
    assert problems == [(refused, "failed")]
    transient = box.put(STAFF, "relay_in", Reply("plus tard"), NOW, ref="4")
    bot.fail_next = [NetworkError("Bad Gateway")]
    deliver()
    assert box.db.execute("SELECT status FROM outbox WHERE id = ?", [transient]).fetchone() == ("pending",)
    assert problems == [(refused, "failed")], "a transient error is retried, nobody is told"


def test_a_staff_group_that_cannot_be_found_keeps_its_rows(tmp_path: Path) -> None:
    from telegram.error import BadRequest

    box, bot, deliverer, problems, deliver = _deliverer(tmp_path)
    lead = box.put(STAFF, "lead", Reply("lead MCO-C"), NOW, ref="MCO-C")
    bot.fail_next = [BadRequest("Chat not found")]
    deliver()
    assert box.db.execute("SELECT status FROM outbox WHERE id = ?", [lead]).fetchone() == ("pending",)
    assert problems == []
