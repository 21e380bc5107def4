"""Webhook mode end to end: the double POSTs updates to the bot's webhook, as Telegram does.

The bot process runs with ``TELEGRAM_WEBHOOK_URL``; the double's
:class:`~webhook_double.WebhookSender` delivers each update with the secret token,
in order, and re-sends what was not answered 200. Checked: the registration
(secret, allowed updates), the 403 for requests without the secret, ``/healthz``,
a burst survived by a kill -9 without losing or doubling anything, and the return
to polling, which deletes the webhook.
"""
from __future__ import annotations

import json
import socket
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest


from webhook_double import WebhookSender

SECRET = "test-secret_42"
QUESTION = "c combien le salaire en alternance ?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def webhook(botapi_double, bot_process_factory):
    """(double, sender, start): ``start()`` runs the bot in webhook mode and waits for its setWebhook."""
    sender = WebhookSender(botapi_double)
    port = free_port()
    env = {"TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram", "WEBHOOK_LISTEN": "127.0.0.1",
           "WEBHOOK_PORT": str(port), "WEBHOOK_SECRET": SECRET}

    def start():
        mark = botapi_double.mark()
        bot = bot_process_factory(ready=False, **env)
        wait_registered(botapi_double, bot, mark)
        return bot, port

    yield botapi_double, sender, start
    sender.close()


def wait_registered(double, bot, mark: int) -> None:
    double.wait_until(lambda: double.calls("setWebhook", since=mark) or not bot.is_running(), 20,
                      "the bot to register its webhook")
    assert bot.is_running(), bot.log_tail()


def post(port: int, body: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", data=json.dumps(body).encode(),
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def healthz(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        assert response.status == 200
        return json.loads(response.read())


def test_registers_with_secret_and_answers_through_the_webhook(webhook, tmp_path: Path) -> None:
    double, sender, start = webhook
    bot, port = start()
    call = double.calls("setWebhook")[-1]
    assert call.params["url"] == f"http://127.0.0.1:{port}/telegram"
    assert call.params["secret_token"] == SECRET
    allowed = call.params["allowed_updates"]
    allowed = json.loads(allowed) if isinstance(allowed, str) else allowed
    assert {"message", "callback_query"} <= set(allowed)

    update = double.push_text(4242, QUESTION)
    double.wait_for_text(4242, r"496", timeout=15)
    assert sender.delivered(update["update_id"])
    assert not double.calls("getUpdates"), "no polling in webhook mode"
    double.wait_until(lambda: healthz(port) == {"status": "up", "inbox": 0, "outbox": 0}, 10, "an empty backlog")


def test_doctor_reports_the_webhook_and_its_last_error(webhook, tmp_path: Path) -> None:
    from testing.process import bot_env
    from test_ops_backup import run_cli

    double, sender, start = webhook
    bot, port = start()
    env = {**bot_env(double, tmp_path), "TELEGRAM_WEBHOOK_URL": sender.url}
    result = run_cli(env, "doctor")
    assert f"OK        mode : webhook {sender.url}, 0 mise(s) à jour en attente" in result.stdout, result.stdout
    bot.kill()  # Telegram cannot deliver any more: getWebhookInfo reports it
    double.push_text(4242, QUESTION)
    double.wait_until(lambda: sender.last_error, 10, "a failed delivery")
    result = run_cli(env, "doctor")
    assert result.returncode == 1
    assert "ÉCHEC     mode : webhook" in result.stdout and "dernière erreur de Telegram : Connection refused" \
        in result.stdout and "→ vérifier que l'URL est joignable" in result.stdout


def test_requests_without_the_secret_are_refused_and_not_handled(webhook, tmp_path: Path) -> None:
    double, sender, start = webhook
    bot, port = start()
    forged = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": QUESTION,
                                          "chat": {"id": 4343, "type": "private"},
                                          "from": {"id": 4343, "is_bot": False, "first_name": "X"}}}
    assert post(port, forged, None) == 403
    assert post(port, forged, "wrong") == 403

    sender.send_secret = False  # a sender that does not know the secret: refused, kept for later
    update = double.push_text(4242, QUESTION)
    double.wait_until(lambda: (update["update_id"], 403) in sender.attempts, 10, "a refused delivery")
    assert not double.messages_to(4242) and not double.messages_to(4343)
    db = sqlite3.connect(tmp_path / "bot.db")
    assert db.execute("SELECT COUNT(*) FROM inbox").fetchone()[0] == 0
    assert "Wrong response from the webhook: 403" in sender.last_error

    sender.send_secret = True  # Telegram's retry, with the secret: handled once
    double.wait_for_text(4242, r"496", timeout=15)
    assert [m for m in double.messages_to(4242) if "496" in m["text"]].__len__() == 1
    assert db.execute("SELECT COUNT(*) FROM questions").fetchone()[0] == 1


def test_kill_9_during_a_burst_loses_and_doubles_nothing(webhook, tmp_path: Path) -> None:
    double, sender, start = webhook
    bot, port = start()
    users = range(7001, 7041)
    updates = [double.push_text(user, QUESTION) for user in users]
    double.wait_until(lambda: sum(s == 200 for _, s in sender.attempts) >= 10, 20, "a part of the burst")
    bot.kill()
    mark = double.mark()
    bot.start()
    wait_registered(double, bot, mark)
    for user in users:
        double.wait_for_text(user, r"496", timeout=30)
    assert all(sender.delivered(u["update_id"]) for u in updates)
    db = sqlite3.connect(tmp_path / "bot.db")
    double.wait_until(lambda: db.execute("SELECT COUNT(*) FROM inbox").fetchone()[0] == 0, 10, "an empty inbox")
    asked = db.execute("SELECT user_id, COUNT(*) FROM questions GROUP BY user_id").fetchall()
    assert dict(asked) == dict.fromkeys(users, 1), "each update handled exactly once"


def test_a_copy_resent_by_telegram_is_not_handled_again(webhook, tmp_path: Path) -> None:
    double, sender, start = webhook
    bot, port = start()
    update = double.push_text(4242, QUESTION)
    double.wait_for_text(4242, r"496", timeout=15)
    double.wait_until(lambda: healthz(port)["inbox"] == 0, 10, "the update handled")
    assert post(port, update, SECRET) == 200  # the 200 got lost on the way: Telegram sends it again
    assert post(port, update, SECRET) == 200
    before = len(double.messages_to(4242))
    double.push_command(4242, "/aide")  # handled after the copies (one chat, in order): they are settled
    double.wait_until(lambda: len(double.messages_to(4242)) > before, 15, "the answer to /aide")
    db = sqlite3.connect(tmp_path / "bot.db")
    assert db.execute("SELECT COUNT(*) FROM questions").fetchone()[0] == 1
    assert len([m for m in double.messages_to(4242) if "496" in m["text"]]) == 1


def test_back_to_polling_deletes_the_webhook(webhook, bot_process_factory, tmp_path: Path) -> None:
    double, sender, start = webhook
    bot, port = start()
    assert sender.url
    bot.stop()
    polling = bot_process_factory()  # no TELEGRAM_WEBHOOK_URL: polls, after deleting the webhook
    assert polling.is_running()
    assert double.calls("deleteWebhook") and sender.url == ""
