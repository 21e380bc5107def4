"""How long the matcher takes per question: p50 and p99, on the real base and on a big one.

    python benchmarks/matcher.py [--questions N] [--grow 10000] [--clock cpu]

``--clock cpu`` times with the process's CPU clock instead of the wall clock: on a
machine shared with other work, a question during which the process was not running
otherwise shows that wait in the p99, not the bot's cost.

The real base is ``knowledge/``. The big base keeps the real entries and adds
synthetic ones until it holds ``--grow`` example questions, built from the real
vocabulary plus invented words, so that postings lists and the typo-correction
vocabulary grow as they would with a much larger FAQ. The questions timed are the
base's own examples, shuffled and disturbed (typos, dropped accents, SMS words),
plus out-of-scope questions: the mix a live bot sees.
Targets: p99 under 1 ms (real base) and under 5 ms (10,000 examples).

The second part times the whole understanding step of a message
(``Faq.answer``: cutting into sentences and clauses, small talk, context, the
matcher calls, the answer's text) on realistic messages: a greeting or a preamble,
then one to three questions. Targets: p50 under 1 ms and p99 under 5 ms on the real
base, p99 under 10 ms at 10,000 examples.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import random
import statistics
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.conversation.context import ConversationContext  # noqa: E402
from bot.conversation.faq import Faq  # noqa: E402
from bot.knowledge.loader import load_knowledge  # noqa: E402
from bot.knowledge.store import Loaded  # noqa: E402
from bot.knowledge.model import Entry  # noqa: E402
from bot.matching.cues import folded  # noqa: E402
from bot.matching import french  # noqa: E402
from bot.matching.matcher import Matcher  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: The clock the timings are read on (``--clock``): the wall clock, or the process's CPU time.
CLOCK = time.perf_counter
OUT_OF_SCOPE = ["combien coute une pizza", "un bts sio ?", "la meteo demain a amiens",
                "licence de droit a la sorbonne", "tu connais un bon garage", "quel est le sens de la vie"]


def disturb(question: str, rng: random.Random) -> str:
    """A question as typed in a hurry: a letter dropped or swapped, an SMS word."""
    words = question.split()
    if words and rng.random() < 0.5:
        i = rng.randrange(len(words))
        word = words[i]
        if len(word) > 4:
            j = rng.randrange(1, len(word) - 1)
            words[i] = word[:j] + word[j + 1:]
    if rng.random() < 0.3:
        words.insert(0, rng.choice(["c", "ya", "stp", "slt"]))
    return " ".join(words)


def grow(entries: list[Entry], target: int, rng: random.Random) -> list[Entry]:
    """The real entries plus synthetic ones until there are ``target`` examples."""
    vocabulary = sorted({w for e in entries for q in e.questions for w in q.split() if len(w) > 3})
    invented = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 9))) for _ in range(3000)]
    grown = list(entries)
    count = sum(len(e.questions) for e in entries)
    n = 0
    while count < target:
        topic_words = rng.sample(invented, 3)
        questions = [" ".join(rng.sample(vocabulary, 2) + rng.sample(topic_words, 2)) for _ in range(10)]
        grown.append(Entry(id=f"synthetique_{n}", answer="-", questions=questions, title="-", topic="x"))
        count += len(questions)
        n += 1
    return grown


def forget_words() -> None:
    """Empty the memos of word splitting, so that a duplicate question costs as a new one."""
    french._words.cache_clear()
    folded.cache_clear()


def measure(matcher: Matcher, questions: list[str]) -> tuple[float, float, float]:
    """p50, p99 and max time per question, in milliseconds."""
    for q in questions[:50]:  # warm the caches as a running bot would be
        matcher.match(q)
    times = []
    for q in questions:
        matcher.forget_tokens()  # each question timed as if new: no memo from an earlier duplicate
        forget_words()
        start = CLOCK()
        matcher.match(q)
        times.append((CLOCK() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1], times[-1]


PREAMBLES = ["Bonjour,", "Bonjour, je me renseigne pour ma fille.", "Salut !",
             "Bonjour, je suis RH dans une enseigne de sport et je cherche un apprenti.",
             "bonsoir, j'ai 19 ans et je cherche une alternance.", ""]


def messages(examples: list[str], count: int, rng: random.Random) -> list[str]:
    """Messages as prospects write them: a preamble or not, then one to three questions."""
    result = []
    for _ in range(count):
        questions = [disturb(rng.choice(examples), rng).rstrip(" ?") + " ?" for _ in range(rng.choice((1, 1, 2, 3)))]
        result.append(" ".join([rng.choice(PREAMBLES), *questions]).strip())
    return result


def measure_understanding(faq: Faq, texts: list[str]) -> tuple[float, float, float]:
    """p50, p99 and max time of ``Faq.answer`` per message (a fresh context each), in ms."""
    for text in texts[:50]:
        faq.answer(text, ConversationContext())
    times = []
    for text in texts:
        faq.loaded.faq.forget_tokens()
        faq.loaded.smalltalk.forget_tokens()
        forget_words()
        start = CLOCK()
        faq.answer(text, ConversationContext())
        times.append((CLOCK() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1], times[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=3000, help="questions timed per base")
    parser.add_argument("--grow", type=int, default=10000, help="example questions of the big base")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall", help="what the timings are read on")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    rng = random.Random(42)
    kb, problems = load_knowledge(ROOT / "knowledge")
    if problems:
        print(f"warning: {len(problems)} problem(s) in knowledge/", file=sys.stderr)
    entries = list(kb.entries.values())
    examples = [q for e in entries for q in e.questions]
    questions = [disturb(rng.choice(examples), rng) if rng.random() < 0.85 else rng.choice(OUT_OF_SCOPE)
                 for _ in range(args.questions)]
    for label, base in (("real base", entries), (f"grown base", grow(entries, args.grow, rng))):
        start = time.perf_counter()
        matcher = Matcher(base, kb.synonyms)
        build = (time.perf_counter() - start) * 1000
        p50, p99, worst = measure(matcher, questions)
        n_examples = sum(len(e.questions) for e in base)
        print(f"{label:10s} {len(base):5d} entries {n_examples:6d} examples  build {build:7.1f} ms  "
              f"per question: p50 {p50:.3f} ms  p99 {p99:.3f} ms  max {worst:.3f} ms")
    texts = messages(examples, args.questions, rng)
    grown_kb = dataclasses.replace(kb, entries={e.id: e for e in grow(entries, args.grow, rng)})
    for label, base_kb in (("real base", kb), ("grown base", grown_kb)):
        loaded = Loaded.build(base_kb)
        p50, p99, worst = measure_understanding(Faq(loaded, loaded.renderer(dt.date(2026, 11, 22))), texts)
        print(f"{label:10s} understanding of a message (1-3 questions, preambles): "
              f"p50 {p50:.3f} ms  p99 {p99:.3f} ms  max {worst:.3f} ms")


if __name__ == "__main__":
    main()
