"""End to end: no message can hold up the others (issue 9, findings 1, 6 and 8).

The real bot process against the Bot API double, which refuses "message is too long"
as Telegram does: counting UTF-16 code units of the text once its HTML is parsed.

* A prospect in a live conversation sends a full 4,096-unit message (2,900 letters
  and 598 emoji); with the bot's label it no longer fits one message. It reaches
  the group in two parts, and another prospect's lead still arrives.
* A row Telegram refuses for good is dropped, staff are told once, the queue goes on;
  a row left too long by an older version is shortened, staff are told once.
* A long staff answer made of emoji reaches the prospect, and so does the next one.
* A lead overtakes the relays of a chatty prospect queued before it, and those
  relays go out merged.
* ``/sans_reponse`` on 3,000 emoji-heavy questions answers (in parts that fit) and
  runs off the event loop: a prospect asking meanwhile is answered first.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import re
from pathlib import Path

import yaml

from bot.storage.db import open_database

from test_e2e_staff import (
    MARIE,
    OTHER,
    PROSPECT,
    STAFF,
    command,
    db_rows,
    pre_register,
    staff_messages,
    staff_says,
    start_bot,
    wait_db,
)

EMOJI = "😀"
STAFF_TEXTS = yaml.safe_load((Path(__file__).resolve().parent.parent / "knowledge" / "texts" / "staff.yaml")
                             .read_text("utf-8"))


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def notice_pattern(key: str) -> str:
    """A regex for a staff notice of ``knowledge/texts/staff.yaml`` (its start, before the first field)."""
    return re.escape(STAFF_TEXTS[key].split("{")[0].replace("**", ""))


def too_long_refusals(double) -> list:
    return [c for c in double.calls("sendMessage") if c.status == 400]


def open_conversation(double) -> dict:
    command(double, PROSPECT, "/conseiller", "ici même", first_name="Zoé")
    return double.wait_for_text(STAFF, "veut parler à quelqu'un")


def test_a_4096_unit_relay_then_another_prospects_lead_both_reach_the_group(botapi_double, bot_process_factory,
                                                                           tmp_path: Path) -> None:
    double = botapi_double
    start_bot(bot_process_factory, double)
    open_conversation(double)
    message = "a" * 2900 + EMOJI * 598
    assert utf16(message) == 4096  # what Telegram lets a prospect send
    double.push_text(PROSPECT, message, first_name="Zoé")
    ref = pre_register(double, OTHER, "Martin", "Léo")

    double.wait_until(lambda: staff_messages(double, re.escape(ref)), 30, "the other prospect's lead")
    parts = staff_messages(double, EMOJI)
    assert len(parts) == 2, "the relay arrives whole, in two messages"
    assert sum(p["text"].count(EMOJI) for p in parts) == 598 and sum(p["text"].count("a") for p in parts) >= 2900
    assert all(utf16(m["text"]) <= 4096 for m in double.messages_to(STAFF))
    assert not too_long_refusals(double), "no request was refused"
    wait_db(double, tmp_path, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'", [(0,)])


def test_a_row_refused_for_good_is_dropped_the_queue_goes_on_and_staff_are_told_once(
        botapi_double, bot_process_factory, tmp_path: Path) -> None:
    double = botapi_double
    start_bot(bot_process_factory, double)
    open_conversation(double)
    double.inject("sendMessage", chat_id=STAFF, status=400, description="Bad Request: can't parse entities: oops")
    double.push_text(PROSPECT, "un message que Telegram refuse", first_name="Zoé")
    wait_db(double, tmp_path, "SELECT status FROM outbox WHERE kind = 'relay_in'", [("failed",)])
    ref = pre_register(double, OTHER, "Martin", "Léo")
    double.wait_until(lambda: staff_messages(double, re.escape(ref)), 30, "the lead after the refused row")
    double.wait_until(lambda: staff_messages(double, notice_pattern("envoi_refuse_groupe")), 10, "the notice")
    notices = staff_messages(double, notice_pattern("envoi_refuse_groupe"))
    assert len(notices) == 1 and "Zoé" not in notices[0]["text"] and "que Telegram refuse" not in notices[0]["text"]
    assert db_rows(tmp_path, "SELECT json_extract(payload, '$.text') FROM outbox WHERE kind = 'relay_in'") == [("",)]


def test_a_row_left_too_long_by_an_older_version_is_shortened_after_a_restart(
        botapi_double, bot_process_factory, tmp_path: Path) -> None:
    db = open_database(tmp_path / "bot.db")
    stuck = "🆕 **Nouvelle pré-inscription**\n" + "b" * 2900 + EMOJI * 600
    db["outbox"].insert({"created_at": "2026-01-01T00:00:00+00:00", "audience": "staff", "kind": "lead",
                         "ref": "MCO-OLD000", "status": "pending", "attempts": 40,
                         "next_attempt_at": "2026-01-01T00:00:00+00:00", "last_error": "400 message is too long",
                         "payload": json.dumps({"text": stuck, "buttons": [], "reply_to": None, "thread_id": None,
                                                "edit_of": None}, ensure_ascii=False)})
    db.conn.close()
    double = botapi_double
    start_bot(bot_process_factory, double)
    ref = pre_register(double, OTHER, "Martin", "Léo")
    double.wait_until(lambda: staff_messages(double, re.escape(ref)), 30, "the new lead")
    double.wait_until(lambda: staff_messages(double, notice_pattern("envoi_coupe_groupe")), 10, "the notice")
    shortened = staff_messages(double, "b" * 100)
    assert len(shortened) == 1 and shortened[0]["text"].endswith("…") and utf16(shortened[0]["text"]) <= 4096
    assert len(staff_messages(double, notice_pattern("envoi_coupe_groupe"))) == 1
    assert not too_long_refusals(double)


def test_a_long_emoji_answer_from_staff_reaches_the_prospect_and_so_does_the_next(
        botapi_double, bot_process_factory, tmp_path: Path) -> None:
    double = botapi_double
    start_bot(bot_process_factory, double)
    request = open_conversation(double)
    answer = "🎓" * 2040  # 4,080 units (Telegram lets staff send it): with the "from the team" label, over the limit
    staff_says(double, MARIE, answer, reply_to_message_id=request["message_id"])
    staff_says(double, MARIE, "Et voici la suite.", reply_to_message_id=request["message_id"])
    double.wait_for_text(PROSPECT, "Et voici la suite", timeout=20)
    received = [m["text"] for m in double.messages_to(PROSPECT)]
    assert sum(t.count("🎓") for t in received) == 2040
    assert not too_long_refusals(double)


def test_a_lead_overtakes_the_relays_of_a_chatty_prospect_which_go_out_merged(
        botapi_double, bot_process_factory, tmp_path: Path) -> None:
    double = botapi_double
    start_bot(bot_process_factory, double)
    open_conversation(double)
    double.fail_chat(STAFF, 429, retry_after=1)  # the group's quota is spent: its queue builds up
    questions = [f"bavardage numéro {n:02d}" for n in range(30)]
    for question in questions:
        double.push_text(PROSPECT, question, first_name="Zoé")
    wait_db(double, tmp_path, "SELECT COUNT(*) FROM outbox WHERE kind = 'relay_in'", [(30,)])
    ref = pre_register(double, OTHER, "Martin", "Léo")
    wait_db(double, tmp_path, "SELECT status FROM outbox WHERE kind = 'lead'", [("pending",)])
    mark = double.mark()
    double.heal_chat(STAFF)

    def relayed() -> list[str]:
        return [q for m in staff_messages(double, "bavardage") for q in re.findall(r"bavardage numéro \d+", m["text"])]
    double.wait_until(lambda: len(relayed()) == 30, 30, "every relay")
    after = [c for c in double.calls("sendMessage", since=mark) if c.chat_id == STAFF and c.status == 200]
    assert ref in after[0].params["text"], "the lead went first"
    assert relayed() == questions, "every relay once, in order"
    assert len(staff_messages(double, "bavardage")) < 5, "queued relays of one prospect go out merged"


def test_sans_reponse_on_3000_emoji_questions_answers_in_parts_and_blocks_no_one(
        botapi_double, bot_process_factory, tmp_path: Path) -> None:
    words = ["alpaga", "bistrot", "cyprès", "dromadaire", "escalope", "fougère", "girafe", "harpe", "igloo",
             "jonquille", "kayak", "lavande", "mandoline", "nénuphar", "origami", "pétunia", "quetzal", "rhubarbe",
             "scaphandre", "tulipe", "ukulélé", "violoncelle", "wapiti", "xylophone", "yaourt", "zeppelin"]
    chance = random.Random(9)
    db = open_database(tmp_path / "bot.db")
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    texts = set()
    while len(texts) < 3000:
        texts.add(" ".join(chance.sample(words, 4)) + f" {chance.randint(0, 99999)} " + "🦄" * 60)
    db["questions"].insert_all({"at": now, "user_id": 1, "text": t, "outcome": "fallback"} for t in texts)
    db.conn.close()

    double = botapi_double
    start_bot(bot_process_factory, double)
    mark = double.mark()
    double.push_command(MARIE, "/sans_reponse", chat_id=STAFF)
    double.push_text(PROSPECT, "bonjour", first_name="Zoé")
    double.wait_for_text(STAFF, "Questions sans réponse", since=mark, timeout=60)
    answer = double.wait_for_text(PROSPECT, ".", since=mark)
    listing = [c for c in double.calls("sendMessage", since=mark) if c.chat_id == STAFF]
    assert listing and all(c.status == 200 for c in listing), "every part of the listing was accepted"
    prospect_call = next(c for c in double.calls("sendMessage", since=mark) if c.chat_id == PROSPECT)
    assert answer["message_id"] and prospect_call.seq < min(c.seq for c in listing), \
        "the prospect was answered while /sans_reponse was computed"
