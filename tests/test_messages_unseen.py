"""The unseen prospect messages, replayed through `run_bot.py ask --dialogue`, stay above a floor.

`tests/fixtures/messages_unseen.yaml` was written before the fourth session's changes (first
score 53/73) and scored by `benchmarks/messages.py` on the entries each answer uses. A change
to the lexicon, the segmentation or the context rules that makes the bot worse on them fails
here, with the turns that broke listed.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The least share of turns that must pass (67/73, 92 %, when this test was written).
FLOOR = 0.88


def test_unseen_messages_stay_above_the_floor() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "messages.py"), "--show-fail"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    right, total = map(int, re.search(r"turns (\d+)/(\d+)", out).groups())
    assert right / total >= FLOOR, out
