"""End to end: the staff console through the real bot process and the Bot API double.

A prospect asks what the bot cannot answer; a staff member teaches it from
``/sans_reponse`` with one button; the same question is then answered from that
entry; the YAML file differs by the one added line; "Annuler" restores it.
The bot runs on a copy of ``knowledge/`` (it writes to it).
"""
from __future__ import annotations

import difflib
import re
import shutil
from pathlib import Path
from typing import Any

from e2e_support import PROJECT_ROOT, bot_process_factory, botapi_double  # noqa: F401 (fixtures)
from test_e2e_staff import MARIE, PROSPECT, STAFF, command, say, start_bot

UNKNOWN = "on fait du sport pendant les cours"
FALLBACK = "pas sûr de pouvoir répondre"


def knowledge_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", folder)
    return folder


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if not line.startswith(("---", "+++", "@@"))]


def click(double: Any, label: str | re.Pattern[str], expect: str) -> dict:
    mark = double.mark()
    double.click_button(MARIE, label, chat_id=STAFF)
    return double.wait_for_text(STAFF, expect, since=mark)


def test_teach_from_sans_reponse_then_undo(botapi_double: Any, bot_process_factory: Any, tmp_path: Path) -> None:
    double = botapi_double
    folder = knowledge_copy(tmp_path)
    files = {path: path.read_text(encoding="utf-8") for path in folder.rglob("*.yaml")}
    start_bot(bot_process_factory, double, KNOWLEDGE_DIR=folder)
    say(double, PROSPECT, UNKNOWN, FALLBACK)

    command(double, MARIE, "/sans_reponse", re.escape(UNKNOWN), chat_id=STAFF)
    offer = double.wait_for_text(STAFF, "L'ajouter comme exemple")
    label = next(b["text"] for row in offer["reply_markup"]["inline_keyboard"] for b in row
                 if b["text"].startswith("➕"))
    assert all(len(b["callback_data"].encode()) <= 64 for row in offer["reply_markup"]["inline_keyboard"]
               for b in row)
    click(double, label, "ajoutée comme exemple")

    changed = {path: path.read_text(encoding="utf-8") for path in files
               if path.read_text(encoding="utf-8") != files[path]}
    assert len(changed) == 1
    [(path, after)] = changed.items()
    assert changed_lines(files[path], after) == [f"+      - {UNKNOWN}"]
    answer = say(double, PROSPECT, UNKNOWN, ".")
    assert FALLBACK not in answer["text"]
    command(double, MARIE, "/modifs", "Marie", chat_id=STAFF)

    click(double, "↩️ Annuler", "Modification annulée")
    assert path.read_text(encoding="utf-8") == files[path]
    say(double, PROSPECT, UNKNOWN, FALLBACK)


def test_thumbs_down_then_stats(botapi_double: Any, bot_process_factory: Any) -> None:
    double = botapi_double
    start_bot(bot_process_factory, double)
    answer = say(double, PROSPECT, "c'est payant la formation ?", "gratuit")
    labels = [b["text"] for row in answer["reply_markup"]["inline_keyboard"] for b in row]
    assert "👍" in labels and "👎" in labels
    mark = double.mark()
    double.click_button(PROSPECT, "👎")
    double.wait_for_text(PROSPECT, "améliorer", since=mark)
    command(double, MARIE, "/stats", "jugées utiles : 0 %", chat_id=STAFF)
    command(double, MARIE, "/sans_reponse", "a reçu", chat_id=STAFF)
