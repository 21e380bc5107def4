"""The load benchmark's scenario: who the simulated prospects are and what they type and expect.

Part of ``benchmarks/load.py`` (see its docstring); no measuring here.
"""
from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


ROOT = Path(__file__).resolve().parent.parent
STAFF_CHAT_ID = -1001234567890
STAFF_USER_ID = 777000111
FIRST_USER_ID = 60_000_001
#: PTB's ``concurrent_updates(True)`` means 256: the echo bot gets the same.
CONCURRENT_UPDATES = 256
#: The brief's targets for the bot's p50 against a floor's: under a burst (no think time), within
#: 1.15x of the echo bot behind the same rate limiter; at a human pace, within 2x of the bare echo bot.
#: (The other pairing is printed for information: under a burst the bare echo ignores Telegram's limit.)
TARGET_BURST = ("limited", 1.15)
TARGET_HUMAN_PACE = ("bare", 2.0)
TARGET_PROSPECTS = 1000

#: The floors: the bare echo bot the issue names, and the same echo bot under the rate limiter the
#: admissions bot must use (Telegram's 30 messages/s), which no bot talking to Telegram can beat.
FLOORS = {"bare": "echo bot", "limited": "echo + rate limiter"}
RSS_POLL_SECONDS = 0.25

#: Casual questions the FAQ answers (checked with ``run_bot.py ask``).
QUESTIONS = [
    "c combien le salaire en alternance ?",
    "c'est quoi le rythme école entreprise",
    "faut payer quelque chose pour la formation ?",
    "jpeux m'inscrire si j'ai pas encore trouvé d'entreprise ?",
    "y'a des portes ouvertes bientôt ?",
    "ça dure combien de temps le bts",
    "c'est quoi les matières",
    "y a des débouchés après ?",
    "je peux continuer en licence après ?",
    "comment on candidate",
    "il y a une cantine ?",
    "faut quel bac pour rentrer",
]
FIRST_NAMES = ["Zoé", "Lucas", "Inès", "Noah", "Léa", "Mohamed", "Chloé", "Hugo", "Manon", "Yanis",
               "Camille", "Théo", "Sarah", "Enzo", "Jade", "Nathan", "Lina", "Maël", "Eva", "Adam"]
LAST_NAMES = ["Dupont", "Martin", "Lefèvre", "Bernard", "Dubois", "Moreau", "Laurent", "Garnier",
              "Fournier", "Girard", "Bonnet", "Mercier", "Lambert", "Faure", "Rousseau", "Benali",
              "Nguyen", "Leroy", "Roux", "Morel"]
MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre"]
DIPLOMAS = ["bac_general", "bac_techno", "bac_pro", "bac_en_cours", "bac_plus_2"]
SITUATIONS = ["lyceen", "etudiant", "demandeur_emploi", "salarie"]
HEARD = ["salon", "portes_ouvertes", "site_web", "reseaux_sociaux", "parcoursup", "bouche_a_oreille"]

Message = dict[str, Any]
Expect = Callable[[Message], bool]


def load_texts() -> dict[str, str]:
    """The bot's own sentences, ``{"form.ask_email": "...", "general.menu": "..."}``."""
    texts: dict[str, str] = {}
    for name in ("form", "general"):
        data = yaml.safe_load((ROOT / "knowledge" / "texts" / f"{name}.yaml").read_text("utf-8"))
        texts.update({f"{name}.{key}": str(value) for key, value in data.items()})
    return texts


def template_regex(template: str) -> re.Pattern[str]:
    """A regex for the first line of a text as the prospect reads it: ``**`` dropped,
    every ``{placeholder}`` matching anything (``{ref}`` is captured as ``ref``)."""
    line = next(part for part in template.replace("**", "").splitlines() if part.strip()).strip()
    pieces = re.split(r"\{(\w+)\}", line)
    regex = "".join(re.escape(p) if i % 2 == 0 else (f"(?P<{p}>\\S+?)" if p == "ref" else ".+?")
                    for i, p in enumerate(pieces))
    return re.compile(regex)


def text_of(message: Message) -> str:
    return message.get("text") or message.get("caption") or ""


def buttons_of(message: Message) -> list[dict[str, Any]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button for row in rows for button in row]


def shows(pattern: re.Pattern[str]) -> Expect:
    """Expect a message whose text contains ``pattern``."""
    return lambda message: pattern.search(text_of(message)) is not None


def has_button(data_prefix: str, pattern: re.Pattern[str] | None = None) -> Expect:
    """Expect a message with a button whose callback data starts with ``data_prefix``
    (and, if given, whose text contains ``pattern``)."""
    def check(message: Message) -> bool:
        return any(str(b.get("callback_data", "")).startswith(data_prefix) for b in buttons_of(message)) \
            and (pattern is None or pattern.search(text_of(message)) is not None)
    return check


def any_keyboard(message: Message) -> bool:
    """An answer to a question: every outcome but small talk ends with buttons."""
    return bool(buttons_of(message))


@dataclass(frozen=True)
class Step:
    """One thing a prospect sends, and the reply that ends it.

    ``action``: ``command`` and ``text`` send ``text``; ``press`` presses the button
    labelled ``text`` on the latest message showing it; ``pick`` presses a random
    button whose data starts with ``prefix`` on the reply of the step ``pick_from``.
    """

    name: str
    action: str
    text: str
    expect: Expect
    pick_from: str = ""
    prefix: str = ""

    @property
    def echo_text(self) -> str:
        """What the echo prospect types for this step (a text round trip)."""
        return self.text or f"je choisis : {self.name}"


@dataclass(frozen=True)
class Prospect:
    user_id: int
    first_name: str
    last_name: str
    email: str
    steps: tuple[Step, ...]


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def birth_date(rng: random.Random) -> str:
    """A birth date of someone aged 17 to 22, typed one way or another."""
    year, month, day = rng.randint(2004, 2008), rng.randint(1, 12), rng.randint(1, 28)
    return f"{day} {MONTHS[month - 1]} {year}" if rng.random() < 0.5 else f"{day:02d}/{month:02d}/{year}"


def phone(index: int) -> str:
    """A distinct French mobile number per prospect."""
    digits = f"{index:08d}"[-8:]
    return "06 " + " ".join(digits[i:i + 2] for i in range(0, 8, 2))


def two_intakes_today() -> bool:
    """Whether the form asks "Pour quelle rentrée ?" today: only while two intakes are possible.

    The bot runs on the real clock (Paris time), so the scenario follows the same rule
    (``bot/knowledge/intake.py``) instead of assuming a date.
    """
    from bot.clock import Clock
    from bot.knowledge.intake import intake_of, possible_years
    from bot.knowledge.loader import load_knowledge

    kb, _ = load_knowledge(ROOT / "knowledge")
    return len(possible_years(Clock().today(), intake_of(kb.facts))) > 1


def heard_and_intake(heard: str, texts: dict[str, str], intake_asked: bool) -> list[Step]:
    """The "connu par" step, then the intake question when the form asks it, up to the summary."""
    summary = shows(template_regex(texts["form.recap_intro"]))
    if not intake_asked:
        return [Step("heard", "press", heard, summary)]
    return [Step("heard", "press", heard, shows(template_regex(texts["form.ask_intake"]))),
            Step("intake", "press", texts["form.choix_intake_suivante"], summary)]


def build_prospect(index: int, texts: dict[str, str], rng: random.Random, intake_asked: bool = False) -> Prospect:
    """The conversation of prospect number ``index`` (names, answers and choices drawn from ``rng``)."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{ascii_fold(first)}.{ascii_fold(last)}.{index}@example.com"
    ask = {key: template_regex(texts[f"form.ask_{key}"]) for key in
           ("last_name", "first_name", "birth_date", "email", "phone", "diploma", "situation", "company",
            "heard")}

    def label(step: str, code: str) -> str:
        return texts[f"form.choix_{step}_{code}"]

    steps = [Step("start", "command", "/start", shows(template_regex(texts["general.bienvenue"])))]
    steps += [Step("question", "text", q, any_keyboard) for q in rng.sample(QUESTIONS, rng.choice((2, 3)))]
    steps += [
        Step("topic", "pick", "", has_button("e:", template_regex(texts["general.theme"])),
             pick_from="start", prefix="t:"),
        Step("entry", "pick", "", has_button("m"), pick_from="topic", prefix="e:"),
        Step("inscription", "command", "/inscription", has_button("f:ok")),
        Step("consent", "press", texts["form.bouton_accepte"], shows(ask["last_name"])),
        Step("last_name", "text", last, shows(ask["first_name"])),
        Step("first_name", "text", first, shows(ask["birth_date"])),
        Step("birth_date", "text", birth_date(rng), shows(ask["email"])),
        Step("email", "text", email, shows(ask["phone"])),
        Step("phone", "text", phone(index), shows(ask["diploma"])),
        Step("diploma", "press", label("diploma", rng.choice(DIPLOMAS)), shows(ask["situation"])),
        Step("situation", "press", label("situation", rng.choice(SITUATIONS)), shows(ask["company"])),
        Step("company", "press", label("company", "recherche"), shows(ask["heard"])),
        *heard_and_intake(label("heard", rng.choice(HEARD)), texts, intake_asked),
        Step("confirm", "press", texts["form.bouton_confirmer"], shows(template_regex(texts["form.confirme"]))),
    ]
    return Prospect(FIRST_USER_ID + index, first, last, email, tuple(steps))


def build_prospects(count: int, seed: int) -> list[Prospect]:
    texts, intake_asked = load_texts(), two_intakes_today()
    return [build_prospect(i, texts, random.Random(seed * 1_000_003 + i), intake_asked) for i in range(count)]
