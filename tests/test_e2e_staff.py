"""End to end: the staff group and the bot, through the real bot process.

``run_bot.py`` runs as a subprocess against the local Bot API double, with a staff
group (``STAFF_CHAT_ID``) whose members Marie and Paul are staff (``STAFF_USER_IDS``)
and Eve is not. Prospects pre-register through the real form and ask for a person;
staff press buttons, reply and type commands in the group, exactly as on Telegram.
Faults are injected in the double (502, 429, "chat not found", a blocked prospect)
and the process is killed and restarted, to check that nothing is lost and nothing
is posted twice.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from bot.clock import PARIS
from testing.process import PROJECT_ROOT, intake_steps

STAFF = -1001700000001
MARIE, PAUL, EVE = 7001, 7002, 7003
PROSPECT, OTHER = 6161, 6262
REF = re.compile(r"MCO-[A-Z0-9]{6}")
ALWAYS_OPEN = {"OFFICE_HOURS": "00:00-23:59:59", "OFFICE_DAYS": "1-7"}


# --- helpers -------------------------------------------------------------------------------


def start_bot(factory: Any, double: Any, *, forum: bool = False, staff_chat: int = STAFF, **env: Any) -> Any:
    """The staff group (with Marie, Paul and Eve) and a bot process configured for it."""
    double.register_group(STAFF, "Admissions", is_forum=forum, members=[
        {"id": MARIE, "first_name": "Marie"}, {"id": PAUL, "first_name": "Paul"}, {"id": EVE, "first_name": "Eve"}])
    settings = {**ALWAYS_OPEN, **env}
    return factory(STAFF_CHAT_ID=staff_chat, STAFF_USER_IDS=f"{MARIE},{PAUL}", **settings)


def say(double: Any, user: int, text: str, expect: str, **names: Any) -> dict:
    mark = double.mark()
    double.push_text(user, text, **names)
    return double.wait_for_text(user, expect, since=mark)


def press(double: Any, user: int, label: str, expect: str) -> dict:
    mark = double.mark()
    double.click_button(user, label)
    return double.wait_for_text(user, expect, since=mark)


def command(double: Any, user: int, name: str, expect: str, *args: str, **options: Any) -> dict:
    mark = double.mark()
    double.push_command(user, name, *args, **options)
    chat = options.get("chat_id", user)
    return double.wait_for_text(chat, expect, since=mark)


def pre_register(double: Any, user: int, last_name: str = "Dupont", first_name: str = "Zoé") -> str:
    """Fill and confirm the real form; returns the reference."""
    names = {"first_name": first_name, "last_name": last_name}
    command(double, user, "/inscription", "RGPD", **names)
    press(double, user, "✅ J'accepte", "nom de famille")
    say(double, user, last_name, "prénom", **names)
    say(double, user, first_name, "date de naissance", **names)
    say(double, user, "12/03/2007", "adresse e-mail", **names)
    say(double, user, f"{last_name.lower()}.{user}@example.com", "numéro de téléphone", **names)
    say(double, user, "06 12 34 56 78", "diplôme le plus élevé", **names)
    press(double, user, "Bac pro", "situation")
    press(double, user, "Lycéen·ne", "entreprise d'accueil")
    press(double, user, "🔎 Je cherche encore", "connu l'école")
    for label, expect in intake_steps():  # "Pour quelle rentrée ?" only while two intakes are open
        press(double, user, label, expect)
    done = press(double, user, "✅ Confirmer et envoyer", REF.pattern)
    return REF.search(done["text"]).group(0)


def staff_messages(double: Any, pattern: str) -> list[dict]:
    """The bot's messages in the staff group whose text matches."""
    return [m for m in double.messages_to(STAFF) if re.search(pattern, m.get("text") or "")]


def buttons(message: dict) -> list[str]:
    return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def db_rows(tmp_path: Path, sql: str, *params: Any) -> list[tuple]:
    db = sqlite3.connect(tmp_path / "bot.db")
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def wait_db(double: Any, tmp_path: Path, sql: str, expected: list[tuple], *params: Any) -> None:
    """Wait until a query on the bot's database gives ``expected`` (the bot writes after Telegram answers)."""
    double.wait_until(lambda: db_rows(tmp_path, sql, *params) == expected, 10, f"{sql} == {expected}")


def staff_says(double: Any, user: int, text: str, **options: Any) -> int:
    """A staff member writes in the group; returns the double's mark before it."""
    mark = double.mark()
    double.push_text(user, text, chat_id=STAFF, **options)
    return mark


# --- leads ---------------------------------------------------------------------------------


def test_a_lead_is_announced_and_its_status_follows_the_buttons(botapi_double, bot_process_factory,
                                                                 tmp_path: Path) -> None:
    double = botapi_double
    bot = start_bot(bot_process_factory, double)
    double.push_command(PROSPECT, "/start", "salon_2026", first_name="Zoé")
    double.wait_for_text(PROSPECT, "Salut")
    ref = pre_register(double, PROSPECT)

    lead = double.wait_for_text(STAFF, re.escape(ref))
    text = lead["text"]
    for expected in ("Nouvelle pré-inscription", "Dupont", "Zoé", "12 mars 2007", f"dupont.{PROSPECT}@example.com",
                     "06 12 34 56 78", "Bac pro", "Parcoursup", "salon_2026", "Nouveau"):
        assert expected in text, (expected, text)
    assert buttons(lead) == ["🙋 Je m'en occupe", "📞 Contacté", "✅ Clos"]

    mark = double.mark()
    double.click_button(MARIE, "🙋 Je m'en occupe", chat_id=STAFF, message_id=lead["message_id"])
    double.wait_for(lambda c: c.params.get("message_id") == lead["message_id"], method="editMessageText", since=mark)
    edited = double.message(STAFF, lead["message_id"])
    assert "Pris en charge" in edited["text"] and "Marie (7001)" in edited["text"]
    assert "🙋 Je m'en occupe" not in buttons(edited)

    double.click_button(PAUL, "📞 Contacté", chat_id=STAFF, message_id=lead["message_id"])
    double.wait_until(lambda: "Paul (7002)" in double.message(STAFF, lead["message_id"])["text"], 10, "the edit")
    assert db_rows(tmp_path, "SELECT status FROM registrations WHERE ref = ?", ref) == [("contacte",)]
    history = db_rows(tmp_path, "SELECT event, status, staff_id, staff_name FROM lead_events WHERE ref = ? "
                                "ORDER BY id", ref)
    assert history == [("cree", "nouveau", None, None), ("statut", "en_charge", MARIE, "Marie"),
                       ("statut", "contacte", PAUL, "Paul")]

    # Eve is in the group but not staff: her press changes nothing and says nothing about why.
    update = double.click_button(EVE, "✅ Clos", chat_id=STAFF, message_id=lead["message_id"])
    query_id = update["callback_query"]["id"]
    answer = double.wait_until(lambda: double.callback_answer(query_id), 10, "the refusal")
    assert "pas disponible" in answer.get("text", "")
    assert db_rows(tmp_path, "SELECT status FROM registrations WHERE ref = ?", ref) == [("contacte",)]
    assert len(staff_messages(double, re.escape(ref))) == 1
    for secret in ("Dupont", "example.com", "33612345678"):
        assert secret not in bot.stderr_text()


def test_an_unreachable_staff_group_delays_leads_but_never_loses_or_doubles_them(
        botapi_double, bot_process_factory, tmp_path: Path) -> None:
    double = botapi_double
    start_bot(bot_process_factory, double)
    double.inject("sendMessage", chat_id=STAFF, status=429, retry_after=1, times=1)
    double.inject("sendMessage", chat_id=STAFF, status=502, times=1)
    first = pre_register(double, PROSPECT)
    second = pre_register(double, OTHER, "Martin", "Léo")
    double.wait_until(lambda: staff_messages(double, re.escape(second)), 20, "the second lead")
    assert len(staff_messages(double, re.escape(first))) == 1
    assert len(staff_messages(double, re.escape(second))) == 1
    ids = [m["message_id"] for m in double.messages_to(STAFF)]
    assert ids == sorted(ids)
    order = [REF.search(m["text"]).group(0) for m in double.messages_to(STAFF)]
    assert order == [first, second], "the staff group gets the leads in order"
    statuses = [c.status for c in double.calls("sendMessage") if c.chat_id == STAFF]
    assert statuses[:2] == [429, 502] and statuses[2:] == [200, 200]
    wait_db(double, tmp_path, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'", [(0,)])


def test_a_wrong_staff_chat_then_a_restart_delivers_every_lead_once(botapi_double, bot_process_factory,
                                                                    tmp_path: Path) -> None:
    double = botapi_double
    bot = start_bot(bot_process_factory, double)
    double.fail_chat(STAFF, 400, description="Bad Request: chat not found")
    ref = pre_register(double, PROSPECT)
    double.wait_for(lambda c: c.chat_id == STAFF and c.status == 400, method="sendMessage")
    assert db_rows(tmp_path, "SELECT status FROM registrations WHERE ref = ?", ref) == [("nouveau",)]
    wait_db(double, tmp_path, "SELECT status, attempts > 0 FROM outbox WHERE kind = 'lead'", [("pending", 1)])

    bot.kill()  # crash: nothing but SQLite survives
    double.heal_chat(STAFF)
    bot.start()
    bot.wait_ready()
    double.wait_until(lambda: staff_messages(double, re.escape(ref)), 20, "the lead after the restart")
    time.sleep(0.5)  # a second delivery would happen right away
    assert len(staff_messages(double, re.escape(ref))) == 1
    wait_db(double, tmp_path, "SELECT status FROM outbox WHERE kind = 'lead'", [("sent",)])


def test_a_status_change_survives_a_crash_before_its_edit(botapi_double, bot_process_factory, tmp_path: Path) -> None:
    double = botapi_double
    bot = start_bot(bot_process_factory, double)
    ref = pre_register(double, PROSPECT)
    lead = double.wait_for_text(STAFF, re.escape(ref))
    double.inject("editMessageText", chat_id=STAFF, status=502, times=None)
    mark = double.mark()
    double.click_button(MARIE, "✅ Clos", chat_id=STAFF, message_id=lead["message_id"])
    double.wait_for(lambda c: c.status == 502, method="editMessageText", since=mark)
    bot.kill()
    double.clear_faults()
    bot.start()
    bot.wait_ready()
    double.wait_until(lambda: "Clos" in double.message(STAFF, lead["message_id"])["text"].split("Statut")[-1],
                      20, "the status edit after the restart")
    assert db_rows(tmp_path, "SELECT status FROM registrations WHERE ref = ?", ref) == [("clos",)]


# --- live conversations --------------------------------------------------------------------


def test_a_live_conversation_both_ways_and_its_end(botapi_double, bot_process_factory, tmp_path: Path) -> None:
    double = botapi_double
    bot = start_bot(bot_process_factory, double)
    say(double, PROSPECT, "c combien le salaire en alternance ?", "496", first_name="Zoé")
    say(double, PROSPECT, "combien coûte une pizza", "pas sûr", first_name="Zoé")
    opened = say(double, PROSPECT, "je veux parler a quelqu'un svp", "équipe des admissions", first_name="Zoé")
    assert "ici même" in opened["text"] and buttons(opened) == ["↩️ Revenir au bot"]

    request = double.wait_for_text(STAFF, "veut parler à quelqu'un")
    # Question texts are shown on demand only (issue 9, #4): a count, and a button.
    assert "Zoé" in request["text"] and "pizza" not in request["text"] and ": 2" in request["text"]
    assert str(PROSPECT) not in request["text"], "no Telegram id in the group"
    assert buttons(request) == ["✅ Terminer", "🔎 Voir ses questions"]
    mark = double.mark()
    double.click_button(MARIE, "🔎 Voir ses questions", chat_id=STAFF, message_id=request["message_id"])
    shown = double.wait_for_text(STAFF, "Dernières questions", since=mark)
    assert "combien coûte une pizza" in shown["text"] and "pas de réponse" in shown["text"]
    assert "Salaire" in shown["text"]

    say(double, PROSPECT, "Est-ce qu'il y a un <internat> & une cantine ?", "Transmis", first_name="Zoé")
    relayed = double.wait_for_text(STAFF, "internat")
    assert "<internat> & une cantine" in relayed["text"], "prospect text arrives as typed, never as markup"
    assert relayed["reply_to_message"]["message_id"] == request["message_id"]
    mark = double.mark()
    double.push_text(PROSPECT, "merci d'avance", first_name="Zoé")
    double.wait_for_text(STAFF, "merci d'avance", since=mark)
    assert not double.messages_to(PROSPECT, since=mark), "only the first message is acknowledged"

    staff_says(double, MARIE, "Bonjour Zoé ! Oui, il y a un <b>foyer</b> à 5 min.",
               reply_to_message_id=relayed["message_id"])
    answer = double.wait_for_text(PROSPECT, "foyer")
    assert "Marie" in answer["text"] and "<b>foyer</b>" in answer["text"]

    mark = double.mark()
    double.push_text(PROSPECT, "super, et le prix ?", first_name="Zoé")
    double.wait_for_text(STAFF, "et le prix", since=mark)

    mark = double.mark()
    double.push_command(PAUL, "/fin", chat_id=STAFF, reply_to_message_id=request["message_id"])
    double.wait_for_text(STAFF, "terminée par Paul", since=mark)
    end = double.wait_for_text(PROSPECT, "terminé la conversation", since=mark)
    assert "📋" not in end["text"] and len(buttons(end)) >= 6
    double.wait_until(lambda: not buttons(double.message(STAFF, request["message_id"])), 10, "Terminer removed")
    assert "terminée par Paul (7002)" in double.message(STAFF, request["message_id"])["text"]

    say(double, PROSPECT, "c combien le salaire ?", "496", first_name="Zoé")  # the bot answers again
    assert db_rows(tmp_path, "SELECT status, closed_by FROM handoffs WHERE user_id = ?", PROSPECT) == \
        [("closed", "staff")]
    logs = bot.stderr_text()
    assert "internat" not in logs and "foyer" not in logs


def test_the_prospect_leaves_and_staff_can_still_write(botapi_double, bot_process_factory) -> None:
    double = botapi_double
    start_bot(bot_process_factory, double)
    command(double, PROSPECT, "/conseiller", "ici même", first_name="Zoé")
    request = double.wait_for_text(STAFF, "veut parler à quelqu'un")
    assert "Aucune question" in request["text"]
    press(double, PROSPECT, "↩️ Revenir au bot", "je reprends la main")
    double.wait_for_text(STAFF, "revenu·e aux réponses automatiques")
    say(double, PROSPECT, "c combien le salaire ?", "496", first_name="Zoé")

    staff_says(double, MARIE, "Zoé, je vous rappelle demain ?", reply_to_message_id=request["message_id"])
    double.wait_for_text(PROSPECT, "je vous rappelle demain")
    double.wait_for_text(STAFF, "rouverte")
    mark = double.mark()
    double.push_text(PROSPECT, "oui avec plaisir", first_name="Zoé")
    double.wait_for_text(STAFF, "oui avec plaisir", since=mark)
    mark = double.mark()
    double.click_button(MARIE, "✅ Terminer", chat_id=STAFF, message_id=request["message_id"])
    double.wait_for_text(PROSPECT, "terminé la conversation", since=mark)


def test_a_conversation_in_its_own_forum_topic(botapi_double, bot_process_factory) -> None:
    double = botapi_double
    start_bot(bot_process_factory, double, forum=True)
    command(double, PROSPECT, "/start", "Salut", first_name="Zoé")
    press(double, PROSPECT, "🙋 Parler à un conseiller", "ici même")
    request = double.wait_for_text(STAFF, "veut parler à quelqu'un")
    topics = double.topics(STAFF)
    assert len(topics) == 1
    thread, topic = next(iter(topics.items()))
    assert "Zoé" in topic["name"] and request["message_thread_id"] == thread

    say(double, PROSPECT, "j'ai une question sur le handicap", "Transmis", first_name="Zoé")
    relayed = double.wait_for_text(STAFF, "question sur le handicap")
    assert relayed["message_thread_id"] == thread

    staff_says(double, MARIE, "Je vous écoute", message_thread_id=thread)  # in the topic, not a reply
    double.wait_for_text(PROSPECT, "Je vous écoute")
    mark = double.mark()
    double.push_command(MARIE, "/fin", chat_id=STAFF, message_thread_id=thread)
    done = double.wait_for_text(STAFF, "terminée par Marie", since=mark)
    assert done["message_thread_id"] == thread
    double.wait_for_text(PROSPECT, "terminé la conversation", since=mark)

    # A second request of the same prospect goes to the same topic.
    command(double, PROSPECT, "/conseiller", "ici même", first_name="Zoé")
    second = double.wait_for_text(STAFF, r"\(n°2\) veut parler")
    assert second["message_thread_id"] == thread and len(double.topics(STAFF)) == 1


def test_a_prospect_who_blocked_the_bot(botapi_double, bot_process_factory, tmp_path: Path) -> None:
    double = botapi_double
    start_bot(bot_process_factory, double)
    command(double, PROSPECT, "/conseiller", "ici même", first_name="Zoé")
    request = double.wait_for_text(STAFF, "veut parler à quelqu'un")
    double.block_user(PROSPECT)
    staff_says(double, MARIE, "Bonjour, vous êtes là ?", reply_to_message_id=request["message_id"])
    notice = double.wait_for_text(STAFF, "non remis")
    assert "Zoé" in notice["text"]
    assert notice["reply_to_message"]["message_id"] == request["message_id"]
    wait_db(double, tmp_path, "SELECT status FROM outbox WHERE kind = 'relay_out'", [("failed",)])


def test_supprimer_erases_conversations_and_blanks_the_staff_messages(botapi_double, bot_process_factory,
                                                                      tmp_path: Path) -> None:
    double = botapi_double
    start_bot(bot_process_factory, double)
    ref = pre_register(double, PROSPECT)
    lead = double.wait_for_text(STAFF, re.escape(ref))
    say(double, PROSPECT, "je peux avoir un conseiller ?", "ici même", first_name="Zoé")
    request = double.wait_for_text(STAFF, "veut parler à quelqu'un")
    assert ref in request["text"]
    command(double, PROSPECT, "/supprimer", "tout effacer", first_name="Zoé")
    press(double, PROSPECT, "🗑️ Oui, tout effacer", "C'est fait")
    double.wait_until(lambda: "effacée" in double.message(STAFF, lead["message_id"])["text"], 10, "lead blanked")
    double.wait_until(lambda: "effacé" in double.message(STAFF, request["message_id"])["text"], 10, "request blanked")
    assert "Dupont" not in double.message(STAFF, lead["message_id"])["text"]
    for table in ("handoffs", "lead_events"):
        assert db_rows(tmp_path, f"SELECT * FROM {table} WHERE user_id = ?", PROSPECT) == [], table
    staff_says(double, MARIE, "Bonjour ?", reply_to_message_id=request["message_id"])
    double.wait_for_text(STAFF, "supprimé ses données : votre message")


# --- staff commands --------------------------------------------------------------------------


def test_staff_commands(botapi_double, bot_process_factory, tmp_path: Path) -> None:
    double = botapi_double
    knowledge = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", knowledge)
    start_bot(bot_process_factory, double, KNOWLEDGE_DIR=knowledge)
    call = double.wait_for(lambda c: c.params.get("scope", {}).get("type") == "chat", method="setMyCommands")
    assert call.params["scope"]["chat_id"] == STAFF
    assert {"leads", "lead", "export", "stats", "sans_reponse", "recharger", "fin"} <= \
        {c["command"] for c in call.params["commands"]}
    private = double.commands({"type": "all_private_chats"})
    assert "leads" not in {c["command"] for c in private}

    ref = pre_register(double, PROSPECT)
    double.push_command(PROSPECT, "/start", first_name="Zoé")
    for question in ("combien coute une pizza", "prix d'une pizza ?", "la cantine c'est combien"):
        say(double, PROSPECT, question, ".", first_name="Zoé")

    listing = command(double, MARIE, "/leads", "dernières pré-inscriptions", chat_id=STAFF)
    assert ref in listing["text"] and "Zoé Dupont" in listing["text"]
    detail = command(double, MARIE, "/lead", "Historique", ref.lower(), chat_id=STAFF)
    assert f"dupont.{PROSPECT}@example.com" in detail["text"] and "envoyée par le candidat" in detail["text"]
    command(double, MARIE, "/lead", "introuvable", "MCO-ZZZZZZ", chat_id=STAFF)

    mark = double.mark()
    double.push_command(MARIE, "/export", chat_id=STAFF)
    double.wait_for(lambda c: c.status == 200, method="sendDocument", since=mark)
    message, upload = double.documents_to(STAFF)[-1]
    assert upload.filename.endswith(".csv") and upload.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(upload.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Référence" and rows[1][0] == ref and "Dupont" in rows[1]
    assert "1 pré-inscription" in message["caption"]

    stats = command(double, MARIE, "/stats", "Statistiques", chat_id=STAFF)
    assert "7 derniers jours" in stats["text"] and "30 derniers jours" in stats["text"]
    assert "Pré-inscriptions : 1" in stats["text"] and "Nouveau 1" in stats["text"]
    unanswered = command(double, MARIE, "/sans_reponse", "Questions sans réponse", chat_id=STAFF)
    assert "2×" in unanswered["text"] and "pizza" in unanswered["text"]

    entries = knowledge / "entries" / "contacts.yaml"
    good = entries.read_text("utf-8")
    entries.write_text(good.replace("  - id: contact\n", "  - id: Contact Invalide\n", 1), "utf-8")
    broken = command(double, MARIE, "/recharger", "problème", chat_id=STAFF)
    assert re.search(r"entries/contacts\.yaml:5: identifiant invalide", broken["text"]), broken["text"]
    say(double, PROSPECT, "c combien le salaire ?", "496", first_name="Zoé")  # still the old base
    entries.write_text(good, "utf-8")
    command(double, MARIE, "/recharger", "Base rechargée", chat_id=STAFF)


def test_staff_commands_are_refused_to_everyone_else(botapi_double, bot_process_factory) -> None:
    double = botapi_double
    start_bot(bot_process_factory, double)
    unknown = command(double, PROSPECT, "/nimportequoi", "Je ne connais pas cette commande")
    for name in ("leads", "lead", "export", "stats", "sans_reponse", "recharger", "fin"):
        in_group = command(double, EVE, f"/{name}", "Je ne connais pas cette commande", "MCO-AAAAAA", chat_id=STAFF)
        assert in_group["text"] == unknown["text"], "the same refusal as any unknown command"
        # In a private chat, even staff get the prospects' bot: /fin is theirs, the rest is unknown.
        expected = "pas en conversation" if name == "fin" else "Je ne connais pas cette commande"
        private = command(double, MARIE, f"/{name}", expected, "MCO-AAAAAA")
        assert "MCO-" not in private["text"]
    assert not double.documents_to(STAFF) and not double.documents_to(MARIE)
    assert all(m["text"] == unknown["text"] for m in double.messages_to(STAFF))


def test_outside_office_hours_the_prospect_is_told_when(botapi_double, bot_process_factory) -> None:
    double = botapi_double
    other = dt.datetime.now(PARIS).isoweekday() % 7 + 1  # the team is only there tomorrow
    start_bot(bot_process_factory, double, OFFICE_HOURS="09:00-17:00", OFFICE_DAYS=str(other))
    opened = command(double, PROSPECT, "/conseiller", "à partir de", first_name="Zoé")
    assert "9h" in opened["text"]
    request = double.wait_for_text(STAFF, "veut parler")
    assert "hors des horaires" in request["text"]
