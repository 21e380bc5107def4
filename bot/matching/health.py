"""Does a text mention a disability or a health condition? (never stored, see below).

Here rather than in the form's validators because the conversation core, the form and
the staff desk all ask it: a matching concern below all three in the layers
(``.importlinter``). ``bot.registration.validators.mentions_health`` still names it.
"""
from __future__ import annotations

import functools
import re
import unicodedata

from rapidfuzz.distance import OSA

_WHITESPACE = re.compile(r"\s+")


def _strip_accents(text: str) -> str:
    """``Février`` → ``Fevrier``: decompose, then drop the combining marks."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _collapse_spaces(text: str) -> str:
    """Every run of whitespace becomes one space; ends stripped."""
    return _WHITESPACE.sub(" ", text).strip()


# ---------------------------------------------------------------- health mentions
#
# The text is folded (lower case, no accents, œ → oe, every non-alphanumeric
# character → space) and searched for whole words or word stems, so "l'autisme",
# "TDA/H" or "tiers-temps" match while "dysfonctionnement", "maladroit", "artiste"
# or "la boutique" do not. Long, distinctive keywords also match at one typo
# ("handicaap", "dislexie", "epilepise"). When in doubt the function says yes:
# a false alarm only means one answer is not stored and the prospect is offered
# the disability contact; a miss means health data in the database.
# "aménagement" counts unless it is clearly about a shop or a space
# ("aménagement de l'espace de vente" is a BTS MCO topic).

_HEALTH_PATTERNS = [
    r"h?and[iy]?c?ap\w*", r"handi\w*",
    r"rqth", r"mdph", r"cdaph", r"aesh", r"avs", r"pai", r"pap", r"pps", r"ulis",
    r"esat", r"ime", r"sessad", r"pmr", r"avc", r"tdah?", r"tsa",
    r"dys", r"dys(?:lex|prax|calcul|orthograph|phas|graph|chron|gnos)\w*",
    r"hyperacti\w*", r"autis\w*", r"asperger", r"trisom\w*", r"tourette",
    r"maladi\w*", r"malades?",
    r"diabet\w*", r"epilep\w*", r"asthm\w*", r"allergi\w*", r"cancer\w*", r"chimio\w*",
    r"leucemie", r"mucoviscidose", r"sclerose\w*", r"myopathi\w*", r"hospitalis\w*",
    r"depressi\w*", r"bipolaire\w*", r"schizo\w*", r"anorexi\w*", r"boulimi\w*",
    r"phobie\w*", r"psychiatr\w*", r"medicaments?",
    r"mal ?voyante?s?", r"non ?voyante?s?", r"aveugles?", r"sourd(?:e|es|s)?", r"sourde? muette?s?",
    r"mal ?entendante?s?", r"surdite", r"begai\w*", r"begaye\w*",
    r"paraly\w*", r"paraplegi\w*", r"tetraplegi\w*", r"fauteuil roulant", r"mobilite reduite",
    r"invalidite",
    r"tiers? ?temps",
    r"(?:probleme|souci|raison|etat)s? de sante",
    r"troubles? (?:de l |du |des |de la |d )?(?:attention|apprentissage|langage|spectre|comportement"
    r"|neuro\w*|autisti\w*|anxi\w*|bipolaire|alimentaire\w*|psy\w*|cognitif\w*|moteurs?|visuels?"
    r"|auditifs?|sante|dys)",
    r"(?:poste|examens?|epreuves?|scolarite|emploi du temps) amenage\w*",
    r"amenagements?(?! (?:de l espace|d espace|de l espaces|du magasin|de magasin|des magasins"
    r"|de la boutique|de boutique|du point de vente|de vente|du rayon|des rayons|de rayon|commercial"
    r"|paysager|interieur|du territoire|urbain|de la surface|des locaux|du local|de la vitrine"
    r"|de vitrine|du jardin|de la cuisine|des espaces|de l entrepot|du stock))",
]
_HEALTH_REGEX = re.compile(r"\b(?:" + "|".join(_HEALTH_PATTERNS) + r")\b")
# Matched at one typo (OSA distance: a swap of two neighbours counts as one). Words
# with a common French neighbour at distance one ("autiste"/"artiste",
# "malade"/"salade", "asperger"/"asperges") are deliberately absent.
_HEALTH_FUZZY_WORDS = (
    "handicap", "handicape", "handicapee", "handicapes", "handicapees",
    "dyslexie", "dyslexique", "dyspraxie", "dyspraxique", "dyscalculie", "dysorthographie",
    "epilepsie", "epileptique", "diabete", "diabetique", "autisme", "maladie", "maladies",
    "malvoyant", "malvoyante", "malentendant", "malentendante",
    "hyperactif", "hyperactive", "hyperactivite", "trisomie", "surdite",
)
_HEALTH_SYMBOLS = "♿🦽🦼🦻🦯"


def _fold_for_search(text: str) -> str:
    folded = _strip_accents(unicodedata.normalize("NFKC", text)).casefold()
    folded = folded.replace("œ", "oe").replace("æ", "ae")
    return _collapse_spaces(re.sub(r"[^0-9a-z]+", " ", folded))


@functools.lru_cache(maxsize=8)
def _words_regex(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """The staff's word list (``knowledge/sante.yaml``) as one regex over folded text.

    Each item is a word or phrase; a final ``*`` matches any ending ("antidepresseur*");
    spaces and hyphens are optional ("burn out" matches "burn-out" and "burnout").
    """
    parts = []
    for word in words:
        base = _fold_for_search(word.rstrip("*"))
        if base:
            parts.append(re.escape(base).replace(r"\ ", " ?") + (r"\w*" if word.endswith("*") else ""))
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b") if parts else None


def mentions_health(text: str, words: tuple[str, ...] = ()) -> bool:
    """True when ``text`` seems to mention a disability or a health condition.

    Used to *never store* such details: the bot drops the answer and points the
    prospect to the disability contact. Case-, accent- and typo-tolerant, and
    matched on whole words (see the comment above for the rules). ``words`` is the
    list staff keep in ``knowledge/sante.yaml``, searched on top of the built-in patterns.
    """
    if any(symbol in text for symbol in _HEALTH_SYMBOLS):
        return True
    folded = _fold_for_search(text)
    if _HEALTH_REGEX.search(folded):
        return True
    extra = _words_regex(tuple(words))
    if extra is not None and extra.search(folded):
        return True
    return any(
        len(word) >= 6 and OSA.distance(word, keyword, score_cutoff=1) <= 1
        for word in folded.split()
        for keyword in _HEALTH_FUZZY_WORDS
    )
