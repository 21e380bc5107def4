"""Every text key the code uses is required (issue 9, finding 5).

A YAML error in ``texts/form.yaml``, a missing text file, or a folder without
``notice:`` used to let the bot start (and ``/recharger`` accept it), and
``/inscription`` then showed the raw key ``form.notice`` above "J'accepte".
"""
from __future__ import annotations

import ast
import datetime as dt
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.clock import PARIS
from bot.conversation.messages import Kind
from bot.knowledge.loader import load_knowledge
from bot.knowledge.required import CODE_DIRS, TEXT_FILES, built_text_keys, literal_text_keys, required_text_keys
from bot.knowledge.store import KnowledgeProblems, KnowledgeStore
from bot.staff.stale_notice import KIND_STALE, notify_if_stale
from tests.test_staff import MovableClock, build, desk_of, outbox_rows, say, staff

ROOT = Path(__file__).resolve().parent.parent


def built_key_prefixes() -> set[str]:
    """The constant start of every text key the code builds (``f"form.ask_{step}"`` -> ``form.ask_``)."""
    prefixes = set()
    for directory in CODE_DIRS:
        for path in (ROOT / directory).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                    head = str(node.values[0].value)
                    if any(head.startswith(f"{name}.") for name in TEXT_FILES):
                        prefixes.add(head)
    return prefixes


def test_every_key_the_code_can_build_exists_in_the_real_base() -> None:
    kb, problems = load_knowledge(ROOT / "knowledge")
    assert not problems
    literals = literal_text_keys()
    assert {"form.notice", "general.pas_compris", "staff.recharger_erreur"} <= literals
    prefixes = built_key_prefixes()
    assert {"form.statut_", "staff.statut_"} <= prefixes
    # The form's keys are whole literals of its records (issue 12), no longer built by string.
    assert not prefixes & {"form.ask_", "form.champ_", "form.choix_", "validation."}
    built = built_text_keys()
    for prefix in prefixes:  # a new f-string key needs its family in bot/knowledge/required.py
        assert any(key.startswith(prefix) for key in built), f"no family enumerates {prefix}…"
    assert sorted(required_text_keys() - set(kb.texts)) == []


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", target)
    return target


def drop_notice(folder: Path) -> None:
    form = folder / "texts" / "form.yaml"
    text = form.read_text("utf-8")
    assert text.count("\nnotice: |") == 1
    form.write_text(text.replace("\nnotice: |", "\nnotise: |"), "utf-8")


@pytest.mark.parametrize("breakage", ["no notice", "yaml error", "missing file"])
def test_a_broken_text_folder_is_an_error_and_the_bot_refuses_to_start(folder: Path, breakage: str,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    if breakage == "no notice":
        drop_notice(folder)
    elif breakage == "yaml error":
        (folder / "texts" / "form.yaml").write_text("notice: [\n", "utf-8")
    else:
        (folder / "texts" / "form.yaml").unlink()
    problems = [str(p) for p in load_knowledge(folder)[1]]
    assert problems and all(p.startswith("knowledge/texts/form.yaml:") for p in problems), problems
    with pytest.raises(KnowledgeProblems):
        KnowledgeStore(folder)
    monkeypatch.setenv("KNOWLEDGE_DIR", str(folder))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["check", "--no-examples"]) == 1
    assert main(["chat"]) == 1  # the bot does not start
    err = capsys.readouterr().err
    assert "knowledge/texts/form.yaml:" in err and "le bot ne démarre pas" in err


def test_recharger_keeps_the_old_base_when_notice_is_gone(folder: Path, tmp_path: Path) -> None:
    assistant = build(KnowledgeStore(folder), tmp_path / "bot.db")
    drop_notice(folder)
    text = staff(assistant, command="recharger").replies[0].text
    assert "je garde la base actuelle" in text and "« notice »" in text
    shown = say(assistant, Kind.COMMAND, "inscription")
    notice = KnowledgeStore(ROOT / "knowledge").current.renderer(dt.date(2026, 3, 2)).text("form.notice", mois=1)
    assert "form.notice" not in shown and notice.split("\n")[0].replace("**", "") in shown


def test_the_staff_group_is_told_once_a_week_while_the_base_is_out_of_date(tmp_path: Path) -> None:
    clock = MovableClock(dt.datetime(2026, 11, 30, 9, 0, tzinfo=PARIS))
    assistant = build(KnowledgeStore(ROOT / "knowledge"), tmp_path / "bot.db", clock=clock)
    desk = desk_of(assistant)
    assert not notify_if_stale(desk)  # the late-entry deadline is today: not yet out of date
    clock.at += dt.timedelta(days=1)  # Tuesday 1 December 2026
    assert notify_if_stale(desk)
    assert not notify_if_stale(desk)
    clock.at += dt.timedelta(days=5)  # Sunday, same ISO week
    assert not notify_if_stale(desk)
    clock.at += dt.timedelta(days=1)  # Monday: a new week
    assert notify_if_stale(desk)
    rows = outbox_rows(assistant, KIND_STALE)
    assert len(rows) == 2
    assert "n'est plus à jour" in rows[0]["text"] and "rentrée 2026-2027 sont toutes passées" in rows[0]["text"]
