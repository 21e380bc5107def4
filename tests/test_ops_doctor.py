"""``run_bot.py doctor`` against the Bot API double: all good, then each failure with its fix and exit 1.

The doctor runs as the operator runs it (a subprocess, configured by environment
variables); Telegram's answers come from the double, where the staff group, the
bot's rights and the members are set up as a school would have them.
"""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from testing.process import PROJECT_ROOT, bot_env
from test_ops_backup import run_cli

STAFF_CHAT, STAFF = -100555, (9101, 9102)


@pytest.fixture
def setup(botapi_double, tmp_path: Path):
    """A forum staff group with the bot as admin, two staff members, a sound database and knowledge copy."""
    double = botapi_double
    double.register_group(STAFF_CHAT, "Admissions", is_forum=True, members=list(STAFF))
    knowledge = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", knowledge)
    env = bot_env(double, tmp_path, STAFF_CHAT_ID=STAFF_CHAT, STAFF_USER_IDS="9101,9102", KNOWLEDGE_DIR=knowledge)
    from bot.storage.db import open_database

    database = tmp_path / "bot.db"
    open_database(database).close()  # created readable by its owner only
    return double, env, tmp_path


def lines(result, verdict: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(verdict)]


def test_all_good(setup) -> None:
    double, env, _ = setup
    result = run_cli(env, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not lines(result, "ÉCHEC")
    out = result.stdout
    for expected in ("OK        jeton : @admissions_test_bot", "OK        mode : long polling",
                     "OK        groupe de l'équipe : « Admissions », forum, bot administrateur avec « Gérer les sujets »",
                     "OK        STAFF_USER_IDS : 2 membre(s), tous dans le groupe",
                     "OK        base de données", "OK        droits de la base", "OK        espace disque",
                     "OK        base de connaissances", "OK        fuseau horaire : Europe/Paris"):
        assert expected in out, out
    assert {c.method for c in double.calls()} >= {"getMe", "getWebhookInfo", "getChat", "getChatMember"}


def test_bot_not_admin_in_a_forum_group(setup) -> None:
    double, env, _ = setup
    double.set_bot_membership(STAFF_CHAT, "member")
    result = run_cli(env, "doctor")
    assert result.returncode == 1
    [line] = lines(result, "ÉCHEC")
    assert "groupe de l'équipe" in line and "forum" in line and "pas administrateur" in line
    assert "mode confidentialité actif" in line  # the privacy mode's consequence, too
    assert "→ le nommer administrateur avec « Gérer les sujets »" in line


def test_admin_without_the_right_to_manage_topics(setup) -> None:
    double, env, _ = setup
    double.set_bot_membership(STAFF_CHAT, "administrator", can_manage_topics=False)
    result = run_cli(env, "doctor")
    assert result.returncode == 1
    assert "« Gérer les sujets »" in lines(result, "ÉCHEC")[0]


def test_a_staff_member_missing_from_the_group(setup) -> None:
    double, env, _ = setup
    double.register_user(9103, "Paul")
    result = run_cli({**env, "STAFF_USER_IDS": "9101,9103"}, "doctor")
    assert result.returncode == 1
    [line] = lines(result, "ÉCHEC")
    assert line.startswith("ÉCHEC     STAFF_USER_IDS : pas dans le groupe : 9103")
    assert "→ les ajouter au groupe, ou les retirer de STAFF_USER_IDS" in line


def test_a_wrong_token(setup) -> None:
    double, env, _ = setup
    result = run_cli({**env, "TELEGRAM_BOT_TOKEN": "123456789:wrong-token"}, "doctor")
    assert result.returncode == 1
    [line] = lines(result, "ÉCHEC")
    assert line.startswith("ÉCHEC     jeton : refusé par Telegram → vérifier TELEGRAM_BOT_TOKEN")
    assert "wrong-token" not in result.stdout + result.stderr  # the token is never printed
    assert "OK        base de données" in result.stdout  # the local checks still run


def test_a_broken_yaml(setup) -> None:
    double, env, tmp_path = setup
    broken = Path(env["KNOWLEDGE_DIR"]) / "entries" / "campus.yaml"
    broken.write_text(broken.read_text() + "\n  - id: [unclosed\n")
    result = run_cli(env, "doctor")
    assert result.returncode == 1
    [line] = lines(result, "ÉCHEC")
    assert line.startswith("ÉCHEC     base de connaissances : ") and "campus.yaml" in line
    assert "→ run_bot.py check les liste tous" in line


def test_a_corrupted_database(setup) -> None:
    double, env, tmp_path = setup
    database = tmp_path / "bot.db"
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(database.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)
    database.write_bytes(bytes(data))
    result = run_cli(env, "doctor")
    assert result.returncode == 1
    [line] = lines(result, "ÉCHEC")
    assert line.startswith("ÉCHEC     base de données : ") and "endommagée" in line
    assert "→ arrêter le bot et restaurer la dernière sauvegarde : run_bot.py restore FICHIER" in line


def test_a_database_readable_by_others(setup) -> None:
    double, env, tmp_path = setup
    (tmp_path / "bot.db").chmod(0o644)
    result = run_cli(env, "doctor")
    assert result.returncode == 1
    [line] = lines(result, "ÉCHEC")
    assert line.startswith("ÉCHEC     droits de la base") and "→ chmod 600" in line
