"""The staff side of the core: leads, live conversations, staff commands, office hours.

Everything runs through ``Assistant.handle()`` (a prospect) and ``StaffDesk.handle()``
(a staff member in the group), on a real SQLite file in ``tmp_path`` and the real
``knowledge/``. Telegram is not involved: what must reach the group or a prospect
later is read from the outbox table, as the deliverer would.
"""
from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.clock import PARIS, Clock
from bot.config import Settings
from bot.conversation.engine import Assistant
from bot.conversation.messages import Incoming, Kind, Person, Reply
from bot.knowledge.store import KnowledgeStore
from bot.registration import steps
from bot.staff.csv_export import safe_cell
from bot.staff.desk import StaffDesk, StaffInput
from bot.staff.hours import OfficeHours
from bot.staff.intent import wants_a_person
from bot.staff.unanswered import group_questions
from bot.storage.outbox import Outbox
from bot.storage.staff import purge_staff_data
from testing.assistants import build_assistant
from testing.fixtures import knowledge  # noqa: F401 (defined once there; still importable from here)

ROOT = Path(__file__).resolve().parent.parent
STAFF = -100999
MARIE, EVE = 11, 66
ZOE = Person(4242, "Zoé", "Dupont")
MONDAY_10H = dt.datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)  # a Monday

GOOD = {steps.LAST_NAME: "Dupont", steps.FIRST_NAME: "Zoé", steps.BIRTH_DATE: "12/03/2007",
        steps.EMAIL: "zoe.dupont@example.com", steps.PHONE: "06 12 34 56 78"}
PRESS = {steps.DIPLOMA: "bac_pro", steps.SITUATION: "lyceen", steps.COMPANY: "recherche", steps.HEARD: "parcoursup"}


class MovableClock(Clock):
    """A clock the test sets."""

    def __init__(self, at: dt.datetime) -> None:
        super().__init__()
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


def build(knowledge: KnowledgeStore, path: Path, clock: Clock | None = None, **settings: Any) -> Assistant:
    options = {"staff_chat_id": STAFF, "staff_user_ids": (MARIE,), **settings}
    return build_assistant(knowledge, path, clock or MovableClock(MONDAY_10H), settings=Settings(**options))


@pytest.fixture
def assistant(knowledge: KnowledgeStore, tmp_path: Path) -> Assistant:
    return build(knowledge, tmp_path / "bot.db")


def desk_of(assistant: Assistant) -> StaffDesk:
    return assistant.staff  # type: ignore[attr-defined]


def say(assistant: Assistant, kind: Kind, payload: str = "", *args: str, person: Person = ZOE) -> str:
    replies = assistant.handle(Incoming(person, kind, payload, tuple(args)))
    text = "\n".join(r.plain_text() for r in replies)
    assert "staff." not in text and "{" not in text, text
    return text


def staff(assistant: Assistant, user: int = MARIE, chat: int = STAFF, **fields: Any):
    return desk_of(assistant).handle(StaffInput(chat, user, "Marie" if user == MARIE else "Eve", **fields))


def outbox_rows(assistant: Assistant, kind: str | None = None) -> list[dict[str, Any]]:
    cursor = assistant.db.execute("SELECT * FROM outbox ORDER BY id")
    columns = [c[0] for c in cursor.description]
    rows = [dict(zip(columns, r)) for r in cursor.fetchall()]
    for row in rows:
        row.update(json.loads(row.pop("payload")))
    return [r for r in rows if kind is None or r["kind"] == kind]


def deliver_all(assistant: Assistant, first_message_id: int = 100) -> None:
    """Mark every pending row sent, as the deliverer would, each with a new message id."""
    outbox = Outbox(assistant.db)
    for number, row in enumerate(outbox.due(assistant.clock.now() + dt.timedelta(days=1))):
        outbox.mark_sent(row.id, first_message_id + number if row.edit_of is None else
                         outbox.message_id_of(row.edit_of))


def message_of(assistant: Assistant, kind: str, index: int = -1) -> int:
    return outbox_rows(assistant, kind)[index]["sent_message_id"]


def pre_register(assistant: Assistant, person: Person = ZOE) -> str:
    """The real form, from /inscription to the confirmation; returns the reference."""
    store_step = lambda: assistant.db.execute(  # noqa: E731
        "SELECT step FROM drafts WHERE user_id = ?", [person.user_id]).fetchone()
    say(assistant, Kind.COMMAND, "inscription", person=person)
    say(assistant, Kind.BUTTON, "f:ok", person=person)
    for _ in range(15):
        step = store_step()[0]
        if step == steps.SUMMARY:
            break
        if step in steps.TYPED:
            say(assistant, Kind.TEXT, GOOD[step], person=person)
        else:
            say(assistant, Kind.BUTTON, f"f:v:{step}:{PRESS[step]}", person=person)
    say(assistant, Kind.BUTTON, "f:send", person=person)
    return assistant.db.execute("SELECT ref FROM registrations WHERE user_id = ?", [person.user_id]).fetchone()[0]


# --- asking for a person in words ------------------------------------------------------------

ASKS = ["je veux parler a quelqu'un", "un humain svp", "je peux avoir un conseiller",
        "Je veux parler à un conseiller", "est-ce que je peux parler à quelqu'un de l'école ?",
        "j'aimerais discuter avec un conseiller", "passez-moi un humain", "je voudrais parler à une vraie personne",
        "mettez-moi en relation avec un conseiller", "conseiller svp", "un conseillé stp", "jveux parlé a qqn",
        "CONSEILLER", "un humaim svp", "je voudrais être rappelé", "j'ai besoin d'un conseiller",
        "je veux parler à l'équipe", "je veux parler a un conseiler", "besoin d'une vraie personne"]
NOT_ASKS = ["quel est le salaire d'un conseiller de vente", "devenir conseiller de vente",
            "conseiller clientèle c'est possible après ?", "tu es un humain ?", "t'es humain",
            "je veux des conseils pour mon CV", "personne ne m'a répondu",
            "une personne handicapée peut-elle s'inscrire",
            "vous me conseillez quoi", "c'est quoi le métier de conseiller", "combien de personnes par classe",
            "je veux le portable de la responsable", "comment vous joindre", "y a quelqu'un",
            "je voudrais des infos sur l'équipe pédagogique", "un conseil svp",
            "on peut devenir conseiller commercial après ?",
            "je cherche un poste de conseiller", "le salaire", "bonjour"]


@pytest.mark.parametrize("text", ASKS)
def test_asking_for_a_person_in_words_is_recognised(text: str) -> None:
    assert wants_a_person(text)


@pytest.mark.parametrize("text", NOT_ASKS)
def test_careers_advice_and_questions_about_the_bot_are_not_requests(text: str) -> None:
    assert not wants_a_person(text)


def test_the_request_is_caught_before_the_faq_and_careers_still_reach_it(assistant: Assistant) -> None:
    said = say(assistant, Kind.TEXT, "je veux parler a quelqu'un")
    assert "ici même" in said and assistant.sessions.load(ZOE.user_id)["mode"] == "handoff"
    assert assistant.db.execute("SELECT COUNT(*) FROM questions").fetchone() == (0,)
    other = Person(5, "Léo")
    said = say(assistant, Kind.TEXT, "c'est quoi le salaire d'un conseiller de vente", person=other)
    assert "ici même" not in said
    assert assistant.sessions.load(5).get("mode") is None


# --- office hours ----------------------------------------------------------------------------


def test_office_hours_and_the_next_opening() -> None:
    hours = OfficeHours(dt.time(9), dt.time(17), frozenset(range(1, 6)))
    friday_evening = dt.datetime(2026, 3, 6, 18, 30, tzinfo=PARIS)
    assert hours.is_open(MONDAY_10H) and not hours.is_open(friday_evening)
    assert hours.next_opening(friday_evening) == dt.datetime(2026, 3, 9, 9, 0, tzinfo=PARIS)
    early = dt.datetime(2026, 3, 3, 7, 0, tzinfo=PARIS)
    assert hours.next_opening(early) == dt.datetime(2026, 3, 3, 9, 0, tzinfo=PARIS)
    assert hours.next_opening(dt.datetime(2026, 3, 3, 17, 0, tzinfo=PARIS)).date() == dt.date(2026, 3, 4)
    utc_evening = dt.datetime(2026, 3, 2, 7, 30, tzinfo=dt.timezone.utc)  # 8h30 in Paris
    assert not hours.is_open(utc_evening)
    assert not OfficeHours(dt.time(9), dt.time(17), frozenset()).next_opening(MONDAY_10H)


def test_office_hours_in_words(assistant: Assistant) -> None:
    render = desk_of(assistant).render()
    week = OfficeHours(dt.time(9), dt.time(17, 30), frozenset(range(1, 6)))
    assert week.describe(render) == "du lundi au vendredi, de 9h à 17h30"
    two_mornings = OfficeHours(dt.time(9), dt.time(12), frozenset({1, 3}))
    assert two_mornings.describe(render) == "les lundi, mercredi, de 9h à 12h"
    assert week.when(render, dt.datetime(2026, 3, 3, 7, 0, tzinfo=PARIS)) == "aujourd'hui à 9h"
    assert week.when(render, dt.datetime(2026, 3, 3, 20, 0, tzinfo=PARIS)) == "demain à 9h"
    assert week.when(render, dt.datetime(2026, 3, 6, 20, 0, tzinfo=PARIS)) == "lundi 9 mars 2026 à 9h"


def test_outside_office_hours_the_prospect_is_told_when(knowledge: KnowledgeStore, tmp_path: Path) -> None:
    saturday = MovableClock(dt.datetime(2026, 3, 7, 11, 0, tzinfo=PARIS))
    assistant = build(knowledge, tmp_path / "bot.db", saturday)
    said = say(assistant, Kind.COMMAND, "conseiller")
    assert "lundi 9 mars 2026 à 9h" in said and "du lundi au vendredi" in said
    request = outbox_rows(assistant, "handoff")[0]
    assert "hors des horaires" in request["text"]


# --- leads -----------------------------------------------------------------------------------


def test_a_confirmed_pre_registration_is_announced_in_the_same_transaction(assistant: Assistant) -> None:
    say(assistant, Kind.COMMAND, "start", "salon_2026")
    ref = pre_register(assistant)
    (lead,) = outbox_rows(assistant, "lead")
    assert lead["audience"] == "staff" and lead["ref"] == ref and lead["status"] == "pending"
    for expected in (ref, "Nouvelle pré-inscription", "Dupont", "Zoé", "12 mars 2007", "zoe.dupont@example.com",
                     "06 12 34 56 78", "Bac pro", "Lycéen·ne", "en recherche", "Parcoursup", "salon_2026", "Nouveau"):
        assert expected in lead["text"], expected
    assert [b[1] for b in lead["buttons"][0]] == [f"s:l:en_charge:{ref}", f"s:l:contacte:{ref}", f"s:l:clos:{ref}"]
    events = assistant.db.execute("SELECT event, status, user_id FROM lead_events").fetchall()
    assert events == [("cree", "nouveau", ZOE.user_id)]

    # Confirming again (an update from /inscription) announces an update, same reference.
    say(assistant, Kind.COMMAND, "inscription")
    say(assistant, Kind.BUTTON, "f:send")
    update = outbox_rows(assistant, "lead")[-1]
    assert "mise à jour" in update["text"] and ref in update["text"]


def test_a_failing_subscriber_rolls_back_only_itself(assistant: Assistant) -> None:
    def broken(turn: Any, row: dict[str, Any]) -> None:
        desk_of(assistant).queue_staff("lead", Reply("half"), ref=row["ref"])
        raise RuntimeError("boom")

    assistant.on_confirmed.insert(0, broken)
    ref = pre_register(assistant)
    assert [r["text"] for r in outbox_rows(assistant, "lead")] == [outbox_rows(assistant, "lead")[0]["text"]]
    assert ref in outbox_rows(assistant, "lead")[0]["text"]


def test_without_a_staff_group_nothing_is_queued(knowledge: KnowledgeStore, tmp_path: Path) -> None:
    assistant = build(knowledge, tmp_path / "bot.db", staff_chat_id=None)
    pre_register(assistant)
    assert outbox_rows(assistant) == []
    said = say(assistant, Kind.COMMAND, "conseiller")
    assert "03 22 82 84 70" in said and assistant.db.execute("SELECT COUNT(*) FROM handoffs").fetchone() == (0,)


def test_status_buttons_change_the_lead_and_queue_an_edit(assistant: Assistant) -> None:
    ref = pre_register(assistant)
    deliver_all(assistant)
    lead_message = message_of(assistant, "lead")
    result = staff(assistant, callback_data=f"s:l:en_charge:{ref}", message_id=lead_message)
    assert "Pris en charge" in result.notice
    (edit,) = outbox_rows(assistant, "lead_edit")
    assert edit["edit_of"] == outbox_rows(assistant, "lead")[0]["id"]
    assert "Pris en charge**, par Marie (11)" in edit["text"]
    assert [b[0] for b in edit["buttons"][0]] == ["📞 Contacté", "✅ Clos"]
    assert assistant.db.execute("SELECT status FROM registrations").fetchone() == ("en_charge",)

    deliver_all(assistant, 200)  # the edit keeps the message id; a press on it edits the same message
    staff(assistant, callback_data=f"s:l:clos:{ref}", message_id=lead_message)
    assert outbox_rows(assistant, "lead_edit")[-1]["edit_of"] == outbox_rows(assistant, "lead")[0]["id"]
    again = staff(assistant, callback_data=f"s:l:clos:{ref}", message_id=lead_message)
    assert "Déjà" in again.notice and len(outbox_rows(assistant, "lead_edit")) == 2
    history = assistant.db.execute("SELECT status, staff_id, staff_name FROM lead_events WHERE event = 'statut'")
    assert history.fetchall() == [("en_charge", MARIE, "Marie"), ("clos", MARIE, "Marie")]


def test_buttons_from_anyone_else_or_forged_do_nothing(assistant: Assistant) -> None:
    ref = pre_register(assistant)
    deliver_all(assistant)
    lead_message = message_of(assistant, "lead")
    for result in (staff(assistant, EVE, callback_data=f"s:l:clos:{ref}", message_id=lead_message),
                   staff(assistant, callback_data="s:l:supprime:" + ref, message_id=lead_message),
                   staff(assistant, callback_data="s:zzz", message_id=lead_message),
                   staff(assistant, MARIE, chat=-5, callback_data=f"s:l:clos:{ref}", message_id=lead_message)):
        assert result.notice == "Ce bouton n'est pas disponible."
    assert "introuvable" in staff(assistant, callback_data="s:l:clos:MCO-ZZZZZZ", message_id=lead_message).notice
    assert assistant.db.execute("SELECT status FROM registrations").fetchone() == ("nouveau",)
    assert outbox_rows(assistant, "lead_edit") == []


# --- live conversations ----------------------------------------------------------------------


def open_conversation(assistant: Assistant) -> dict[str, Any]:
    say(assistant, Kind.TEXT, "c combien le salaire")
    say(assistant, Kind.TEXT, "combien coute une pizza")
    said = say(assistant, Kind.BUTTON, "conseiller")
    assert "ici même" in said and "du lundi au vendredi, de 9h à 17h" in said
    return outbox_rows(assistant, "handoff")[0]


def test_a_request_reaches_staff_with_the_context_and_little_else(assistant: Assistant) -> None:
    request = open_conversation(assistant)
    text = request["text"]
    # The questions' texts are not copied into the group: a count and a button to read them (issue 9, #4).
    assert "Zoé (n°1)" in text and "Questions posées au bot avant cette demande : 2" in text
    assert "pizza" not in text and "salaire" not in text
    assert "Dupont" not in text and str(ZOE.user_id) not in text
    assert request["buttons"] == [[["✅ Terminer", "s:h:end:1"], ["🔎 Voir ses questions", "s:h:q:1"]]]
    shown = staff(assistant, callback_data="s:h:q:1").replies[0].text
    assert "« c combien le salaire » → réponse « Salaire de l'apprenti »" in shown
    assert "« combien coute une pizza » → pas de réponse" in shown
    row = assistant.db.execute("SELECT user_id, status, root_outbox_id, first_name FROM handoffs").fetchone()
    assert row == (ZOE.user_id, "open", request["id"], "Zoé")
    assert "déjà en contact" in say(assistant, Kind.COMMAND, "conseiller")
    assert len(outbox_rows(assistant, "handoff")) == 1


def test_messages_go_both_ways_until_staff_end_the_conversation(assistant: Assistant) -> None:
    request = open_conversation(assistant)
    assert "Transmis" in say(assistant, Kind.TEXT, "il y a un internat ?")
    assert say(assistant, Kind.TEXT, "et une cantine ?") == ""
    assert "que des messages écrits" in say(assistant, Kind.OTHER, "sticker")
    relays = outbox_rows(assistant, "relay_in")
    assert [r["reply_to"] for r in relays] == [request["id"]] * 2
    assert "internat" in relays[0]["text"] and "Zoé (n°1)" in relays[0]["text"]
    said = say(assistant, Kind.COMMAND, "menu")
    assert "quitté la conversation" in said and "Choisis un thème" in said
    assert "revenu·e" in outbox_rows(assistant, "handoff_note")[0]["text"]


def test_staff_reply_relay_and_end(assistant: Assistant) -> None:
    open_conversation(assistant)
    say(assistant, Kind.TEXT, "il y a un internat ?")
    deliver_all(assistant)
    relay_message = message_of(assistant, "relay_in")
    result = staff(assistant, text="Oui, à 5 minutes **à pied**", reply_to_message_id=relay_message)
    assert result.handled and result.replies == []
    (answer,) = outbox_rows(assistant, "relay_out")
    assert answer["audience"] == "prospect" and answer["chat_id"] == ZOE.user_id
    assert "Marie" in answer["text"] and "**à pied**" not in answer["text"], "staff markup is defused"

    assert not staff(assistant, text="on en parle ?").handled, "staff talking among themselves"
    assert not staff(assistant, text="ok", reply_to_message_id=99999).handled

    done = staff(assistant, command="fin", reply_to_message_id=relay_message)
    assert "terminée par Marie (11)" in done.replies[0].text
    (goodbye,) = outbox_rows(assistant, "handoff_end")
    assert goodbye["chat_id"] == ZOE.user_id and goodbye["buttons"], "the menu comes back with it"
    edit = outbox_rows(assistant, "handoff_edit")[-1]
    assert edit["edit_of"] == outbox_rows(assistant, "handoff")[0]["id"] and edit["buttons"] == []
    assert assistant.sessions.load(ZOE.user_id).get("mode") is None
    assert "496" in say(assistant, Kind.TEXT, "c combien le salaire")
    assert "déjà terminée" in staff(assistant, callback_data="s:h:end:1", message_id=1).notice
    assert "pour terminer" in staff(assistant, command="fin").replies[0].text.lower()


def test_a_reply_in_the_forum_topic_is_relayed(assistant: Assistant) -> None:
    open_conversation(assistant)
    desk_of(assistant).handoffs.set_topic(1, 555)
    staff(assistant, text="Bonjour !", message_thread_id=555)
    assert "Bonjour !" in outbox_rows(assistant, "relay_out")[0]["text"]
    assert "terminée" in staff(assistant, command="fin", message_thread_id=555).replies[0].text


def test_the_prospect_leaves_and_a_staff_reply_reopens(assistant: Assistant) -> None:
    open_conversation(assistant)
    deliver_all(assistant)
    request_message = message_of(assistant, "handoff")
    assert "je reprends la main" in say(assistant, Kind.BUTTON, "h:quit")
    assert "revenu·e aux réponses automatiques" in outbox_rows(assistant, "handoff_note")[0]["text"]
    assert assistant.db.execute("SELECT status, closed_by FROM handoffs").fetchone() == ("closed", "prospect")
    assert "496" in say(assistant, Kind.TEXT, "c combien le salaire")

    result = staff(assistant, text="Je vous rappelle ?", reply_to_message_id=request_message)
    assert "rouverte" in result.replies[0].text
    assert assistant.sessions.load(ZOE.user_id)["mode"] == "handoff"
    assert "Transmis" in say(assistant, Kind.TEXT, "oui merci")
    assert "quitté la conversation" in say(assistant, Kind.COMMAND, "menu")
    assert "pas en conversation" in say(assistant, Kind.COMMAND, "fin")


def test_a_staff_reply_does_not_pull_a_prospect_out_of_the_form(assistant: Assistant) -> None:
    open_conversation(assistant)
    deliver_all(assistant)
    request_message = message_of(assistant, "handoff")
    say(assistant, Kind.COMMAND, "fin")
    say(assistant, Kind.COMMAND, "inscription")
    say(assistant, Kind.BUTTON, "f:ok")
    result = staff(assistant, text="Vous avez une question ?", reply_to_message_id=request_message)
    assert result.replies == [] and len(outbox_rows(assistant, "relay_out")) == 1
    assert assistant.sessions.load(ZOE.user_id)["mode"] == "form"


def test_a_blocked_prospect_is_reported_in_the_conversation(assistant: Assistant) -> None:
    request = open_conversation(assistant)
    deliver_all(assistant)
    staff(assistant, text="Bonjour", reply_to_message_id=message_of(assistant, "handoff"))
    (relay,) = Outbox(assistant.db).due(MONDAY_10H + dt.timedelta(days=1))
    desk_of(assistant).handoffs.undeliverable(relay)
    (note,) = outbox_rows(assistant, "handoff_note")
    assert "non remis à Zoé (n°1)" in note["text"] and note["reply_to"] == request["id"]


def test_supprimer_erases_conversations_relays_and_blanks_staff_messages(assistant: Assistant) -> None:
    ref = pre_register(assistant)
    open_conversation(assistant)
    say(assistant, Kind.TEXT, "une question")
    deliver_all(assistant)
    staff(assistant, text="Une réponse en attente", reply_to_message_id=message_of(assistant, "handoff"))
    assert "MCO-" in outbox_rows(assistant, "handoff")[0]["text"], "the request names the reference"
    assistant.erase_person(ZOE.user_id)
    for table in ("handoffs", "lead_events"):
        assert assistant.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,), table
    assert outbox_rows(assistant, "relay_out") == [], "the pending relay is dropped"
    blanked = {r["edit_of"]: r["text"] for r in outbox_rows(assistant) if r["status"] == "pending"}
    originals = [r["id"] for r in outbox_rows(assistant) if r["kind"] in ("lead", "handoff", "relay_in")]
    assert sorted(blanked) == sorted(originals)
    assert all("effacé" in text and ref not in text for text in blanked.values())
    said = staff(assistant, text="Allô ?", reply_to_message_id=message_of(assistant, "handoff")).replies[0].text
    assert "supprimé ses données" in said


def test_health_questions_never_reach_the_staff_group(assistant: Assistant) -> None:
    say(assistant, Kind.TEXT, "je suis seropositif, je dois le dire a l'entreprise ?")
    say(assistant, Kind.TEXT, "je prends des antidepresseurs, ca pose probleme ?")
    say(assistant, Kind.TEXT, "combien coute une pizza")
    say(assistant, Kind.BUTTON, "conseiller")
    stored = [r[0] for r in assistant.db.execute("SELECT text FROM questions")]
    assert not any("seropositif" in t or "antidepresseurs" in t for t in stored), stored
    request = outbox_rows(assistant, "handoff")[0]["text"]
    assert "seropositif" not in request and "pizza" not in request
    shown = staff(assistant, callback_data="s:h:q:1").replies[0].text
    assert shown.count("question masquée") == 2 and "pizza" in shown
    assert "seropositif" not in shown and "antidepresseurs" not in shown


def test_purge_forgets_old_conversations_and_orphan_history(assistant: Assistant) -> None:
    open_conversation(assistant)
    say(assistant, Kind.BUTTON, "h:quit")
    ref = pre_register(assistant)
    assistant.db.execute("DELETE FROM registrations WHERE ref = ?", [ref])
    deleted = purge_staff_data(assistant.db, MONDAY_10H + dt.timedelta(days=1))
    assert deleted == {"handoffs": 1, "lead_events": 1}


# --- staff commands --------------------------------------------------------------------------


def test_leads_lead_and_the_refusals(assistant: Assistant) -> None:
    ref = pre_register(assistant)
    listing = staff(assistant, command="leads").replies[0].text
    assert ref in listing and "Zoé Dupont" in listing and "Nouveau" in listing
    detail = staff(assistant, command="lead", args=(ref[4:].lower(),)).replies[0].text
    assert "zoe.dupont@example.com" in detail and "envoyée par le candidat" in detail
    assert "Précisez" in staff(assistant, command="lead").replies[0].text
    unknown = assistant.faq().render.text("general.commande_inconnue")
    for user, chat in ((EVE, STAFF), (MARIE, -5)):
        for name in ("leads", "lead", "export", "stats", "sans_reponse", "recharger", "fin"):
            result = staff(assistant, user, chat, command=name, args=(ref,))
            assert [r.text for r in result.replies] == [unknown] and result.replies[0].document is None
    assert "/sans_reponse" in staff(assistant, command="nimporte").replies[0].text


def test_export_is_a_csv_that_french_excel_opens(assistant: Assistant) -> None:
    ref = pre_register(assistant)
    other = Person(77, "Léo", "=HYPERLINK(\"x\")")
    say(assistant, Kind.COMMAND, "inscription", person=other)
    say(assistant, Kind.BUTTON, "f:ok", person=other)
    say(assistant, Kind.BUTTON, "f:me:last_name", person=other)  # the profile name, as a forged cell
    reply = staff(assistant, command="export").replies[0]
    name, content = reply.document
    assert name.startswith("preinscriptions_") and name.endswith(".csv")
    assert content.startswith(b"\xef\xbb\xbf") and b"\r\n" in content
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Référence", "Reçue le", "Mise à jour le", "Statut"] and len(rows) == 2
    assert rows[1][0] == ref and rows[1][3] == "🆕 Nouveau" and "Bac pro" in rows[1] and "06 12 34 56 78" in rows[1]
    assert len(rows[0]) == len(rows[1])
    assert "1 pré-inscription" in reply.text
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("+44 20") == "'+44 20" and safe_cell("a\nb") == "a b"


def test_every_form_field_is_a_column_of_the_export_under_its_records_title(assistant: Assistant) -> None:
    """A field is declared once (its record in bot/registration/steps.py): the export takes its title
    and its value from the record, so a field added to the form is exported without touching the CSV."""
    ref = pre_register(assistant)
    render = assistant.faq().render
    content = staff(assistant, command="export").replies[0].document[1]
    header, row = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    cells = dict(zip(header, row))
    assert len(set(header)) == len(header) == len(row)
    stored = assistant.db.execute("SELECT * FROM registrations WHERE ref = ?", [ref]).fetchone()
    columns = [c[0] for c in assistant.db.execute("SELECT * FROM registrations LIMIT 0").description]
    lead = dict(zip(columns, stored))
    for record in steps.FIELDS:
        title = render.text(record.export_title)
        assert title in cells, record.name
        if lead.get(record.name) and record.exported == "plain":
            assert cells[title] == str(lead[record.name]), record.name
    assert cells[render.text(steps.BY_NAME[steps.PHONE].export_title)] == "06 12 34 56 78"
    assert cells[render.text(steps.BY_NAME[steps.DIPLOMA].export_title)] == "Bac pro"


def test_stats_over_7_and_30_days(knowledge: KnowledgeStore, tmp_path: Path) -> None:
    clock = MovableClock(MONDAY_10H - dt.timedelta(days=20))
    assistant = build(knowledge, tmp_path / "bot.db", clock)
    say(assistant, Kind.COMMAND, "start", "salon")
    pre_register(assistant)
    say(assistant, Kind.TEXT, "combien coute une pizza")
    clock.at = MONDAY_10H
    say(assistant, Kind.TEXT, "c combien le salaire", person=Person(8, "Léo"))
    say(assistant, Kind.TEXT, "merci", person=Person(8, "Léo"))
    say(assistant, Kind.COMMAND, "conseiller", person=Person(8, "Léo"))
    text = staff(assistant, command="stats").replies[0].text
    week, month = text.split("**30 derniers jours**")
    assert "Questions : 2, dont 1 hors politesses ; réponses trouvées : 100 %" in week
    assert "Demandes à parler à quelqu'un : 1" in week and "Pré-inscriptions : 0" in week
    assert "Questions : 3, dont 2 hors politesses ; réponses trouvées : 50 %" in month
    assert "Pré-inscriptions : 1" in month and "Nouveau 1" in month and "salon 1" in month


def test_unanswered_questions_grouped(assistant: Assistant) -> None:
    for i, question in enumerate(["combien coute une pizza", "prix d'une pizza ?", "c combien la pizza",
                                  "il fait beau à Amiens ?", "quel temps fait il a amiens",
                                  "c combien le salaire"]):
        say(assistant, Kind.TEXT, question, person=Person(100 + i, "X"))
    text = staff(assistant, command="sans_reponse").replies[0].text
    assert "**3×** « " in text and "pizza" in text.split("\n")[1]
    assert "salaire" not in text
    groups = group_questions(["a b c", "a b c", "a b", "x y"], lambda t: t.split())
    assert [(g.count, g.example) for g in groups] == [(3, "a b c"), (1, "x y")]


def test_recharger_keeps_the_old_base_on_a_problem(knowledge: KnowledgeStore, tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", folder)
    assistant = build(KnowledgeStore(folder), tmp_path / "bot.db")
    facts = folder / "facts.yaml"
    good = facts.read_text("utf-8")
    facts.write_text(good + "\n  : : broken\n", "utf-8")
    text = staff(assistant, command="recharger").replies[0].text
    assert "je garde la base actuelle" in text and "facts.yaml:" in text
    assert "496" in say(assistant, Kind.TEXT, "c combien le salaire")
    facts.write_text(good.replace("496", "497"), "utf-8")
    assert "Base rechargée" in staff(assistant, command="recharger").replies[0].text
    assert "497" in say(assistant, Kind.TEXT, "c combien le salaire")


def test_the_staff_command_menu(assistant: Assistant) -> None:
    menu = desk_of(assistant).commands.menu()
    assert [name for name, _ in menu] == ["leads", "mes_leads", "lead", "export", "stats", "sans_reponse", "modifs",
                                          "campagne", "campagnes", "recharger", "fin", "aide"]
    assert all(1 <= len(description) <= 256 and "staff." not in description for _, description in menu)


def test_cli_export_and_stats(assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    ref = pre_register(assistant)
    monkeypatch.setenv("BOT_DATABASE", str(tmp_path / "bot.db"))
    monkeypatch.setenv("STAFF_CHAT_ID", str(STAFF))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    target = tmp_path / "leads.csv"
    assert main(["export", "--csv", str(target)]) == 0
    content = target.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf") and ref.encode() in content
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert "Statistiques du bot" in out and "**" not in out and "30 derniers jours" in out


# --- the deliverer's part ----------------------------------------------------------------------


class FakeBot:
    """Just enough of ``telegram.Bot`` for the deliverer: records sends, fails on demand."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, int | None]] = []
        self.fail_next: list[Exception] = []
        self.next_id = 500

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Any:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.next_id += 1
        self.sent.append((chat_id, text, kwargs.get("message_thread_id")))
        return type("Message", (), {"message_id": self.next_id})()

    async def edit_message_text(self, text: str, chat_id: int, message_id: int, **kwargs: Any) -> Any:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.sent.append((chat_id, "edit:" + text, None))
        return True


def test_the_deliverer_keeps_order_behind_a_row_in_backoff_and_completes_rows(assistant: Assistant) -> None:
    from telegram.error import BadRequest, NetworkError

    from handlers.delivery import Deliverer

    bot = FakeBot()
    prepared: list[int] = []

    async def prepare(delivery: Any) -> Any:
        prepared.append(delivery.id)
        return delivery

    deliverer = Deliverer(bot, assistant.outbox, assistant.clock, STAFF, prepare=prepare)  # type: ignore[arg-type]
    first = desk_of(assistant).queue_staff("handoff_note", Reply("one"), ref="1")
    bot.fail_next = [NetworkError("down")]
    assert asyncio.run(deliverer.deliver_due()) == 0
    desk_of(assistant).queue_staff("handoff_note", Reply("two"), ref="1")
    assert asyncio.run(deliverer.deliver_due()) == 0, "the second waits behind the first"
    assert bot.sent == []
    assistant.clock.at += dt.timedelta(seconds=3)  # type: ignore[attr-defined]
    assert asyncio.run(deliverer.deliver_due()) == 2
    assert [text for _, text, _ in bot.sent] == ["one", "two"]
    assert prepared[0] == first

    desk_of(assistant).queue_staff("lead_edit", Reply("gone"), ref="x", edit_of=first)
    bot.fail_next = [BadRequest("Message to edit not found")]
    assert asyncio.run(deliverer.deliver_due()) == 1, "an edit of a deleted message is settled, not retried"
    assert assistant.outbox.pending_count() == 0


def test_purge_blanks_an_expired_lead_of_someone_still_active_and_old_questions(assistant: Assistant) -> None:
    """Issue 9, #3: the card of an expired lead is blanked before its history goes; questions age out."""
    from bot.cli import retention_purge

    ref = pre_register(assistant)
    say(assistant, Kind.TEXT, "je m'appelle Zoe et mon numero est le 0698765432")
    deliver_all(assistant)
    assistant.clock.at = MONDAY_10H + dt.timedelta(days=365 * 3 + 200)  # 36 months later, and more
    say(assistant, Kind.TEXT, "c'est quand la rentree ?")  # still active: not erased whole
    counts = retention_purge(assistant)
    assert counts["personnes"] == 0 and counts["registrations"] == 1 and counts["questions"] == 1
    texts = [r[0] for r in assistant.db.execute("SELECT text FROM questions")]
    assert texts == ["c'est quand la rentree ?"]
    lead = outbox_rows(assistant, "lead")[0]
    assert ref not in lead["text"], "the stored copy is blanked too"
    (edit,) = [r for r in outbox_rows(assistant, "lead_edit") if r["status"] == "pending"]
    assert edit["edit_of"] == lead["id"] and "données effacées" in edit["text"]
    assert assistant.db.execute("SELECT COUNT(*) FROM lead_events").fetchone() == (0,)
