"""Is a message written in English? Decided on grammar words, not on vocabulary.

French prospects use English nouns all the time ("job", "manager", "e-commerce",
"business", "week-end", "planning", "hello"): counting those would switch a French
conversation to English. What gives English away is its small grammar words ("the",
"is", "what", "how", "do", "my"), which French never uses, against French grammar
words ("le", "est", "je", "combien"). A message with neither (an emoji, "ok", "job ?")
is undecided: the conversation keeps the language it had.
"""
from __future__ import annotations

import re

from bot.matching.french import fold

#: English words that are not French words and that French speakers do not borrow.
ENGLISH = frozenset(
    """
    the is are am was were be been being do does did don't doesn't what when where which who whom whose why
    how much many i i'm im i've i'd i'll my mine me myself you you're your yours he she his her him we our
    they their them it it's its this that these those there here with without about from of to into
    and or but if then than can can't cannot could would will won't should shall must may might have has
    had having get got any some every each also very please thanks thank hi hey yes yeah course courses
    salary fee fees cost costs paid pay earn apply applying application school college year years old
    training study studies degree diploma company employer work working start starts begin begins
    long day days week weeks month months free need want know tell english speak english-speaking
    after before during until while at in program phone number address
    """.split()
)
#: French words that English does not use (grammar, question words, SMS spellings).
FRENCH = frozenset(
    """
    le la les un une des du de d l j je tu il elle on nous vous ils elles mon ma mes ton ta tes son sa ses
    ce cet cette ces c ca est es sont suis etes sommes ai as avez avons ont et ou mais donc ni car pour par
    avec sans sur sous dans chez quoi quand comment combien pourquoi quel quelle quels quelles qui que
    qu pas ne n plus moins tres bien oui non merci bonjour bonsoir salut coucou svp stp faut peux peut
    veux veut fait faire etre avoir aussi encore deja y en au aux cours apres avant jusqu moi toi lui leur
    ya g jpeux jsuis cb cmb koi c'est j'ai qu'est bjr slt mrc
    """.split()
)
#: English words French speakers use too ("hey", "thanks"): alone, they decide nothing.
LOANS = frozenset("hey hi thanks thank yes free training".split())
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def detect_language(text: str) -> str | None:
    """``"en"``, ``"fr"``, or None when the message does not say (then keep the current language).

    Short messages count: "how much?" is English, "c combien ?" French, "job ?" neither.
    """
    words = _WORD.findall(fold(text))
    english = sum(1 for w in words if w in ENGLISH or w.split("'")[0] in ENGLISH)
    french = sum(1 for w in words if w in FRENCH or w.split("'")[0] in FRENCH)
    if english == 0 and french == 0:
        return None
    if english >= 2 and english >= 2 * french:
        return "en"
    if english == 1 and french == 0 and len(words) <= 3 and not any(w in LOANS for w in words):
        return "en"
    if french >= 1 and french >= english:
        return "fr"
    return None
