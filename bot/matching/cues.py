"""Who is asking and on which path, from the phrases listed in ``knowledge/context.yaml``.

A parent writes "je me renseigne pour ma fille", an employer "je cherche un apprenti",
a block-4 candidate "seulement le bloc 4 en candidat libre". These phrases are data a
non-developer keeps up; this module only folds them like the prospects' text (accents,
SMS spellings, elisions) and finds them as whole words in a message. It sits in
matching, below the knowledge layer, because the knowledge store compiles the phrases
once per load and the conversation reads them.
"""
from __future__ import annotations

import re
from functools import lru_cache

from bot.matching import french


@lru_cache(maxsize=4096)
def folded(text: str) -> str:
    """A text as a line of plain words, the form cues are searched in."""
    return " ".join(french.words(text))


class Cues:
    """The compiled phrases of ``context.yaml``, by ``"section.name"`` key."""

    def __init__(self, cues: dict[str, list[str]]) -> None:
        self._patterns: dict[str, re.Pattern[str]] = {}
        for key, phrases in cues.items():
            alternatives = sorted({folded(p) for p in phrases if folded(p)}, key=len, reverse=True)
            if alternatives:
                body = "|".join(re.escape(a) for a in alternatives)
                self._patterns[key] = re.compile(rf"(?<!\S)(?:{body})(?!\S)")

    def found(self, text: str) -> set[str]:
        """The keys (``"audiences.parent"``...) whose phrases occur in ``text``."""
        line = folded(text)
        return {key for key, pattern in self._patterns.items() if pattern.search(line)}

    def value(self, text: str, section: str) -> str | None:
        """The name of the section's cue found in ``text`` (``"parent"``), the longest match first."""
        line = folded(text)
        best: tuple[int, str] | None = None
        for key, pattern in self._patterns.items():
            if key.startswith(section + "."):
                hit = pattern.search(line)
                if hit and (best is None or hit.end() - hit.start() > best[0]):
                    best = (hit.end() - hit.start(), key.split(".", 1)[1])
        return best[1] if best else None
