"""End to end: the outbox delivers each chat in order, and chats side by side.

Telegram lets a bot post about 20 messages a minute in a group: on a busy day the
staff group's messages (leads, relayed questions) queue for minutes. A staff
member's answer to a prospect goes to another chat, the prospect's: it must not
wait behind that backlog. Here the double makes every message to the staff group
slow to be answered, a prospect fills the group's queue, and a staff member's
reply must reach the prospect while the group's messages are still trickling in,
which then arrive complete and in order.

And a lead posted by Telegram whose answer never came back (the bot killed
mid-request) is posted again at the restart, since nothing can tell whether it went
out, but with a first line telling staff it may be a repetition.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml


from test_e2e_staff import (
    MARIE,
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

BACKLOG = 5
#: Seconds the double takes to answer each message to the staff group (below the client's 5 s timeout).
SLOW_GROUP = 2.0
ANSWER = "Bonjour Zoé, je regarde ça tout de suite."
STAFF_TEXTS = Path(__file__).resolve().parent.parent / "knowledge" / "texts" / "staff.yaml"


def resend_label() -> str:
    """The first line of a message sent again when its first copy may be out (as staff read it)."""
    return yaml.safe_load(STAFF_TEXTS.read_text("utf-8"))["renvoi_doublon_possible"].replace("**", "")


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
    # Relays still queued together go out as one message (issue 9, finding 6): count the questions, not messages.
    def in_group() -> list[str]:
        return [q for m in staff_messages(double, "question numéro") for q in re.findall(r"question numéro \d", m["text"])]
    double.wait_until(lambda: len(in_group()) == BACKLOG, 30, "the whole backlog")
    assert in_group() == questions, "the staff group gets its messages once each, in order"
    wait_db(double, tmp_path, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'", [(0,)])


def test_a_lead_posted_while_the_bot_was_killed_is_posted_again_labelled(botapi_double, bot_process_factory,
                                                                       tmp_path: Path) -> None:
    double = botapi_double
    bot = start_bot(bot_process_factory, double)
    double.inject("sendMessage", chat_id=STAFF, hang=True, applied=True)  # posted, and no answer ever
    mark = double.mark()
    ref = pre_register(double, PROSPECT)
    double.wait_for(lambda c: c.chat_id == STAFF and "hang" in (c.error or ""), method="sendMessage", since=mark)
    assert db_rows(tmp_path, "SELECT status FROM outbox WHERE kind = 'lead'") == [("pending",)]
    bot.kill()

    bot.start()
    bot.wait_ready()
    double.wait_until(lambda: len(staff_messages(double, re.escape(ref))) == 2, 20, "the lead sent again")
    first, second = (m["text"] for m in staff_messages(double, re.escape(ref)))
    assert resend_label() not in first
    assert second.startswith(resend_label()), "the second copy says it may be one"
    assert second.split("\n", 1)[1] == first, "then the same message"
    wait_db(double, tmp_path, "SELECT status, maybe_posted FROM outbox WHERE kind = 'lead'", [("sent", 1)])
