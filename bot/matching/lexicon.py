"""Which words are real French words: the dictionary lives in :mod:`bot.matching.french`.

This name stays for the callers that preload it (``handlers/app.py``) and read it
(typo correction); keeping the dictionary beside ``fold`` leaves no import cycle.
"""
from __future__ import annotations

from bot.matching.french import french_words, is_french_word

__all__ = ["french_words", "is_french_word"]
