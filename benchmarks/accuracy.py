"""How often the matcher picks the right entry, on questions it was not tuned on.

    python benchmarks/accuracy.py [--show-fail] [--show-held-out] [--set FILE.yaml]

Two measures:
- the held-out set: questions written without looking at the knowledge base's
  examples, each with the entry that answers it, or ``oos: true`` when the
  brochures do not answer it;
- leave-one-out on the base itself: each example question matched as if it were
  not in the base.
Prints, for each: right, asked to choose (among candidates including the right
one), fell back, wrong; and for out-of-scope questions how many fell back.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.conversation.faq import Faq  # noqa: E402
from bot.knowledge.store import KnowledgeStore, Loaded  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HOLDOUT = ROOT / "tests" / "fixtures" / "holdout_questions.yaml"


def verdict(entry: str | None, candidates: tuple[str, ...], expected: list[str] | None) -> str:
    """right/choice/fallback/wrong for an in-scope question, oos-ok/oos-wrong otherwise."""
    if expected is None:
        return "oos-ok" if entry is None else "oos-wrong"
    if entry in expected:
        return "right"
    if set(candidates) & set(expected):
        return "choice"
    return "fallback" if entry is None and not candidates else "wrong"


def held_out(loaded: Loaded, path: Path, show: bool) -> None:
    faq = Faq(loaded, loaded.renderer(dt.date(2026, 11, 22)))
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
    counts: Counter[str] = Counter()
    for item in items:
        expected = None if item.get("oos") else (
            item["entry"] if isinstance(item["entry"], list) else [item["entry"]])
        answer = faq.answer(item["q"])
        result = verdict(answer.entry, answer.candidates, expected)
        counts[result] += 1
        if show and result not in ("right", "oos-ok"):
            got = answer.entry or ",".join(answer.candidates) or answer.outcome
            print(f"  {result:9s} {item['q']!r} -> {got} (expected {expected or 'oos'})")
    in_scope = sum(counts[k] for k in ("right", "choice", "fallback", "wrong"))
    oos = counts["oos-ok"] + counts["oos-wrong"]
    print(f"held-out: in-scope right {counts['right']}/{in_scope} ({100 * counts['right'] / max(in_scope, 1):.1f}%), "
          f"choice {counts['choice']}, fallback {counts['fallback']}, wrong {counts['wrong']}; "
          f"out-of-scope right {counts['oos-ok']}/{oos} ({100 * counts['oos-ok'] / max(oos, 1):.1f}%)")


def leave_one_out(loaded: Loaded, show: bool) -> None:
    counts: Counter[str] = Counter()
    for entry in loaded.kb.entries.values():
        for question in entry.questions:
            match = loaded.faq.match(question, leave_out=(entry.id, question))
            result = verdict(match.entry_id, match.candidates, [entry.id])
            counts[result] += 1
            if show and result == "wrong":
                print(f"  loo-wrong {question!r} -> {match.entry_id} (entry {entry.id})")
    total = sum(counts.values())
    print(f"leave-one-out: right {counts['right']}/{total} ({100 * counts['right'] / max(total, 1):.1f}%), "
          f"choice {counts['choice']}, fallback {counts['fallback']}, wrong {counts['wrong']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=HOLDOUT)
    parser.add_argument("--show-fail", action="store_true", help="list the leave-one-out failures")
    parser.add_argument("--show-held-out", action="store_true",
                        help="also list the held-out failures (whoever edits the base should not look:"
                             " the set stops measuring anything once examples are written from it)")
    args = parser.parse_args()
    loaded = KnowledgeStore(ROOT / "knowledge").current
    if args.set.exists():
        held_out(loaded, args.set, args.show_held_out)
    leave_one_out(loaded, args.show_fail)


if __name__ == "__main__":
    main()
