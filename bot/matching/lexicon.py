"""Which words are real French words, to tell a typo from a word the base does not know.

Typo correction maps an unknown word to the closest word of the knowledge base.
That is right for "salere" (salaire) but wrong for "copine" or "internat": they are
real words the brochures never use, and correcting them to "coin" or "internet"
would answer a question nobody asked. The French word list of pyspellchecker
(a maintained package shipping word frequencies from OpenSubtitles) says which is
which; accents are folded the same way as the prospects' text.
"""
from __future__ import annotations

from functools import lru_cache

from bot.matching.french import fold


@lru_cache(maxsize=1)
def french_words() -> frozenset[str]:
    """Every word of the French dictionary, folded (loaded once per process, ~0.5 s)."""
    from spellchecker import SpellChecker

    dictionary = SpellChecker(language="fr", distance=1).word_frequency.dictionary
    return frozenset(fold(word) for word in dictionary)


def is_french_word(word: str) -> bool:
    """True when a folded word is in the French dictionary."""
    return word in french_words()
