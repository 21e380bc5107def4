"""Which entry a question is about, how sure we are, and when to say "I don't know".

The matcher is lexical, built for short casual French questions:

1. each example question, title and keyword of an entry becomes a bag of stems
   (``french.py``), with synonyms mapped to one canonical token;
2. a query word the index has never seen is corrected to the closest known word
   with rapidfuzz's plain ``ratio`` (an edit-distance measure: ``salere`` ->
   ``salaire``) only when it is close; ``WRatio`` is avoided on purpose, as it gives
   about 85 to any two texts sharing one word;
3. tokens are weighted by IDF over entries, so "bts" or "formation", present
   everywhere, weigh little, and a word the base has never seen weighs the most;
4. an entry's score combines how much of the *query* its whole vocabulary covers
   (what makes "combien coûte une pizza" fall back: "pizza" is unknown and heavy)
   and how well the query fits its closest example.

Below :data:`THRESHOLD` the bot says it is not sure; when the best two entries are
within :data:`MARGIN` and neither has a clearly closer example, it asks which one
was meant.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Protocol, Sequence

from rapidfuzz import fuzz, process

from bot.matching import french
from bot.matching.lexicon import is_french_word

THRESHOLD = 0.42
MARGIN = 0.04
#: Share of an entry's score that comes from its closest example (the rest: its whole vocabulary).
FIT_WEIGHT = 0.35
#: The vocabulary coverage is raised to this power: missing a query word costs more than linearly.
BAG_POWER = 1.6
#: An unknown query word weighs this times the rarest known word.
UNKNOWN_FACTOR = 1.3
#: The most a number weighs, known or not.
NUMBER_WEIGHT = 0.6
#: The same for an unknown word of one or two letters, more often noise than meaning.
SHORT_UNKNOWN_FACTOR = 1.0
#: Between two entries with close scores, one whose closest example fits this much better wins.
FIT_MARGIN = 0.1
#: How close an unknown word must be to a known one to be taken for it (0-100), by length.
TYPO_CUTOFF = ((4, 84.0), (6, 75.0))
#: How many tokenised texts are remembered (then the memo starts afresh).
TOKEN_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Match:
    """The outcome of matching one question.

    ``entry_id`` is set when the bot is confident; ``candidates`` (ids, best first)
    when two or more entries are about equally likely; neither when it does not know.
    """

    entry_id: str | None
    score: float
    candidates: tuple[str, ...] = ()
    scores: tuple[tuple[str, float], ...] = ()


class Indexable(Protocol):
    """What the matcher reads of an entry: its id, kind and the texts that lead to it.

    A protocol rather than the knowledge base's ``Entry``, so matching (below the
    knowledge layer) needs nothing from above it: ``bot.knowledge.model.Entry`` has
    these attributes, and so may any other record a matcher indexes.
    """

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def questions(self) -> Sequence[str]: ...
    @property
    def keywords(self) -> Sequence[str]: ...
    @property
    def title(self) -> str: ...


@dataclass
class _Doc:
    entry_id: str
    text: str
    weights: dict[str, float] = field(default_factory=dict)
    total: float = 0.0


class Matcher:
    """An index over a set of entries; build once per knowledge base, then :meth:`match`."""

    def __init__(self, entries: Iterable[Indexable], synonyms: list[list[str]] | None = None,
                 stopwords: frozenset[str] = french.STOPWORDS) -> None:
        self.stopwords = stopwords
        self._single: dict[str, str] = {}
        self._multi: list[tuple[tuple[str, ...], str]] = []
        self._surface: dict[str, str] = {}
        self._multi_by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self._token_cache: dict[tuple[str, bool], tuple[str, ...]] = {}
        self._load_synonyms(synonyms or [])
        self._entries = list(entries)
        token_docs = [(e.id, self._doc_texts(e)) for e in self._entries]
        self._build_vocabulary(token_docs)
        self._build_index(token_docs)

    # --- text to tokens --------------------------------------------------------------

    def tokens(self, text: str, correct: bool = True) -> list[str]:
        """The content tokens of a text: stems, synonyms folded, typos corrected.

        Memoised: reading one message tokenises its sentences, clauses and the titles
        of the entries in contention, often the same texts again.
        """
        key = (text, correct)
        found = self._token_cache.get(key)
        if found is None:
            if len(self._token_cache) >= TOKEN_CACHE_SIZE:
                self._token_cache.clear()
            found = self._token_cache[key] = self._tokens(text, correct)
        return list(found)

    def forget_tokens(self) -> None:
        """Empty the memo of :meth:`tokens` (benchmarks time each text as never seen)."""
        self._token_cache.clear()

    def _tokens(self, text: str, correct: bool) -> tuple[str, ...]:
        stems = []
        for word in french.words(text):
            if word in self.stopwords:
                continue
            if correct and self._is_typo_candidate(word):
                word = self._correct(word)
            stems.append(french.stem(word))
        return tuple(self._apply_synonyms(stems))

    def _apply_synonyms(self, stems: list[str]) -> list[str]:
        result: list[str] = []
        i = 0
        while i < len(stems):
            for phrase, canonical in self._multi_by_first.get(stems[i], ()):
                if tuple(stems[i:i + len(phrase)]) == phrase:
                    result.append(canonical)
                    i += len(phrase)
                    break
            else:
                result.append(self._single.get(stems[i], stems[i]))
                i += 1
        return result

    def _is_typo_candidate(self, word: str) -> bool:
        """An unknown word worth correcting: not in the base, not a real French word."""
        if word in self._surface or len(word) < 4 or word.isdigit():
            return False
        if french.stem(word) in self._known_stems:
            return False
        return not is_french_word(word)

    def _correct(self, word: str) -> str:
        cutoff = next((c for n, c in reversed(TYPO_CUTOFF) if len(word) >= n), 101.0)
        found = process.extractOne(word, self._surface_list, scorer=fuzz.ratio, score_cutoff=cutoff)
        return found[0] if found else word

    # --- building the index ----------------------------------------------------------

    def _load_synonyms(self, groups: list[list[str]]) -> None:
        for group in groups:
            canonical_stems = [french.stem(w) for w in french.words(group[0]) if w not in self.stopwords]
            canonical = "_".join(canonical_stems) or french.fold(group[0])
            for variant in group:
                variant_words = [w for w in french.words(variant) if w not in self.stopwords]
                for w in variant_words:
                    self._surface.setdefault(w, w)
                stems = tuple(french.stem(w) for w in variant_words)
                if len(stems) == 1:
                    self._single[stems[0]] = canonical
                elif len(stems) > 1:
                    self._multi.append((stems, canonical))
        self._multi.sort(key=lambda item: -len(item[0]))
        # Indexed by first stem: a message is checked against the phrases that can start at each word only.
        for phrase, canonical in self._multi:
            self._multi_by_first.setdefault(phrase[0], []).append((phrase, canonical))

    def _doc_texts(self, entry: Indexable) -> list[str]:
        return [*entry.questions, *entry.keywords, *([entry.title] if entry.title else [])]

    def _build_vocabulary(self, token_docs: list[tuple[str, list[str]]]) -> None:
        for _, texts in token_docs:
            for text in texts:
                for word in french.words(text):
                    if word not in self.stopwords:
                        self._surface.setdefault(word, word)
        self._surface_list = [w for w in self._surface if len(w) >= 3 and not w.isdigit()]

    def _build_index(self, token_docs: list[tuple[str, list[str]]]) -> None:
        raw_docs = [(entry_id, text, self.tokens(text, correct=False)) for entry_id, texts in token_docs
                    for text in texts]
        entry_tokens: dict[str, Counter[str]] = defaultdict(Counter)
        for entry_id, _, toks in raw_docs:
            entry_tokens[entry_id].update(set(toks))
        # "Not covered" entries are matched like the others but leave the weights of the
        # real entries' words as they were: adding an honest "I don't know" about parking
        # must not change which entry a question about the rhythm finds.
        aside = {e.id for e in self._entries if e.kind == "not_covered"}
        df: dict[str, int] = defaultdict(int)
        df_aside: dict[str, int] = defaultdict(int)
        for entry_id, toks in entry_tokens.items():
            for tok in toks:
                (df_aside if entry_id in aside else df)[tok] += 1
        for tok, count in df_aside.items():
            df.setdefault(tok, count)
        self._known_stems = set(df)
        n = max(len(entry_tokens) - len(aside & set(entry_tokens)), 1)
        self.idf = {tok: math.log(1 + n / count) for tok, count in df.items()}
        self.unknown_weight = max(self.idf.values(), default=1.0)
        self._docs: list[_Doc] = []
        self._postings: dict[str, list[int]] = defaultdict(list)
        self._bags: dict[str, Counter[str]] = dict(entry_tokens)
        self._entry_postings: dict[str, list[str]] = defaultdict(list)
        for entry_id, bag in self._bags.items():
            for tok in bag:
                self._entry_postings[tok].append(entry_id)
        for entry_id, text, toks in raw_docs:
            if not toks:
                continue
            doc = _Doc(entry_id, text, {t: self.idf[t] for t in set(toks)})
            doc.total = sum(doc.weights.values())
            for tok in doc.weights:
                self._postings[tok].append(len(self._docs))
            self._docs.append(doc)

    # --- matching --------------------------------------------------------------------

    def weight(self, token: str) -> float:
        """How much a query token counts: its IDF, or the most for an unknown word."""
        if token.isdigit():  # "5" or "2026" alone say little about the topic
            return min(self.idf.get(token, NUMBER_WEIGHT), NUMBER_WEIGHT)
        if token in self.idf:
            return self.idf[token]
        if len(token) <= 2:  # "cg", "ps": often an acronym the base does not know
            return self.unknown_weight * SHORT_UNKNOWN_FACTOR
        return self.unknown_weight * UNKNOWN_FACTOR

    def scores(self, text: str, leave_out: tuple[str, str] | None = None) -> list[tuple[str, float]]:
        """Every entry sharing a token with ``text``, with its score, best first.

        ``leave_out`` (entry id, example text) scores as if that example were not in
        the index: how ``check`` tells whether an example would find its entry alone.
        """
        return [(entry_id, score) for entry_id, score, _ in self._ranked(text, leave_out)]

    def _ranked(self, text: str, leave_out: tuple[str, str] | None) -> list[tuple[str, float, float]]:
        """(entry id, score, fit of its closest example), best score first."""
        query = set(self.tokens(text))
        if not query:
            return []
        weights = {t: self.weight(t) for t in query}
        total = sum(weights.values())
        best_doc: dict[str, float] = defaultdict(float)
        left_out: _Doc | None = None
        # Each document's shared weight summed along the postings, in the query's order:
        # at 10,000 examples a common word's postings are long, and walking them once
        # costs less than testing every query word against every document reached.
        shared_of: dict[int, float] = defaultdict(float)
        for t in query:
            w = weights[t]
            for doc_index in self._postings.get(t, ()):
                shared_of[doc_index] += w
        for doc_index in sorted(shared_of):  # documents in index order: ties keep their order
            shared = shared_of[doc_index]
            doc = self._docs[doc_index]
            if leave_out is not None and (doc.entry_id, doc.text) == leave_out:
                left_out = doc
                continue
            query_cover, doc_cover = shared / total, shared / doc.total
            fit = math.sqrt(query_cover * doc_cover)
            best_doc[doc.entry_id] = max(best_doc[doc.entry_id], fit)
        # How much of the query each entry's whole vocabulary covers, summed along the
        # entries' postings (the query's order, as a sum over the query would add them).
        covered: dict[str, float] = defaultdict(float)
        for t, w in weights.items():
            for entry_id in self._entry_postings.get(t, ()):
                covered[entry_id] += w
        results = []
        for entry_id, fit in best_doc.items():
            if left_out is not None and left_out.entry_id == entry_id:
                bag = self._bags[entry_id] - Counter(left_out.weights.keys())
                bag_cover = sum(w for t, w in weights.items() if bag[t] > 0) / total
            else:
                bag_cover = covered[entry_id] / total
            score = FIT_WEIGHT * fit + (1 - FIT_WEIGHT) * bag_cover ** BAG_POWER
            results.append((entry_id, round(score, 4), fit))
        results.sort(key=lambda item: -item[1])
        return results

    def knows(self, entry_id: str, tokens: Iterable[str]) -> bool:
        """True when every token (numbers aside) is in the entry's vocabulary (examples, keywords, title).

        What lets the conversation's context choose an entry only when the question's own
        words fit it: after the pay, "comment se passe l'admission ?" is not about the pay.
        """
        bag = self._bags.get(entry_id)
        return bag is not None and all(t in bag or t.isdigit() for t in tokens)

    def ranked(self, text: str) -> list[tuple[str, float, float]]:
        """(entry id, score, fit of its closest example), best first: what context re-weighs."""
        return self._ranked(text, None)

    def match(self, text: str, leave_out: tuple[str, str] | None = None) -> Match:
        """Match a question: one entry, a choice between a few, or nothing."""
        return decide(self._ranked(text, leave_out))


def decide(ranked: list[tuple[str, float, float]]) -> Match:
    """One entry, a choice between a few, or nothing, from (id, score, fit) best first.

    Separate from :meth:`Matcher.match` so that scores adjusted by the conversation's
    context (its track, the entries just answered) go through the same rule.
    """
    top = tuple((entry_id, score) for entry_id, score, _ in ranked[:5])
    if not ranked or ranked[0][1] < THRESHOLD:
        return Match(None, ranked[0][1] if ranked else 0.0, scores=top)
    best = ranked[0][1]
    close = sorted((r for r in ranked[:3] if best - r[1] < MARGIN), key=lambda r: -r[2])
    if len(close) > 1 and close[0][2] - close[1][2] < FIT_MARGIN:
        return Match(None, best, candidates=tuple(r[0] for r in close), scores=top)
    return Match(close[0][0], close[0][1], scores=top)
