"""Adding an example question to an entry's YAML file, as a person would.

Why ruamel.yaml and not PyYAML: ``knowledge/`` is written and read by the
admissions team, and its comments are their instructions (``sante.yaml``'s
how-to, each file's sources). PyYAML drops comments and re-flows everything;
ruamel.yaml's round-trip mode keeps comments, key order, quotes and layout, so the
file's diff after an edit is the one added line (a test checks it on every file).

An edit is all or nothing: the new text is written, the whole folder is checked
exactly as ``run_bot.py check`` does (:func:`check_folder`), and on any problem the
file gets its former text back before anyone reads it. Nothing here knows who asked
or keeps a history: that is the staff console's job (``bot/staff/teach.py``).
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from bot.knowledge.checks import check_examples
from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import KnowledgeBase, Problem
from bot.knowledge.store import Loaded

#: The sections of ``knowledge/`` whose items take example questions, and where they live.
SECTIONS = (("entries", "entries/*.yaml"), ("not_covered", "not_covered.yaml"))


@dataclass(frozen=True)
class Edit:
    """One file changed: its text before and after (the "before" is what "Annuler" writes back)."""

    path: Path
    before: str
    after: str


class EditRefused(Exception):
    """The edit would break the base (``problems``) or cannot be made (``problems`` empty, ``reason`` set)."""

    def __init__(self, reason: str, problems: list[Problem] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.problems = problems or []


def _yaml() -> YAML:
    """The round-trip parser, set up as the files are written (2-space maps, lists indented 2 more)."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long keywords list or answer line
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def check_folder(directory: Path) -> tuple[KnowledgeBase, list[Problem]]:
    """The problems ``run_bot.py check`` reports: loading, then each example finding its entry."""
    kb, problems = load_knowledge(directory)
    if not problems:
        problems = check_examples(Loaded.build(kb))
    return kb, problems


def find_item_file(directory: Path, item_id: str) -> tuple[Path, str] | None:
    """The file and section (``entries``/``not_covered``) holding the item ``item_id``."""
    yaml = _yaml()
    for section, pattern in SECTIONS:
        for path in sorted(directory.glob(pattern)):
            data = yaml.load(path.read_text(encoding="utf-8"))
            items = (data or {}).get(section) or []
            if any(isinstance(item, dict) and item.get("id") == item_id for item in items):
                return path, section
    return None


def with_example(text: str, section: str, item_id: str, question: str) -> str:
    """``text`` (one YAML file) with ``question`` appended to the item's ``questions``."""
    yaml = _yaml()
    data = yaml.load(text)
    for item in data.get(section) or []:
        if isinstance(item, dict) and item.get("id") == item_id:
            questions = item.get("questions")
            if questions is None:
                raise EditRefused("sans_questions")
            if any(str(q).strip().lower() == question.strip().lower() for q in questions):
                raise EditRefused("deja_present")
            questions.append(question)
            out = io.StringIO()
            yaml.dump(data, out)
            return out.getvalue()
    raise EditRefused("entree_introuvable")


def write_text(path: Path, text: str) -> None:
    """Replace a file's text at once (a reader never sees half a file)."""
    temporary = path.with_name(f".{path.name}.edit")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def apply_checked(directory: Path, path: Path, new_text: str) -> Edit:
    """Write ``new_text`` to ``path`` if the folder is then sound; else restore it and raise.

    :class:`EditRefused` carries the problems: the staff see why, and the file is as it was.
    """
    before = path.read_text(encoding="utf-8")
    write_text(path, new_text)
    try:
        _, problems = check_folder(directory)
    except Exception:
        write_text(path, before)
        raise
    if problems:
        write_text(path, before)
        raise EditRefused("base_invalide", problems)
    return Edit(path, before, new_text)


def add_example(directory: Path, item_id: str, question: str) -> Edit:
    """Append ``question`` to the examples of ``item_id`` (an entry or a not-covered item), checked."""
    planned = plan_example(directory, item_id, question)
    return apply_checked(directory, planned.path, planned.after)


def plan_example(directory: Path, item_id: str, question: str) -> Edit:
    """What :func:`add_example` would write, without writing it (so that it can be recorded first)."""
    found = find_item_file(directory, item_id)
    if found is None:
        raise EditRefused("entree_introuvable")
    path, section = found
    before = path.read_text(encoding="utf-8")
    return Edit(path, before, with_example(before, section, item_id, question))


def undo(directory: Path, edit_path: Path, before: str, after: str) -> None:
    """Put back a file's text from before an edit, if nobody changed it since (else refuse)."""
    if edit_path.read_text(encoding="utf-8") != after:
        raise EditRefused("fichier_modifie_depuis")
    apply_checked(directory, edit_path, before)
