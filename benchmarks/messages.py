"""How often the bot uses the right entries for unseen prospect messages, turn by turn.

    python benchmarks/messages.py [--set FILE.yaml] [--show-fail]

The set (default ``tests/fixtures/messages_unseen.yaml``) holds conversations written before
the changes they measure and never used to tune: each turn names the entries its answer
must use (``entries``: exactly these, any order, ``[]`` for none) or one of several
(``any``). Every conversation goes through ``run_bot.py ask --json --dialogue`` (a new
prospect each, the same path as Telegram's), as of :data:`DAY`. Prints the failures
with ``--show-fail``, then ``turns A/B (P%)``.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT / "tests" / "fixtures" / "messages_unseen.yaml"
#: The day the answers are given for.
DAY = "2026-11-22"


def verdict(turn: dict, got: list[str]) -> bool:
    """True when the turn's answer used the expected entries."""
    if "any" in turn:
        return len(got) == 1 and got[0] in turn["any"]
    return sorted(set(got)) == sorted(set(turn.get("entries") or []))


def replay(conversations: list[dict]) -> list[dict]:
    """One JSON row per turn, from the bot's own command line."""
    stdin = "\n\n".join("\n".join(t["say"] for t in c["turns"]) for c in conversations) + "\n"
    out = subprocess.run([sys.executable, str(ROOT / "run_bot.py"), "ask", "--json", "--dialogue", "--today", DAY],
                         input=stdin, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=DEFAULT_SET)
    parser.add_argument("--show-fail", action="store_true")
    args = parser.parse_args()
    conversations = yaml.safe_load(args.set.read_text(encoding="utf-8"))["conversations"]
    turns = [t for c in conversations for t in c["turns"]]
    rows = replay(conversations)
    if len(rows) != len(turns):
        raise SystemExit(f"{len(rows)} answers for {len(turns)} turns")
    right = 0
    for turn, row in zip(turns, rows):
        if verdict(turn, row["entries"]):
            right += 1
        elif args.show_fail:
            expected = turn.get("any") or turn.get("entries")
            print(f"FAIL {turn['say']!r}: {row['entries']} (expected {expected})")
    print(f"turns {right}/{len(turns)} ({100 * right / len(turns):.1f}%)")


if __name__ == "__main__":
    main()
