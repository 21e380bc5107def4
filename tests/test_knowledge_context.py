"""The YAML that says who asks and on which path: ``check`` catches every mistake, with its line.

Scoped entries (``track``, ``audience``), hand-overs (``instead``), variants, the
``context.yaml`` phrases and the ``not_covered.yaml`` honest answers are edited by
non-developers; each mistake must be reported at its file and line, never crash.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.knowledge.loader import load_knowledge

try:
    from tests.test_knowledge_loader import write_required_texts
except ImportError:  # tests/ itself is on sys.path (pytest "prepend" import mode)
    from test_knowledge_loader import write_required_texts  # type: ignore[no-redef]

MINI = Path(__file__).parent / "fixtures" / "mini_kb"


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(MINI, target)
    write_required_texts(target)  # every text the code uses: a base without them is refused
    return target


def problems_of(directory: Path) -> list[str]:
    return [str(p) for p in load_knowledge(directory)[1]]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


SCOPED = '''    topic: argent
    track: bloc4
    audience: entreprise
    instead: {parent: jpo}
    variants:
      vous: "Entre {salaire_min} et plus, pour vous."
'''


def test_scoped_entries_variants_and_hand_overs_load(kb_dir: Path) -> None:
    edit(kb_dir / "entries" / "argent.yaml", "    topic: argent\n", SCOPED)
    kb, problems = load_knowledge(kb_dir)
    assert problems == []
    salaire = kb.entries["salaire"]
    assert (salaire.track, salaire.audience) == ("bloc4", "entreprise")
    assert salaire.instead == {"parent": "jpo"}
    assert salaire.variants["vous"].startswith("Entre {salaire_min}")


@pytest.mark.parametrize("old, new, message", [
    ("    topic: argent\n", "    topic: argent\n    track: bloc5\n", "argent.yaml:5: « track » inconnu « bloc5 »"),
    ("    topic: argent\n", "    topic: argent\n    audience: eleve\n", "argent.yaml:5: « audience » inconnu « eleve »"),
    ("    topic: argent\n", "    topic: argent\n    variants: {toi: \"x\"}\n",
     "argent.yaml:5: « variants » : clé inconnue « toi »"),
    ("    topic: argent\n", "    topic: argent\n    variants: {vous: \"{nope}\"}\n", "fait inconnu {nope}"),
    ("    topic: argent\n", "    topic: argent\n    instead: {bloc4: inconnue}\n",
     "entrée « inconnue » inconnue dans « instead »"),
])
def test_a_mistake_in_an_entry_scope_is_located(kb_dir: Path, old: str, new: str, message: str) -> None:
    edit(kb_dir / "entries" / "argent.yaml", old, new)
    problems = problems_of(kb_dir)
    assert any(message in p for p in problems), problems


def test_context_phrases_are_checked(kb_dir: Path) -> None:
    (kb_dir / "context.yaml").write_text(
        "audiences:\n  parent: [mon fils]\n  prof: [je suis prof]\ntracks:\n  bloc4: [candidat libre]\n"
        "publics:\n  x: [y]\n", encoding="utf-8")
    kb, found = load_knowledge(kb_dir)
    problems = [str(p) for p in found]
    assert any("context.yaml:3: « prof » inconnu dans « audiences »" in p for p in problems), problems
    assert any("context.yaml:6: section inconnue « publics »" in p for p in problems), problems
    assert kb.cues["audiences.parent"] == ["mon fils"] and kb.cues["tracks.bloc4"] == ["candidat libre"]


def test_not_covered_entries_need_examples_and_their_own_id(kb_dir: Path) -> None:
    (kb_dir / "not_covered.yaml").write_text(
        "not_covered:\n"
        "  - id: parking\n    questions: [un parking, on se gare ou, stationner]\n    answer: \"Pas dans la brochure.\"\n"
        "  - id: salaire\n    questions: [a, b, c]\n    answer: \"x\"\n"
        "  - id: cantine\n    questions: [la cantine]\n    answer: \"x\"\n", encoding="utf-8")
    kb, found = load_knowledge(kb_dir)
    problems = [str(p) for p in found]
    assert set(kb.not_covered) == {"parking"}
    assert any("not_covered.yaml:5: identifiant « salaire » déjà utilisé" in p for p in problems), problems
    assert any("not_covered.yaml:9: au moins 3 exemples" in p for p in problems), problems


def test_the_real_base_has_its_context_files() -> None:
    kb, problems = load_knowledge(Path(__file__).resolve().parent.parent / "knowledge")
    assert problems == []
    assert kb.not_covered and {"audiences.parent", "audiences.entreprise", "tracks.bloc4"} <= set(kb.cues)
    assert all(e.track == "bloc4" for e in kb.entries.values() if e.topic == "bloc4")
