"""What makes casual French comparable word by word.

Prospects write on a phone: no accents, SMS spellings (``c combien``, ``ya``,
``jpeux``, ``koi``), elisions (``j'ai``, ``l'entreprise``), glued numbers (``2ans``).
This module folds all of that into plain lowercase words, then into Snowball stems
(``coûte``/``coute``/``couter`` -> ``cout``), dropping the words that carry no topic.
The lists below are data a developer may extend; they are not knowledge-base facts.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_STEMMER = snowballstemmer.stemmer("french")

#: Invisible characters that would split or glue words (zero-width, bidi controls, BOM).
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_APOSTROPHES = re.compile("[\u2018\u2019\u02bc\u2032`´]")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_DIGIT_LETTER = re.compile(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)")
_REPEATS = re.compile(r"([a-z])\1{2,}")
#: "là-bas" is a place word, not "bas" (a low level): one word, then a stop word.
_THERE = re.compile(r"\bla bas\b")
#: "en vrai" (honestly, in SMS French) says nothing about a "vrai diplôme".
_HONESTLY = re.compile(r"\ben vrai\b")
#: "à jour" (up to date) is not a day: "quels jours ?" asks for the days, "c'est à jour ?" for the source's date.
_UP_TO_DATE = re.compile(r"\ba jour\b")
UP_TO_DATE = "ajour"
#: "avoir lieu" (to take place) names no place: "quand a lieu la rentrée ?" asks for a date. "a eu lieu"
#: (has happened) is kept as a word of its own; "au lieu de" (instead of) says nothing either.
_HAPPENED = re.compile(r"\b(?:a|ont|avait|avaient|aura|auront|aurait|auraient|avoir|deja)\s+eu\s+lieu\b")
_TAKES_PLACE = re.compile(r"\b(a|ont|aura|auront|aurait|auraient|avoir|va|vont|au)\s+lieu\b")
HAPPENED = "eulieu"
#: "le payer", "payer l'apprenti" (what an employer pays the apprentice) is the pay, not the cost of the training.
_PAY_VERB = r"(?:payer|paye|payes|payez|payons|paie|paient|paierai|paierons|paierez|paiera)"
_PAY_HIM = re.compile(rf"\b(?:le|les|l)\s+{_PAY_VERB}\b|\b{_PAY_VERB}(?=\s+(?:l|un|une|notre|nos|mon|mes|son|ses|votre|vos|le|la|les|leur)\s+"
                      r"(?:apprenti|apprentie|apprentis|alternant|alternante|alternants|jeune|etudiant|etudiante|salarie)\b)")
#: An elision written without its apostrophe ("jaimerais", "lalternance", "lentreprise").
_GLUED_ELISION = re.compile(r"^(qu|[jldmtsn])(?=[aeiouyh])")
#: "je" written as a bare "j" glued to a verb ("jrate", "jcomprends"): SMS, not elision.
_GLUED_JE = re.compile(r"^j(?=[bcdfgjklmnpqrstvwxz])")

#: "où" asks for a place; folded, it would be "ou" ("or"), a stop word, and "c'est où ?" would say
#: nothing. It is read as one word of its own ("oulieu", not "lieu": "a eu lieu" is no place) when written with its accent, and, without it, where "or" cannot
#: be: at the end of a clause ("vous êtes ou ?"), after "c'est"/"est"/"êtes"/"se trouve"..., or
#: opening the question ("ou je m'inscris ?").
_WHERE_ACCENT = re.compile(r"(?<![^\W\d_])où(?![^\W\d_])", re.IGNORECASE)
_WHERE_AFTER = re.compile(r"\b(c|cest|est|etes|sont|trouve|trouvent|situe|situes|passe)\s+ou\b")
_WHERE_ALONE = re.compile(r"\bou(?=\s*(?:[?!.,;:]|$))|^\s*ou\b(?!\s+(?:alors|bien|sinon|pas|non)\b)")
WHERE = "oulieu"

#: SMS and casual spellings, mapped to the words they stand for (before stop words).
SMS = {
    "c": "c est", "cest": "c est", "ces": "c est", "sa": "ca", "ya": "il y a", "yen": "il y en",
    "jpeux": "je peux", "jpx": "je peux", "jpeu": "je peux", "jveux": "je veux", "jveu": "je veux",
    "jsuis": "je suis", "jsui": "je suis", "chui": "je suis", "chuis": "je suis", "jsais": "je sais",
    "jai": "j ai", "g": "j ai", "jaurai": "j aurai", "jdois": "je dois", "jfais": "je fais",
    "koi": "quoi", "kwa": "quoi", "quoa": "quoi", "ki": "qui", "ke": "que", "kel": "quel",
    "kelle": "quelle", "keske": "qu est ce que", "kesk": "qu est ce que", "quesque": "qu est ce que",
    "pk": "pourquoi", "pq": "pourquoi", "pkoi": "pourquoi", "pourkoi": "pourquoi",
    "qd": "quand", "kan": "quand", "kand": "quand", "cb": "combien", "cmb": "combien",
    "combien": "combien", "cmt": "comment", "komment": "comment", "coment": "comment",
    "bcp": "beaucoup", "tt": "tout", "ts": "tous", "tjr": "toujours", "tjrs": "toujours",
    "pr": "pour", "pour": "pour", "ds": "dans", "dc": "donc", "mm": "meme", "mtn": "maintenant",
    "ajd": "aujourd hui", "auj": "aujourd hui", "aujourdhui": "aujourd hui",
    "rdv": "rendez vous", "dispo": "disponible", "infos": "information", "info": "information",
    "tel": "telephone", "tél": "telephone", "num": "numero", "nb": "nombre", "qqch": "quelque chose",
    "qqn": "quelqu un", "qlq": "quelque", "stp": "s il te plait", "svp": "s il vous plait",
    "slt": "salut", "bjr": "bonjour", "bsr": "bonsoir", "cc": "coucou", "mrc": "merci",
    "dacc": "d accord", "dac": "d accord", "oki": "ok", "okay": "ok", "ouai": "oui", "ouais": "oui",
    "vs": "vous", "ns": "nous", "tkt": "t inquiete", "jsp": "je sais pas", "chais": "je sais",
    "entrprise": "entreprise", "entreprises": "entreprise", "alternance": "alternance",
    "etudes": "etude", "bac2": "bac 2", "mco": "mco", "bts": "bts", "bak": "bac", "nivo": "niveau",
    "tar": "tard", "fo": "faut", "fodra": "faudra", "pa": "pas", "kom": "comme",
    "jusqua": "jusqu a", "wsh": "wesh", "dedan": "dedans", "quon": "qu on", "quil": "qu il", "quils": "qu ils", "jusquau": "jusqu au", "jusquen": "jusqu en",
}

#: Words that say nothing about the topic of a question. Question words that do carry
#: meaning (``combien``, ``quand``, ``comment``, ``pourquoi``) and negations (``pas``,
#: ``sans``, ``encore``) are kept: they separate "c'est combien" from "c'est quand".
STOPWORDS = frozenset(
    """
    a ai aie aies ait as au aux avais avait avez avoir avons ayant c ca ce cela celle celui ces cet
    cette ceux chez ci d dans de des du donc elle elles en es est et etaient etais etait etant ete
    etes etre eu eux fais fait faites faire faut ici il ils j je jusqu l la le les leur leurs lui m
    ma mais me meme mes moi mon n ne nos notre nous on ont ou par peut peuvent peux pouvez pouvons
    puis puisse qu que quel quelle quelles quels qui quoi s sa se ses si son sont suis sur t ta te
    tes toi ton tu un une vos votre vous y oui non ok alors bon bah ben bien svp stp plait voila
    voudrais voudrait veux veut voulez voulons souhaite souhaiterais aimerais aimerait savoir
    sais dire dites dit demander demande question questions renseignement renseignements
    information informations svp merci bonjour bonsoir salut coucou hello hey wesh yo madame monsieur
    cordialement svp svp also aussi tres trop plus moins peu beaucoup tout tous toute toutes
    chose choses truc trucs genre vraiment juste deja etc quelque quelques lequel laquelle
    est-ce estce vais va vas allez aller avec cest sil ya comme pour
    depuis sait savent veulent voulu vouloir fais fait faites font ferai ferait perdu avance
    different differente differents exactement vraiment quand-meme quandmeme meme donc puis
    dedans ensuite apres-ca bref enfin ah oh euh hein mdr lol ptdr svp stp jsp
    serai serais serait serions seriez seraient sera seras serons serez seront soit soient
    tant famille familles parent parents fille fils enfant enfants neveu niece maman papa mere pere
    souhaiterait souhaiterions souhaitons souhaitez aimerions voudrions permets permettre envrai pourriez pourrait pourrais pourrions labas rapidement brievement simplement concretement precisement
    """.split()
)

#: The words that never make a message what it is, even small talk (articles, "je", "faire"...).
GRAMMAR = frozenset(
    "a au aux c ce ca d de des du en et il j je l la le les me moi on se te toi un une y "
    "fais faire fait veux voudrais peux pourrais".split()
)


def fold(text: str) -> str:
    """Lowercase, strip accents and invisible characters, unify apostrophes."""
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _APOSTROPHES.sub("'", text).lower()
    return text.replace("œ", "oe").replace("æ", "ae")


def words(text: str) -> list[str]:
    """Split into plain words: elisions cut, digits split from letters, SMS expanded."""
    return list(_words(text))


@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    """:func:`words`, memoised: one message is split again for each way it is read."""
    text = fold(_WHERE_ACCENT.sub(f" {WHERE} ", text)).replace("'", " ")
    text = _WHERE_ALONE.sub(f" {WHERE}", _WHERE_AFTER.sub(rf"\1 {WHERE}", text))
    text = _NOT_WORD.sub(" ", text)
    text = _DIGIT_LETTER.sub(" ", text)
    text = _REPEATS.sub(r"\1", text)
    text = _THERE.sub("labas", text)
    text = _UP_TO_DATE.sub(UP_TO_DATE, _HONESTLY.sub("envrai", text))
    text = _TAKES_PLACE.sub(r"\1", _HAPPENED.sub(HAPPENED, text))
    text = _PAY_HIM.sub("remunerer", text)
    result: list[str] = []
    for word in text.split():
        result.extend((SMS.get(word) or _unglued(word)).split())
    return tuple(result)


def _unglued(word: str) -> str:
    """A word with its glued elision cut off ("lalternance" -> "l alternance"), else the word.

    Only when the word is not French and what follows the elision is: "lycee" and
    "samedi" stay whole, "jaimerais" becomes "j aimerais". A dictionary, not a list of
    spellings, decides, so any glued word is read.
    """
    found = _GLUED_ELISION.match(word) or _GLUED_JE.match(word)
    if found is None or len(word) - found.end() < 3 or is_french_word(word):
        return word
    rest = word[found.end():]
    return f"{word[:found.end()] or 'j'} {rest}" if is_french_word(rest) else word


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of an already folded word (cached: prospects reuse words).

    Snowball expects accents: without them "duree" keeps an "e" that "dure" loses
    ("dure" vs "dur"). Words are folded before stemming on both sides, so dropping a
    stem's final "e" makes the two spellings meet.
    """
    if word.isdigit() or len(word) <= 2:
        return word
    word = _base_form(word)
    result = _STEMMER.stemWord(word)
    if len(result) > 3 and result.endswith("e"):
        result = result[:-1]
    return result


def _base_form(word: str) -> str:
    """A plural or a 3rd person plural Snowball leaves whole, as the form it stems ("emails", "passent").

    Snowball keeps "passent" (not "pass") and "emails" (not "email"): the question's word then
    misses the example's. The dictionary decides: "emails" is not in it but "email" is;
    "passent" goes with "passe" (both French, and so is "passer").
    """
    if len(word) > 4 and word.endswith("s") and not is_french_word(word) and is_french_word(word[:-1]):
        return word[:-1]
    if len(word) > 5 and word.endswith("ent") and word not in _NOT_VERBS and is_french_word(word[:-2]) \
            and is_french_word(word[:-3] + "er"):
        return word[:-3] + "er"
    return word


#: Words in "-ent" that are not verbs although "-e" and "-er" words exist beside them.
_NOT_VERBS = frozenset("parent parents content contents souvent comment moment".split())


def is_stopword(word: str) -> bool:
    """True for a folded word that carries no topic."""
    return word in STOPWORDS


@lru_cache(maxsize=1)
def french_words() -> frozenset[str]:
    """Every word of the French dictionary, folded (loaded once per process, ~0.5 s).

    Why a dictionary: typo correction maps an unknown word to the closest word of the
    knowledge base, which is right for "salere" (salaire) but wrong for "copine" or
    "internat", real words the brochures never use; and a glued elision is cut only
    when what follows is a word. pyspellchecker's French list (word frequencies from
    OpenSubtitles) says which is which.
    """
    from spellchecker import SpellChecker

    dictionary = SpellChecker(language="fr", distance=1).word_frequency.dictionary
    return frozenset(fold(word) for word in dictionary)


def is_french_word(word: str) -> bool:
    """True when a folded word is in the French dictionary."""
    return word in french_words()
