"""The loader reports every mistake a maintainer can make, at its file and line.

Each test copies a small sound knowledge folder, breaks one file the way a person
editing YAML would, and checks the reported ``path:line: message``.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.knowledge.loader import load_knowledge
from bot.knowledge.required import TEXT_FILES, required_text_keys

ROOT = Path(__file__).resolve().parent.parent
MINI = Path(__file__).parent / "fixtures" / "mini_kb"


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(MINI, target)
    write_required_texts(target)
    return target


def write_required_texts(target: Path) -> None:
    """Every text the code needs, as plain sentences: a sound folder must have them all."""
    (target / "texts").mkdir(exist_ok=True)
    for name in TEXT_FILES:
        keys = sorted(k.split(".", 1)[1] for k in required_text_keys() if k.startswith(f"{name}."))
        (target / "texts" / f"{name}.yaml").write_text("".join(f'{k}: "texte {k}"\n' for k in keys), "utf-8")


def problems_of(directory: Path) -> list[str]:
    return [str(p) for p in load_knowledge(directory)[1]]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_fixture_is_sound(kb_dir: Path) -> None:
    assert problems_of(kb_dir) == []


def test_real_knowledge_base_is_sound() -> None:
    kb, problems = load_knowledge(ROOT / "knowledge")
    assert [str(p) for p in problems] == []
    assert len(kb.entries) >= 40


def test_yaml_syntax_error_names_file_and_line(kb_dir: Path) -> None:
    edit(kb_dir / "entries" / "argent.yaml", '    title: "Salaire"', '    title: "Salaire')
    problems = problems_of(kb_dir)
    assert len(problems) == 1, problems
    assert problems[0].startswith("knowledge/entries/argent.yaml:")
    assert "YAML invalide" in problems[0] and "guillemet" in problems[0]


def test_a_broken_file_keeps_the_rest_of_the_base(kb_dir: Path) -> None:
    (kb_dir / "smalltalk.yaml").write_text("smalltalk:\n  - id: [\n", encoding="utf-8")
    kb, problems = load_knowledge(kb_dir)
    assert problems and problems[0].path == "knowledge/smalltalk.yaml"
    assert set(kb.entries) == {"salaire", "jpo"}


def test_unknown_field_and_missing_field(kb_dir: Path) -> None:
    edit(kb_dir / "entries" / "argent.yaml", "    related: [jpo]", "    relatd: [jpo]")
    edit(kb_dir / "entries" / "argent.yaml", '    title: "Portes ouvertes"\n', "")
    problems = problems_of(kb_dir)
    assert "knowledge/entries/argent.yaml:10: champ inconnu « relatd »" in problems[0]
    assert any(p.startswith("knowledge/entries/argent.yaml:11:") and "« title »" in p for p in problems)


def test_wrong_types(kb_dir: Path) -> None:
    edit(kb_dir / "entries" / "argent.yaml", "    questions:\n      - combien je gagne",
         "    questions: combien je gagne\n    keywords:\n      - combien je gagne")
    problems = problems_of(kb_dir)
    assert any("argent.yaml:5: « questions » doit être une liste" in p for p in problems), problems


def test_duplicate_ids_across_files(kb_dir: Path) -> None:
    (kb_dir / "entries" / "zz.yaml").write_text(
        "entries:\n  - id: salaire\n    title: T\n    topic: argent\n"
        "    questions: [a b, c d, e f]\n    answer: x\n", encoding="utf-8")
    problems = problems_of(kb_dir)
    assert problems == ["knowledge/entries/zz.yaml:2: identifiant « salaire » en double "
                        "(déjà à knowledge/entries/argent.yaml:2)"]


def test_unknown_fact_related_and_topic(kb_dir: Path) -> None:
    edit(kb_dir / "entries" / "argent.yaml", "{salaire_min}", "{salaire_minimum}")
    edit(kb_dir / "entries" / "argent.yaml", "related: [jpo]", "related: [jpoo]")
    edit(kb_dir / "entries" / "argent.yaml", "topic: dates", "topic: date")
    problems = "\n".join(problems_of(kb_dir))
    assert "argent.yaml:2: fait inconnu {salaire_minimum}" in problems
    assert "argent.yaml:2: entrée liée inconnue « jpoo »" in problems
    assert "argent.yaml:13: thème inconnu « date »" in problems


def test_invalid_dates(kb_dir: Path) -> None:
    edit(kb_dir / "calendar.yaml", "2026-03-20", "2026-02-30")
    edit(kb_dir / "facts.yaml", "2026-11-30\n  date_ouverture", "2026-13-30\n  date_ouverture")
    problems = problems_of(kb_dir)
    assert any(p.startswith("knowledge/calendar.yaml:5:") and "date invalide" in p for p in problems), problems
    assert any(p.startswith("knowledge/facts.yaml:5:") and "date invalide" in p for p in problems), problems


def test_bad_time_and_tab(kb_dir: Path) -> None:
    edit(kb_dir / "calendar.yaml", '"17:00"', '"17h70"')
    edit(kb_dir / "topics.yaml", "  - id: dates", "\t- id: dates")
    problems = problems_of(kb_dir)
    assert any("calendar.yaml:3: heure invalide" in p for p in problems), problems
    assert any("topics.yaml:4: tabulation" in p for p in problems), problems


def test_check_command_prints_problems_and_exits_1(kb_dir: Path) -> None:
    edit(kb_dir / "entries" / "argent.yaml", "{salaire_min}", "{nope}")
    result = subprocess.run([sys.executable, "run_bot.py", "check"], cwd=ROOT, capture_output=True,
                            text=True, env={"KNOWLEDGE_DIR": str(kb_dir), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "knowledge/entries/argent.yaml:2: fait inconnu {nope}" in result.stdout


def test_check_command_on_the_real_base_exits_0() -> None:
    result = subprocess.run([sys.executable, "run_bot.py", "check"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
