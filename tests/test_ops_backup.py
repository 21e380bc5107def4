"""Backups: ``run_bot.py backup`` while the real bot runs, ``restore`` and its refusals.

The bot runs as in production (``run_bot.py`` against the Bot API double) and
prospects keep pre-registering while the backup is taken: the copy must hold every
lead confirmed before it started and pass ``PRAGMA integrity_check``. ``restore``
must round-trip, refuse while a bot runs on the database, and refuse a damaged file.
"""
from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

from testing.process import PROJECT_ROOT, bot_env
from test_e2e_crash import send, steps

FIRST = range(8201, 8204)   # confirmed before the backup starts
DURING = range(8301, 8306)  # pre-registering while it runs


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``run_bot.py ARGS`` as an operator types it, with the bot's environment only."""
    scrubbed = {k: v for k, v in os.environ.items()
                if not k.startswith(("TELEGRAM_", "BOT_", "STAFF_", "KNOWLEDGE_", "OFFICE_", "FLOOD_", "LOG_"))}
    return subprocess.run([sys.executable, "run_bot.py", *args], cwd=PROJECT_ROOT, env={**scrubbed, **env},
                          capture_output=True, text=True, timeout=120)


def register(double, user: int) -> None:
    """One whole pre-registration, each step waiting for the bot's answer."""
    for kind, payload, expect in steps(user):
        mark = double.mark()
        send(double, user, kind, payload)
        double.wait_for_text(user, expect, since=mark, timeout=60)


def leads(path: Path) -> dict[int, tuple]:
    conn = sqlite3.connect(path)
    try:
        return {row[0]: row for row in conn.execute("SELECT user_id, ref, email, phone, status FROM registrations")}
    finally:
        conn.close()


def integrity(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def test_backup_during_traffic_holds_confirmed_leads_and_restore_round_trips(
        botapi_double, bot_process_factory, tmp_path: Path) -> None:
    double = botapi_double
    bot = bot_process_factory()
    env = bot_env(double, tmp_path)
    for user in FIRST:
        register(double, user)
    traffic = threading.Thread(target=lambda: [register(double, user) for user in DURING], daemon=True)
    traffic.start()
    try:
        copy = tmp_path / "backups" / "bot-1.db"
        result = run_cli(env, "backup", str(copy))
    finally:
        traffic.join(timeout=300)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert integrity(copy) == ["ok"]
    saved = leads(copy)
    assert set(FIRST) <= set(saved)
    assert not any(p.name.endswith(".partial") for p in copy.parent.iterdir())
    assert bot.is_running()

    bot.stop()
    elsewhere = tmp_path / "restored" / "bot.db"
    result = run_cli({**env, "BOT_DATABASE": str(elsewhere)}, "restore", str(copy))
    assert result.returncode == 0, result.stderr
    assert leads(elsewhere) == saved
    assert integrity(elsewhere) == ["ok"]
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o600

    live = tmp_path / "bot.db"
    assert set(leads(live)) == set(FIRST) | set(DURING)
    result = run_cli(env, "restore", str(copy))  # back to the state of the backup
    assert result.returncode == 0, result.stderr
    assert leads(live) == saved

    bot.start()  # the restored database runs: its leads are there for the staff
    bot.wait_ready()
    register(double, 8401)
    restarted = set(leads(live))
    assert set(saved) | {8401} <= restarted
    # a form confirmed while the backup was taken was in its inbox: handled now, as after a crash
    assert restarted - set(saved) - {8401} <= set(DURING)


def test_restore_is_refused_while_the_bot_runs(botapi_double, bot_process_factory, tmp_path: Path) -> None:
    double = botapi_double
    bot_process_factory()
    env = bot_env(double, tmp_path)
    register(double, 8501)
    copy = tmp_path / "copy.db"
    assert run_cli(env, "backup", str(copy)).returncode == 0
    register(double, 8502)

    result = run_cli(env, "restore", str(copy))

    assert result.returncode == 1
    assert "un bot tourne" in result.stderr
    assert set(leads(tmp_path / "bot.db")) == {8501, 8502}
    register(double, 8503)  # the bot went on, untouched
    assert set(leads(tmp_path / "bot.db")) == {8501, 8502, 8503}


def test_restore_refuses_a_damaged_backup_and_leaves_the_database(tmp_path: Path) -> None:
    from bot.storage.db import open_database

    database = tmp_path / "bot.db"
    db = open_database(database)
    db["registrations"].insert({"ref": "MCO-AAAAAA", "user_id": 1, "status": "nouveau",
                                "updated_at": "2099-01-01T00:00:00+00:00"})
    db.close()
    env = {"BOT_DATABASE": str(database), "TELEGRAM_BOT_TOKEN": ""}
    copy = tmp_path / "copy.db"
    assert run_cli(env, "backup", str(copy)).returncode == 0
    data = bytearray(copy.read_bytes())
    data[4096:] = os.urandom(len(data) - 4096)  # every page after the first overwritten
    copy.write_bytes(bytes(data))

    result = run_cli(env, "restore", str(copy))

    assert result.returncode == 1
    assert "intégrité" in result.stderr
    assert set(leads(database)) == {1}
    garbage = tmp_path / "notes.txt"
    garbage.write_text("pas une base SQLite" * 100)
    assert run_cli(env, "restore", str(garbage)).returncode == 1
    assert set(leads(database)) == {1}


def test_restore_applies_the_retention_purge(tmp_path: Path) -> None:
    from bot.storage.db import open_database

    old = tmp_path / "old.db"
    db = open_database(old)
    db["registrations"].insert_all([
        {"ref": "MCO-OLD000", "user_id": 1, "status": "nouveau", "updated_at": "2001-01-01T00:00:00+00:00",
         "created_at": "2001-01-01T00:00:00+00:00"},
        {"ref": "MCO-NEW000", "user_id": 2, "status": "nouveau", "updated_at": "2099-01-01T00:00:00+00:00",
         "created_at": "2099-01-01T00:00:00+00:00"},
    ])
    db.close()
    copy = tmp_path / "copy.db"
    assert run_cli({"BOT_DATABASE": str(old)}, "backup", str(copy)).returncode == 0
    assert set(leads(copy)) == {1, 2}  # a backup keeps what the database had

    database = tmp_path / "bot.db"
    result = run_cli({"BOT_DATABASE": str(database)}, "restore", str(copy))

    assert result.returncode == 0, result.stderr
    assert set(leads(database)) == {2}  # restored data does not outlive the retention period


def test_restore_flags_messages_in_flight_and_drops_stale_updates(tmp_path: Path) -> None:
    """What was pending when the backup was taken was probably sent since: a copy must say so."""
    import datetime as dt

    from bot.conversation.messages import Reply
    from bot.storage.db import open_database
    from bot.storage.inbox import Inbox
    from bot.storage.outbox import Outbox

    old = tmp_path / "old.db"
    db = open_database(old)
    now = dt.datetime.now(dt.timezone.utc)
    outbox = Outbox(db)
    sent = outbox.put("staff", "lead", Reply("déjà envoyé"), now)
    outbox.mark_sent(sent, 10)
    outbox.put("staff", "lead", Reply("en attente"), now)
    Inbox(db).add([(1, "{}")], now - dt.timedelta(days=3))
    Inbox(db).add([(2, "{}")], now)
    db.close()
    copy = tmp_path / "copy.db"
    assert run_cli({"BOT_DATABASE": str(old)}, "backup", str(copy)).returncode == 0

    database = tmp_path / "bot.db"
    result = run_cli({"BOT_DATABASE": str(database)}, "restore", str(copy))

    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(database)
    assert conn.execute("SELECT status, maybe_posted FROM outbox ORDER BY id").fetchall() == [
        ("sent", 0), ("pending", 1)]
    assert conn.execute("SELECT update_id FROM inbox").fetchall() == [(2,)]
