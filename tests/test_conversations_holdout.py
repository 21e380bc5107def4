"""The held-out conversations, replayed through `run_bot.py ask --dialogue`, stay above a floor.

`tests/fixtures/conversations_holdout.yaml` holds realistic conversations (parents, employers,
career changers, block-4 candidates, lycéens writing in SMS French, out-of-scope and
uncovered questions) written from the brochures before any failure was looked at. A change
to the segmentation, the context, the small talk or the thresholds that makes the bot
worse on them fails here, with the turns that broke listed.

Each turn is judged as the shared evaluation judges it (all / any / none regexes on the text
the prospect reads, lowercased and accents folded; `honest` must say it does not know or
point to a contact).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONVERSATIONS = ROOT / "tests" / "fixtures" / "conversations_holdout.yaml"
#: The day the answers are given for (the expectations about dates are written for it).
DAY = "2026-11-22"
#: The least share of turns that must pass (95 % when this test was written).
FLOOR = 0.90
#: What an honest "I don't know" says: no answer of its own, a way to reach a person.
HONEST = [r"pas (sur|certain)", r"ne (sais|connais) pas", r"je n'ai pas (cette|l'|d')", r"pas (cette|l'|d')\s?info",
          r"reformul", r"pas dans (la|les) brochure", r"digits:0322828470", r"campus@sacrecoeur-amiens\.org",
          r"conseiller", r"l'equipe"]


def norm(text: str) -> str:
    """Lowercase, accents folded, typographic apostrophes and spaces unified."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("\u2019", "'").replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", text)


def matches(pattern: str, text: str) -> bool:
    """A regex on the text, or ``digits:NNN`` on its digits only (phone numbers however written)."""
    if pattern.startswith("digits:"):
        return pattern[7:] in re.sub(r"\D", "", text)
    return re.search(pattern, text) is not None


def why_failed(turn: dict, answer: str) -> str:
    """Why a turn fails, or '' when it passes."""
    text = norm(answer)
    if not text.strip():
        return "no answer"
    missing = [p for p in turn.get("all", []) if not matches(p, text)]
    if missing:
        return f"missing {missing}"
    if turn.get("any") and not any(matches(p, text) for p in turn["any"]):
        return f"none of {turn['any']}"
    present = [p for p in turn.get("none", []) if matches(p, text)]
    if present:
        return f"forbidden {present}"
    if turn.get("honest") and not any(matches(p, text) for p in HONEST):
        return "does not say it does not know"
    return ""


def test_the_held_out_conversations_stay_above_the_floor() -> None:
    conversations = yaml.safe_load(CONVERSATIONS.read_text(encoding="utf-8"))["conversations"]
    turns = [(c["id"], t) for c in conversations for t in c["turns"]]
    stdin = "\n\n".join("\n".join(t["say"] for t in c["turns"]) for c in conversations) + "\n"
    done = subprocess.run([sys.executable, "run_bot.py", "ask", "--json", "--dialogue", "--today", DAY],
                          cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "BOT_DATABASE": ":memory:"})
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip().startswith("{")]
    assert len(rows) == len(turns), "one row per turn, in order"
    failures = [f"{cid}: {turn['say']!r}: {why}" for (cid, turn), row in zip(turns, rows)
                if (why := why_failed(turn, row["answer"]))]
    passed = len(turns) - len(failures)
    assert passed / len(turns) >= FLOOR, f"{passed}/{len(turns)} turns pass:\n" + "\n".join(failures)


def test_the_judge_can_fail() -> None:
    """The floor means something only if a wrong answer is judged wrong."""
    turn = {"say": "la formation est gratuite ?", "all": ["gratuit"], "none": ["payant"]}
    assert why_failed(turn, "La formation est **gratuite**.") == ""
    assert why_failed(turn, "Le rythme : lundi et mardi.").startswith("missing")
    assert why_failed({"say": "?", "honest": True}, "Le rythme : lundi et mardi.")
    assert why_failed({"say": "?", "honest": True}, "Je n'ai pas cette information : 03 22 82 84 70") == ""
