"""End to end: a prospect's age and an English question, through the real bot process.

``run_bot.py`` runs as a subprocess with the real python-telegram-bot stack against
the local Bot API double; assertions are on what the prospect received.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path


PROSPECT = 5151


def test_an_age_said_once_gives_the_pay_for_that_age_even_after_a_restart(botapi_double, bot_process,
                                                                          tmp_path: Path) -> None:
    botapi_double.push_text(PROSPECT, "Bonjour, ma fille a 17 ans")
    botapi_double.wait_for_text(PROSPECT, r"À 17 ans, c'est possible")
    bot_process.restart(crash=True)  # killed: the age is in SQLite, not in memory
    mark = botapi_double.mark()
    botapi_double.push_text(PROSPECT, "elle sera payée combien ?")
    pay = botapi_double.wait_for_text(PROSPECT, r"27 % du SMIC", since=mark)["text"]
    assert "39 % du SMIC" in pay and "496 €" in pay and "pas un chiffre de l'école" in pay
    mark = botapi_double.mark()
    botapi_double.push_text(PROSPECT, "et en 2e année ?")
    second = botapi_double.wait_for_text(PROSPECT, r"39 % du SMIC", since=mark)["text"]
    assert "27 %" not in second
    row = sqlite3.connect(tmp_path / "bot.db").execute("SELECT state FROM sessions WHERE user_id = ?",
                                                       [PROSPECT]).fetchone()
    assert json.loads(row[0])["context"]["age"] == 17


def test_an_english_question_is_answered_in_english(botapi_double, bot_process) -> None:
    botapi_double.push_text(PROSPECT, "Hello, which days are classes?")
    answer = botapi_double.wait_for_text(PROSPECT, r"Monday and Tuesday")
    assert "schedule" in answer["text"] and "lundi" not in answer["text"]
    mark = botapi_double.mark()
    botapi_double.push_text(PROSPECT, "what documents do I need?")
    french = botapi_double.wait_for_text(PROSPECT, r"only available in French", since=mark)["text"]
    assert "ENIC-NARIC" in french and "03 22 82 84 70" in french
