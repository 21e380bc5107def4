"""A message that may already be out is never sent again silently.

Telegram's sendMessage has no idempotency key: a process killed after Telegram
posted a message but before the outbox marked it sent sends it again at the next
start. These tests play that on a real SQLite file and the real ``knowledge/``: a
row is marked in flight as the killed process left it, then a new
:class:`~handlers.delivery.Deliverer` (a new process) delivers it through a fake
bot and must label it for staff. Also covered: the label survives a failed resend,
a timeout mid-request counts like a crash, and edits and prospects get no label.
"""
from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import httpx
import pytest
from telegram.error import NetworkError, TimedOut

from bot.conversation.engine import Assistant
from bot.conversation.messages import Reply
from bot.storage.db import MIGRATIONS, open_database
from bot.storage.outbox import PROSPECT, STAFF, Outbox
from handlers.delivery import Deliverer
from test_staff import FakeBot, assistant, desk_of, knowledge  # noqa: F401 (fixtures)

ZOE_CHAT = 4242


def new_process(assistant: Assistant, bot: FakeBot) -> Deliverer:
    """The Deliverer a freshly started bot builds, with the staff desk's hooks."""
    return Deliverer(bot, assistant.outbox, assistant.clock, -100999,  # type: ignore[arg-type]
                     label_resend=desk_of(assistant).label_resend)


def deliver(deliverer: Deliverer) -> int:
    return asyncio.run(deliverer.deliver_due())


def label(assistant: Assistant) -> str:
    return desk_of(assistant).text("staff.renvoi_doublon_possible")


def texts(bot: FakeBot) -> list[str]:
    return [text for _, text, _ in bot.sent]


def later(assistant: Assistant, seconds: float = 600) -> None:
    assistant.clock.at += dt.timedelta(seconds=seconds)  # type: ignore[attr-defined]


def test_a_lead_left_in_flight_by_a_killed_process_is_sent_again_labelled(assistant: Assistant) -> None:
    desk = desk_of(assistant)
    interrupted = desk.queue_staff("lead", Reply("🆕 **Nouvelle pré-inscription MCO-AAAAAA**"), ref="MCO-AAAAAA")
    desk.queue_staff("lead", Reply("🆕 **Nouvelle pré-inscription MCO-BBBBBB**"), ref="MCO-BBBBBB")
    assistant.outbox.begin_attempt(interrupted, assistant.clock.now())  # ... and the process was killed

    bot = FakeBot()
    assert deliver(new_process(assistant, bot)) == 2
    first, second = texts(bot)
    assert first.startswith("⚠️") and label(assistant) in first and "MCO-AAAAAA" in first
    assert "<b>Nouvelle pré-inscription MCO-AAAAAA</b>" in first, "the message itself follows, unchanged"
    assert "⚠️" not in second, "a row that was not in flight goes as it is"
    assert assistant.outbox.pending_count() == 0


def test_the_label_stays_when_the_labelled_resend_fails_first(assistant: Assistant) -> None:
    row = desk_of(assistant).queue_staff("lead", Reply("lead MCO-CCCCCC"), ref="MCO-CCCCCC")
    assistant.outbox.begin_attempt(row, assistant.clock.now())
    bot = FakeBot()
    deliverer = new_process(assistant, bot)
    bot.fail_next = [NetworkError("Bad Gateway")]  # a 502: Telegram answered, nothing was posted
    assert deliver(deliverer) == 0
    later(assistant)
    assert deliver(deliverer) == 1
    assert label(assistant) in texts(bot)[0], "the copy the killed process may have posted is still up there"


def test_a_request_that_timed_out_is_sent_again_labelled(assistant: Assistant) -> None:
    desk = desk_of(assistant)
    desk.queue_staff("lead", Reply("lead MCO-DDDDDD"), ref="MCO-DDDDDD")
    bot = FakeBot()
    deliverer = new_process(assistant, bot)
    read_timeout = TimedOut()
    read_timeout.__cause__ = httpx.ReadTimeout("no answer")  # the request left; Telegram may have posted it
    bot.fail_next = [read_timeout]
    assert deliver(deliverer) == 0
    later(assistant)
    assert deliver(deliverer) == 1
    assert label(assistant) in texts(bot)[0]

    desk.queue_staff("lead", Reply("lead MCO-EEEEEE"), ref="MCO-EEEEEE")
    pool_timeout = TimedOut()
    pool_timeout.__cause__ = httpx.PoolTimeout("no free connection")  # never left this process
    bot.fail_next = [pool_timeout]
    assert deliver(deliverer) == 0
    later(assistant)
    assert deliver(deliverer) == 1
    assert label(assistant) not in texts(bot)[1]


@pytest.mark.parametrize("audience", [STAFF, PROSPECT])
def test_edits_and_messages_to_prospects_are_sent_again_as_they_are(assistant: Assistant, audience: str) -> None:
    desk = desk_of(assistant)
    lead = desk.queue_staff("lead", Reply("lead MCO-FFFFFF"), ref="MCO-FFFFFF")
    bot = FakeBot()
    assert deliver(new_process(assistant, bot)) == 1
    if audience == STAFF:
        row = desk.queue_staff("lead_edit", Reply("lead MCO-FFFFFF, pris en charge"), ref="MCO-FFFFFF", edit_of=lead)
    else:
        row = desk.queue_prospect(ZOE_CHAT, "relay_out", Reply("💬 Marie : bonjour"), ref="1")
    assistant.outbox.begin_attempt(row, assistant.clock.now())

    assert deliver(new_process(assistant, bot)) == 1
    assert label(assistant) not in texts(bot)[-1]
    assert texts(bot)[-1] in ("edit:lead MCO-FFFFFF, pris en charge", "💬 Marie : bonjour")


def test_every_outcome_clears_the_in_flight_mark(assistant: Assistant) -> None:
    desk = desk_of(assistant)
    desk.queue_staff("lead", Reply("lead MCO-GGGGGG"), ref="MCO-GGGGGG")
    bot = FakeBot()
    deliverer = new_process(assistant, bot)
    bot.fail_next = [NetworkError("Bad Gateway")]
    deliver(deliverer)
    later(assistant)
    deliver(deliverer)
    in_flight = assistant.db.execute("SELECT COUNT(*) FROM outbox WHERE attempt_started_at IS NOT NULL").fetchone()
    assert in_flight == (0,)
    assert deliver(new_process(assistant, bot)) == 0 and len(bot.sent) == 1, "a new process sends nothing again"


def test_a_version_6_database_is_migrated_and_its_pending_rows_go_unlabelled(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = open_database(path, MIGRATIONS[:6])
    now = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone.utc)
    Outbox(old).put(STAFF, "lead", Reply("lead MCO-HHHHHH"), now, ref="MCO-HHHHHH")
    old.conn.close()

    db = open_database(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)  # never a fixed count: branches add some
    (row,) = Outbox(db).due(now)
    assert row.ref == "MCO-HHHHHH" and not row.maybe_posted
    assert Outbox(db).settle_interrupted() == 0


def test_the_start_up_log_says_what_becomes_of_each_kind_left_in_flight(assistant: Assistant, caplog) -> None:
    desk = desk_of(assistant)
    lead = desk.queue_staff("lead", Reply("🆕 **Nouvelle pré-inscription MCO-CCCCCC**"), ref="MCO-CCCCCC")
    relay = desk.queue_prospect(ZOE_CHAT, "relay", Reply("Bonjour Zoé"), ref="1")
    campaign = assistant.outbox.put(PROSPECT, "campaign", Reply("Réunion mardi"), assistant.clock.now(),
                                    chat_id=ZOE_CHAT + 1, ref="1", bulk=True)
    for row in (lead, relay, campaign):
        assistant.outbox.begin_attempt(row, assistant.clock.now())  # ... and the process was killed

    bot = FakeBot()
    with caplog.at_level("WARNING", logger="handlers.delivery"):
        deliver(new_process(assistant, bot))
    said = [r.getMessage() for r in caplog.records if "when the bot stopped" in r.getMessage()]
    assert any(m.startswith("1 ") and "campaign" in m and "not sent again" in m for m in said), said
    assert any(m.startswith("1 ") and "staff" in m and "labelled" in m for m in said), said
    assert any(m.startswith("1 ") and "prospects" in m and "without a label" in m for m in said), said
    assert [chat for chat, _, _ in bot.sent] == [-100999, ZOE_CHAT]  # the campaign message is not sent again
    status = assistant.db.execute("SELECT status, last_error FROM outbox WHERE id = ?", [campaign]).fetchone()
    assert status[0] == "failed" and status[1].startswith("in flight")


def test_campaign_rows_take_their_own_ceiling_and_the_bot_wide_budget_answers_only_the_budget(
        assistant: Assistant) -> None:
    """Campaigns go at CAMPAIGN_RATE (~25/s) at most, inside TELEGRAM_RATE: each bulk row takes a token
    of its ceiling and one of the shared budget; a message to a prospect or the staff takes none of the ceiling."""
    from handlers.budget import BULK, SendBudget

    now = assistant.clock.now()
    for n in range(4):
        assistant.outbox.put(PROSPECT, "campaign", Reply(f"Réunion {n}"), now, chat_id=5000 + n, ref="1", bulk=True)
    assistant.outbox.put(PROSPECT, "relay_in", Reply("Réponse de l'équipe"), now, chat_id=6000)
    bot, budget = FakeBot(), SendBudget(1000.0)
    deliverer = Deliverer(bot, assistant.outbox, assistant.clock, -100999,  # type: ignore[arg-type]
                          budget=budget, bulk_rate=1000.0)
    deliver(deliverer)
    assert len(bot.sent) == 5
    assert deliverer.bulk_ceiling is not None and deliverer.bulk_ceiling.taken[BULK] == 4
    assert budget.taken[BULK] == 4 and sum(deliverer.bulk_ceiling.taken.values()) == 4


def test_the_bulk_lane_honours_a_429_and_a_refusal_never_holds_it(assistant: Assistant) -> None:
    from telegram.error import BadRequest, RetryAfter

    now = assistant.clock.now()
    rows = [assistant.outbox.put(PROSPECT, "campaign", Reply(f"Réunion {n}"), now, chat_id=5000 + n, ref="1",
                                 bulk=True) for n in range(3)]
    bot = FakeBot()
    bot.fail_next = [RetryAfter(1), BadRequest("Bad Request: can't parse entities")]
    deliver(new_process(assistant, bot))
    state = {row: assistant.db.execute("SELECT status, last_error, next_attempt_at FROM outbox WHERE id = ?",
                                       [row]).fetchone() for row in rows}
    assert state[rows[0]][:2] == ("pending", "429")  # waits its retry_after, not sent
    assert dt.datetime.fromisoformat(state[rows[0]][2]) == now + dt.timedelta(seconds=1)
    assert state[rows[1]][0] == "failed" and state[rows[2]][0] == "sent"  # a refusal settles the row, the lane goes on
    assert [(chat, text) for chat, text, _ in bot.sent] == [(5002, "Réunion 2")]
