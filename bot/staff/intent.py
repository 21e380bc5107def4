"""Does this message ask for a person? ("je veux parler à quelqu'un", "un humain svp")

Checked before the FAQ: a prospect who asks for a human must reach one, not get
the contact entry's phone number. Prospects write on a phone, so the words are
first folded like the matcher's (accents, SMS spellings, elisions), then the nouns
that name a person are recognised despite typos (``conseiler``, ``humaim``) with
rapidfuzz's plain ``ratio``.

What it must not catch: the job ("conseiller de vente", "devenir conseiller
clientèle" — a career question for the FAQ), advice ("des conseils"), the verb
("vous me conseillez quoi"), "personne" meaning nobody, and questions about the
bot itself ("t'es un humain ?", small talk).
"""
from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.matching import french

# Class tokens that replace the nouns naming a person, whatever their spelling.
ADVISER, HUMAN, PERSON, SOMEONE = "xconseiller", "xhumain", "xpersonne", "xquelquun"

#: The nouns (folded) each class stands for; a word this close (ratio) is taken for one of them.
_NOUNS = {"conseiller": ADVISER, "conseillere": ADVISER, "conseillers": ADVISER, "conseilleres": ADVISER,
          "humain": HUMAN, "humaine": HUMAN, "humains": HUMAN, "personne": PERSON, "personnes": PERSON,
          "personnel": PERSON}
_NOUN_CUTOFF = 80.0
#: Spellings of "quelqu'un" that the folding does not know.
_SOMEONE = {"quelquun", "qqun", "qq1", "kelkun", "kelk1", "quelq1", "qlqn", "qlq1", "kelkin", "qelquun"}
#: Words never to be read as one of the nouns (``personnaliser``...) whatever the distance.
_NOT_NOUNS = frozenset({"conseil", "conseils", "personnalise", "personnaliser", "humour", "humanite"})

_DET = r"(?:un|une|le|la|l|au|aux|a|d|de|des|du|mon|ma|votre|ton|ta|quelque|autre)"
_REAL = r"(?:vrai|vraie|vrais|vraies|veritable|reel|reelle) "
#: A person, as the object of "parler à", "avoir", "besoin de"... ("personne" only with
#: a singular article: "des personnes handicapées" is not a request).
_SOMEBODY = (rf"(?:(?:{_DET} )+(?:{_REAL})?(?:{ADVISER}|{HUMAN}|agent|agente|operateur|operatrice|membre)"
             rf"|(?:une|la|l) (?:{_REAL})?{PERSON}|{_REAL}{PERSON}|{SOMEONE}|etre {HUMAN})")
#: "parler à l'équipe" asks for a person; "des infos sur l'équipe" does not.
_TEAM = rf"(?:(?:{_DET} )*equipe)"
_CONTACT_VERBS = (r"(?:parler|parle|parles|parlez|parlant|causer|discuter|discute|echanger|contacter"
                  r"|joindre|passer|passez|passe|transferer|transfere|transferez|rediriger|redirige)")
_WANT_VERBS = r"(?:avoir|veux|voudrais|voudrait|souhaite|souhaiterais|aimerais|besoin|demande|voir)"

_ASKS = [
    re.compile(rf"\b{_CONTACT_VERBS} (?:\w+ ){{0,3}}?(?:{_SOMEBODY}|{_TEAM})\b"),
    re.compile(rf"\b{_WANT_VERBS} (?:\w+ ){{0,2}}?{_SOMEBODY}\b"),
    re.compile(r"\b(?:mise|mettre|mettez|mets|met) (?:\w+ ){0,2}en (?:relation|contact)\b"),
    re.compile(r"\b(?:etre|me|m|moi) (?:rappele|rappelee|recontacte|recontactee)\b"),
    re.compile(r"\b(?:rappelez|rappeler|recontactez|recontacter|rappelle|recontacte) (?:moi|me)\b"),
    re.compile(r"\b(?:me|m) (?:rappeler|rappelle|recontacter|recontacte|rappeliez|recontactiez)\b"),
]
#: "un humain", "une vraie personne": a request by itself, unless the bot is the subject.
_STRONG = re.compile(rf"\b(?:{_DET} )+(?:{_REAL})?{HUMAN}\b|\b{_REAL}{PERSON}\b|\betre {HUMAN}\b"
                     rf"|\b{PERSON} (?:reelle|physique)\b")

#: "Are you a human?": a question about the bot, answered by small talk.
_ABOUT_BOT = re.compile(r"\b(?:tu es|t es|vous etes|es tu|etes vous|c est|t est|est ce|tu est|je parle a)\b")

#: "conseiller" as a job: these words after it, or these before it, make it a career question.
_JOB_AFTER = ("de vente", "vente", "commercial", "commerciale", "clientele", "client", "clients", "e commerce",
              "ecommerce", "en", "bancaire", "financier", "immobilier", "de clientele", "service", "services",
              "de services", "d orientation", "principal", "d education", "technique", "voyage", "de voyage",
              "beaute", "mode", "cosmetique", "assurance", "d assurance", "numerique", "web", "emploi",
              "d emploi", "pole emploi", "france travail")
_JOB_BEFORE = ("devenir", "metier", "metiers", "poste", "postes", "comme", "travailler", "emploi", "job",
               "debouche", "debouches", "salaire", "etre", "devient", "deviens", "deviendrai", "formation")

#: Words that may surround a bare "un conseiller" / "un humain" and keep it a request.
_FILLERS = frozenset({"svp", "stp", "please", "plz", "pls", "possible", "urgent", "vite", "merci",
                      "besoin", "veux", "voudrais", "souhaite", "aimerais", "avoir", "parler", "maintenant",
                      "rapidement", "direct", "directement", "sil", "plait", "vous", "te", "s", "il"})
_QUESTION_WORDS = frozenset({"quoi", "combien", "comment", "pourquoi", "quel", "quelle", "quels", "quelles",
                             "qui", "quand", "ou"})


@lru_cache(maxsize=4096)
def _noun_class(word: str) -> str | None:
    """The class of a folded word that names a person, typos included, or None."""
    if word in _NOUNS:
        return _NOUNS[word]
    if word in _SOMEONE:
        return SOMEONE
    if len(word) < 5 or word in _NOT_NOUNS or word.isdigit():
        return None
    found = process.extractOne(word, list(_NOUNS), scorer=fuzz.ratio, score_cutoff=_NOUN_CUTOFF)
    return _NOUNS[found[0]] if found else None


def normalise(text: str) -> list[str]:
    """Folded words, with the nouns naming a person replaced by their class token."""
    result: list[str] = []
    words = french.words(text[:500])
    i = 0
    while i < len(words):
        word = words[i]
        if word == "quelqu" and i + 1 < len(words) and words[i + 1] == "un":
            result.append(SOMEONE)
            i += 2
            continue
        result.append(_noun_class(word) or word)
        i += 1
    return _mark_jobs(result)


def _mark_jobs(words: list[str]) -> list[str]:
    """Turn "conseiller" back into a plain word where it names a job."""
    marked = list(words)
    for i, word in enumerate(words):
        if word != ADVISER:
            continue
        after = " ".join(words[i + 1:i + 3])
        before = words[max(0, i - 3):i]
        if any(after == j or after.startswith(j + " ") for j in _JOB_AFTER) or set(before) & set(_JOB_BEFORE):
            marked[i] = "conseiller_metier"
    return marked


def wants_a_person(text: str) -> bool:
    """Whether ``text`` asks to talk to a person of the team (see the module docstring)."""
    words = normalise(text)
    if not words:
        return False
    joined = " ".join(words)
    if any(pattern.search(joined) for pattern in _ASKS):
        return True
    if _ABOUT_BOT.search(joined):
        return False
    return bool(_STRONG.search(joined)) or _bare_request(words)


def _bare_request(words: list[str]) -> bool:
    """"un conseiller svp", "humain", "conseiller ?": the noun and nothing that makes it a question."""
    if set(words) & _QUESTION_WORDS:
        return False
    content = [w for w in words if w not in french.STOPWORDS and w not in _FILLERS]
    return bool(content) and len(content) <= 2 and content[0] in (ADVISER, HUMAN) and \
        all(w in (ADVISER, HUMAN, "equipe") for w in content)
