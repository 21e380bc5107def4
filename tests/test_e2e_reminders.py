"""End to end: opt-in reminders through the real bot process and the Bot API double.

The bot's "now" is set with ``BOT_CLOCK`` (it then advances with real time); moving
time is restarting the bot on the same database with a later ``BOT_CLOCK``, which also
proves that consent and the log survive restarts. Rounds run every half second
(``BOT_REMINDER_SECONDS``). Where nothing must be sent, the test lets several rounds
pass before looking (a wait for rounds to happen, not a measure of speed).
"""
from __future__ import annotations

import datetime as dt
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from bot.storage.times import in_paris
from e2e_support import bot_process_factory, botapi_double  # noqa: F401 (fixtures)

PROSPECT = 7373
STAFF = -1001700000077
MARIE = 7001
REMINDER = "journée portes ouvertes"
FAST = {"BOT_REMINDER_SECONDS": "0.5"}
#: Several rounds at BOT_REMINDER_SECONDS=0.5.
SOME_ROUNDS = 3.0


def ask(double: Any, user: int, text: str, expect: str) -> dict:
    mark = double.mark()
    double.push_text(user, text)
    return double.wait_for_text(user, expect, since=mark)


def press(double: Any, user: int, label: str, expect: str) -> dict:
    mark = double.mark()
    double.click_button(user, label)
    return double.wait_for_text(user, expect, since=mark)


def rows(tmp_path: Path, sql: str, *params: Any) -> list[tuple]:
    db = sqlite3.connect(tmp_path / "bot.db")
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def move_to(bot: Any, moment: str, *, crash: bool = False) -> None:
    """Restart the bot at another instant of its clock (same database)."""
    bot.env["BOT_CLOCK"] = moment
    bot.restart(crash=crash)


def reminders_to(double: Any, user: int, since: int = 0) -> list[dict]:
    return [m for m in double.messages_to(user) if REMINDER in m.get("text", "") and "Rappel" in m.get("text", "")
            and m["message_id"] >= since]


def opt_in_open_days(double: Any, user: int) -> None:
    answer = ask(double, user, "c'est quand les portes ouvertes ?", "portes ouvertes")
    labels = [b["text"] for row in answer["reply_markup"]["inline_keyboard"] for b in row]
    assert "🔔 Je te préviens ?" in labels
    press(double, user, "🔔 Je te préviens ?", "C'est noté")


def test_opt_in_quiet_hours_due_reminder_and_stop(botapi_double, bot_process_factory, tmp_path: Path) -> None:
    double = botapi_double
    bot = bot_process_factory(BOT_CLOCK="2026-03-16T12:00:00", **FAST)  # Monday; open day on Friday 20 March
    assert "BOT_CLOCK is set" in bot.stderr_text()
    other = PROSPECT + 1
    ask(double, other, "c'est quand les portes ouvertes ?", "portes ouvertes")  # never says yes
    opt_in_open_days(double, PROSPECT)
    consent = rows(tmp_path, "SELECT consent_at FROM reminder_subscriptions WHERE user_id = ?", PROSPECT)
    assert consent and in_paris(consent[0][0]).isoformat().startswith("2026-03-16T12:")  # stored in UTC

    move_to(bot, "2026-03-18T20:30:00")  # due at 10:00 that day, but it is evening: it waits
    time.sleep(SOME_ROUNDS)
    assert reminders_to(double, PROSPECT) == []

    move_to(bot, "2026-03-18T10:00:30")
    message = double.wait_for_text(PROSPECT, "Rappel : \\*?\\*?journée portes ouvertes|Rappel : journée portes ouvertes")
    assert "20 mars 2026" in message["text"] and "dans 2 jours" in message["text"]
    assert "🔕 Ne plus recevoir" in [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    time.sleep(SOME_ROUNDS)
    assert len(reminders_to(double, PROSPECT)) == 1  # once, whatever the number of rounds
    assert double.messages_to(other) and reminders_to(double, other) == []  # no consent, nothing

    ask(double, PROSPECT, "stop", "plus aucun rappel")
    move_to(bot, "2026-03-19T10:00:30")  # the day-before reminder would be due now
    time.sleep(SOME_ROUNDS)
    assert len(reminders_to(double, PROSPECT)) == 1
    assert bot.is_running()


def test_a_prospect_who_blocked_the_bot_is_marked_and_never_retried(botapi_double, bot_process_factory,
                                                                    tmp_path: Path) -> None:
    double = botapi_double
    bot = bot_process_factory(BOT_CLOCK="2026-03-16T12:00:00", **FAST)
    opt_in_open_days(double, PROSPECT)
    double.block_user(PROSPECT)
    move_to(bot, "2026-03-18T10:00:30")
    double.wait_until(lambda: rows(tmp_path, "SELECT blocked_at FROM reminder_people WHERE user_id = ?", PROSPECT),
                      15, "the prospect to be marked blocked")
    attempts = [c for c in double.calls("sendMessage") if c.params.get("chat_id") in (PROSPECT, str(PROSPECT))]
    assert len(attempts) >= 1
    mark = double.mark()
    move_to(bot, "2026-03-19T10:00:30")  # the next reminder is due: not even tried
    time.sleep(SOME_ROUNDS)
    tried = [c for c in double.calls("sendMessage", since=mark) if c.params.get("chat_id") in (PROSPECT, str(PROSPECT))]
    assert tried == []


def test_follow_up_answer_updates_the_lead(botapi_double, bot_process_factory, tmp_path: Path) -> None:
    from bot.knowledge.intake import intake_of, possible_years
    from bot.knowledge.loader import load_knowledge
    from e2e_support import PROJECT_ROOT

    double = botapi_double
    double.register_group(STAFF, "Admissions", members=[{"id": MARIE, "first_name": "Marie"}])
    bot = bot_process_factory(BOT_CLOCK="2026-03-12T11:00:00", STAFF_CHAT_ID=STAFF, STAFF_USER_IDS=str(MARIE),
                              OFFICE_HOURS="00:00-23:59:59", OFFICE_DAYS="1-7", **FAST)
    mark = double.mark()
    double.push_command(PROSPECT, "/inscription", first_name="Zoé", last_name="Dupont")
    notice = double.wait_for_text(PROSPECT, "RGPD", since=mark)
    assert "Rappels" in notice["text"]  # the notice mentions reminders
    press(double, PROSPECT, "✅ J'accepte", "nom de famille")
    press(double, PROSPECT, "✅ Dupont", "prénom")
    ask(double, PROSPECT, "zoé", "date de naissance")
    ask(double, PROSPECT, "12 mars 2007", "adresse e-mail")
    ask(double, PROSPECT, "zoe.dupont@example.com", "numéro de téléphone")
    ask(double, PROSPECT, "06 12 34 56 78", "diplôme le plus élevé")
    press(double, PROSPECT, "Diplôme étranger", "Ta situation|situation")
    press(double, PROSPECT, "Lycéen·ne", "entreprise d'accueil")
    press(double, PROSPECT, "🔎 Je cherche encore", "connu l'école")
    kb, _ = load_knowledge(PROJECT_ROOT / "knowledge")
    if len(possible_years(dt.date(2026, 3, 12), intake_of(kb.facts))) < 2:
        press(double, PROSPECT, "Parcoursup", "Récapitulatif")
    else:
        press(double, PROSPECT, "Parcoursup", "Pour quelle")
        press(double, PROSPECT, "📅 La suivante", "Récapitulatif")
    done = press(double, PROSPECT, "✅ Confirmer et envoyer", r"MCO-[A-Z0-9]{6}")
    ref = re.search(r"MCO-[A-Z0-9]{6}", done["text"]).group(0)
    press(double, PROSPECT, "🔔 Me rappeler les étapes", "C'est noté")

    mark = double.mark()
    move_to(bot, "2026-04-02T10:00:30")  # three weeks later, a Thursday
    asked = double.wait_for_text(PROSPECT, "Alors, as-tu trouvé ton entreprise", timeout=20, since=mark)
    assert "Oui, j'ai trouvé" in str(asked["reply_markup"])
    answer = ask(double, PROSPECT, "pas encore", "30 novembre")
    assert "Parler à un conseiller" in str(answer["reply_markup"]) or "conseiller" in str(answer["reply_markup"])
    note = double.wait_for_text(STAFF, "réponse à la relance", timeout=15)
    assert ref in note["text"] and "pas encore d'entreprise" in note["text"]
    ask(double, PROSPECT, "oui j'ai trouvé", "Bravo")
    events = [r[0] for r in rows(tmp_path, "SELECT event FROM lead_events WHERE ref = ?", ref)]
    assert events[-2:] == ["relance_pas_encore", "relance_trouve"]
    active = rows(tmp_path, "SELECT kind FROM reminder_subscriptions WHERE user_id = ? AND stopped_at IS NULL",
                  PROSPECT)
    assert ("entreprise",) not in active


def test_kill_during_a_reminder_round_never_sends_twice(botapi_double, bot_process_factory, tmp_path: Path) -> None:
    double = botapi_double
    people = list(range(8100, 8124))
    bot = bot_process_factory(BOT_CLOCK="2026-03-16T12:00:00", **FAST)
    for user in people:
        opt_in_open_days(double, user)
    double.inject("sendMessage", delay=0.4, times=None)  # slow Telegram: the round is still going when killed
    mark = double.mark()
    move_to(bot, "2026-03-18T10:00:30")
    double.wait_until(lambda: len([c for c in double.calls("sendMessage", since=mark)]) >= 3, 20, "a few reminders")
    bot.kill()  # kill -9 mid-round
    double.clear_faults()
    move_to(bot, "2026-03-18T10:01:00", crash=True)
    double.wait_until(lambda: not rows(tmp_path, "SELECT 1 FROM outbox WHERE kind = 'reminder' AND status = 'pending'")
                      and len(rows(tmp_path, "SELECT 1 FROM reminder_log")) >= len(people), 30,
                      "every reminder settled")
    time.sleep(SOME_ROUNDS)
    per_person = {user: len(reminders_to(double, user)) for user in people}
    assert max(per_person.values()) == 1, per_person  # never twice
    lost = rows(tmp_path, "SELECT chat_id FROM outbox WHERE kind = 'reminder' AND status = 'failed' "
                          "AND last_error LIKE 'in flight%'")
    lost_ids = {r[0] for r in lost}
    missing = {user for user, n in per_person.items() if n == 0}
    assert missing <= lost_ids  # a reminder not received was in flight at the kill, and is counted as lost
    assert all(per_person[user] == 1 for user in people if user not in lost_ids)  # the others: exactly once
    assert len(lost_ids) <= 1  # at most the one request in flight


def test_a_campaign_with_preview_confirmation_and_two_kills(botapi_double, bot_process_factory,
                                                            tmp_path: Path) -> None:
    double = botapi_double
    double.register_group(STAFF, "Admissions", members=[{"id": MARIE, "first_name": "Marie"}])
    bot = bot_process_factory(BOT_CLOCK="2026-03-16T12:00:00", STAFF_CHAT_ID=STAFF, STAFF_USER_IDS=str(MARIE),
                              OFFICE_HOURS="00:00-23:59:59", OFFICE_DAYS="1-7", **FAST)
    opt_in_open_days(double, PROSPECT)  # one through Telegram...
    ask(double, PROSPECT + 1, "c'est quand les portes ouvertes ?", "portes ouvertes")  # ...one who never said yes
    db = sqlite3.connect(tmp_path / "bot.db")  # ...and more who said yes earlier
    people = [PROSPECT] + list(range(9000, 9029))
    for user in people[1:]:
        double.register_user(user, "P")  # they talked to the bot before
    db.executemany("INSERT INTO reminder_subscriptions (user_id, kind, consent_at) VALUES (?, 'portes_ouvertes', ?)",
                   [(user, "2026-03-10T10:00:00+01:00") for user in people[1:]])
    db.commit()
    db.close()
    mark = double.mark()
    double.push_command(MARIE, "/campagne", "tous", "Réunion", "d'information", "mardi", chat_id=STAFF)
    preview = double.wait_for_text(STAFF, "Aperçu de la campagne", since=mark)
    assert "30" in preview["text"] and "Réunion d'information mardi" in preview["text"]
    double.inject("sendMessage", delay=0.3, times=None)  # slow Telegram: the kills fall mid-campaign
    mark = double.mark()
    double.click_button(MARIE, "✅ Envoyer à 30", chat_id=STAFF)
    for _ in range(2):  # kill -9 twice while it sends
        seen = len(double.calls("sendMessage", since=mark))
        double.wait_until(lambda: len(double.calls("sendMessage", since=mark)) >= seen + 4, 30, "a few more messages")
        bot.restart(crash=True)
    double.clear_faults()
    report = double.wait_for_text(STAFF, "Bilan de la campagne", timeout=60)
    received = {user: len([m for m in double.messages_to(user) if "Réunion d'information" in m.get("text", "")])
                for user in people}
    assert max(received.values()) == 1, received  # never twice
    lost = {r[0] for r in rows(tmp_path, "SELECT chat_id FROM outbox WHERE kind = 'campaign' AND status = 'failed'")}
    assert {u for u, n in received.items() if n == 0} <= lost and len(lost) <= 2  # at most one per kill, counted
    assert [m for m in double.messages_to(PROSPECT + 1) if "Réunion" in m.get("text", "")] == []
    assert f"{30 - len(lost)} envoyé(s)" in report["text"]
    mark = double.mark()
    double.push_command(MARIE, "/campagnes", chat_id=STAFF)
    assert "30 destinataire(s)" in double.wait_for_text(STAFF, "Campagnes", since=mark)["text"]
