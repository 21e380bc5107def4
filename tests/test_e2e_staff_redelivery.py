"""End to end: a staff update handled again after a SIGKILL reaches the prospect once.

The window this covers: a staff member's reply has been handled (the relay to the
prospect committed to the outbox, even delivered) but the bot is killed before the
update leaves the inbox, so the next start handles it again (``handlers/polling.py``).
The bot is held in that window by a Bot API call that never answers: its reply in
the group ("conversation rouverte"). It is killed there, for real, and restarted.
"""
from __future__ import annotations

import re
from pathlib import Path


from test_e2e_staff import MARIE, PROSPECT, STAFF, db_rows, press, say, staff_messages, staff_says, start_bot, wait_db

ANSWER = "Zoé, je vous rappelle demain à 10h."
LATER = "Ou préférez-vous un e-mail ?"
REOPENED = r"Conversation n°\d+ rouverte"


def test_a_staff_reply_handled_again_after_a_sigkill_is_relayed_once(botapi_double, bot_process_factory,
                                                                     tmp_path: Path) -> None:
    double = botapi_double
    bot = start_bot(bot_process_factory, double)
    say(double, PROSPECT, "je veux parler a quelqu'un svp", "ici même", first_name="Zoé")
    request = double.wait_for_text(STAFF, "veut parler à quelqu'un")
    press(double, PROSPECT, "↩️ Revenir au bot", "je reprends la main")
    double.wait_for_text(STAFF, "revenu·e aux réponses automatiques")
    wait_db(double, tmp_path, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'", [(0,)])

    # Marie's reply reopens the conversation: the relay is queued (and delivered by the
    # outbox's own client), then the bot says "rouverte" in the group and never hears back.
    double.inject("sendMessage", chat_id=STAFF, hang=True, applied=False)
    mark = double.mark()
    update_id = double.push_text(MARIE, ANSWER, chat_id=STAFF, reply_to_message_id=request["message_id"])["update_id"]
    double.wait_for_text(PROSPECT, re.escape(ANSWER), since=mark)
    double.wait_for(lambda c: c.chat_id == STAFF and "hang" in (c.error or ""), method="sendMessage", since=mark)
    # Sent and marked sent: a kill before the mark would make the outbox send it again, by design.
    wait_db(double, tmp_path, "SELECT status FROM outbox WHERE kind = 'relay_out'", [("sent",)])
    bot.kill()
    assert (update_id,) in db_rows(tmp_path, "SELECT update_id FROM inbox"), "killed before the update was done"

    double.clear_faults()
    restart = double.mark()
    bot.start()
    bot.wait_ready()
    staff_says(double, MARIE, LATER, reply_to_message_id=request["message_id"])
    # The outbox delivers a chat's rows in order, and the poller handles the staff group's
    # updates in order: a second relay of the first answer would arrive before this one.
    double.wait_for_text(PROSPECT, re.escape(LATER), since=restart)

    assert f"handling update {update_id} left by an earlier run" in bot.stderr_text()
    relayed = [m for m in double.messages_to(PROSPECT) if ANSWER in (m.get("text") or "")]
    assert len(relayed) == 1, f"the prospect got Marie's answer {len(relayed)} times"
    wait_db(double, tmp_path, "SELECT COUNT(*) FROM inbox", [(0,)])
    assert db_rows(tmp_path, "SELECT COUNT(*) FROM outbox WHERE kind = 'relay_out'") == [(2,)]
    # The group's answer that never arrived is sent again (the first answer, not a new one).
    double.wait_for_text(STAFF, REOPENED, since=restart)
    assert len(staff_messages(double, REOPENED)) == 1
