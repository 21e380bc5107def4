"""Reading ``knowledge/`` into a :class:`KnowledgeBase`, with every problem located.

The loader never raises on a bad file: it returns the knowledge base built from
what is sound plus the list of :class:`Problem` found. The bot starts with that
partial base and logs the problems; ``run_bot.py check`` and ``/recharger`` show them
to whoever edits the FAQ. A broken file never takes the bot down.

Layout of the folder (see ``knowledge/README.md``)::

    facts.yaml        facts:      {id: value}
    calendar.yaml     open_days:  [{date, start, end}]
    topics.yaml       topics:     [{id, label}]
    synonyms.yaml     synonyms:   [[canonical, variant, ...]]
    sante.yaml        mots_sante: [word or phrase, stem*, ...]   (health words: never stored)
    smalltalk.yaml    smalltalk:  [{id, questions, answer}]
    entries/*.yaml    entries:    [{id, title, topic, questions, keywords, answer, related}]
    texts/*.yaml      {key: sentence}       (what the bot itself says)
    not_covered.yaml  not_covered: [{id, questions, answer}]   (optional: honest "not in the brochures")
    context.yaml      {audiences: {who: [phrases]}, tracks: {...}, register: {vous: [...]}}   (optional)
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.knowledge.date_texts import english_texts_missing
from bot.knowledge.model import (Entry, EnglishEntry, FactSource, FactValue, KnowledgeBase, OfficialFact,
                                 OpenDay, Problem, Topic)
from bot.knowledge.register import tu_forms
from bot.knowledge.reminder_model import ANSWERS, EVENTS, OFFERS, ReminderKind, Trigger
from bot.knowledge.required import TEXT_FILES, required_text_keys
from bot.knowledge.yaml_lines import BadDate, LineDict, YamlError, load_yaml
from bot.matching.french import fold

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
TIME_PATTERN = re.compile(r"^([01]\d|2[0-3])[:h]([0-5]\d)$")

#: Placeholders computed by the code from today's date (see ``bot/knowledge/render.py``).
COMPUTED_PLACEHOLDERS = frozenset({"portes_ouvertes_a_venir", "rentree", "statut_entree", "statut_candidature"})

#: Placeholders the code fills at run time in the texts of ``texts/*.yaml``.
RUNTIME_PLACEHOLDERS = frozenset(
    {
        "bot", "prenom", "nom", "question", "ref", "champ", "valeur", "etape", "jours", "date",
        "heure", "horaires", "exemples", "choix", "n", "total", "source", "statut", "qui",
        "annee", "age", "min", "max", "delai", "liste", "sujet", "suite", "mois",
        "id", "debut", "fin", "jour", "message", "pourcent", "quand", "annees",
        "montant", "smic", "tranche",  # the legal minimum pay (texts/situation.yaml)
        "titre", "code", "fichier",  # the staff console (bot/staff/teach.py)
        "arrivees", "ont_demande", "inscrites", "contactees", "closes",  # the funnel of /stats
        "segment", "envoyes", "bloques", "echecs", "attente", "perdus", "faits",  # staff campaigns (texts/staff.yaml)
    }
)

ENTRY_FIELDS = {"id": True, "title": True, "topic": True, "questions": True, "answer": True,
                "keywords": False, "related": False, "track": False, "audience": False, "variants": False,
                "instead": False,
                # Why an answer may be longer than 6 lines (a list the brochure gives whole): said in the entry.
                "long_because": False}
SMALLTALK_FIELDS = {"id": True, "questions": True, "answer": True, "variants": False}
NOT_COVERED_FIELDS = {"id": True, "questions": True, "answer": True, "keywords": False, "variants": False}
#: The paths (tracks) and askers (audiences) an entry may be scoped to, and the keys of its variants.
TRACKS = ("bloc4",)
AUDIENCES = ("parent", "entreprise", "self")
CONTEXT_KEYS = (*TRACKS, *AUDIENCES, "vous")
#: The sections of ``context.yaml`` and the names each accepts.
#: Variants read by who writes "vous" or addresses the school as a parent or a company.
FORMAL_VARIANTS = frozenset({"vous", "parent", "entreprise"})
CUE_SECTIONS = {"audiences": AUDIENCES, "tracks": TRACKS, "register": ("vous", "tu")}
TOPIC_FIELDS = {"id": True, "label": True}
OPEN_DAY_FIELDS = {"date": True, "start": True, "end": True}
FACT_FIELDS = ("value", "source", "checked")
MIN_QUESTIONS = 3
#: Facts from official sources other than the brochures, each with its source and checked date.
OFFICIAL_FILE = "official_facts.yaml"
OFFICIAL_FIELDS = {"value": True, "source": True, "checked": True}
OFFICIAL_MISSING = {
    "value": "sa valeur",
    "source": "d'où il vient (texte officiel, article, adresse web)",
    "checked": "la date où il a été vérifié à sa source (AAAA-MM-JJ)",
}
#: English questions and answers of FAQ entries, and English wording of text facts.
ENGLISH_FILE = "english.yaml"
ENGLISH_FIELDS = {"id": True, "questions": True, "answer": False}
#: Words that show a text fact is written in French (an English answer then needs its translation).
FRENCH_MARKERS = re.compile(
    r"\b(et|ou|de|du|des|le|la|les|au|aux|en|jours?|mois|ans|heures?|semaines?|lundi|mardi|mercredi|jeudi"
    r"|vendredi|samedi|dimanche|janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre"
    r"|novembre|decembre|automne|hiver|printemps|ete|niveau|diplome|equipe)\b"
)
MAX_TITLE = 40


@dataclass
class _Context:
    """Problems of one load, and the file being read."""

    root: Path
    problems: list[Problem] = field(default_factory=list)
    path: str = ""

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))


def load_knowledge(directory: Path) -> tuple[KnowledgeBase, list[Problem]]:
    """Load and check ``directory``; return the sound part and every problem found."""
    ctx = _Context(root=directory)
    kb = KnowledgeBase()
    if not directory.is_dir():
        ctx.problem(0, f"dossier introuvable : {directory}")
        return kb, ctx.problems
    kb.facts = _read_facts(ctx, directory / "facts.yaml", kb)
    kb.official = _read_official_facts(ctx, directory / OFFICIAL_FILE, kb.facts)
    kb.open_days = _read_calendar(ctx, directory / "calendar.yaml")
    kb.topics = _read_topics(ctx, directory / "topics.yaml")
    kb.synonyms = _read_synonyms(ctx, directory / "synonyms.yaml")
    kb.health_words = _read_health_words(ctx, directory / "sante.yaml")
    kb.smalltalk = _read_entries(ctx, [directory / "smalltalk.yaml"], "smalltalk", SMALLTALK_FIELDS)
    entry_files = sorted((directory / "entries").glob("*.yaml")) if (directory / "entries").is_dir() else []
    if not entry_files:
        ctx.path = _rel(ctx, directory / "entries")
        ctx.problem(0, "aucun fichier d'entrées (entries/*.yaml)")
    kb.entries = _read_entries(ctx, entry_files, "entries", ENTRY_FIELDS)
    for path in sorted((directory / "texts").glob("*.yaml")) if (directory / "texts").is_dir() else []:
        kb.texts.update(_read_texts(ctx, path, set(kb.facts) | COMPUTED_PLACEHOLDERS | RUNTIME_PLACEHOLDERS))
    if (directory / "not_covered.yaml").exists():
        kb.not_covered = _read_entries(ctx, [directory / "not_covered.yaml"], "not_covered", NOT_COVERED_FIELDS)
    if (directory / "context.yaml").exists():
        kb.cues = _read_cues(ctx, directory / "context.yaml")
    _check_required_texts(ctx, directory, kb)
    _check_references(ctx, kb)
    kb.reminders = read_reminders(ctx, directory, kb)
    _read_english(ctx, directory / ENGLISH_FILE, kb)
    return kb, ctx.problems


# --- one reader per file ------------------------------------------------------------


def _rel(ctx: _Context, path: Path) -> str:
    """The path as the maintainer sees it: relative to the folder's parent when possible."""
    try:
        return str(path.relative_to(ctx.root.parent))
    except ValueError:
        return str(path)


def _top(ctx: _Context, path: Path, key: str | None, kind: type) -> Any:
    """Open ``path`` and return its ``key`` section, checking its type; None on a problem."""
    ctx.path = _rel(ctx, path)
    if not path.exists():
        ctx.problem(0, "fichier manquant")
        return None
    try:
        data = load_yaml(path)
    except YamlError as exc:
        ctx.problem(exc.line, exc.message)
        return None
    if key is None:
        data = data if data is not None else LineDict()
    else:
        if not isinstance(data, dict) or key not in data:
            ctx.problem(getattr(data, "line", 1) or 1, f"le fichier doit commencer par « {key}: »")
            return None
        _check_duplicate_keys(ctx, data)
        for other in data:
            if other != key:
                ctx.problem(data.line_of(other), f"section inconnue « {other} » (attendu : {key})")
        data, line = data[key], data.line_of(key)
        if data is None:
            return kind()
        if not isinstance(data, kind):
            ctx.problem(line, f"« {key} » doit être {_type_name(kind)}")
            return None
    _check_duplicate_keys(ctx, data)
    return data


def _check_duplicate_keys(ctx: _Context, data: Any) -> None:
    for key, line in getattr(data, "duplicate_keys", []):
        ctx.problem(line, f"clé « {key} » en double")


def _type_name(kind: type) -> str:
    return {dict: "une liste de clés (clé: valeur)", list: "une liste (lignes commençant par « - »)",
            str: "un texte"}.get(kind, kind.__name__)


def _read_facts(ctx: _Context, path: Path, kb: KnowledgeBase) -> dict[str, FactValue]:
    data = _top(ctx, path, "facts", dict)
    facts: dict[str, FactValue] = {}
    for key, value in (data or {}).items():
        line = data.line_of(key)
        kb.fact_lines[str(key)] = line
        if isinstance(value, dict):
            value = _sourced_fact(ctx, key, value, line, kb)
            if value is None:
                continue
        if not isinstance(key, str) or not ID_PATTERN.match(key):
            ctx.problem(line, f"identifiant de fait invalide « {key} » (minuscules, chiffres, _)")
        elif isinstance(value, BadDate):
            ctx.problem(line, f"date invalide « {value} » pour « {key} » : écrire AAAA-MM-JJ, par exemple 2026-08-27")
        elif isinstance(value, bool) or not isinstance(value, (str, int, float, dt.date)):
            ctx.problem(line, f"le fait « {key} » doit être un texte, un nombre ou une date AAAA-MM-JJ")
        elif isinstance(value, str) and not value.strip():
            ctx.problem(line, f"le fait « {key} » est vide")
        else:
            facts[key] = value
    return facts


def _sourced_fact(ctx: _Context, key: Any, value: dict, line: int, kb: KnowledgeBase) -> Any:
    """A fact written ``{value: …, source: …, checked: AAAA-MM-JJ}``: keep its source and check date.

    ``checked`` lets ``check`` warn when a figure taken from an official source (the
    legal pay grid…) has not been looked at for more than a year.
    """
    unknown = [k for k in value if k not in FACT_FIELDS]
    if unknown or "value" not in value or "source" not in value:
        ctx.problem(line, f"le fait « {key} » : écrire « value: », « source: » et, si possible, « checked: AAAA-MM-JJ »")
        return None
    checked = value.get("checked")
    if checked is not None and not isinstance(checked, dt.date):
        ctx.problem(line, f"le fait « {key} » : « checked » doit être une date AAAA-MM-JJ")
        return None
    kb.fact_sources[str(key)] = FactSource(str(value["source"]), checked, line)
    return value["value"]


def _read_calendar(ctx: _Context, path: Path) -> list[OpenDay]:
    data = _top(ctx, path, "open_days", list)
    days: list[OpenDay] = []
    for index, item in enumerate(data or []):
        fields = _fields(ctx, item, data.line_of(index), OPEN_DAY_FIELDS, "journée portes ouvertes")
        if fields is None:
            continue
        date, line = fields["date"], item.line_of("date")
        if not isinstance(date, dt.date):
            ctx.problem(line, f"date invalide « {date} » : écrire AAAA-MM-JJ, par exemple 2026-03-20")
            continue
        times = [str(fields[k]).strip() for k in ("start", "end")]
        bad = [t for t in times if not TIME_PATTERN.match(t)]
        if bad:
            ctx.problem(item.line_of("start"), f"heure invalide « {bad[0]} » : écrire HH:MM, par exemple 17:00")
            continue
        days.append(OpenDay(date=date, start=times[0].replace("h", ":"), end=times[1].replace("h", ":")))
    return sorted(days, key=lambda d: d.date)


def _read_topics(ctx: _Context, path: Path) -> list[Topic]:
    data = _top(ctx, path, "topics", list)
    topics: list[Topic] = []
    for index, item in enumerate(data or []):
        fields = _fields(ctx, item, data.line_of(index), TOPIC_FIELDS, "thème")
        if fields is None or not _valid_id(ctx, fields["id"], item.line_of("id")):
            continue
        if any(t.id == fields["id"] for t in topics):
            ctx.problem(item.line_of("id"), f"thème « {fields['id']} » en double")
            continue
        if _text(ctx, fields["label"], item.line_of("label"), "label") is not None:
            topics.append(Topic(id=fields["id"], label=fields["label"].strip(), line=item.line))
    return topics


def _read_synonyms(ctx: _Context, path: Path) -> list[list[str]]:
    data = _top(ctx, path, "synonyms", list)
    groups: list[list[str]] = []
    for index, group in enumerate(data or []):
        line = data.line_of(index)
        if not isinstance(group, list) or len(group) < 2:
            ctx.problem(line, "un groupe de synonymes est une liste d'au moins deux mots : [mot, variante]")
            continue
        words = [w for w in group if isinstance(w, (str, int)) and str(w).strip()]
        if len(words) != len(group):
            ctx.problem(line, "un synonyme doit être un mot ou une expression non vide")
            continue
        groups.append([str(w).strip() for w in words])
    return groups


def _read_health_words(ctx: _Context, path: Path) -> tuple[str, ...]:
    """``sante.yaml``: the words that make the bot keep a text out of the database."""
    data = _top(ctx, path, "mots_sante", list)
    words: list[str] = []
    for index, word in enumerate(data or []):
        text = str(word).strip() if isinstance(word, (str, int)) else ""
        if not re.search(r"[^\W\d_]", text) or "*" in text.rstrip("*"):
            ctx.problem(data.line_of(index),
                        "un mot de santé est un mot ou une expression, avec au plus une * à la fin")
            continue
        words.append(text)
    return tuple(words)


def _read_texts(ctx: _Context, path: Path, known: set[str]) -> dict[str, str]:
    data = _top(ctx, path, None, dict)
    if data is None:
        return {}
    if not isinstance(data, dict):
        ctx.problem(1, "un fichier de textes est une liste de « clé: texte »")
        return {}
    texts: dict[str, str] = {}
    for key, value in data.items():
        line = data.line_of(key)
        if not isinstance(key, str) or not ID_PATTERN.match(key):
            ctx.problem(line, f"clé de texte invalide « {key} »")
        elif _text(ctx, value, line, key) is not None and _placeholders(ctx, value, line, known, key):
            texts[f"{path.stem}.{key}"] = value.strip()
            if key.endswith("_vous"):
                _formal(ctx, value, line, f"le texte « {key} »")
    return texts


def _formal(ctx: _Context, text: str, line: int, what: str) -> None:
    """A text written for "vous" (or for a parent, a company) must not say "tu"."""
    found = tu_forms(text)
    if found:
        ctx.problem(line, f"{what} s'adresse à qui vouvoie mais tutoie : « {found[0]} »")


def _read_cues(ctx: _Context, path: Path) -> dict[str, list[str]]:
    """``context.yaml``: for each audience, track and register, the phrases that reveal it."""
    data = _top(ctx, path, None, dict)
    if not isinstance(data, dict):
        ctx.problem(1, "context.yaml commence par « audiences: », « tracks: » ou « register: »")
        return {}
    cues: dict[str, list[str]] = {}
    for section, groups in data.items():
        line = data.line_of(section)
        if section not in CUE_SECTIONS:
            ctx.problem(line, f"section inconnue « {section} » (possibles : {', '.join(CUE_SECTIONS)})")
            continue
        if not isinstance(groups, dict):
            ctx.problem(line, f"« {section} » doit être une liste de clés (nom: [phrases])")
            continue
        for name in groups:
            if name not in CUE_SECTIONS[section]:
                ctx.problem(groups.line_of(name), f"« {name} » inconnu dans « {section} » "
                                                  f"(possibles : {', '.join(CUE_SECTIONS[section])})")
                continue
            phrases = _string_list(ctx, groups, name)
            if phrases is not None:
                cues[f"{section}.{name}"] = phrases
    return cues


def _read_entries(
    ctx: _Context, paths: list[Path], section: str, schema: dict[str, bool]
) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for path in paths:
        data = _top(ctx, path, section, list)
        for index, item in enumerate(data or []):
            entry = _entry(ctx, item, data.line_of(index), schema, section)
            if entry is None:
                continue
            if entry.id in entries:
                first = entries[entry.id]
                ctx.problem(entry.line, f"identifiant « {entry.id} » en double (déjà à {first.path}:{first.line})")
                continue
            entries[entry.id] = entry
    return entries


def _entry(ctx: _Context, item: Any, line: int, schema: dict[str, bool], section: str) -> Entry | None:
    fields = _fields(ctx, item, line, schema, "entrée")
    if fields is None or not _valid_id(ctx, fields["id"], item.line_of("id")):
        return None
    ok = True
    answer = _text(ctx, fields["answer"], item.line_of("answer"), "answer")
    questions = _string_list(ctx, item, "questions")
    if questions is not None and len(questions) < MIN_QUESTIONS:
        ctx.problem(item.line_of("questions"), f"au moins {MIN_QUESTIONS} exemples de questions (il y en a {len(questions)})")
        ok = False
    keywords = _string_list(ctx, item, "keywords") if "keywords" in item else []
    related = _string_list(ctx, item, "related") if "related" in item else []
    title = item.get("title", "")
    if "title" in schema:
        title = _text(ctx, title, item.line_of("title"), "title")
        if title is not None and len(title) > MAX_TITLE:
            ctx.problem(item.line_of("title"), f"titre trop long pour un bouton ({len(title)} caractères, {MAX_TITLE} au plus)")
            ok = False
    topic = item.get("topic", "")
    if "topic" in schema and not isinstance(topic, str):
        ctx.problem(item.line_of("topic"), "« topic » doit être l'identifiant d'un thème")
        ok = False
    long_because = item.get("long_because", "")
    if long_because and not isinstance(long_because, str):
        ctx.problem(item.line_of("long_because"), "« long_because » doit être un texte (pourquoi la réponse est longue)")
        ok = False
    scope = _scope(ctx, item)
    variants = _context_map(ctx, item, "variants", answer=True)
    instead = _context_map(ctx, item, "instead", answer=False)
    if None in (answer, questions, keywords, related, title, scope, variants, instead) or not ok:
        return None
    question_list = item["questions"]
    kind = {"entries": "faq", "smalltalk": "smalltalk"}.get(section, section)
    return Entry(
        id=fields["id"], answer=answer, questions=questions, title=title or "", topic=topic or "",
        keywords=keywords, related=related, kind=kind, track=scope[0], audience=scope[1],
        variants=variants, instead=instead,
        long_because=long_because or "",
        path=ctx.path, line=item.line, line_of_topic=item.line_of("topic"),
        question_lines=[question_list.line_of(i) for i in range(len(question_list))],
    )


def _scope(ctx: _Context, item: Any) -> tuple[str, str] | None:
    """The entry's ``track`` and ``audience`` ("" when absent); None when one is unknown."""
    scope = []
    for name, allowed in (("track", TRACKS), ("audience", AUDIENCES)):
        value = item.get(name, "") or ""
        if value and value not in allowed:
            ctx.problem(item.line_of(name), f"« {name} » inconnu « {value} » (possibles : {', '.join(allowed)})")
            return None
        scope.append(value)
    return scope[0], scope[1]


def _context_map(ctx: _Context, item: Any, name: str, answer: bool) -> dict[str, str] | None:
    """``variants`` (context -> answer text) or ``instead`` (context -> entry id); {} when absent."""
    value = item.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        ctx.problem(item.line_of(name), f"« {name} » doit être une liste de clés ({', '.join(CONTEXT_KEYS)})")
        return None
    result: dict[str, str] = {}
    for key, text in value.items():
        line = value.line_of(key)
        if key not in CONTEXT_KEYS:
            ctx.problem(line, f"« {name} » : clé inconnue « {key} » (possibles : {', '.join(CONTEXT_KEYS)})")
            return None
        checked = _text(ctx, text, line, f"{name}.{key}") if answer else (
            text if isinstance(text, str) and ID_PATTERN.match(text) else None)
        if checked is None:
            if not answer:
                ctx.problem(line, f"« {name}.{key} » doit être l'identifiant d'une entrée")
            return None
        result[key] = checked
    return result


# --- field helpers -------------------------------------------------------------------


def _fields(ctx: _Context, item: Any, line: int, schema: dict[str, bool], what: str) -> dict | None:
    """Check an item's fields against ``schema`` (name -> required); None when unusable."""
    if not isinstance(item, dict):
        ctx.problem(line, f"une {what} doit être une liste de champs (nom: valeur)")
        return None
    ok = True
    for key in item:
        if key not in schema:
            known = ", ".join(schema)
            ctx.problem(item.line_of(key), f"champ inconnu « {key} » (champs possibles : {known})")
            ok = False
    for key, required in schema.items():
        if required and (key not in item or item[key] is None):
            ctx.problem(item.line, f"champ obligatoire manquant : « {key} »")
            ok = False
    return dict(item) if ok else None


def _valid_id(ctx: _Context, value: Any, line: int) -> bool:
    if isinstance(value, str) and ID_PATTERN.match(value):
        return True
    ctx.problem(line, f"identifiant invalide « {value} » : minuscules sans accent, chiffres et _ (ex. cout_formation)")
    return False


def _text(ctx: _Context, value: Any, line: int, name: str) -> str | None:
    if isinstance(value, str) and value.strip():
        if value.count("{") != value.count("}"):
            ctx.problem(line, f"« {name} » : accolades {{ }} non appariées")
            return None
        return value.strip()
    ctx.problem(line, f"« {name} » doit être un texte non vide")
    return None


def _string_list(ctx: _Context, item: Any, name: str) -> list[str] | None:
    value, line = item.get(name), item.line_of(name)
    if not isinstance(value, list):
        ctx.problem(line, f"« {name} » doit être une liste (lignes commençant par « - »)")
        return None
    result: list[str] = []
    for index, element in enumerate(value):
        if isinstance(element, (int, float)) and not isinstance(element, bool):
            element = str(element)
        if not isinstance(element, str) or not element.strip():
            ctx.problem(value.line_of(index), f"« {name} » : chaque élément doit être un texte non vide")
            return None
        result.append(element.strip())
    return result


# --- cross-file checks ---------------------------------------------------------------


def _check_required_texts(ctx: _Context, directory: Path, kb: KnowledgeBase) -> None:
    """Every text the code uses must exist: a missing one would show its raw key to a prospect.

    A file that is missing or fails to parse is one problem (not one per key); a sound
    file without a key the code needs gets one problem per key.
    """
    broken = {p.path for p in ctx.problems}
    required = required_text_keys()
    for name in TEXT_FILES:
        path = directory / "texts" / f"{name}.yaml"
        ctx.path = _rel(ctx, path)
        if not path.exists():
            ctx.problem(0, "fichier manquant : le bot a besoin de ses textes")
            continue
        if ctx.path in broken:
            continue
        for key in sorted(k for k in required if k.startswith(f"{name}.") and k not in kb.texts):
            short = key.split(".", 1)[1]
            ctx.problem(1, f"texte manquant « {short} » : le bot l'utilise, ajoutez une ligne « {short}: … »")



def _check_references(ctx: _Context, kb: KnowledgeBase) -> None:
    """Placeholders, related entries and topics must exist.

    An answer with an unknown placeholder would show ``{typo}`` to prospects, so
    that entry is dropped; an unknown related entry or topic only loses that link
    (the answer itself is still right).
    """
    known_facts = set(kb.facts) | COMPUTED_PLACEHOLDERS
    topic_ids = {t.id for t in kb.topics}
    for entry in kb.entries.values():
        ctx.path = entry.path
        for name in [r for r in entry.related if r not in kb.entries]:
            ctx.problem(entry.line, f"entrée liée inconnue « {name} » (entrée « {entry.id} »)")
        entry.related = [r for r in entry.related if r in kb.entries]
        for key, target in list(entry.instead.items()):
            if target not in kb.entries:
                ctx.problem(entry.line, f"entrée « {target} » inconnue dans « instead » (entrée « {entry.id} »)")
                del entry.instead[key]
        if entry.topic not in topic_ids:
            ctx.problem(entry.line_of_topic, f"thème inconnu « {entry.topic} » (entrée « {entry.id} »)")
    for table in (kb.entries, kb.smalltalk, kb.not_covered):
        for entry_id in list(table):
            entry = table[entry_id]
            ctx.path = entry.path
            texts = [entry.answer, *entry.variants.values()]
            if not all([_placeholders(ctx, text, entry.line, known_facts) for text in texts]):
                del table[entry_id]
            for key in FORMAL_VARIANTS & set(entry.variants):
                _formal(ctx, entry.variants[key], entry.line, f"la variante « {key} » de « {entry_id} »")
            if getattr(entry, "audience", None) in FORMAL_VARIANTS:
                _formal(ctx, entry.answer, entry.line, f"la réponse de « {entry_id} » (public « {entry.audience} »)")
    for entry_id in set(kb.not_covered) & (set(kb.entries) | set(kb.smalltalk)):
        ctx.path = kb.not_covered[entry_id].path
        ctx.problem(kb.not_covered[entry_id].line, f"identifiant « {entry_id} » déjà utilisé par une entrée")
        del kb.not_covered[entry_id]
    if ctx.problems:  # an entries file that failed would make every topic look empty
        return
    used = {e.topic for e in kb.entries.values()}
    ctx.path = _rel(ctx, ctx.root / "topics.yaml")
    for topic in kb.topics:
        if topic.id not in used:
            ctx.problem(topic.line, f"le thème « {topic.id} » n'a aucune entrée")


def _placeholders(ctx: _Context, text: str, line: int, known: set[str] | frozenset[str], where: str = "") -> bool:
    ok = True
    for name in PLACEHOLDER.findall(text):
        if name not in known:
            where_text = f" dans « {where} »" if where else ""
            ctx.problem(line, f"fait inconnu {{{name}}}{where_text} : il doit être défini dans facts.yaml")
            ok = False
    return ok


# --- facts from official sources, English ------------------------------------------------


def _read_official_facts(ctx: _Context, path: Path, facts: dict[str, FactValue]) -> dict[str, OfficialFact]:
    """Facts from official sources: each needs a ``source`` and a ``checked`` date, or it is refused.

    The file is optional (a base may state nothing beyond its brochures). Scalar
    values also become ordinary facts, usable as ``{id}`` in answers.
    """
    if not path.exists():
        return {}
    data = _top(ctx, path, "official_facts", dict)
    official: dict[str, OfficialFact] = {}
    for key, item in (data or {}).items():
        line = data.line_of(key)
        if not isinstance(key, str) or not ID_PATTERN.match(key):
            ctx.problem(line, f"identifiant de fait invalide « {key} » (minuscules, chiffres, _)")
            continue
        if key in facts:
            ctx.problem(line, f"le fait « {key} » est aussi dans facts.yaml : un fait n'est écrit qu'une fois")
            continue
        if not isinstance(item, dict):
            ctx.problem(line, f"le fait officiel « {key} » s'écrit avec value, source et checked (voir knowledge/README.md)")
            continue
        missing = [name for name in OFFICIAL_FIELDS if item.get(name) in (None, "")]
        for name in missing:
            ctx.problem(line, f"le fait officiel « {key} » n'a pas de « {name} » : {OFFICIAL_MISSING[name]}")
        fields = None if missing else _fields(ctx, item, line, OFFICIAL_FIELDS, "fait officiel")
        if fields is None:
            continue
        source, checked, value = fields["source"], fields["checked"], fields["value"]
        if _text(ctx, source, item.line_of("source"), "source") is None:
            continue
        if not isinstance(checked, dt.date) or isinstance(checked, BadDate):
            ctx.problem(item.line_of("checked"),
                        f"« checked » : la date où la source a été vérifiée, AAAA-MM-JJ (fait « {key} »)")
            continue
        if isinstance(value, list):
            if not value or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                ctx.problem(item.line_of("value"), f"« value » : une liste de nombres (fait « {key} »)")
                continue
            value = tuple(value)
        elif isinstance(value, bool) or not isinstance(value, (str, int, float, dt.date)) or value == "":
            ctx.problem(item.line_of("value"), f"« value » : un texte, un nombre, une date ou une liste de nombres (fait « {key} »)")
            continue
        else:
            facts[key] = value
        official[key] = OfficialFact(key, value, source.strip(), checked, ctx.path, line)
    return official


def official_fact_warnings(kb: KnowledgeBase, today: dt.date, max_age_days: int = 365) -> list[Problem]:
    """Official facts checked more than a year ago: a warning, not an error (the SMIC changes yearly)."""
    return [
        Problem(f.path, f.line, f"attention : le fait « {f.id} » a été vérifié le {f.checked.isoformat()}, "
                                f"il y a plus d'un an : revérifiez-le à sa source et mettez à jour « checked »")
        for f in kb.official.values() if (today - f.checked).days > max_age_days
    ]


def _read_english(ctx: _Context, path: Path, kb: KnowledgeBase) -> None:
    """English questions and answers of entries, and English wording of text facts (optional file)."""
    if not path.exists():
        return
    data = _top(ctx, path, None, dict)
    if data is None:
        return
    for key in data:
        if key not in ("facts", "synonyms", "entries"):
            ctx.problem(data.line_of(key), f"section inconnue « {key} » (attendu : facts, synonyms, entries)")
    synonyms = data.get("synonyms") or []
    for index, group in enumerate(synonyms if isinstance(synonyms, list) else []):
        if not isinstance(group, list) or len(group) < 2 or not all(isinstance(w, str) and w.strip() for w in group):
            ctx.problem(synonyms.line_of(index), "un groupe de synonymes est une liste d'au moins deux mots : [mot, variante]")
        else:
            kb.synonyms_en.append([w.strip() for w in group])
    facts = data.get("facts") or {}
    if not isinstance(facts, dict):
        ctx.problem(data.line_of("facts"), "« facts » doit être une liste de « fait: traduction »")
        facts = {}
    for key, value in facts.items():
        if key not in kb.facts:
            ctx.problem(facts.line_of(key), f"fait inconnu « {key} » : il doit être défini dans facts.yaml")
        elif _text(ctx, value, facts.line_of(key), key) is not None:
            if re.findall(r"\d+", value) != re.findall(r"\d+", format_value_digits(kb.facts[key])):
                ctx.problem(facts.line_of(key), f"la traduction de « {key} » n'a pas les mêmes chiffres que le fait français")
                continue
            kb.facts_en[key] = value.strip()
    items = data.get("entries") or []
    if not isinstance(items, list):
        ctx.problem(data.line_of("entries"), "« entries » doit être une liste (lignes commençant par « - »)")
        return
    for index, item in enumerate(items):
        fields = _fields(ctx, item, items.line_of(index), ENGLISH_FIELDS, "entrée anglaise")
        if fields is None or not _valid_id(ctx, fields["id"], item.line_of("id")):
            continue
        entry = kb.entries.get(fields["id"])
        if entry is None:
            ctx.problem(item.line_of("id"), f"entrée inconnue « {fields['id']} » : l'id doit être celui d'une entrée française")
            continue
        if fields["id"] in kb.english:
            ctx.problem(item.line_of("id"), f"entrée anglaise « {fields['id']} » en double")
            continue
        questions = _string_list(ctx, item, "questions")
        if questions is None:
            continue
        answer = ""
        if "answer" in item:
            answer = _text(ctx, item["answer"], item.line_of("answer"), "answer")
            if answer is None or not _faithful(ctx, answer, entry, kb, item.line_of("answer")):
                continue
            if len(questions) < MIN_QUESTIONS:
                ctx.problem(item.line_of("questions"), f"au moins {MIN_QUESTIONS} exemples de questions (il y en a {len(questions)})")
                continue
        kb.english[entry.id] = EnglishEntry(entry.id, questions, answer, ctx.path, item.line)


def format_value_digits(value: FactValue) -> str:
    """A fact as text, for comparing its figures with a translation's (a date's figures are not words)."""
    return "" if isinstance(value, dt.date) else str(value)


def _faithful(ctx: _Context, answer: str, entry: Entry, kb: KnowledgeBase, line: int) -> bool:
    """An English answer states only what the French one states: same facts, no figure of its own."""
    ok = True
    french_names = set(PLACEHOLDER.findall(entry.answer))
    for name in PLACEHOLDER.findall(answer):
        if name in COMPUTED_PLACEHOLDERS and english_texts_missing(kb.texts):
            missing = ", ".join(english_texts_missing(kb.texts)[:3])
            ctx.problem(line, f"{{{name}}} a besoin des textes de dates en anglais (texts/english.yaml : {missing}…)")
            ok = False
        elif name not in french_names:
            ctx.problem(line, f"{{{name}}} n'est pas dans la réponse française de « {entry.id} » : "
                              "la traduction ne dit que ce que dit le français")
            ok = False
        elif isinstance(kb.facts.get(name), str) and name not in kb.facts_en \
                and FRENCH_MARKERS.search(fold(str(kb.facts[name]))):
            ctx.problem(line, f"le fait {{{name}}} est écrit en français : ajoutez sa traduction sous « facts: »")
            ok = False
    french_numbers = set(re.findall(r"\d+", entry.answer))
    for number in re.findall(r"\d+", PLACEHOLDER.sub(" ", answer)):
        if number not in french_numbers:
            ctx.problem(line, f"le nombre « {number} » n'est pas dans la réponse française : "
                              "utilisez les {faits} de facts.yaml")
            ok = False
    return ok


# --- reminders.yaml ------------------------------------------------------------------

#: ``knowledge/reminders.yaml``: the kinds of opt-in reminder (``bot/reminders/``).
REMINDERS_FILE = "reminders.yaml"
FIELDS = {"id": True, "offer": True, "text": True, "name": True, "trigger": True, "at": False, "entries": False, "answers": False}
TRIGGER_KEYS = {"open_days", "fact", "days_before", "after", "days", "every_days", "until_fact"}
_TIME = re.compile(r"^\d{1,2}:\d{2}$")


def read_reminders(ctx: Any, directory: Path, kb: Any) -> dict[str, ReminderKind]:
    """The kinds of reminder, checked against the facts, entries and texts already loaded.

    A missing file means no reminders (a base without them still loads).
    """
    path = directory / REMINDERS_FILE
    if not path.exists():
        return {}
    data = _top(ctx, path, "reminders", list)
    kinds: dict[str, ReminderKind] = {}
    for index, item in enumerate(data or []):
        line = data.line_of(index)
        fields = _fields(ctx, item, line, FIELDS, "rappel")
        if fields is None or not _valid_id(ctx, fields["id"], item.line_of("id")):
            continue
        kind = _kind(ctx, fields, item, line, kb)
        if kind is None:
            continue
        if kind.id in kinds:
            ctx.problem(line, f"rappel « {kind.id} » en double")
            continue
        kinds[kind.id] = ReminderKind(**{**kind.__dict__, "path": _rel(ctx, path), "line": line})
    return kinds


def _kind(ctx: Any, fields: dict, item: Any, line: int, kb: Any) -> ReminderKind | None:
    rid = fields["id"]
    ok = True
    if fields["offer"] not in OFFERS:
        ctx.problem(item.line_of("offer"), f"rappel « {rid} » : « offer » doit être l'un de {', '.join(OFFERS)}")
        ok = False
    trigger = _trigger(ctx, fields["trigger"], item.line_of("trigger"), rid, kb)
    at = _at(ctx, fields.get("at"), item.line_of("at") if "at" in item else line, rid)
    entries = tuple(str(e) for e in (fields.get("entries") or []))
    for name in entries:
        if name not in kb.entries:
            ctx.problem(item.line_of("entries"), f"rappel « {rid} » : entrée inconnue « {name} »")
            ok = False
    answers = _answers(ctx, fields.get("answers"), item.line_of("answers") if "answers" in item else line, rid)
    for name in ("text", "name"):
        if str(fields[name]) not in kb.texts:
            ctx.problem(item.line_of(name), f"rappel « {rid} » : texte « {fields[name]} » inconnu "
                                            "(une clé de texts/*.yaml, par exemple rappels.xxx)")
            ok = False
    if not ok or trigger is None or at is None or answers is None:
        return None
    return ReminderKind(rid, fields["offer"], trigger, str(fields["text"]), str(fields["name"]), at, entries, answers)


def _trigger(ctx: Any, raw: Any, line: int, rid: str, kb: Any) -> Trigger | None:
    if not isinstance(raw, dict) or not raw or set(raw) - TRIGGER_KEYS:
        ctx.problem(line, f"rappel « {rid} » : « trigger » s'écrit {{open_days: [2, 1]}}, "
                          "{fact: date_xxx, days_before: [14]}, {after: preinscription, days: 3} "
                          "ou {after: preinscription, every_days: 21, until_fact: date_xxx}")
        return None

    def days(value: Any) -> tuple[int, ...] | None:
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 365 for v in items):
            return None
        return tuple(items)

    def date_fact(name: Any) -> bool:
        if not isinstance(kb.facts.get(name), dt.date):
            ctx.problem(line, f"rappel « {rid} » : « {name} » n'est pas une date de facts.yaml")
            return False
        return True

    if "open_days" in raw:
        before = days(raw["open_days"])
        if before is None or len(raw) != 1:
            ctx.problem(line, f"rappel « {rid} » : open_days: [jours avant], par exemple [2, 1]")
            return None
        return Trigger(open_days=before)
    if "fact" in raw:
        before = days(raw.get("days_before", 0))
        if before is None or set(raw) - {"fact", "days_before"}:
            ctx.problem(line, f"rappel « {rid} » : {{fact: date_xxx, days_before: [jours avant]}}")
            return None
        return Trigger(fact=raw["fact"], days_before=before) if date_fact(raw["fact"]) else None
    if raw.get("after") not in EVENTS:
        ctx.problem(line, f"rappel « {rid} » : « after » doit être l'un de {', '.join(EVENTS)}")
        return None
    if "every_days" in raw:
        every = raw["every_days"]
        if not isinstance(every, int) or every < 1 or set(raw) - {"after", "every_days", "until_fact"} \
                or "until_fact" not in raw:
            ctx.problem(line, f"rappel « {rid} » : {{after: …, every_days: N, until_fact: date_xxx}}")
            return None
        return Trigger(after=raw["after"], every_days=every, until_fact=raw["until_fact"]) \
            if date_fact(raw["until_fact"]) else None
    delay = raw.get("days")
    if not isinstance(delay, int) or delay < 0 or set(raw) - {"after", "days"}:
        ctx.problem(line, f"rappel « {rid} » : {{after: …, days: N}} (N jours après)")
        return None
    return Trigger(after=raw["after"], days=delay)


def _at(ctx: Any, raw: Any, line: int, rid: str) -> dt.time | None:
    if raw is None:
        return dt.time(10, 0)
    text = str(raw).strip()
    if not _TIME.match(text):
        ctx.problem(line, f"rappel « {rid} » : heure invalide « {text} » (HH:MM)")
        return None
    moment = dt.time.fromisoformat(text.zfill(5))
    if not dt.time(9, 0) <= moment < dt.time(20, 0):
        ctx.problem(line, f"rappel « {rid} » : « at » doit être entre 09:00 et 20:00 (heures calmes)")
        return None
    return moment


def _answers(ctx: Any, raw: Any, line: int, rid: str) -> dict[str, tuple[str, ...]] | None:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) - set(ANSWERS) or not all(
            isinstance(v, list) and v and all(isinstance(p, str) and p.strip() for p in v) for v in raw.values()):
        ctx.problem(line, f"rappel « {rid} » : « answers » : {', '.join(ANSWERS)}, chacune une liste de phrases")
        return None
    return {key: tuple(p.strip() for p in value) for key, value in raw.items()}
