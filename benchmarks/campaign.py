"""A staff campaign to many opted-in prospects, through the real bot and the Bot API double.

    python benchmarks/campaign.py [--people 5000] [--kills 0] [--askers 5] [--think 1] [--rate 30]
                                  [--campaign-rate 25]

Method: a fresh SQLite file gets ``--people`` active reminder subscriptions (people
who said yes earlier), each a user the double knows. ``run_bot.py`` starts against
the double with a staff group; a staff member types ``/campagne tous …``, gets the
preview and confirms (twice above 100). Meanwhile ``--askers`` prospects ask
questions, each waiting ``--think`` seconds after an answer; the same is measured before
the campaign (the floor). ``--kills N`` kills the bot with SIGKILL N times during the
campaign and restarts it.

Printed: the campaign's duration (first to last campaign message received by the double)
against the duration its allowed rates give: the campaign's own ceiling (``CAMPAIGN_RATE``,
``--campaign-rate``) and the bot-wide rate (``TELEGRAM_RATE``, ``--rate``: every message to a
chat in that window, the campaign's and the answers', takes one of its tokens), whichever is
slower; a ratio close to 1 means the campaign goes as fast as it may, and no faster), duplicates
(people who got the message twice: must be 0), lost (messages in flight at a kill, listed,
and counted as lost in the report), and the p50 of prospects' answers during the campaign
against without one. The double answers at once (no network): on Telegram the round trip
adds to each in-flight bulk request (see ``CAMPAIGN_IN_FLIGHT``).
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.storage.db import open_database  # noqa: E402
from tests.botapi_double import BotApiDouble  # noqa: E402
from tests.e2e_support import BotProcess, bot_env  # noqa: E402

STAFF, MARIE = -1001700000099, 7001
TEXT = "Réunion d'information mardi à 18h"
QUESTIONS = ["c combien le salaire ?", "c'est quand la rentrée ?", "ya combien d'heures de cours ?",
             "c'est gratuit la formation ?"]


def seed(path: Path, people: list[int]) -> None:
    """People who said yes to reminders earlier: the campaign's audience."""
    db = open_database(path)
    with db.conn:
        db.conn.executemany("INSERT INTO reminder_subscriptions (user_id, kind, consent_at) VALUES (?, ?, ?)",
                            [(u, "portes_ouvertes", "2026-03-10T10:00:00+01:00") for u in people])
    db.conn.close()


def asker(double: BotApiDouble, user: int, think: float, stop: threading.Event, out: list[float]) -> None:
    """One prospect: asks, waits for the first reply, thinks, asks again, until ``stop``."""
    turn = user
    while not stop.is_set():
        mark = double.mark()
        start = time.monotonic()
        double.push_text(user, QUESTIONS[turn % len(QUESTIONS)])
        turn += 1
        try:
            double.wait_for_message(lambda m: True, chat_id=user, since=mark, timeout=30)
        except AssertionError:
            continue
        out.append(time.monotonic() - start)
        stop.wait(think)


def start_askers(double: BotApiDouble, askers: list[int], think: float) -> tuple[threading.Event, list, list[float]]:
    stop, out = threading.Event(), []
    workers = [threading.Thread(target=asker, args=(double, user, think, stop, out), daemon=True) for user in askers]
    for worker in workers:
        worker.start()
    return stop, workers, out


def stop_askers(stop: threading.Event, workers: list) -> None:
    stop.set()
    for worker in workers:
        worker.join(35)


def measure_answers(double: BotApiDouble, askers: list[int], think: float, seconds: float) -> list[float]:
    stop, workers, out = start_askers(double, askers, think)
    time.sleep(seconds)
    stop_askers(stop, workers)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=0)
    parser.add_argument("--askers", type=int, default=5)
    parser.add_argument("--think", type=float, default=1.0, help="seconds an asker waits after an answer")
    parser.add_argument("--rate", type=float, default=30.0, help="TELEGRAM_RATE, messages/s for the whole bot")
    parser.add_argument("--campaign-rate", type=float, default=25.0, help="CAMPAIGN_RATE, messages/s for bulk")
    parser.add_argument("--in-flight", type=int, default=1, help="CAMPAIGN_IN_FLIGHT")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="campaign-bench-"))
    double = BotApiDouble().start()
    people = list(range(10_000, 10_000 + args.people))
    askers = list(range(900, 900 + args.askers))
    for user in people + askers:
        double.register_user(user, "P")
    double.register_group(STAFF, "Admissions", members=[{"id": MARIE, "first_name": "Marie"}])
    seed(work / "bot.db", people)
    env = bot_env(double, work, STAFF_CHAT_ID=STAFF, STAFF_USER_IDS=MARIE, BOT_REMINDER_SECONDS=1,
                  OFFICE_HOURS="00:00-23:59:59", OFFICE_DAYS="1-7", LOG_LEVEL="WARNING",
                  TELEGRAM_RATE=args.rate, CAMPAIGN_RATE=args.campaign_rate,
                  CAMPAIGN_IN_FLIGHT=args.in_flight)
    bot = BotProcess(env=env, log_dir=work / "logs", name="bot", double=double).start()
    bot.wait_ready(30)
    try:
        floor = measure_answers(double, askers, args.think, 20)
        mark = double.mark()
        double.push_command(MARIE, "/campagne", "tous", *TEXT.split(), chat_id=STAFF)
        double.wait_for_text(STAFF, "Aperçu de la campagne", since=mark, timeout=60)
        double.click_button(MARIE, f"✅ Envoyer à {args.people}", chat_id=STAFF)
        if args.people > 100:
            double.wait_for_text(STAFF, "seconde fois", since=mark, timeout=60)
            double.click_button(MARIE, f"⚠️ Oui, envoyer à {args.people}", chat_id=STAFF)
        stop, workers, during = start_askers(double, askers, args.think)
        double.wait_for_text(STAFF, "en file d'envoi", since=mark, timeout=120)
        expected = args.people / min(args.rate, args.campaign_rate)
        for number in range(args.kills):
            time.sleep(expected / (args.kills + 1))
            bot.restart(crash=True, timeout=60)
        report = double.wait_for_text(STAFF, "Bilan de la campagne", since=mark, timeout=expected * 3 + 120)
        stop_askers(stop, workers)
        print_figures(double, args, people, askers, mark, report, floor, during)
        print(f"counted lost in the report (in flight at a kill, not sent again): {counted_lost(work / 'bot.db')}")
    finally:
        bot.stop()
        double.stop()
    return 0


def counted_lost(path: Path) -> list[int]:
    """The people whose message is counted lost: in flight at a kill (received or not, never sent again)."""
    db = sqlite3.connect(path)
    try:
        return [row[0] for row in db.execute("SELECT chat_id FROM outbox WHERE kind = 'campaign' AND status = 'failed' "
                                             "AND last_error LIKE 'in flight%' ORDER BY id").fetchall()]
    finally:
        db.close()


def print_figures(double: BotApiDouble, args: argparse.Namespace, people: list[int], askers: list[int], mark: int,
                  report: dict, floor: list[float], during: list[float]) -> None:
    """Duration against the rate, duplicates, lost, progress updates, answers' p50."""
    got: dict[int, int] = {}
    for user in people:
        for message in double.messages_to(user):
            if TEXT in message.get("text", ""):
                got[user] = got.get(user, 0) + 1
    chat_calls = [c for c in double.calls(since=mark) if c.chat_id is not None and c.ok]
    recipients = set(people)
    campaign = [c for c in chat_calls if c.method == "sendMessage" and c.chat_id in recipients]
    first, last = campaign[0].at, campaign[-1].at
    window = [c for c in chat_calls if first <= c.at <= last]
    duration = last - first
    allowed = max(len(window) / args.rate, len(campaign) / args.campaign_rate)
    duplicates = [u for u, n in got.items() if n > 1]
    lost = [u for u in people if u not in got]
    progress = [c for c in chat_calls if c.method == "editMessageText" and c.chat_id == STAFF]
    answers = [c for c in window if c.chat_id in set(askers)]
    print(f"people {args.people}, kills {args.kills}, rate {args.rate:.0f}/s, campaign rate "
          f"{args.campaign_rate:.0f}/s, in flight {args.in_flight}")
    print(f"campaign {duration:.1f} s for {len(campaign)} messages ({len(campaign) / duration:.1f}/s); "
          f"{len(window)} messages to chats in that window (answers {len(answers)}): at {args.rate:.0f}/s "
          f"{len(window) / args.rate:.1f} s, the campaign at {args.campaign_rate:.0f}/s "
          f"{len(campaign) / args.campaign_rate:.1f} s; allowed {allowed:.1f} s: ratio {duration / allowed:.2f}")
    print(f"duplicates {len(duplicates)}; lost {len(lost)} {lost[:10]}")
    print(f"progress edits in the staff group: {len(progress)}")
    print(f"report: {report['text'].splitlines()[0]}")
    p50_floor = statistics.median(floor) * 1000 if floor else float("nan")
    p50_during = statistics.median(during) * 1000 if during else float("nan")
    print(f"answers p50 without a campaign {p50_floor:.0f} ms ({len(floor)}), during {p50_during:.0f} ms "
          f"({len(during)}): x{p50_during / p50_floor:.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
