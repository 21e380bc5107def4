"""The health filter on everyday statements, with the word list staff keep in ``knowledge/sante.yaml``.

A miss stores a health detail (in the question log, the form, the staff group); a
false alarm only keeps one sentence out of the database. The statements are written
the way prospects type: casual, often without accents.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge.loader import load_knowledge
from bot.registration.validators import mentions_health

ROOT = Path(__file__).resolve().parent.parent
WORDS = load_knowledge(ROOT / "knowledge")[0].health_words

HEALTH = [
    "je suis seropositif est ce que je dois le dire",
    "je suis séropositive, ça pose probleme pour l'alternance ?",
    "j'ai le VIH",
    "jsuis enceinte de 4 mois je peux commencer en septembre",
    "je vais accoucher en octobre",
    "j'ai fait un burn-out l'an dernier",
    "j'ai fait un burnout en premiere",
    "je prends des antidepresseurs",
    "je suis sous antidépresseur depuis 1 an",
    "j'ai fait une tentative de suicide l'annee derniere",
    "je suis en fauteuil, l'ecole est accessible ?",
    "je vois un psy toutes les semaines",
    "mon psychologue dit que ca ira mieux",
    "j'ai une fibromyalgie",
    "je fais des crises d'angoisse",
    "je fais des crises d angoisse en public",
    "j'ai des attaques de panique",
    "je suis suivi par un psychiatre",
    "j'ai des TOC",
    "j'ai une endometriose tres douloureuse",
    "je suis en arret maladie",
    "je sors d'une hepatite",
    "je me suis fait operer du genou, je serai en bequilles",
    "je souffre de migraines chroniques",
    "j'ai une maladie de crohn",
    "je suis dyslexique",
    "j'ai une RQTH",
    "je suis handicapé moteur",
    "je suis diabetique",
    "je prends des anxiolytiques pour dormir",
    "j'ai un probleme cardiaque",
    "je suis epileptique",
]

NOT_HEALTH = [
    "c'est combien le salaire en alternance",
    "la cantine c'est combien",
    "je cherche une entreprise a amiens",
    "c'est quoi le rythme ecole entreprise",
    "je suis en terminale bac pro commerce",
    "quand sont les portes ouvertes",
    "est ce qu'il y a un internat",
    "je veux parler a quelqu'un",
    "j'ai deja une entreprise d'accueil",
    "on peut faire le bts en candidat libre ?",
    "combien de jours a l'ecole par semaine",
    "je travaille chez carrefour",
    "la psychologie du consommateur c'est au programme ?",
    "faut il un ordinateur portable",
    "c'est quoi les debouches apres le bts",
    "je suis en reconversion",
    "comment on s'inscrit",
    "il faut quel diplome pour entrer",
    "je peux venir en bus depuis abbeville ?",
    "je suis majeur depuis mars",
    "mon maitre d'apprentissage est tres sympa",
    "c'est quoi l'amenagement de l'espace de vente",
    "je suis stressé par le rythme mais motivé",
    "quels sont les horaires des cours",
    "la formation est gratuite ?",
    "j'habite a beauvais",
]


def test_enough_statements_are_checked() -> None:
    assert len(HEALTH) + len(NOT_HEALTH) >= 50 and len(HEALTH) >= 25 and len(NOT_HEALTH) >= 25


@pytest.mark.parametrize("statement", HEALTH)
def test_health_statements_are_caught(statement: str) -> None:
    assert mentions_health(statement, WORDS), statement


@pytest.mark.parametrize("statement", NOT_HEALTH)
def test_ordinary_statements_are_not(statement: str) -> None:
    assert not mentions_health(statement, WORDS), statement


def test_the_word_list_is_what_staff_extend(tmp_path: Path) -> None:
    """A word added to sante.yaml is caught; a malformed one is a problem ``check`` reports."""
    import shutil

    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", target)
    assert not mentions_health("j'ai la drepanocytose", WORDS)
    with (target / "sante.yaml").open("a", encoding="utf-8") as f:
        f.write("  - drepanocytose\n  - mal*forme\n")
    kb, problems = load_knowledge(target)
    assert mentions_health("j'ai la drépanocytose", kb.health_words)
    assert [p.path for p in problems] == ["knowledge/sante.yaml"], [str(p) for p in problems]
