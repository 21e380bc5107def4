"""Load test: N prospects talk to the real bot at once, next to echo bots (the floors).

    python benchmarks/load.py [--prospects 200] [--think 0] [--seed 1]
    python benchmarks/load.py --lead-burst 200      # only the lead-burst scenario (load_burst.py)

Method
------
Everything runs on this machine, against the local Bot API double
(``testing/botapi/``): nothing leaves 127.0.0.1.

1. **The admissions bot.** ``run_bot.py`` is started as a subprocess with
   :class:`testing.process.BotProcess` (own temporary SQLite file,
   ``KNOWLEDGE_DIR=knowledge``, a staff supergroup registered in the double as
   ``STAFF_CHAT_ID`` with one member listed in ``STAFF_USER_IDS``).  N simulated
   prospects, one asyncio task each, all start at once.  Each one sends ``/start``,
   asks 2 or 3 casual French questions, presses a topic then an entry of that topic,
   and fills in the whole pre-registration (``/inscription``, consent, last name,
   first name, birth date, e-mail, phone, diploma, situation, "je cherche encore",
   heard-from, confirm).  It waits for the reply of each step before the next one, as
   a person would (plus ``--think`` seconds, ±50 %, if asked).

2. **The floors.** ``testing/echo_bots/echo.py`` (bare python-telegram-bot, same
   ``concurrent_updates`` as the real bot) with the same number of prospects and the
   same number of steps each; every step is a text round trip. It runs twice: bare
   (no rate limiter: what python-telegram-bot costs, but it ignores Telegram's flood
   limits, which the double does not enforce), then with the same ``AIORateLimiter``
   as the admissions bot (the floor of any bot that respects Telegram's 30 messages
   per second). ``--floors`` picks one or both.

What is measured, per bot
-------------------------
* **Step reply**: a step is done when *its* reply arrives: the message showing the
  step's question (``knowledge/texts/form.yaml``) or buttons, not just any message,
  because one step may produce several messages (an answer and a notice, the
  phone note and the next question).  Each expected reply is the *last* message of
  its step, so nothing of one step can be mistaken for the reply to the next.
* **Latency**: time from pushing an update into the double to the bot's *first*
  message in that chat after it (p50/p95/p99 over all steps).  Both instants are
  read with ``time.monotonic()``: the push in the benchmark's loop, the reply in the
  double's server thread when the message is stored.  The per-step table gives the
  time to the step's expected reply too.
* **Lost**: expected replies that did not come within ``--reply-timeout`` (the
  prospect then stops; its remaining steps are counted as "not run").
* **Errors**: Bot API calls the double answered with an error, plus tracebacks in
  the bot's stderr.
* **Replies per second**: the bot's messages to prospects / wall time of the run.
* **Memory**: the bot process's ``VmHWM`` (peak resident set) from ``/proc``, and
  the highest ``VmRSS`` polled every 0.25 s.  CPU seconds of the bot process and of
  this process (which hosts the double) show which side was busy.
* **Leads**: messages the bot sent to the staff group, matched to prospects by the
  reference given at confirmation (or their e-mail); each should arrive once.

Telegram's flood limits apply to the real bot (PTB's ``AIORateLimiter``: 30
messages per second overall, 20 per minute per group) and to the limited echo bot,
not to the bare one: with N prospects answering instantly, the limit, not the
code, sets every limited bot's latency (about N / 30 seconds).  The run always ends:
``--reply-timeout`` per step, ``--timeout`` per bot, ``--lead-timeout`` for the
staff notifications; both bot processes are stopped with SIGTERM (SIGKILL after
15 s).  The exit code is 0 even when a target is missed: read the figures.

Diagnostics: ``--bot-without-rate-limiter`` runs ``run_bot.py`` with PTB's rate
limiters switched off (what the bot itself costs, without Telegram's flood limits);
``--profile-bot FILE`` runs it under cProfile (read FILE with ``pstats``);
``--keep-logs DIR`` keeps both bots' logs and the bot's database.

``--lead-burst N`` runs another scenario instead (``load_burst.py``): N prospects
fill in the form up to its summary, then all confirm at the same instant; it prints
when the last lead became visible in the staff group, how many group messages
carried the N leads, and how many were lost or shown twice.

The code is in three parts: ``load_scenario.py`` (the prospects and what they say),
``load_driver.py`` (the processes, conversations and phases) and ``load_report.py``
(the figures and the verdict); this file parses the options and runs them.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from load_driver import run_phase  # noqa: E402
from load_report import print_failures, print_requests, print_steps, print_summary, print_verdict  # noqa: E402
from load_scenario import FLOORS, build_prospects  # noqa: E402
from load_burst import run_burst  # noqa: E402


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prospects", type=int, default=200, help="simulated prospects (default 200)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean think time between two steps of a prospect, seconds (default 0)")
    parser.add_argument("--ramp", type=float, default=0.0,
                        help="spread the prospects' first messages over this many seconds (default 0: all at once)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lead-burst", type=int, default=0,
                        help="run the lead-burst scenario instead: N leads confirmed at the same instant")
    parser.add_argument("--reply-timeout", type=float, default=None,
                        help="seconds to wait for one step's reply before counting it lost "
                             "(default 60 + 0.2 s per prospect)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds for all prospects of one bot (default 300 + 3 s per prospect)")
    parser.add_argument("--lead-timeout", type=float, default=None,
                        help="seconds to wait for the staff notifications after the last prospect "
                             "(default 3.5 s per prospect, at most 900: Telegram allows 20 messages a "
                             "minute in a group)")
    parser.add_argument("--lead-idle", type=float, default=20.0,
                        help="stop waiting for notifications when none came for this long (default 20)")
    parser.add_argument("--skip-echo", action="store_true", help="only the admissions bot")
    parser.add_argument("--floors", default=",".join(FLOORS),
                        help="echo bots to compare with, in order: 'bare' (no rate limiter) and/or 'limited' "
                             "(the same AIORateLimiter as the bot); default: both")
    parser.add_argument("--staff-forum", action="store_true", help="register the staff group as a forum")
    parser.add_argument("--log-level", default="INFO", help="LOG_LEVEL of the admissions bot (default INFO)")
    parser.add_argument("--bot-without-rate-limiter", action="store_true",
                        help="diagnostic: run the admissions bot with PTB's AIORateLimiters switched off")
    parser.add_argument("--profile-bot", type=Path, default=None,
                        help="run the admissions bot under cProfile and write the stats to this file")
    parser.add_argument("--keep-logs", type=Path, default=None,
                        help="directory for the bots' logs and database (default: a temporary one)")
    args = parser.parse_args(argv)
    if args.prospects < 1:
        parser.error("--prospects must be at least 1")
    args.reply_timeout = args.reply_timeout or 60 + 0.2 * args.prospects
    args.timeout = args.timeout or 300 + 3 * args.prospects
    args.lead_timeout = args.lead_timeout if args.lead_timeout is not None else min(3.5 * args.prospects, 900)
    if args.profile_bot:
        args.profile_bot = args.profile_bot.resolve()
    args.floors = [f.strip() for f in args.floors.split(",") if f.strip()]
    if unknown := [f for f in args.floors if f not in FLOORS]:
        parser.error(f"unknown floor(s) {unknown}: choose among {list(FLOORS)}")
    return args


async def main_async(args: argparse.Namespace, workdir: Path) -> int:
    if args.lead_burst:
        await run_burst(args, workdir)
        return 0
    prospects = build_prospects(args.prospects, args.seed)
    steps = sum(len(p.steps) for p in prospects)
    print(f"{args.prospects} prospects, {steps} steps ({steps / args.prospects:.1f} each), think {args.think} s, "
          f"reply timeout {args.reply_timeout:.0f} s, run timeout {args.timeout:.0f} s", flush=True)
    wall = time.monotonic()
    bot = await run_phase("bot", prospects, args, workdir)
    print(f"admissions bot done in {bot.duration:.1f} s (+{bot.lead_wait:.0f} s for the staff notifications)",
          flush=True)
    floors = []
    for kind in ([] if args.skip_echo else args.floors):
        floors.append(await run_phase(kind, prospects, args, workdir))
        print(f"{FLOORS[kind]} done in {floors[-1].duration:.1f} s", flush=True)
    results = [bot, *floors]
    print()
    print_summary(results)
    print_steps(bot)
    print_requests(results)
    print_verdict(bot, floors, args.think)
    for result in results:
        print_failures(result)
    print(f"\ntotal wall time {time.monotonic() - wall:.0f} s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keep_logs:
        args.keep_logs.mkdir(parents=True, exist_ok=True)
        return asyncio.run(main_async(args, args.keep_logs.resolve()))
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
        return asyncio.run(main_async(args, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())
