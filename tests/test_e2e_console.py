"""End to end: the staff console through the real bot process and the Bot API double.

A prospect asks what the bot cannot answer; a staff member teaches it from
``/sans_reponse`` with one button; the same question is then answered from that
entry; the YAML file differs by the one added line; "Annuler" restores it.
The bot runs on a copy of ``knowledge/`` (it writes to it).
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from e2e_support import PROJECT_ROOT, bot_process_factory, botapi_double  # noqa: F401 (fixtures)
from test_e2e_staff import MARIE, PROSPECT, STAFF, command, pre_register, say, start_bot

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


def test_assignment_recall_and_digest(botapi_double: Any, bot_process_factory: Any, tmp_path: Path) -> None:
    """Marie takes a lead; two working days later (the database's clock moved back) it is recalled to her."""
    double = botapi_double
    bot = start_bot(bot_process_factory, double)
    ref = pre_register(double, PROSPECT)
    card = double.wait_for_text(STAFF, re.escape(ref))
    click(double, "🙋 Je m'en occupe", "Pris en charge")
    command(double, MARIE, "/mes_leads", re.escape(ref), chat_id=STAFF)
    bot.stop()
    with sqlite3.connect(tmp_path / "bot.db") as db:  # four days pass, nobody touches the lead
        for table, column in (("registrations", "created_at"), ("lead_events", "at")):
            for rowid, value in db.execute(f"SELECT rowid, {column} FROM {table}").fetchall():
                earlier = dt.datetime.fromisoformat(value) - dt.timedelta(days=4)
                db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", [earlier.isoformat(), rowid])
    mark = double.mark()
    bot.env["DIGEST_TIME"] = "00:00"
    bot.restart()
    recall = double.wait_for_text(STAFF, "⏰", since=mark, timeout=20)
    assert ref in recall["text"] and "Marie" in recall["text"]
    digest = double.wait_for_text(STAFF, "Le point du jour", since=mark, timeout=20)
    assert "sans réponse de l'équipe : 0" in digest["text"]
    time.sleep(3)  # later ticks post neither again
    texts = [m.get("text", "") for m in double.messages_to(STAFF, since=mark)]
    assert sum("⏰" in t for t in texts) == 1 and sum("Le point du jour" in t for t in texts) == 1
    assert card


def test_failed_deliveries_alert_the_group_once_an_hour(botapi_double: Any, bot_process_factory: Any,
                                                         tmp_path: Path) -> None:
    """Three staff answers Telegram refuses for good: one short alert, without the prospect's name or text."""
    double = botapi_double
    start_bot(bot_process_factory, double)
    command(double, PROSPECT, "/conseiller", "ici même", first_name="Zoé")
    request = double.wait_for_text(STAFF, "veut parler à quelqu'un")
    fault = double.inject("sendMessage", chat_id=PROSPECT, status=400, times=None,
                          description="Bad Request: message text is empty")
    mark = double.mark()
    for n in range(3):
        double.push_text(MARIE, f"réponse secrète {n}", chat_id=STAFF, reply_to_message_id=request["message_id"])
    alert = double.wait_for_text(STAFF, "refusé par Telegram", since=mark, timeout=20)
    assert "Zoé" not in alert["text"] and "secrète" not in alert["text"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the three rows are settled (failed), then count the alerts
        with sqlite3.connect(tmp_path / "bot.db") as db:
            failed = db.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'relay_out' AND status = 'failed'"
                                ).fetchone()[0]
        if failed == 3:
            break
        time.sleep(0.2)
    assert failed == 3
    time.sleep(1)
    fault.cancel()
    alerts = [m for m in double.messages_to(STAFF, since=mark) if "refusé par Telegram" in (m.get("text") or "")]
    assert len(alerts) == 1


def test_teaching_runs_off_the_event_loop_and_blocks_no_prospect(botapi_double: Any, bot_process_factory: Any,
                                                                 tmp_path: Path) -> None:
    """The base's full check (~1.5 s of CPU) runs in a worker thread: a prospect is answered meanwhile.

    The edit is recorded ``pending`` before its file is written and marked done after the
    check and the reload: a prospect's answer that arrives while the row is still pending
    was given while the teaching was under way.
    """
    double = botapi_double
    start_bot(bot_process_factory, double, KNOWLEDGE_DIR=knowledge_copy(tmp_path))
    say(double, PROSPECT, UNKNOWN, FALLBACK)
    command(double, MARIE, "/sans_reponse", re.escape(UNKNOWN), chat_id=STAFF)
    offer = double.wait_for_text(STAFF, "L'ajouter comme exemple")
    label = next(b["text"] for row in offer["reply_markup"]["inline_keyboard"] for b in row
                 if b["text"].startswith("➕"))

    def edits() -> list[tuple]:
        with sqlite3.connect(tmp_path / "bot.db") as db:
            return db.execute("SELECT action, pending FROM knowledge_edits").fetchall()

    mark = double.mark()
    double.click_button(MARIE, label, chat_id=STAFF)
    double.wait_until(lambda: edits() == [("ajout", 1)], 20, "the teaching under way")
    asked = double.mark()
    double.push_text(PROSPECT, "bonjour", first_name="Zoé")
    double.wait_for_text(PROSPECT, ".", since=asked, timeout=20)
    during = edits()
    double.wait_for_text(STAFF, "ajoutée comme exemple", since=mark, timeout=30)
    assert during == [("ajout", 1)], "the prospect was answered while the base was being checked"
    assert edits() == [("ajout", 0)]
