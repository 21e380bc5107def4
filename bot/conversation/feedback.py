"""👍/👎 under an FAQ answer: did it help?

Nobody knew whether prospects found the answers useful. Under an answer taken from
an entry, two discreet buttons; never under two answers in a row (a prospect asking
five questions must not be asked five times: the session remembers the last ask).
A 👎 puts the question in ``/sans_reponse`` with the answer it got; ``/stats``
shows the share rated useful.

The ``feedback`` table holds the question's row id, the entry answered and the
rating, and no person: the question row itself carries the prospect's id and is
erased by ``/supprimer`` and the retention purge, which cuts the link.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlite_utils

from bot.conversation.messages import Button, Reply
from bot.storage.times import to_db

if TYPE_CHECKING:
    from bot.conversation.engine import Assistant, Turn
    from bot.conversation.faq import Answer

PREFIX = "fb:"  # + "1" or "0" + ":" + question row id
#: Session key: the last answer had the buttons (so this one does not).
ASKED = "feedback_asked"


def disliked_since(db: sqlite_utils.Database, since: str) -> list[tuple[str, str]]:
    """(question text, entry answered) of the answers rated 👎 since ``since``, newest first."""
    return db.execute(
        "SELECT q.text, f.entry FROM feedback f JOIN questions q ON q.id = f.question_id "
        "WHERE f.useful = 0 AND julianday(f.at) >= julianday(?) ORDER BY f.id DESC LIMIT 200", [since]).fetchall()


def useful_share(db: sqlite_utils.Database, since: str) -> tuple[int, int]:
    """(answers rated useful, answers rated) since ``since``."""
    row = db.execute("SELECT COALESCE(SUM(useful), 0), COUNT(*) FROM feedback WHERE julianday(at) >= julianday(?)",
                     [since]).fetchone()
    return int(row[0]), int(row[1])


class Feedback:
    """The buttons under answers and what a tap does."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def after_answer(self, turn: Turn, answer: Answer) -> None:
        """Add 👍/👎 under an entry's answer, unless the previous answer had them."""
        if turn.state.get(ASKED) or answer.outcome != "answered" or not answer.entry or not turn.replies:
            turn.state[ASKED] = False
            return
        row = self.assistant.db.execute("SELECT MAX(id) FROM questions WHERE user_id = ?", [turn.user_id]).fetchone()
        if row is None or row[0] is None:
            return
        render = turn.faq.render
        last = turn.replies[-1]
        last.buttons = [*last.buttons, [Button(render.text("general.avis_utile"), f"{PREFIX}1:{row[0]}"),
                                        Button(render.text("general.avis_inutile"), f"{PREFIX}0:{row[0]}")]]
        turn.state[ASKED] = True

    def on_button(self, turn: Turn) -> None:
        """Store the rating once (only for the prospect's own question) and thank them."""
        useful, _, question_id = turn.msg.payload[len(PREFIX):].partition(":")
        row = self.assistant.db.execute("SELECT entry FROM questions WHERE id = ? AND user_id = ?",
                                        [int(question_id) if question_id.isdigit() else -1, turn.user_id]).fetchone()
        if row is None or useful not in ("0", "1"):
            turn.say(Reply(turn.faq.render.text("general.avis_merci")))
            return
        self.assistant.db.execute(
            "INSERT OR IGNORE INTO feedback (at, question_id, entry, useful) VALUES (?, ?, ?, ?)",
            [to_db(self.assistant.clock.now()), int(question_id), row[0], int(useful)])
        key = "general.avis_merci" if useful == "1" else "general.avis_merci_inutile"
        turn.say(Reply(turn.faq.render.text(key)))


def install(assistant: Assistant) -> Feedback:
    """Plug the feedback buttons into the assistant (see ``bot/conversation/features.py``)."""
    feedback = Feedback(assistant)
    assistant.after_answer.append(feedback.after_answer)
    assistant.button_prefixes[PREFIX] = feedback.on_button
    return feedback


def since(now: dt.datetime, days: int) -> str:
    """The ISO time ``days`` days before ``now`` (the stats' periods)."""
    return to_db(now - dt.timedelta(days=days))
