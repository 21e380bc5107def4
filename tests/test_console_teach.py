"""Teaching the bot from the staff group (``bot/staff/teach.py``, ``bot/knowledge/editing.py``).

Real SQLite file, a copy of the real ``knowledge/`` in ``tmp_path`` (the edits write to it),
and the desk's own entry point, as in ``tests/test_staff.py``.
"""
from __future__ import annotations

import difflib
import io
import json
import shutil
from pathlib import Path

import pytest

from bot.config import Settings
from bot.conversation.engine import Assistant
from bot.conversation.messages import Incoming, Kind, Person
from bot.knowledge import editing
from bot.knowledge.store import KnowledgeStore
from bot.staff.desk import StaffInput
from bot.storage.db import open_database
from test_staff import MARIE, MONDAY_10H, STAFF, MovableClock

ROOT = Path(__file__).resolve().parent.parent
UNKNOWN = "on fait du sport pendant les cours"
ZOE = Person(4242, "Zoé", "Dupont")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    return tmp_path / "knowledge"


@pytest.fixture
def assistant(folder: Path, tmp_path: Path) -> Assistant:
    return Assistant(KnowledgeStore(folder), open_database(tmp_path / "bot.db"), MovableClock(MONDAY_10H),
                     settings=Settings(staff_chat_id=STAFF, staff_user_ids=(MARIE,)))


def ask(assistant: Assistant, text: str) -> str:
    assistant.handle(Incoming(ZOE, Kind.TEXT, text))
    return assistant.db.execute("SELECT entry, outcome FROM questions ORDER BY id DESC LIMIT 1").fetchone()


def staff(assistant: Assistant, **fields):
    return assistant.staff.handle(StaffInput(STAFF, MARIE, "Marie", **fields))


def buttons(result) -> list[tuple[str, str]]:
    return [(b.label, b.data) for reply in result.replies for row in reply.buttons for b in row]


def test_every_file_round_trips_unchanged(folder: Path) -> None:
    """The round-trip parser writes every knowledge file back byte for byte: an edit changes one line."""
    for path in sorted(folder.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        yaml = editing._yaml()
        out = io.StringIO()
        yaml.dump(yaml.load(text), out)
        assert out.getvalue() == text, path


def test_teach_an_unknown_question_then_undo(assistant: Assistant, folder: Path) -> None:
    assert ask(assistant, UNKNOWN)[1] == "fallback"
    result = staff(assistant, command="sans_reponse")
    assert UNKNOWN in result.replies[0].text
    offered = buttons(result)
    assert all(len(data.encode()) <= 64 for _, data in offered)
    add = next(data for label, data in offered if label.startswith("➕"))
    code_entry = assistant.staff.teach.likeliest(UNKNOWN)[0]
    path, _ = editing.find_item_file(folder, code_entry)
    before = path.read_text(encoding="utf-8")

    added = staff(assistant, callback_data=add, update_id=11)
    assert "✅" in added.replies[0].text, added.replies[0].text
    after = path.read_text(encoding="utf-8")
    diff = [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if not line.startswith(("---", "+++", "@@"))]
    assert diff == [f"+      - {UNKNOWN}"]
    assert editing.check_folder(folder)[1] == []
    assert ask(assistant, UNKNOWN) == (code_entry, "answered")
    assert UNKNOWN not in staff(assistant, command="sans_reponse").replies[0].text
    changes = staff(assistant, command="modifs").replies[0].text
    assert "Marie" in changes and UNKNOWN in changes and code_entry in changes

    undo = next(data for label, data in buttons(added) if "Annuler" in label)
    staff(assistant, callback_data=undo, update_id=12)
    assert path.read_text(encoding="utf-8") == before
    assert ask(assistant, UNKNOWN)[1] == "fallback"
    assert "annulée" in staff(assistant, command="modifs").replies[0].text


def test_a_breaking_edit_writes_nothing(assistant: Assistant, folder: Path) -> None:
    """An example that leads elsewhere fails the check: the file is untouched and staff see why."""
    question = "c'est quoi le bts mco"  # already an example of bts_mco_presentation
    path, _ = editing.find_item_file(folder, "parking")
    before = path.read_text(encoding="utf-8")
    with pytest.raises(editing.EditRefused) as refused:
        editing.add_example(folder, "parking", "combien coûte la formation pour l'entreprise")
    assert refused.value.problems
    assert path.read_text(encoding="utf-8") == before
    with pytest.raises(editing.EditRefused):
        editing.add_example(folder, "bts_mco_presentation", question)


def test_off_topic_and_ignore(assistant: Assistant, folder: Path) -> None:
    ask(assistant, UNKNOWN)
    ask(assistant, "tu connais la recette des crêpes")
    result = staff(assistant, command="sans_reponse")
    off = [data for label, data in buttons(result) if "Hors sujet" in label]
    ignore = [data for label, data in buttons(result) if "Ignorer" in label]
    staff(assistant, callback_data=off[0], update_id=21)
    assert "hors_sujet" in staff(assistant, command="modifs").replies[0].text
    staff(assistant, callback_data=ignore[1], update_id=22)
    remaining = staff(assistant, command="sans_reponse").replies
    assert len(remaining) == 1 and "Aucune" in remaining[0].text


def test_health_questions_are_never_offered(assistant: Assistant) -> None:
    ask(assistant, "je suis enceinte est-ce que je peux faire la formation")
    ask(assistant, "jai une grossesse en cours, je peux commencer")
    result = staff(assistant, command="sans_reponse")
    assert not buttons(result)
    assert assistant.staff.teach.add(StaffInput(STAFF, MARIE, "Marie"), "je suis enceinte", "parking").replies


def test_pick_another_entry_by_title(assistant: Assistant, folder: Path) -> None:
    ask(assistant, UNKNOWN)
    result = staff(assistant, command="sans_reponse")
    other = next(data for label, data in buttons(result) if "Autre" in label)
    code = other.split(":")[-1]
    assert code in staff(assistant, callback_data=other).replies[0].text
    picked = staff(assistant, command="ajouter", args=(code, "rythme", "alternance"))
    choices = buttons(picked)
    assert choices and all(len(d.encode()) <= 64 for _, d in choices)
    original = assistant.db.execute("SELECT candidates FROM teach_pending WHERE code = ?", [code]).fetchone()[0]
    assert json.loads(original) == assistant.staff.teach.likeliest(UNKNOWN)  # the first message's buttons hold
    done = staff(assistant, callback_data=choices[0][1], update_id=31)
    assert "✅" in done.replies[0].text
    picked_entry = assistant.db.execute("SELECT item FROM knowledge_edits").fetchone()[0]
    assert assistant.knowledge.current.kb.entries[picked_entry].title == choices[0][0].removeprefix("➕ ")
    assert editing.check_folder(folder)[1] == []


class Killed(BaseException):
    """A kill -9 stands-in: nothing after it runs, no ``except Exception`` catches it."""


def _restart(folder: Path, tmp_path: Path) -> Assistant:
    """A new process on the same database file and knowledge folder (its start-up reconciles)."""
    return Assistant(KnowledgeStore(folder), open_database(tmp_path / "bot.db"), MovableClock(MONDAY_10H),
                     settings=Settings(staff_chat_id=STAFF, staff_user_ids=(MARIE,)))


def _edits(assistant: Assistant) -> list[tuple]:
    return assistant.db.execute("SELECT action, question, pending FROM knowledge_edits ORDER BY id").fetchall()


@pytest.mark.parametrize("point", ["recorded, file not written", "file written, base not reloaded",
                                   "reloaded, not marked done"])
def test_a_kill_at_any_point_of_a_teaching_leaves_no_line_without_its_record(
        assistant: Assistant, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    ask(assistant, UNKNOWN)
    add = next(data for label, data in buttons(staff(assistant, command="sans_reponse")) if label.startswith("➕"))
    path, _ = editing.find_item_file(folder, assistant.staff.teach.likeliest(UNKNOWN)[0])
    before = path.read_text(encoding="utf-8")

    def kill(*_args, **_kwargs):
        raise Killed(point)

    with monkeypatch.context() as patch:
        if point == "recorded, file not written":
            patch.setattr(editing, "apply_checked", kill)
        elif point == "file written, base not reloaded":
            patch.setattr(KnowledgeStore, "reload", kill)
        else:
            patch.setattr("bot.storage.updates.HandledUpdates.record_answer", kill)
        with pytest.raises(Killed):
            staff(assistant, callback_data=add, update_id=21)
    assistant.db.conn.close()

    restarted = _restart(folder, tmp_path)  # the start-up reconciles the pending edit with the file
    written = path.read_text(encoding="utf-8") != before
    assert _edits(restarted) == ([("ajout", UNKNOWN, 0)] if written else [])
    assert (UNKNOWN in path.read_text(encoding="utf-8")) == written
    again = staff(restarted, callback_data=add, update_id=21)  # the press, never acknowledged, comes again
    assert again.replies
    assert path.read_text(encoding="utf-8").count(UNKNOWN) == 1
    assert _edits(restarted) == [("ajout", UNKNOWN, 0)]
    assert UNKNOWN in staff(restarted, command="modifs").replies[0].text
    assert editing.check_folder(folder)[1] == []
    assert ask(restarted, UNKNOWN)[1] == "answered"


def test_two_teachings_at_once_are_serialised(assistant: Assistant, folder: Path) -> None:
    """Two presses handled in two worker threads at the same time: both lines, both records, a sound file."""
    import threading

    questions = ["on fait du sport pendant les cours", "vous avez un aquarium dans le hall"]
    for question in questions:
        ask(assistant, question)
    offered = buttons(staff(assistant, command="sans_reponse"))
    codes = [data for label, data in offered if label.startswith("🚫")][:2]  # both to the same file
    assert len(codes) == 2
    results: list = []
    threads = [threading.Thread(target=lambda data=data, n=n: results.append(assistant.staff.handle_teaching(
        StaffInput(STAFF, MARIE, "Marie", callback_data=data, update_id=30 + n)))) for n, data in enumerate(codes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    text = (folder / "not_covered.yaml").read_text(encoding="utf-8")
    assert all(text.count(f"- {q}") == 1 for q in questions), text[-400:]
    assert sorted(row[1] for row in _edits(assistant)) == sorted(questions)
    assert all(row[2] == 0 for row in _edits(assistant))
    assert editing.check_folder(folder)[1] == []
