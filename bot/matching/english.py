"""English words the matchers leave out, beside French's (``french.STOPWORDS``).

Here, below the knowledge layer, because the knowledge store builds the English
matcher with them and the conversation reads English small talk with them: both
layers above need the one list.
"""
from __future__ import annotations

#: English grammar words that say nothing about the topic (question words are kept, as in French).
STOPWORDS = frozenset(
    """
    i m me my mine myself you your yours he she his her him we our they their them it its this that these
    those there here is are am was were be been being do does did don t doesn s the a an and or but if
    then than can could would will should shall must may might have has had get got any some please
    thanks thank hi hey hello yes ok okay to of in on at for with about from by as so just also very
    tell know want like would need into really still
    """.split()
)
