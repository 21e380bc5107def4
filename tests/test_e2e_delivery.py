"""End to end: the outbox delivers each chat in order, and chats side by side.

Telegram lets a bot post about 20 messages a minute in a group: on a busy day the
staff group's messages (leads, relayed questions) queue for minutes. A staff
member's answer to a prospect goes to another chat, the prospect's: it must not
wait behind that backlog. Here the double makes every message to the staff group
slow to be answered, a prospect fills the group's queue, and a staff member's
reply must reach the prospect while the group's messages are still trickling in,
which then arrive complete and in order.
"""
from __future__ import annotations

import re
from pathlib import Path

from e2e_support import bot_process_factory, botapi_double  # noqa: F401 (fixtures)
from test_e2e_staff import MARIE, PROSPECT, STAFF, command, staff_messages, staff_says, start_bot, wait_db

BACKLOG = 5
#: Seconds the double takes to answer each message to the staff group (below the client's 5 s timeout).
SLOW_GROUP = 2.0
ANSWER = "Bonjour Zoé, je regarde ça tout de suite."


def test_a_staff_answer_does_not_wait_behind_the_staff_groups_backlog(botapi_double, bot_process_factory,
                                                                      tmp_path: Path) -> None:
    double = botapi_double
    start_bot(bot_process_factory, double)
    command(double, PROSPECT, "/conseiller", "ici même", first_name="Zoé")
    request = double.wait_for_text(STAFF, "veut parler à quelqu'un")

    slow = double.inject("sendMessage", chat_id=STAFF, delay=SLOW_GROUP, times=None)
    questions = [f"question numéro {n}" for n in range(BACKLOG)]
    for question in questions:
        double.push_text(PROSPECT, question, first_name="Zoé")
    wait_db(double, tmp_path, "SELECT COUNT(*) FROM outbox WHERE kind = 'relay_in'", [(BACKLOG,)])
    double.wait_for(lambda c: c.chat_id == STAFF and questions[0] in c.params.get("text", ""), method="sendMessage")

    staff_says(double, MARIE, ANSWER, reply_to_message_id=request["message_id"])
    double.wait_for_text(PROSPECT, re.escape(ANSWER), timeout=BACKLOG * SLOW_GROUP * 3)
    arrived = staff_messages(double, "question numéro")
    assert len(arrived) < BACKLOG, "the answer to the prospect waited for the staff group's whole backlog"

    slow.cancel()
    double.wait_until(lambda: len(staff_messages(double, "question numéro")) == BACKLOG, 30, "the whole backlog")
    in_group = [re.search(r"question numéro \d", m["text"]).group(0) for m in staff_messages(double, "question numéro")]
    assert in_group == questions, "the staff group gets its messages once each, in order"
    wait_db(double, tmp_path, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'", [(0,)])
