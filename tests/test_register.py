"""Register (issue 10, point 6): who writes "vous" never reads "tu".

A parent or an employer who reads "tu es payé·e" or "Merci de ton intérêt" is not
talked to right. The base is written in neutral French, with "vous" variants where
needed; these tests render what such a prospect reads (every entry, every text, on
many days) and hold whole conversations through the :class:`Assistant` with a real
SQLite file, and check it with the same "tu" finder ``check`` uses.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.clock import PARIS, Clock
from bot.config import Settings
from bot.conversation.context import ConversationContext
from bot.conversation.engine import Assistant
from bot.conversation.messages import Incoming, Kind, Person
from bot.conversation.understanding import variant
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import KnowledgeBase
from bot.knowledge.register import tu_forms
from bot.knowledge.render import Renderer
from bot.knowledge.store import KnowledgeStore
from bot.storage.db import open_database

ROOT = Path(__file__).resolve().parent.parent
#: Days around the dates of the base: candidatures open / closing, start day, late deadline, after.
DAYS = [dt.date(2025, 10, 15), dt.date(2026, 3, 1), dt.date(2026, 8, 27), dt.date(2026, 11, 20),
        dt.date(2026, 11, 30), dt.date(2027, 9, 1)]
#: Who reads the "vous" texts: someone writing "vous", a parent, a company (and on the block-4 path).
FORMAL = [ConversationContext(register="vous"), ConversationContext(audience="parent"),
          ConversationContext(audience="entreprise"), ConversationContext(register="vous", track="bloc4"),
          ConversationContext(audience="parent", register="vous", track="bloc4")]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    base, problems = load_knowledge(ROOT / "knowledge")
    assert not problems, problems
    return base


@pytest.fixture(scope="module")
def store() -> KnowledgeStore:
    return KnowledgeStore(ROOT / "knowledge")


# --- the finder ------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Oui, tu es payé·e entre 496 € et 1612 €", "Merci de ton intérêt !", "Ta référente handicap : X",
    "pré-inscris-toi ici avec /inscription", "Mais elle ne donne pas les chiffres : demande-les au 03",
    "Pas de nouvelles ? Contacte le campus", "La formation t'y prépare.", "n'hésite pas à revenir",
    "Je ne connais pas cette commande 🤔 Essaie /menu", "• Tu reçois un mail", "Et toi ? Dis-moi tout",
    "renseigne-toi auprès du rectorat", "C'est **toi** qui t'inscris",
])
def test_the_finder_catches_each_tu_form(text: str) -> None:
    assert tu_forms(text), text


@pytest.mark.parametrize("text", [
    "La formation est **gratuite** pour les alternants 🎉", "Les modalités : tutorat, coaching, suivi",
    "sur demande écrite et justifiée", "Votre interlocutrice est Virginie VILLEROY", "statut, tests, totaux",
    "Le lien : https://cfajeanbosco-hdf.ymag.cloud/index.php/preinscription/", "Un bloc validé (note ≥ 10/20)",
    "Posez votre question", "pour toute autre question",
])
def test_the_finder_leaves_neutral_and_vous_french_alone(text: str) -> None:
    assert tu_forms(text) == [], text


# --- every text a formal prospect can read -----------------------------------------------


def test_every_answer_reads_right_to_who_writes_vous_on_every_day(kb: KnowledgeBase) -> None:
    failures = []
    for today in DAYS:
        for question in ("", "pour la rentrée de l'an prochain ?"):
            render = Renderer(kb, today, question)
            render.register = "vous"
            for context in FORMAL:
                for entry in [*kb.entries.values(), *kb.not_covered.values(), *kb.smalltalk.values()]:
                    text = render.answer(variant(entry, context))
                    if tu_forms(text):
                        failures.append(f"{today} {entry.id} {context.audience}/{context.track}: {tu_forms(text)}")
    assert not failures, f"{len(failures)} answers say 'tu', e.g.:\n" + "\n".join(sorted(set(failures))[:20])


def test_every_text_the_bot_says_in_a_conversation_reads_right_in_vous(kb: KnowledgeBase) -> None:
    render = Renderer(kb, dt.date(2026, 11, 20))
    render.register = "vous"
    keys = [k for k in kb.texts if k.split(".")[0] in ("general", "dates", "situation") and not k.endswith("_vous")]
    assert len(keys) > 40
    said = {key: render.text(key, prenom="Anne", question="x", sujet="y", message="z") for key in keys}
    assert {k: tu_forms(t) for k, t in said.items() if tu_forms(t)} == {}


def test_check_refuses_tu_in_a_text_written_for_vous(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    entries = tmp_path / "knowledge" / "entries" / "cout_salaire.yaml"
    text = entries.read_text(encoding="utf-8")
    assert "Pour votre enfant," in text
    entries.write_text(text.replace("Pour votre enfant,", "Pour toi,", 1), encoding="utf-8")
    general = tmp_path / "knowledge" / "texts" / "general.yaml"
    general.write_text(general.read_text(encoding="utf-8").replace(
        'ambigu_vous: "Je veux être sûr de bien vous répondre', 'ambigu_vous: "Je veux être sûr de bien te répondre'),
        encoding="utf-8")
    _, problems = load_knowledge(tmp_path / "knowledge")
    messages = [str(p) for p in problems]
    assert any("variante « parent » de « cout_formation »" in m and "toi" in m for m in messages), messages
    assert any("ambigu_vous" in m and "« te »" in m for m in messages), messages


# --- whole conversations ---------------------------------------------------------------


class FixedClock(Clock):
    def now(self) -> dt.datetime:
        return dt.datetime(2026, 11, 20, 10, 0, tzinfo=PARIS)


#: Common questions, each with the entry that answers it (schedule, cost, pay, admission, dates,
#: open days, disability) in a parent's words and in an employer's.
PARENT = [
    ("Bonjour, je me renseigne pour ma fille qui est en terminale. Quels jours aurait-elle cours ?",
     "rythme_alternance"),
    ("Est-ce que la formation est payante pour nous ?", "cout_formation"),
    ("Combien serait-elle payée ?", "remuneration"),
    ("Quelles sont les étapes de l'admission ?", "processus_admission"),
    ("Quelle est la date de la rentrée ?", "date_rentree"),
    ("Y a-t-il des journées portes ouvertes ?", "portes_ouvertes"),
    ("Elle est dyslexique, est-elle accompagnée ?", "handicap_accueil"),
    ("Jusqu'à quand peut-elle candidater ?", "periode_candidature"),
]
EMPLOYER = [
    ("Bonjour, je suis gérant d'un magasin et je cherche un apprenti. Quel est le rythme de l'alternance ?",
     "rythme_alternance"),
    ("Combien cela coûte-t-il à l'entreprise ?", "cout_entreprise"),
    ("Quel salaire doit-on verser à l'apprenti ?", "remuneration"),
    ("Comment les candidats sont-ils sélectionnés ?", "processus_admission"),
    ("Quelle est la date de la rentrée ?", "date_rentree"),
    ("Avez-vous des portes ouvertes ?", "portes_ouvertes"),
    ("Accueillez-vous les personnes en situation de handicap ?", "handicap_accueil"),
    ("Qui dois-je contacter ?", "contact"),
]


@pytest.mark.parametrize("conversation", [PARENT, EMPLOYER], ids=["parent", "employer"])
def test_a_parent_and_an_employer_never_read_tu(store: KnowledgeStore, tmp_path: Path,
                                                conversation: list[tuple[str, str]]) -> None:
    assistant = Assistant(store, open_database(tmp_path / "bot.db"), FixedClock(), settings=Settings())
    person = Person(31)
    for question, entry in conversation:
        turn = assistant.handle_turn(Incoming(person, Kind.TEXT, question))
        text = "\n".join(r.plain_text() for r in turn.replies)
        assert entry in turn.answers[-1].entries or turn.answers[-1].entry == entry, (question, text)
        assert tu_forms(text) == [], (question, text)
    # a button of the last answer (a related entry), then the menu: "vous" too
    related = store.current.kb.entries[entry].related[0]
    for kind, payload in ((Kind.BUTTON, f"e:{related}"), (Kind.COMMAND, "menu"), (Kind.COMMAND, "aide")):
        replies = assistant.handle(Incoming(person, kind, payload))
        text = "\n".join(r.plain_text() for r in replies)
        assert text and tu_forms(text) == [], (payload, text)


def test_a_young_prospect_keeps_the_friendly_tone(store: KnowledgeStore, tmp_path: Path) -> None:
    assistant = Assistant(store, open_database(tmp_path / "bot.db"), FixedClock(), settings=Settings())
    person = Person(32)
    replies = assistant.handle(Incoming(person, Kind.TEXT, "ça va ?"))
    assert "Et toi ?" in replies[0].plain_text()
    menu = assistant.handle(Incoming(person, Kind.COMMAND, "menu"))
    assert "Choisis un thème" in menu[0].plain_text()
