"""A staff campaign to many opted-in prospects, through the real bot and the Bot API double.

    python benchmarks/campaign.py [--people 5000] [--kills 0] [--askers 5]

Method: a fresh SQLite file gets ``--people`` active reminder subscriptions (people
who said yes earlier), each a user the double knows. ``run_bot.py`` starts against
the double with a staff group; a staff member types ``/campagne tous …``, gets the
preview and confirms (twice above 100). Meanwhile ``--askers`` prospects ask
questions one after the other; the same is measured before the campaign (the floor).
``--kills N`` kills the bot with SIGKILL N times during the campaign and restarts it.

Printed: the campaign's duration against the duration its allowed rate gives (the
outbox's client sends at most ``DELIVERY_RATE`` messages per second: ratio close to 1
means the campaign uses its allowance and no more), duplicates (people who got the
message twice: must be 0), lost (messages in flight at a kill, listed, and counted as
failed in the report), and the p50 of prospects' answers during the campaign against
without one.
"""
from __future__ import annotations

import argparse
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
#: The outbox client's overall rate (handlers/app.py, ``delivery_bot``).
DELIVERY_RATE = 5.0
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


def answer_latencies(double: BotApiDouble, askers: list[int], stop: threading.Event, out: list[float]) -> None:
    """Each asker asks, waits for the first reply, asks again, until ``stop``."""
    turn = 0
    while not stop.is_set():
        for user in askers:
            mark = double.mark()
            start = time.monotonic()
            double.push_text(user, QUESTIONS[turn % len(QUESTIONS)])
            try:
                double.wait_for_message(lambda m: True, chat_id=user, since=mark, timeout=30)
            except AssertionError:
                continue
            out.append(time.monotonic() - start)
        turn += 1


def measure_answers(double: BotApiDouble, askers: list[int], seconds: float) -> list[float]:
    stop, out = threading.Event(), []
    worker = threading.Thread(target=answer_latencies, args=(double, askers, stop, out), daemon=True)
    worker.start()
    time.sleep(seconds)
    stop.set()
    worker.join(35)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=0)
    parser.add_argument("--askers", type=int, default=5)
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
                  OFFICE_HOURS="00:00-23:59:59", OFFICE_DAYS="1-7", LOG_LEVEL="WARNING")
    bot = BotProcess(env=env, log_dir=work / "logs", name="bot", double=double).start()
    bot.wait_ready(30)
    try:
        floor = measure_answers(double, askers, 10)
        mark = double.mark()
        double.push_command(MARIE, "/campagne", "tous", *TEXT.split(), chat_id=STAFF)
        double.wait_for_text(STAFF, "Aperçu de la campagne", since=mark, timeout=60)
        double.click_button(MARIE, f"✅ Envoyer à {args.people}", chat_id=STAFF)
        if args.people > 100:
            double.wait_for_text(STAFF, "seconde fois", since=mark, timeout=60)
            double.click_button(MARIE, f"⚠️ Oui, envoyer à {args.people}", chat_id=STAFF)
        double.wait_for_text(STAFF, "en file d'envoi", since=mark, timeout=120)
        started = time.monotonic()
        during: list[float] = []
        stop = threading.Event()
        worker = threading.Thread(target=answer_latencies, args=(double, askers, stop, during), daemon=True)
        worker.start()
        expected = args.people / DELIVERY_RATE
        for number in range(args.kills):
            time.sleep(expected / (args.kills + 1))
            bot.restart(crash=True, timeout=60)
        report = double.wait_for_text(STAFF, "Bilan de la campagne", since=mark, timeout=expected * 3 + 120)
        stop.set()
        worker.join(35)
        got: dict[int, int] = {}
        last = started
        for user in people:
            for message in double.messages_to(user):
                if TEXT in message.get("text", ""):
                    got[user] = got.get(user, 0) + 1
        calls = [c for c in double.calls("sendMessage", since=mark) if TEXT in str(c.params.get("text", ""))]
        if calls:
            last = max(getattr(c, "at", 0) or 0 for c in calls) or time.monotonic()
        duration = (last if last > started else time.monotonic()) - started
        duplicates = [u for u, n in got.items() if n > 1]
        lost = [u for u in people if u not in got]
        print(f"people {args.people}, kills {args.kills}")
        print(f"campaign {duration:.1f} s for {len(got)} messages; allowed rate {DELIVERY_RATE:.0f}/s gives "
              f"{expected:.1f} s: ratio {duration / expected:.2f}")
        print(f"duplicates {len(duplicates)}; lost {len(lost)} {lost[:10]}")
        print(f"report: {report['text'].splitlines()[0]}")
        p50_floor = statistics.median(floor) * 1000 if floor else float("nan")
        p50_during = statistics.median(during) * 1000 if during else float("nan")
        print(f"answers p50 without a campaign {p50_floor:.0f} ms ({len(floor)}), during {p50_during:.0f} ms "
              f"({len(during)}): x{p50_during / p50_floor:.2f}")
    finally:
        bot.stop()
        double.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
