"""Every text key the code can ask for: a missing one is an error, never a raw key on screen.

``Renderer.text("form.notice")`` falls back to the key itself, so a text file with a
YAML error (or without ``notice:``) used to put ``form.notice`` above a working
"J'accepte" button. The loader now requires every key listed here; the bot then
refuses to start, ``check`` fails and ``/recharger`` keeps the old base.

Two sources, so that a key added to the code is required without anyone editing a
list: the key literals written in the code (read from its source with ``ast``), and
the families the code builds from data (``f"staff.statut_{status}"``), enumerated from
the same constants the code uses. ``tests/test_required_texts.py`` checks that every
built key's prefix has a family here. The form's keys are literals of its records
(``bot/registration/steps.py``), so they are found with the others.
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

from bot.storage import staff

#: The text files of ``knowledge/texts/``: each must exist.
TEXT_FILES = ("general", "dates", "form", "validation", "staff", "rappels")

KEY_LITERAL = re.compile(rf"^({'|'.join(TEXT_FILES)})\.[a-z][a-z0-9_]*$")
#: The folders whose Python source may ask for a text.
CODE_DIRS = ("bot", "handlers")
ROOT = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=1)
def literal_text_keys() -> frozenset[str]:
    """The ``"file.key"`` string literals of the code (about 200; read once per process)."""
    keys: set[str] = set()
    for directory in CODE_DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            tree = ast.parse(path.read_text("utf-8"), str(path))
            # Pieces of an f-string ("form.ask_" in f"form.ask_{step}") are prefixes, not keys.
            pieces = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and id(node) not in pieces and KEY_LITERAL.match(node.value):
                    keys.add(node.value)
    return frozenset(keys)


def built_text_keys() -> frozenset[str]:
    """The keys the code builds from data: lead statuses and events."""
    keys = {f"staff.statut_{status}" for status in staff.LEAD_STATUSES}
    keys |= {f"staff.bouton_{status}" for status in staff.LEAD_STATUSES if status != staff.NEW}
    keys |= {f"staff.evenement_{event}" for event in (staff.CREATED, staff.UPDATED, staff.STATUS)}
    keys |= {f"form.statut_{status}" for status in staff.LEAD_STATUSES}  # /mesdonnees, in the prospect's words
    keys |= {f"form.evenement_{event}" for event in (staff.CREATED, staff.UPDATED)}
    keys |= {f"{side}.evenement_{event}" for event in staff.FOLLOW_UP_EVENTS.values() for side in ("staff", "form")}
    return frozenset(keys)


def required_text_keys() -> frozenset[str]:
    """Every key the code may ask ``Renderer.text`` for."""
    return literal_text_keys() | built_text_keys()
