"""End to end: with ``BOT_CLOCK`` set, the daily jobs run when the bot's clock says so, not the machine's.

The retention purge (03:30 Paris), the out-of-date knowledge check (09:00) and the staff
digest (``DIGEST_TIME``) each run a few seconds after the bot's clock passes their time,
whatever the machine's time is. Before, the purge and the check were PTB ``run_daily`` jobs
on the machine's clock: with ``BOT_CLOCK`` they never ran when the bot's clock said.
"""
from __future__ import annotations

from typing import Any

from e2e_support import bot_process_factory, botapi_double  # noqa: F401 (fixtures)

STAFF, MARIE = -1001700000055, 7001


def restart_at(bot: Any, moment: str) -> None:
    bot.env["BOT_CLOCK"] = moment
    bot.restart(timeout=60)


def test_the_daily_jobs_follow_the_bots_clock(botapi_double, bot_process_factory) -> None:
    double = botapi_double
    double.register_group(STAFF, "Admissions", members=[{"id": MARIE, "first_name": "Marie"}])
    bot = bot_process_factory(BOT_CLOCK="2026-03-18T03:29:57", STAFF_CHAT_ID=STAFF, STAFF_USER_IDS=str(MARIE),
                              DIGEST_TIME="08:30")
    double.wait_until(lambda: "retention purge" in bot.stderr_text() + bot.stdout_text(), 30,
                      "the purge at 03:30 by the bot's clock")

    mark = double.mark()
    restart_at(bot, "2026-03-18T08:29:58")  # a Wednesday: the digest is due at 08:30
    double.wait_for_text(STAFF, "Le point du jour", since=mark, timeout=90)

    mark = double.mark()
    restart_at(bot, "2031-03-18T08:59:57")  # years later, the base is out of date: the 09:00 check says so
    notice = double.wait_for_text(STAFF, "plus à jour", since=mark, timeout=30)
    assert "rappel hebdomadaire" in notice["text"]
