"""Finding the "tu" forms in a French text, so a parent or an employer never reads one.

A prospect who writes "vous" (a parent, an HR manager) must not read "tu es payé·e"
or "Merci de ton intérêt". The base is written in neutral French by default, with
``vous`` variants where neutral wording would be clumsy; this checker is what keeps
it so: ``check`` runs it on every text written for "vous", and the tests run it on
what a "vous" asker actually reads.

It looks for the pronouns (tu, te, toi, ton, ta, tes, t'), and for the imperatives
of the second person singular the base uses ("contacte", "demande-le",
"n'hésite pas"): at the start of a sentence or a bullet, or joined to a pronoun.
"""
from __future__ import annotations

import re

#: Second person singular pronouns and determiners, as whole words; "t'" before a vowel.
_PRONOUNS = re.compile(r"(?<![\w'’-])(?:tu|te|toi|ton|ta|tes)(?![\w'’])|(?<![\w'’-])t['’](?=\w)", re.IGNORECASE)
#: Imperatives (2nd person singular) a friendly answer tends to use.
_IMPERATIVES = ("contacte|écris|ecris|demande|pose|choisis|essaie|essaye|appelle|fais|vois|tape|dis|remplis|"
                "joins|communique|reformule|envoie|prépare|renseigne|inscris|pré-inscris|préinscris|parles|"
                "regarde|consulte|viens|va|vérifie|indique|précise|signale|garde|attends|pense|clique|passe|"
                "trouve|cherche|rapproche|prends|lis|sache|sois|aie|dépose|relance|réponds|complète|"
                "télécharge|rejoins|découvre|prévois|préviens|rends|profite|utilise|explique|montre|"
                "envoie|discute|parle|tente|candidate|postule|lance|commence|continue|rappelle")
#: ... at the start of a line, a sentence, a bullet or after a colon.
_IMPERATIVE_START = re.compile(rf"(?:^|[.!?:;•(\n—\u2600-\u27bf\U0001F000-\U0001FFFF]\s*)(?:{_IMPERATIVES})(?![\w'’])", re.IGNORECASE | re.MULTILINE)
#: ... or joined to its pronoun ("demande-le", "parles-en", "pose-moi", "renseigne-toi").
_IMPERATIVE_JOINED = re.compile(rf"(?<![\w'’-])(?:{_IMPERATIVES})-(?:le|la|les|lui|leur|en|y|moi|toi|nous)\b",
                                re.IGNORECASE)
_NEGATED = re.compile(r"(?<![\w'’-])n['’](?:hésite|oublie|attends)(?![\w'’])", re.IGNORECASE)
#: Addresses and e-mails are not words of the sentence ("…/index.php/preinscription/").
_NOT_WORDS = re.compile(r"\S+@\S+|https?://\S+")


def tu_forms(text: str) -> list[str]:
    """The "tu" forms a text contains, as found (empty when it reads right to "vous")."""
    plain = _NOT_WORDS.sub(" ", text).replace("**", "")
    found: list[str] = []
    for pattern in (_PRONOUNS, _IMPERATIVE_START, _IMPERATIVE_JOINED, _NEGATED):
        found.extend(m.group(0).strip(" .!?:;•(\n—") for m in pattern.finditer(plain))
    return found
