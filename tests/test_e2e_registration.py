"""End to end: a prospect pre-registers on Telegram, through the real bot process.

``run_bot.py`` runs as a subprocess against the local Bot API double; each step
waits for the bot's reply before sending the next message, as a person would.
Assertions are on what the double received and on the SQLite file the bot wrote.
"""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from testing.process import intake_steps

PROSPECT = 5151
NAMES = {"first_name": "Zoé", "last_name": "Dupont"}


def text(double: Any, message: str, expect: str) -> dict:
    mark = double.mark()
    double.push_text(PROSPECT, message, **NAMES)
    return double.wait_for_text(PROSPECT, expect, since=mark)


def command(double: Any, name: str, expect: str, *args: str) -> dict:
    mark = double.mark()
    double.push_command(PROSPECT, name, *args, **NAMES)
    return double.wait_for_text(PROSPECT, expect, since=mark)


def press(double: Any, label: str, expect: str) -> dict:
    mark = double.mark()
    double.click_button(PROSPECT, label)
    return double.wait_for_text(PROSPECT, expect, since=mark)


def rows(tmp_path: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(tmp_path / "bot.db")
    try:
        return db.execute(sql, [PROSPECT]).fetchall()
    finally:
        db.close()


def fill_until_email(double: Any) -> None:
    command(double, "/inscription", "RGPD")
    press(double, "✅ J'accepte", "nom de famille")
    text(double, "Dupont2", "pas de chiffres")  # a bad answer, explained
    press(double, "✅ Dupont", "prénom")
    text(double, "zoé", "date de naissance")
    text(double, "31/02/2007", "n'existe pas")
    text(double, "12 mars 2007", "adresse e-mail")


def test_full_pre_registration_on_telegram(botapi_double, bot_process, tmp_path: Path) -> None:
    double = botapi_double
    fill_until_email(double)
    text(double, "zoe@", "ne semble pas valide")
    text(double, "zoe.dupont@example.com", "numéro de téléphone")
    keyboard = double.current_keyboard(PROSPECT)
    assert keyboard and keyboard["keyboard"][0][0].get("request_contact") is True

    mark = double.mark()
    double.push_contact(PROSPECT, "33698765432", contact_user_id=777)  # someone else's card
    double.wait_for_text(PROSPECT, "pas le tien", since=mark)
    mark = double.mark()
    double.push_contact(PROSPECT, "33612345678")  # the share-my-number button
    double.wait_for_text(PROSPECT, "C'est noté", since=mark)
    double.wait_for_text(PROSPECT, "diplôme le plus élevé", since=mark)
    assert double.current_keyboard(PROSPECT) is None, "the contact keyboard is removed"

    text(double, "au fait c'est payé combien ?", "On reprend")  # a question in the middle
    press(double, "Diplôme étranger", "ENIC-NARIC")
    press(double, "Lycéen·ne", "entreprise d'accueil")
    press(double, "🔎 Je cherche encore", "connu l'école")
    for label, expect in intake_steps():  # "Pour quelle rentrée ?" only while two intakes are open
        summary = press(double, label, expect)
    assert "06 12 34 56 78" in summary["text"] and "12 mars 2007" in summary["text"]
    done = press(double, "✅ Confirmer et envoyer", r"MCO-[A-Z0-9]{6}")
    ref = re.search(r"MCO-[A-Z0-9]{6}", done["text"]).group(0)
    assert "YPAREO" in done["text"]

    saved = rows(tmp_path, "SELECT ref, last_name, first_name, birth_date, email, phone, diploma, heard "
                           "FROM registrations WHERE user_id = ?")
    assert saved == [(ref, "Dupont", "Zoé", "2007-03-12", "zoe.dupont@example.com", "+33612345678",
                      "etranger", "parcoursup")]
    assert rows(tmp_path, "SELECT * FROM drafts WHERE user_id = ?") == []
    logs = bot_process.stderr_text()
    for secret in ("Dupont", "zoe.dupont", "33612345678", "2007"):
        assert secret not in logs


def test_a_restart_of_the_bot_mid_form_loses_nothing(botapi_double, bot_process, tmp_path: Path) -> None:
    double = botapi_double
    fill_until_email(double)
    bot_process.restart(crash=True)  # killed, no shutdown code runs
    text(double, "zoe@example.com", "numéro de téléphone")  # the same step continues
    bot_process.restart()
    command(double, "/inscription", "on reprend là où tu en étais")
    text(double, "06 12 34 56 78", "diplôme le plus élevé")
    draft = rows(tmp_path, "SELECT step, data FROM drafts WHERE user_id = ?")
    assert draft[0][0] == "diploma" and "Dupont" in draft[0][1] and "+33612345678" in draft[0][1]


def test_supprimer_erases_the_prospect(botapi_double, bot_process, tmp_path: Path) -> None:
    double = botapi_double
    command(double, "/start", "Salut", "salon")
    fill_until_email(double)
    command(double, "/mesdonnees", "Ce que je garde sur toi")
    command(double, "/supprimer", "tout effacer")
    press(double, "🗑️ Oui, tout effacer", "C'est fait")
    for table in ("registrations", "drafts", "sessions", "prospects", "questions"):
        assert rows(tmp_path, f"SELECT * FROM {table} WHERE user_id = ?") == [], table
    mark = double.mark()
    double.push_text(PROSPECT, "zoe@example.com", **NAMES)  # no longer in the form
    double.wait_for_message(lambda m: True, chat_id=PROSPECT, since=mark)
    assert rows(tmp_path, "SELECT * FROM drafts WHERE user_id = ?") == []
