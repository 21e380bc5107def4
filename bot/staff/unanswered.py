"""``/sans_reponse``: the questions the bot could not answer, grouped by meaning.

This is the raw material of the next FAQ edit: the staff see "12× combien coûte
la cantine" rather than twelve lines. Questions are compared on the matcher's own
tokens (stems, synonyms folded, typos corrected, stop words dropped), so
"c combien la cantine" and "prix de la cantine ?" fall together. Grouping is
greedy: questions, most frequent first, join the first group whose first question
is close enough (rapidfuzz ``token_set_ratio``), else start a new one.

``token_set_ratio`` gives 100 as soon as one question's tokens are all in the
other's, so a one-word question would swallow everything sharing that word:
tokens present in most entries ("bts", "formation") are ignored for grouping, and
a group's first question must share at least half of a newcomer's tokens.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import sqlite_utils
from rapidfuzz import fuzz

from bot.matching import french
from bot.storage.staff import stamp

#: How close two questions' tokens must be to fall in one group (0-100).
SIMILARITY = 75.0
#: The most recent questions looked at (keeps the command fast on a big base).
MAX_QUESTIONS = 3000
UNANSWERED = ("fallback", "ambiguous")


@dataclass
class Group:
    """Questions that say about the same thing: the most frequent wording first."""

    key: str
    count: int = 0
    wordings: Counter = field(default_factory=Counter)

    @property
    def example(self) -> str:
        """The most frequent wording."""
        return self.wordings.most_common(1)[0][0]

    def variants(self, limit: int = 3) -> list[str]:
        """Other wordings, most frequent first."""
        return [w for w, _ in self.wordings.most_common(limit + 1)[1:]]


def unanswered_questions(db: sqlite_utils.Database, since: dt.datetime) -> list[str]:
    """Texts of the questions answered with the fallback or a choice, since ``since``, newest first."""
    rows = db.execute(
        f"SELECT text FROM questions WHERE outcome IN ({','.join('?' * len(UNANSWERED))}) "
        "AND julianday(at) >= julianday(?) ORDER BY id DESC LIMIT ?",
        [*UNANSWERED, stamp(since), MAX_QUESTIONS]).fetchall()
    return [row[0] for row in rows if row[0] and row[0].strip()]


def group_questions(texts: list[str], tokens: Callable[[str], list[str]],
                    ignore: frozenset[str] = frozenset()) -> list[Group]:
    """Greedy grouping of ``texts`` by their tokens; biggest groups first."""
    by_key: dict[str, Group] = {}
    for text in texts:
        key = _key(text, tokens, ignore)
        if not key:
            continue
        group = by_key.setdefault(key, Group(key))
        group.count += 1
        group.wordings[" ".join(text.split())[:120]] += 1
    groups: list[Group] = []
    holding: dict[str, list[int]] = {}  # token -> positions of the groups whose key has it
    for candidate in sorted(by_key.values(), key=lambda g: (-g.count, g.key)):
        home = _first_close(groups, holding, candidate.key)
        if home is None:
            for token in set(candidate.key.split()):
                holding.setdefault(token, []).append(len(groups))
            groups.append(candidate)
        else:
            home.count += candidate.count
            home.wordings.update(candidate.wordings)
    groups.sort(key=lambda g: -g.count)
    return groups


def _first_close(groups: list[Group], holding: dict[str, list[int]], key: str) -> Group | None:
    """The earliest group close to ``key``, looking only at groups sharing a token with it.

    Groups sharing no token are never close (:func:`_close`), so this finds what a
    scan of every group would, without comparing 3,000 questions to each other
    (that took seconds, during which the bot answered no one).
    """
    positions = sorted({p for token in set(key.split()) for p in holding.get(token, ())})
    return next((groups[p] for p in positions if _close(groups[p].key, key)), None)


def _key(text: str, tokens: Callable[[str], list[str]], ignore: frozenset[str]) -> str:
    """The sorted distinct tokens of a question (its folded words if it has no content token)."""
    found = [t for t in tokens(text) if t not in ignore]
    if not found:
        found = [w for w in french.words(text) if not french.is_stopword(w)]
    return " ".join(sorted(set(found)))


def _close(a: str, b: str) -> bool:
    if a == b:
        return True
    words_a, words_b = set(a.split()), set(b.split())
    shared = len(words_a & words_b)
    if shared * 2 < min(len(words_a), len(words_b)) or shared * 2 < max(len(words_a), len(words_b)) - 1:
        return False
    return fuzz.token_set_ratio(a, b) >= SIMILARITY
