"""End to end: a campaign of a few hundred people shares the bot's rate without holding anyone up.

Through the real bot process and the Bot API double. Ordering only (the double's record
of calls, and message ids in a chat), never durations: a prospect who chats during the
campaign gets each answer while the campaign is still going, with few campaign messages
between the question and its answer; a staff answer to a recipient whose campaign message
is queued far behind goes out first (before, it waited behind the campaign in that chat's
lane); the staff group sees a progress message edited as it goes, then the report.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from e2e_support import bot_process_factory, botapi_double  # noqa: F401 (fixtures)

STAFF, MARIE = -1001700000066, 7001
PROSPECT = 7474  # chats during the campaign, never said yes to reminders
PEOPLE = list(range(9100, 9350))  # 250 who said yes earlier
BLOCKED, LAST = PEOPLE[3], PEOPLE[-1]  # one blocked the bot; the last one talks to staff
RATE = 15  # messages/s for the whole bot: the campaign lasts ~17 s
TEXT = "Réunion d'information jeudi"
QUESTIONS = ("c combien le salaire ?", "c'est quand la rentrée ?", "c'est gratuit la formation ?")


def seed(tmp_path: Path, people: list[int]) -> None:
    db = sqlite3.connect(tmp_path / "bot.db")
    db.executemany("INSERT INTO reminder_subscriptions (user_id, kind, consent_at) VALUES (?, 'portes_ouvertes', ?)",
                   [(user, "2026-03-10T10:00:00+01:00") for user in people])
    db.commit()
    db.close()


def campaign_calls(double: Any, since: int = 0) -> list[Any]:
    people = set(PEOPLE)
    return [c for c in double.calls("sendMessage", since=since) if c.chat_id in people and c.ok]


def test_a_campaign_leaves_answers_and_relays_first_and_shows_its_progress(botapi_double, bot_process_factory,
                                                                          tmp_path: Path) -> None:
    double = botapi_double
    double.register_group(STAFF, "Admissions", members=[{"id": MARIE, "first_name": "Marie"}])
    for user in PEOPLE:
        double.register_user(user, "P")
    bot_process_factory(STAFF_CHAT_ID=STAFF, STAFF_USER_IDS=str(MARIE), OFFICE_HOURS="00:00-23:59:59",
                        OFFICE_DAYS="1-7", TELEGRAM_RATE=str(RATE))
    seed(tmp_path, PEOPLE)
    double.block_user(BLOCKED)
    mark = double.mark()
    double.push_command(LAST, "/conseiller")  # the last recipient asks for a person before the campaign
    request = double.wait_for_text(STAFF, "veut parler à quelqu'un", since=mark)

    mark = double.mark()
    double.push_command(MARIE, "/campagne", "tous", *TEXT.split(), chat_id=STAFF)
    double.wait_for_text(STAFF, "Aperçu de la campagne", since=mark)
    double.click_button(MARIE, f"✅ Envoyer à {len(PEOPLE)}", chat_id=STAFF)
    double.wait_for_text(STAFF, "seconde fois", since=mark)
    start = double.mark()
    double.click_button(MARIE, f"⚠️ Oui, envoyer à {len(PEOPLE)}", chat_id=STAFF)
    double.wait_until(lambda: len(campaign_calls(double, start)) >= 10, 30, "the campaign under way")

    mark = double.mark()  # staff answers the last recipient, whose campaign message is ~240 rows behind
    double.push_text(MARIE, "Bonjour, je vous appelle demain", chat_id=STAFF, reply_to_message_id=request["message_id"])
    double.wait_for_text(LAST, "je vous appelle demain", since=mark, timeout=30)

    gaps = []
    for question in QUESTIONS:  # a prospect chats while the campaign sends
        mark = double.mark()
        double.push_text(PROSPECT, question)
        double.wait_for_message(lambda m: True, chat_id=PROSPECT, since=mark, timeout=30)
        answer = next(c for c in double.calls("sendMessage", since=mark) if c.chat_id == PROSPECT)
        gaps.append(len([c for c in campaign_calls(double, mark) if c.seq < answer.seq]))
    answered_at = answer.seq

    report = double.wait_for_text(STAFF, "Bilan de la campagne", since=start, timeout=120)
    sent = campaign_calls(double, start)
    assert answered_at < sent[-1].seq, "the answers went out while the campaign was still sending"
    assert max(gaps) <= 3 * RATE, gaps  # a few campaign messages at most between a question and its answer
    history = [m for m in double.messages_to(LAST)]
    relay = next(i for i, m in enumerate(history) if "je vous appelle demain" in m.get("text", ""))
    mailing = next(i for i, m in enumerate(history) if TEXT in m.get("text", ""))
    assert relay < mailing, "the staff answer did not wait behind the campaign in the prospect's chat"

    received = {user: len([m for m in double.messages_to(user) if TEXT in m.get("text", "")]) for user in PEOPLE}
    assert max(received.values()) == 1 and received[BLOCKED] == 0
    assert f"{len(PEOPLE) - 1} envoyé(s), 1 bloqué(s), 0 échec(s), 0 perdu(s)" in report["text"]

    edits = [c for c in double.calls("editMessageText", since=start) if c.chat_id == STAFF]
    during = [c for c in edits if "en cours" in c.params["text"] and c.seq < report_seq(double, start)]
    progress = next(m for m in double.messages_to(STAFF) if "Campagne n°" in m.get("text", "")
                    and ("en cours" in m["text"] or "terminée" in m["text"]))
    assert progress["message_id"] == edits[-1].params["message_id"]  # one message, edited
    assert during, "progress shown while the campaign was sending"
    assert f"terminée : {len(PEOPLE)}/{len(PEOPLE)} (100 %)" in double.message(STAFF, progress["message_id"])["text"]


def report_seq(double: Any, since: int) -> int:
    return next(c.seq for c in double.calls("sendMessage", since=since)
                if c.chat_id == STAFF and "Bilan de la campagne" in c.params.get("text", ""))
