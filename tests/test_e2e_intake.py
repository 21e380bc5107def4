"""End to end: what comes in — unreadable updates, logs at DEBUG, who is staff, stray groups.

Each test runs ``run_bot.py`` as a subprocess against the local Bot API double, with
a real SQLite file, and checks what the bot does and what it writes in its logs.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


STAFF = -1001800000001
MARIE, EVE = 7101, 7103
POISONED, OTHER = 6501, 6502


def staff_group(double: Any, *members: dict[str, Any], admins: tuple[int, ...] = ()) -> None:
    """The staff group with Marie (and the given members); ``admins`` are its administrators."""
    double.register_group(STAFF, "Admissions", members=[{"id": MARIE, "first_name": "Marie"}, *members])
    for admin in admins:
        double.set_admin(STAFF, admin)


# --- 2. an update that does not parse --------------------------------------------------------


def test_an_unreadable_update_is_quarantined_and_the_rest_of_its_batch_is_answered(
        botapi_double, bot_process_factory, tmp_path: Path) -> None:
    double = botapi_double
    staff_group(double)
    poison = double.push_text(POISONED, "Je suis Zoé Poisonnier, mon numéro 06 98 76 54 32",
                              first_name="Zoé", last_name="Poisonnier")
    poison["message"]["date"] = "hier soir"  # not a number: python-telegram-bot cannot parse it
    double.push_command(OTHER, "/start", first_name="Hugo")
    bot = bot_process_factory(STAFF_CHAT_ID=STAFF, STAFF_USER_IDS=MARIE)  # the two updates come in one batch

    double.wait_for_text(OTHER, "BTS MCO")  # the other prospect of the batch is answered
    notice = double.wait_for_text(STAFF, "illisible")
    assert "Zoé" not in notice["text"] and "06 98" not in notice["text"]
    double.wait_until(lambda: not double.pending_updates(), 10, "the batch to be acknowledged")
    assert bot.is_running()

    db = sqlite3.connect(tmp_path / "bot.db")
    rows = db.execute("SELECT update_id, error FROM quarantine").fetchall()
    assert [update_id for update_id, _ in rows] == [poison["update_id"]]
    assert rows[0][1].isidentifier()  # the exception's type, never its message
    db.close()

    bot.restart()  # nothing comes back, nobody is told twice
    mark = double.mark()
    double.push_text(OTHER, "c'est quand la rentree ?")
    double.wait_for_text(OTHER, "27 août")
    assert bot.is_running()
    assert len([m for m in double.messages_to(STAFF) if "illisible" in m.get("text", "")]) == 1
    assert not [c for c in double.calls("sendMessage", since=mark) if c.chat_id == POISONED]

    bot.stop()
    db = sqlite3.connect(tmp_path / "bot.db")
    assert db.execute("SELECT COUNT(*) FROM inbox").fetchone()[0] == 0  # everything else was handled
    db.close()
    logs = bot.stderr_text() + bot.stdout_text()
    assert "quarantine" in logs
    for secret in ("Zoé", "Poisonnier", "98 76", "hier soir", double.token):
        assert secret not in logs, f"{secret!r} found in the logs"


def test_debug_logs_show_neither_the_token_nor_what_people_write(botapi_double, bot_process_factory) -> None:
    double = botapi_double
    bot = bot_process_factory(LOG_LEVEL="DEBUG")
    double.push_command(OTHER, "/start", first_name="Camille", last_name="Debugnier")
    double.wait_for_text(OTHER, "BTS MCO")
    double.push_text(OTHER, "je m'appelle Camille Debugnier, 0611223344, c'est quoi le salaire ?",
                     first_name="Camille", last_name="Debugnier")
    double.wait_for_text(OTHER, "salaire|SMIC|rémunér")
    double.wait_consumed()
    bot.stop()
    logs = bot.stderr_text()
    assert " DEBUG telegram" in logs  # DEBUG is on, libraries included
    assert "sendMessage" in logs  # the Bot API methods called are shown
    for secret in (double.token, double.token.split(":", 1)[1], "Camille", "Debugnier", "0611223344",
                   "salaire", "BTS MCO"):
        assert secret not in logs, f"{secret!r} found in the DEBUG logs"


# --- 9. file modes ------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_database_and_its_folder_are_private_to_the_bot(botapi_double, bot_process_factory,
                                                             tmp_path: Path) -> None:
    import os

    database = tmp_path / "data" / "bot.db"
    old_umask = os.umask(0o022)  # the usual shell umask: files 0644, folders 0755 unless the bot says otherwise
    try:
        bot = bot_process_factory(BOT_DATABASE=database)
    finally:
        os.umask(old_umask)
    botapi_double.push_text(OTHER, "c'est quand la rentree ?")
    botapi_double.wait_for_text(OTHER, "27 août")
    assert _mode(database.parent) == 0o700
    for name in ("bot.db", "bot.db-wal", "bot.db-shm"):
        assert _mode(database.parent / name) == 0o600, name
    bot.stop()

    database.chmod(0o644)  # a file left by an older version
    database.parent.chmod(0o755)
    bot.start()
    bot.wait_ready()
    assert _mode(database) == 0o600 and _mode(database.parent) == 0o700


# --- 13. a damaged database ----------------------------------------------------------------------


def test_a_damaged_database_is_refused_at_start_with_what_to_do(botapi_double, bot_process_factory,
                                                                 tmp_path: Path) -> None:
    from bot.storage.db import open_database

    database = tmp_path / "bot.db"
    db = open_database(database)
    db["questions"].insert_all({"at": "2026-01-01", "user_id": n, "text": "x" * 300} for n in range(400))
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    page_size = 4096
    with open(database, "r+b") as raw:  # scribble over a page in the middle of the questions table
        raw.seek(page_size * 12)
        raw.write(b"\xde\xad\xbe\xef" * (page_size // 8))
    bot = bot_process_factory(ready=False)
    botapi_double.wait_until(lambda: not bot.is_running(), 20, "the bot to refuse to start")
    assert bot.returncode not in (0, None)
    err = bot.stderr_text()
    assert "endommagée" in err and "sauvegarde" in err
    assert not botapi_double.calls("getUpdates")  # it never started serving


# --- 14. stray groups, no sender, a bare "/" ---------------------------------------------------


STRAY = -1009900000001


def test_the_bot_leaves_other_groups_and_ignores_what_has_no_sender(botapi_double, bot_process_factory) -> None:
    import time

    double = botapi_double
    staff_group(double)
    bot = bot_process_factory(STAFF_CHAT_ID=STAFF, STAFF_USER_IDS=MARIE)
    double.push_command(OTHER, "/menu")
    menu = double.wait_for_text(OTHER, "Choisis un thème")
    data = menu["reply_markup"]["inline_keyboard"][0][0]["callback_data"]

    mark = double.mark()
    double.register_group(STRAY, "Pas l'équipe", members=[OTHER])
    double.push_command(OTHER, "/start", chat_id=STRAY)
    double.push_text(OTHER, "c'est quand la rentree ?", chat_id=STRAY)
    with double._lock:  # a button of the bot's, pressed in that group (forwarded or copied there)
        message = double._store_new(double.bot_user, double._chats[STRAY], {"text": "menu", "reply_markup": {
            "inline_keyboard": [[{"text": "x", "callback_data": data}]]}}, None, None)
    query = double.push_callback(OTHER, data, message["message_id"], STRAY)
    double.push_update({"message": {"message_id": 99, "date": int(time.time()), "text": "salut",
                                    "chat": {"id": OTHER, "type": "private", "first_name": "Hugo"}}})
    double.push_text(OTHER, "/")  # a bare slash, without any command entity
    double.push_command(OTHER, "/")  # and with one
    double.push_text(OTHER, "c'est quand la rentree ?")
    double.wait_for_text(OTHER, "27 août")
    double.wait_consumed()

    assert double.left_chats == [STRAY]  # once, whatever came from it
    assert [m for m in double.chat_history(STRAY) if m["from"]["id"] == double.bot_user["id"]] == [message]
    double.wait_until(lambda: double.callback_answer(query["callback_query"]["id"]) is not None, 10,
                      "the button press to be acknowledged")
    assert not double.callback_answer(query["callback_query"]["id"]).get("text")  # the spinner stops, nothing is said
    failed = [c for c in double.calls(since=mark) if c.status not in (200, None)]
    assert failed == []

    upgraded = -1009900000002  # the staff group turned into a supergroup: a new id, not a stray group
    double.register_group(upgraded, "Admissions", members=[MARIE])
    double.push_message(MARIE, {"migrate_from_chat_id": STAFF}, chat_id=upgraded)
    double.push_text(MARIE, "bonjour", chat_id=upgraded)
    double.wait_consumed()
    bot.stop()  # finishes what it received
    assert double.left_chats == [STRAY]
    logs = bot.stderr_text()
    assert "Traceback" not in logs and "error while handling" not in logs
    assert f"set STAFF_CHAT_ID to {upgraded}" in logs


# --- 10. who is staff by default ---------------------------------------------------------------


def test_by_default_only_the_groups_administrators_are_staff(botapi_double, bot_process_factory) -> None:
    double = botapi_double
    staff_group(double, {"id": EVE, "first_name": "Eve"}, admins=(MARIE,))
    double.set_admin(STAFF, 7104, anonymous=True)
    double.inject("getChatAdministrators", status=502)  # Telegram fails at start: nobody is staff yet
    bot = bot_process_factory(STAFF_CHAT_ID=STAFF)  # STAFF_USER_IDS empty

    def export_by(send: Any) -> dict[str, Any]:
        mark = double.mark()
        update = send()
        reply = double.wait_for_message(lambda m: m.get("reply_to_message", {}).get("message_id")
                                        == update["message"]["message_id"] or "document" in m,
                                        chat_id=STAFF, since=mark)
        return reply

    refused = export_by(lambda: double.push_command(EVE, "/export", chat_id=STAFF))  # a member, not an admin
    assert "document" not in refused and "Je ne connais pas cette commande" in refused["text"]
    refused = export_by(lambda: double.push_anonymous_admin_command(STAFF, "/export"))
    assert "document" not in refused and "Je ne connais pas cette commande" in refused["text"]
    accepted = export_by(lambda: double.push_command(MARIE, "/export", chat_id=STAFF))  # read again: known now
    assert "document" in accepted
    assert len(double.documents_to(STAFF)) == 1
    bot.stop()
    logs = bot.stderr_text()
    assert "staff: the 2 administrator(s) of the staff group (1 anonymous" in logs
    assert str(MARIE) not in logs and "Marie" not in logs
