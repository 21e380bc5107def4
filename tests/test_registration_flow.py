"""The pre-registration form, driven through ``Assistant.handle()`` as a prospect would.

Every test runs on a real SQLite file in ``tmp_path`` and the real ``knowledge/``;
expected sentences are read from ``knowledge/texts`` through the renderer, so the
wording can change without breaking the tests, but a missing text cannot.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from bot.clock import Clock
from bot.conversation.engine import Assistant
from bot.conversation.messages import Button, Incoming, Kind, Person, Reply
from bot.knowledge.store import KnowledgeStore
from bot.registration import steps
from bot.registration.flow import MODE
from bot.storage.db import MIGRATIONS, open_database
from bot.storage.registrations import RegistrationStore, months_before, purge_expired
from bot.storage.times import in_paris
from testing.assistants import build_assistant

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 3, 2)
USER = Person(user_id=4242, first_name="Zoé", last_name="DUPONT")
REF = re.compile(r"^MCO-[23456789ABCDEFGHJKMNPQRSTWXYZ]{6}$")

#: A sound typed answer for each typed step.
GOOD = {
    steps.LAST_NAME: "Dupont",
    steps.FIRST_NAME: "Zoé",
    steps.BIRTH_DATE: "12/03/2007",
    steps.EMAIL: "zoe.dupont@example.com",
    steps.PHONE: "06 12 34 56 78",
    steps.COMPANY_NAME: "Carrefour Market",
}
#: The button pressed at each choice step when a test just needs to get through it.
PRESS = {steps.DIPLOMA: "bac_pro", steps.SITUATION: "lyceen", steps.COMPANY: "recherche",
         steps.HEARD: "parcoursup"}


class Chat:
    """One prospect talking to an assistant, with helpers to read the replies."""

    def __init__(self, assistant: Assistant, person: Person = USER) -> None:
        self.assistant = assistant
        self.person = person
        self.last: list[Reply] = []
        self.seen_buttons: list[Button] = []

    def send(self, kind: Kind, payload: str = "", args: tuple[str, ...] = (),
             contact_user_id: int | None = None) -> list[Reply]:
        self.last = self.assistant.handle(Incoming(self.person, kind, payload, args, contact_user_id))
        for reply in self.last:
            self.seen_buttons.extend(reply.flat_buttons())
            assert not reply.text.startswith(("form.", "validation.", "general.")), reply.text
            assert "{" not in reply.text, reply.text
        return self.last

    def text(self, text: str) -> list[Reply]:
        return self.send(Kind.TEXT, text)

    def press(self, data: str) -> list[Reply]:
        return self.send(Kind.BUTTON, data)

    def command(self, name: str, *args: str) -> list[Reply]:
        return self.send(Kind.COMMAND, name, tuple(args))

    def contact(self, phone: str, owner: int | None) -> list[Reply]:
        return self.send(Kind.CONTACT, phone, contact_user_id=owner)

    @property
    def said(self) -> str:
        return "\n".join(r.plain_text() for r in self.last)

    @property
    def buttons(self) -> list[Button]:
        return [b for r in self.last for b in r.flat_buttons()]

    def t(self, key: str, **params: object) -> str:
        """A text of the bot, rendered as the prospect reads it."""
        return self.assistant.faq().render.text(key, **params).replace("**", "")

    # --- the database ----------------------------------------------------------------

    @property
    def store(self) -> RegistrationStore:
        return RegistrationStore(self.assistant.db)

    def draft(self) -> dict[str, Any] | None:
        draft = self.store.draft(self.person.user_id)
        return None if draft is None else {"step": draft.step, **draft.data}

    def step(self) -> str | None:
        draft = self.store.draft(self.person.user_id)
        return draft.step if draft else None

    def state(self) -> dict[str, Any]:
        return self.assistant.sessions.load(self.person.user_id)

    def registration(self) -> dict[str, Any] | None:
        return self.store.registration(self.person.user_id)

    # --- getting somewhere quickly ---------------------------------------------------

    def begin(self) -> None:
        self.command("inscription")
        self.press("f:ok")
        assert self.step() == steps.LAST_NAME

    def answer_current(self) -> None:
        step = self.step()
        if step in steps.TYPED:
            self.text(GOOD[step])
        else:
            self.press(f"f:v:{step}:{PRESS[step]}")

    def reach(self, step: str) -> None:
        """Get the form to ``step``, including the company name (asked only once "found" is chosen)."""
        if step == steps.COMPANY_NAME:
            self.fill_until(steps.COMPANY)
            self.press("f:v:company:trouvee")
        else:
            self.fill_until(step)

    def fill_until(self, target: str) -> None:
        """Start the form and answer soundly until ``target`` is the step asked."""
        self.begin()
        for _ in range(20):
            if self.step() == target:
                return
            self.answer_current()
        raise AssertionError(f"never reached {target}, stuck at {self.step()}")


def make_assistant(knowledge: KnowledgeStore, path: Path, day: dt.date = TODAY,
                   retention_months: int = 36) -> Assistant:
    return build_assistant(knowledge, path, Clock(day), retention_months=retention_months)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.db"


@pytest.fixture
def chat(knowledge: KnowledgeStore, db_path: Path) -> Chat:
    return Chat(make_assistant(knowledge, db_path))


def count(chat: Chat, table: str, user_id: int = USER.user_id) -> int:
    return chat.assistant.db.execute(f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", [user_id]).fetchone()[0]


# --- the whole journey -------------------------------------------------------------------


def test_full_pre_registration(chat: Chat, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    confirmed: list[tuple[Any, dict]] = []
    chat.assistant.on_confirmed.append(lambda turn, row: confirmed.append((turn, row)))

    chat.command("start", "salon_amiens")
    chat.press("inscription")
    notice = chat.said
    for needle in ("UFA Sacré-Cœur", "CFA Jean Bosco", "RGPD", "36 mois", "/mesdonnees", "/supprimer",
                   "campus@sacrecoeur-amiens.org", "https://site.sacrecoeur-amiens.org/mentions-legales/"):
        assert needle in notice
    assert [b.data for b in chat.buttons] == ["f:ok", "f:no"]
    assert count(chat, "drafts") == 0, "nothing is stored before the consent"

    chat.press("f:ok")
    assert chat.t("form.ask_last_name") in chat.said
    assert chat.draft() == {"step": steps.LAST_NAME}
    # the profile's last name, tidied, as a one-tap choice
    assert [(b.label, b.data) for b in chat.buttons] == [("✅ Dupont", "f:me:last_name")]
    chat.press("f:me:last_name")
    assert chat.t("form.ask_first_name") in chat.said
    chat.text("zoé")
    chat.text("12 mars 2007")
    assert chat.t("form.ask_email") in chat.said
    chat.text("Zoe.Dupont@Example.COM")
    phone_question = chat.last[-1]
    assert phone_question.contact_button == chat.t("form.bouton_contact")
    chat.text("+33 6 12 34 56 78")
    assert chat.last[0].remove_keyboard and not chat.last[0].buttons
    assert "06 12 34 56 78" in chat.last[0].text
    assert chat.t("form.ask_diploma") in chat.said
    labels = [b.label for b in chat.buttons]
    assert chat.t("form.choix_diploma_bac_en_cours") in labels
    assert chat.t("form.choix_diploma_etranger") in labels
    chat.press("f:v:diploma:bac_en_cours")
    chat.press("f:v:situation:lyceen")
    chat.press("f:v:company:trouvee")
    assert chat.t("form.ask_company_name") in chat.said
    chat.text("L'Atelier d'Émilie")
    # the deep-link source is proposed first, as a one-tap confirmation
    assert chat.t("form.ask_heard_source", source="Salon") in chat.said
    assert chat.buttons[0].data == "f:v:heard:salon" and "Salon" in chat.buttons[0].label
    chat.press("f:v:heard:salon")

    summary = chat.said
    assert chat.t("form.recap_intro") in summary
    for shown in ("Dupont", "Zoé", "12 mars 2007", "Zoe.Dupont@example.com", "06 12 34 56 78", "Bac en cours",
                  "Lycéen·ne", "L'Atelier d'Émilie", "Salon"):
        assert shown in summary
    assert [b.data for b in chat.buttons][-1] == "f:send"
    assert {b.data for b in chat.buttons} >= {f"f:fix:{f}" for f in steps.SUMMARY_FIELDS}

    chat.press("f:send")
    row = chat.registration()
    assert row is not None and REF.match(row["ref"])
    assert row["ref"] in chat.said
    assert {k: row[k] for k in steps.ORDER} == {
        "last_name": "Dupont", "first_name": "Zoé", "birth_date": "2007-03-12",
        "email": "Zoe.Dupont@example.com", "phone": "+33612345678", "diploma": "bac_en_cours",
        "situation": "lyceen", "company": "trouvee", "company_name": "L'Atelier d'Émilie", "heard": "salon",
    }
    assert row["source"] == "salon_amiens" and row["status"] == "nouveau"
    assert in_paris(row["consent_at"]).isoformat().startswith("2026-03-02T12:00:00")  # stored in UTC
    assert row["created_at"] == row["updated_at"]
    # next steps from the brochure
    for needle in ("campus@sacrecoeur-amiens.org", "https://cfajeanbosco-hdf.ymag.cloud/index.php/preinscription/",
                   "rendez-vous téléphonique", "demi-journée d'admission", "jury", "15 jours", "YPAREO"):
        assert needle in chat.said
    assert chat.draft() is None
    assert chat.state().get("mode") != MODE
    assert len(confirmed) == 1 and confirmed[0][1]["ref"] == row["ref"]

    # Telegram's limit on callback data, for every button the form showed
    assert all(len(b.data.encode()) <= 64 for b in chat.seen_buttons)
    # no personal data in the logs
    logs = caplog.text
    for secret in ("Dupont", "Zoé", "zoe.dupont", "Zoe.Dupont", "0612345678", "+33612345678", "06 12 34 56 78",
                   "2007", "Atelier"):
        assert secret not in logs


def test_start_deep_link_opens_the_form_after_the_welcome(chat: Chat) -> None:
    chat.command("start", "inscription")
    assert len(chat.last) == 2
    assert chat.t("general.bienvenue", prenom="Zoé") in chat.last[0].plain_text()
    assert "RGPD" in chat.last[1].text and [b.data for b in chat.buttons][-2:] == ["f:ok", "f:no"]
    assert chat.state()["mode"] == MODE


def test_apply_question_gets_the_answer_and_the_button(chat: Chat) -> None:
    for question in ("je veux m'inscrire", "comment je candidate"):
        chat.text(question)
        assert "inscription" in [b.data for b in chat.buttons], question
    chat.press("inscription")
    assert "RGPD" in chat.said


# --- bad inputs, typed differently ----------------------------------------------------


@pytest.mark.parametrize(
    ("step", "bad", "reason", "good", "stored"),
    [
        (steps.LAST_NAME, "Dupont2", "name_digits", "d'artagnan", "D'Artagnan"),
        (steps.LAST_NAME, "www.dupont.fr", "name_link", "N’Diaye", "N'Diaye"),
        (steps.LAST_NAME, "A" * 200, "name_too_long", "DE LA FONTAINE", "De La Fontaine"),
        (steps.FIRST_NAME, "Zoé 😀", "name_invalid_chars", "jean - pierre", "Jean-Pierre"),
        (steps.FIRST_NAME, "J", "name_too_short", "Hélène", "Hélène"),
        (steps.BIRTH_DATE, "31/02/2007", "date_impossible", "12-03-2007", "2007-03-12"),
        (steps.BIRTH_DATE, "2007", "date_incomplete", "le 1er mars 2007", "2007-03-01"),
        (steps.BIRTH_DATE, "bientôt", "date_format", "12 fev 2008", "2008-02-12"),
        (steps.BIRTH_DATE, "12/03/2030", "date_implausible", "2007-03-12", "2007-03-12"),
        (steps.EMAIL, "zoe@", "email_invalid", " zoe@gmail.com. ", "zoe@gmail.com"),
        (steps.PHONE, "123", "phone_invalid", "+33 6 12 34 56 78", "+33612345678"),
        (steps.PHONE, "06 12", "phone_invalid", "06.12.34.56.78", "+33612345678"),
        (steps.COMPANY_NAME, "x", "company_too_short", "H&M", "H&M"),
        (steps.COMPANY_NAME, "cdiscount.com", "company_link", "Boulangerie Martin", "Boulangerie Martin"),
    ],
)
def test_bad_answers_are_explained_and_asked_again(chat: Chat, step: str, bad: str, reason: str, good: str,
                                                    stored: str) -> None:
    chat.reach(step)
    before = chat.draft()
    chat.text(bad)
    assert chat.said.startswith(chat.t(f"validation.{reason}"))
    assert chat.draft() == before, "a wrong answer is not stored"
    if step == steps.PHONE:
        assert chat.last[-1].contact_button, "the share-my-number keyboard is offered again"
    chat.text(good)
    draft = chat.draft()
    assert draft is not None and draft[step] == stored
    assert draft["step"] != step


def test_age_outside_the_range_is_explained_but_never_refused(chat: Chat) -> None:
    chat.fill_until(steps.BIRTH_DATE)
    chat.text("3 avril 1990")
    said = chat.said
    assert chat.t("validation.age_outside_range") in said
    assert "sans limite d'âge" in said and "sportifs de haut niveau" in said
    assert chat.step() == steps.EMAIL and chat.draft()["birth_date"] == "1990-04-03"


def test_shared_contact_only_the_prospects_own(chat: Chat) -> None:
    chat.fill_until(steps.PHONE)
    chat.contact("33698765432", owner=999)
    assert chat.said.startswith(chat.t("validation.contact_not_own"))
    assert chat.step() == steps.PHONE
    chat.contact("33698765432", owner=USER.user_id)
    assert chat.draft()["phone"] == "+33698765432"
    assert chat.last[0].remove_keyboard
    assert chat.step() == steps.DIPLOMA


def test_a_contact_at_another_step_is_not_stored(chat: Chat) -> None:
    chat.fill_until(steps.EMAIL)
    chat.contact("33698765432", owner=USER.user_id)
    assert chat.t("form.contact_hors_etape") in chat.said
    assert "phone" not in chat.draft() and chat.step() == steps.EMAIL


def test_a_sticker_asks_the_step_again(chat: Chat) -> None:
    chat.fill_until(steps.FIRST_NAME)
    chat.send(Kind.OTHER, "sticker")
    assert chat.t("form.pas_du_texte") in chat.said and chat.t("form.ask_first_name") in chat.said
    assert chat.step() == steps.FIRST_NAME


def test_choices_can_be_typed(chat: Chat) -> None:
    chat.fill_until(steps.DIPLOMA)
    chat.text("bac pro")
    chat.text("demandeur d'emploi")
    assert chat.draft()["diploma"] == "bac_pro" and chat.draft()["situation"] == "demandeur_emploi"
    chat.text("euh")
    assert chat.t("form.choisis_bouton") in chat.said and chat.step() == steps.COMPANY


def test_foreign_diploma_gets_the_enic_naric_note(chat: Chat) -> None:
    chat.fill_until(steps.DIPLOMA)
    chat.press("f:v:diploma:etranger")
    assert "ENIC-NARIC" in chat.said and "copie de ton diplôme" in chat.said


def test_still_looking_for_a_company_gets_the_late_entry_note(chat: Chat) -> None:
    chat.fill_until(steps.COMPANY)
    chat.press("f:v:company:recherche")
    assert "30 novembre 2026" in chat.said  # {statut_entree} before the start of the year
    assert chat.step() == steps.HEARD and "company_name" not in chat.draft()


# --- questions along the way ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "question"),
    [
        (steps.LAST_NAME, "au fait c'est payé combien ?"),
        (steps.LAST_NAME, "c'est payé combien"),
        (steps.FIRST_NAME, "le rythme"),
        (steps.BIRTH_DATE, "c'est quand la rentrée ?"),
        (steps.PHONE, "rythme ?"),
        (steps.DIPLOMA, "combien coûte la formation ?"),
    ],
)
def test_a_question_in_the_middle_is_answered_then_the_form_resumes(chat: Chat, step: str, question: str) -> None:
    chat.fill_until(step)
    before = chat.draft()
    chat.text(question)
    assert len(chat.last) >= 2
    answer = chat.assistant.ask(question)  # the same answer as outside the form
    assert chat.last[0].text == answer.replies[0].text
    resume = chat.last[-1]
    assert resume.plain_text().startswith(chat.t("form.reprend", question="").strip())
    assert chat.t(f"form.ask_{step}") in resume.plain_text()
    assert chat.draft() == before, "the question is not taken for an answer"
    logged = chat.assistant.db.execute("SELECT text FROM questions WHERE user_id = ?", [USER.user_id]).fetchall()
    assert (question,) in logged


def test_names_that_look_like_nothing_are_names(chat: Chat) -> None:
    chat.fill_until(steps.LAST_NAME)
    chat.text("Dupont de Ligonnès")
    chat.text("Marie Claire")
    assert chat.draft()["last_name"] == "Dupont de Ligonnès" and chat.draft()["first_name"] == "Marie Claire"


# --- health data is never stored ------------------------------------------------------------


@pytest.mark.parametrize(("step", "text"), [
    (steps.LAST_NAME, "je suis dyslexique"),
    (steps.SITUATION, "je suis en situation de handicap"),
    (steps.COMPANY_NAME, "ESAT des Hortillons"),
])
def test_a_health_mention_is_not_stored(chat: Chat, step: str, text: str) -> None:
    chat.reach(step)
    before = chat.draft()
    chat.text(text)
    assert chat.t("form.sante") in chat.said
    assert "Maud LACASSAIGNE" in chat.said and "03 20 35 90 55" in chat.said
    assert chat.t(f"form.ask_{step}") in chat.last[-1].plain_text()
    assert chat.draft() == before
    dump = json.dumps([list(r) for r in chat.assistant.db.execute("SELECT * FROM drafts").fetchall()]
                      + [list(r) for r in chat.assistant.db.execute("SELECT * FROM questions").fetchall()]
                      + [list(r) for r in chat.assistant.db.execute("SELECT * FROM sessions").fetchall()],
                      ensure_ascii=False)
    assert text not in dump


# --- consent ----------------------------------------------------------------------------------


def test_refusing_consent_stores_nothing(chat: Chat) -> None:
    chat.command("inscription")
    chat.press("f:no")
    assert "Parcoursup" in chat.said and "03 22 82 84 70" in chat.said and "campus@sacrecoeur-amiens.org" in chat.said
    assert count(chat, "drafts") == 0 and count(chat, "registrations") == 0
    assert chat.state().get("mode") != MODE
    chat.text("c'est quoi le rythme ?")  # back to plain questions
    assert count(chat, "drafts") == 0 and "lundi" in chat.said


def test_a_question_before_consent_is_answered_and_consent_asked_again(chat: Chat) -> None:
    chat.command("inscription")
    chat.text("c'est payé combien ?")
    assert "496" in chat.said
    assert [b.data for b in chat.last[-1].flat_buttons()] == ["f:ok", "f:no"]
    assert count(chat, "drafts") == 0


# --- correcting from the summary ----------------------------------------------------------


def test_correcting_a_field_asks_only_that_field(chat: Chat) -> None:
    chat.fill_until(steps.SUMMARY)
    chat.press("f:fix:email")
    assert chat.t("form.ask_email") in chat.said and chat.step() == steps.EMAIL
    chat.text("autre.adresse@example.org")
    assert chat.step() == steps.SUMMARY and "autre.adresse@example.org" in chat.said
    # the company: from "still looking" to a company name, then straight back to the summary
    chat.press("f:fix:company")
    chat.press("f:v:company:trouvee")
    assert chat.step() == steps.COMPANY_NAME
    chat.text("Auchan")
    assert chat.step() == steps.SUMMARY and "Auchan" in chat.said
    chat.press("f:fix:company")
    chat.press("f:v:company:recherche")
    assert chat.step() == steps.SUMMARY and "company_name" not in chat.draft()
    chat.text("confirmer")  # a typed label works as the button
    assert chat.registration()["email"] == "autre.adresse@example.org"


# --- leaving, restarting, applying again -------------------------------------------------


def test_cancel_deletes_the_draft(chat: Chat) -> None:
    chat.fill_until(steps.PHONE)
    chat.command("annuler")
    assert chat.t("form.annule") in chat.said
    assert chat.last[0].remove_keyboard and not chat.last[0].buttons
    assert count(chat, "drafts") == 0 and chat.state().get("mode") != MODE
    chat.text("06 12 34 56 78")  # no longer an answer
    assert count(chat, "drafts") == 0
    chat.command("annuler")
    assert chat.t("form.rien_a_annuler") in chat.said


def test_a_restart_in_the_middle_loses_nothing(knowledge: KnowledgeStore, db_path: Path) -> None:
    first = Chat(make_assistant(knowledge, db_path))
    first.fill_until(steps.EMAIL)
    first.assistant.db.conn.close()

    second = Chat(make_assistant(knowledge, db_path, TODAY + dt.timedelta(days=1)))
    second.text("zoe@example.com")  # the next message simply continues the step
    assert second.step() == steps.PHONE
    assert second.draft()["last_name"] == "Dupont"
    second.assistant.db.conn.close()

    third = Chat(make_assistant(knowledge, db_path, TODAY + dt.timedelta(days=2)))
    third.command("inscription")  # resumes, does not start over
    assert third.t("form.reprise") in third.said and third.t("form.ask_phone") in third.said
    assert third.last[-1].contact_button
    third.text("0612345678")
    assert third.step() == steps.DIPLOMA


def test_start_reminds_of_a_draft(chat: Chat) -> None:
    chat.fill_until(steps.EMAIL)
    chat.command("start")
    assert chat.t("form.rappel_brouillon") in chat.said


def test_applying_again_updates_the_same_registration(knowledge: KnowledgeStore, db_path: Path) -> None:
    first = Chat(make_assistant(knowledge, db_path))
    first.fill_until(steps.SUMMARY)
    first.press("f:send")
    original = first.registration()

    later = Chat(make_assistant(knowledge, db_path, TODAY + dt.timedelta(days=10)))
    later.command("inscription")
    assert later.t("form.deja_inscrit", ref=original["ref"]) in later.said
    assert later.t("form.recap_intro") in later.said
    later.press("f:fix:phone")
    later.text("07 81 22 33 44")
    later.press("f:send")
    assert later.t("form.mise_a_jour", ref=original["ref"]) in later.said
    updated = later.registration()
    assert count(later, "registrations") == 1
    assert updated["ref"] == original["ref"] and updated["phone"] == "+33781223344"
    assert updated["created_at"] == original["created_at"] and updated["updated_at"] > original["updated_at"]

    # cancelling an update keeps the registration as it was
    later.command("inscription")
    later.command("annuler")
    assert later.t("form.annule_inscrit", ref=original["ref"]) in later.said
    assert later.registration() == updated


# --- stale and forged buttons ---------------------------------------------------------------


def test_stale_and_forged_buttons_never_store_anything(chat: Chat) -> None:
    chat.fill_until(steps.FIRST_NAME)
    before = chat.draft()
    for data in ("f:v:diploma:bac_pro", "f:me:last_name", "f:ok", "f:no", "f:send", "f:fix:email",
                 "f:v:first_name:x", "f:v:diploma:" + "z" * 60, "f:", "f:v:", "f:fix:status"):
        chat.press(data)
        assert chat.t("form.bouton_perime") in chat.said, data
        assert chat.t("form.ask_first_name") in chat.said, data
        assert chat.draft() == before, data
    chat.text("Zoé")
    chat.text("12/03/2007")
    chat.text("zoe@example.com")
    chat.text("0612345678")
    chat.press("f:v:diploma:doctorat")  # a code that does not exist
    assert chat.t("form.bouton_perime") in chat.said and "diploma" not in chat.draft()


def test_form_buttons_outside_the_form(chat: Chat) -> None:
    chat.press("f:ok")  # consent without having seen the notice
    assert chat.t("form.bouton_perime_hors") in chat.said and count(chat, "drafts") == 0
    chat.fill_until(steps.SUMMARY)
    chat.press("f:send")
    ref = chat.registration()["ref"]
    chat.press("f:send")  # a double tap
    assert chat.t("form.deja_envoye", ref=ref) in chat.said
    assert count(chat, "registrations") == 1


# --- the prospect's data --------------------------------------------------------------------


def test_mesdonnees_shows_everything(chat: Chat) -> None:
    chat.command("mesdonnees")
    assert chat.t("form.donnees_rien") in chat.said
    chat.command("start", "jpo_mars")
    chat.text("c'est payé combien ?")
    chat.fill_until(steps.PHONE)
    chat.command("mesdonnees")
    said = chat.said
    assert chat.t("form.donnees_brouillon", date="2 mars 2026") in said
    assert "Dupont" in said and "12 mars 2007" in said and "zoe.dupont@example.com" in said
    assert "jpo_mars" in said and chat.t("form.donnees_questions", n=1) in said
    for _ in range(10):
        if chat.step() == steps.SUMMARY:
            break
        chat.answer_current()
    chat.press("f:send")
    chat.command("mesdonnees")
    ref = chat.registration()["ref"]
    assert ref in chat.said and "06 12 34 56 78" in chat.said and "nouveau" in chat.said
    assert chat.t("form.donnees_brouillon", date="2 mars 2026") not in chat.said


def test_supprimer_erases_everything_after_confirmation(chat: Chat) -> None:
    chat.command("start", "salon")
    chat.text("c'est payé combien ?")
    chat.fill_until(steps.SUMMARY)
    chat.press("f:send")
    other = Chat(chat.assistant, Person(user_id=7, first_name="Léo"))
    other.text("c'est quand la rentrée ?")

    chat.command("supprimer")
    assert [b.data for b in chat.buttons] == ["f:del:yes", "f:del:no"]
    chat.press("f:del:no")
    assert chat.t("form.supprimer_annule") in chat.said and count(chat, "registrations") == 1

    chat.command("supprimer")
    chat.press("f:del:yes")
    assert chat.t("form.supprime") in chat.said
    for table in ("registrations", "drafts", "sessions", "prospects", "questions"):
        assert count(chat, table) == 0, table
    # Questions are erased, not unlinked: one may hold what the prospect typed about themselves.
    assert chat.assistant.db.execute("SELECT COUNT(*) FROM questions WHERE user_id IS NULL").fetchone()[0] == 0
    assert count(other, "questions", user_id=7) == 1, "other prospects keep their data"

    chat.press("f:del:yes")  # pressed again later: nothing to confirm
    assert chat.t("form.supprimer_perime") in chat.said


def test_supprimer_in_the_middle_of_the_form(chat: Chat) -> None:
    chat.fill_until(steps.EMAIL)
    chat.command("supprimer")
    chat.press("f:del:yes")
    assert count(chat, "drafts") == 0 and count(chat, "sessions") == 0
    chat.text("zoe@example.com")
    assert count(chat, "drafts") == 0


def test_erasure_can_be_extended(chat: Chat) -> None:
    chat.assistant.db["extension_rows"].insert({"user_id": USER.user_id, "text": "bonjour"})
    chat.assistant.erasers["extension_rows"] = \
        lambda db, uid: db.execute("DELETE FROM extension_rows WHERE user_id = ?", [uid]).rowcount
    counts = chat.assistant.erase_person(USER.user_id)
    assert counts["extension_rows"] == 1 and count(chat, "extension_rows") == 0


def test_a_feature_eraser_belongs_to_its_assistant_not_to_the_process(chat: Chat, tmp_path: Path) -> None:
    """Two assistants in one process (a test, a CLI command beside the bot): a feature's eraser
    added to one is never run by the other (it was a process-wide registry bound to the last one built)."""
    chat.assistant.erasers["extension_rows"] = lambda db, uid: 0
    other = build_assistant(chat.assistant.knowledge, tmp_path / "other.db")
    assert "extension_rows" not in other.erasers
    assert set(other.erase_person(USER.user_id)) >= {"registrations", "drafts", "sessions"}


def test_a_failing_subscriber_does_not_undo_the_confirmation(chat: Chat) -> None:
    def broken(turn: Any, row: dict) -> None:
        turn.faq  # noqa: B018
        chat.assistant.db["side_effects"].insert({"ref": row["ref"]})
        raise RuntimeError("staff chat unreachable")

    chat.assistant.on_confirmed.append(broken)
    chat.fill_until(steps.SUMMARY)
    chat.press("f:send")
    assert chat.registration() is not None and count(chat, "drafts") == 0
    assert "side_effects" not in chat.assistant.db.table_names() or \
        chat.assistant.db["side_effects"].count == 0, "the failing subscriber's writes are rolled back"


# --- retention ----------------------------------------------------------------------------


def test_purge_deletes_what_is_too_old(knowledge: KnowledgeStore, db_path: Path) -> None:
    old = Chat(make_assistant(knowledge, db_path, dt.date(2023, 1, 10)), Person(user_id=1))
    old.fill_until(steps.SUMMARY)
    old.press("f:send")
    stale_draft = Chat(old.assistant, Person(user_id=2))
    stale_draft.fill_until(steps.EMAIL)
    recent = Chat(make_assistant(knowledge, db_path, dt.date(2025, 12, 1)), Person(user_id=3))
    recent.fill_until(steps.EMAIL)

    now = dt.datetime(2026, 1, 9, 12, tzinfo=Clock().now().tzinfo)
    assert purge_expired(recent.assistant.db, now, 36) == {"registrations": 0, "drafts": 0}
    now = dt.datetime(2026, 1, 11, 12, tzinfo=Clock().now().tzinfo)
    assert purge_expired(recent.assistant.db, now, 36) == {"registrations": 1, "drafts": 1}
    assert old.registration() is None and stale_draft.draft() is None
    assert recent.draft() is not None


def test_months_before() -> None:
    paris = Clock().now().tzinfo
    assert months_before(dt.datetime(2026, 3, 31, tzinfo=paris), 1) == dt.datetime(2026, 2, 28, tzinfo=paris)
    assert months_before(dt.datetime(2026, 1, 15, tzinfo=paris), 36) == dt.datetime(2023, 1, 15, tzinfo=paris)
    assert months_before(dt.datetime(2028, 12, 31, tzinfo=paris), 10) == dt.datetime(2028, 2, 29, tzinfo=paris)


def test_purge_command_prints_counts_only(knowledge: KnowledgeStore, db_path: Path,
                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    old = Chat(make_assistant(knowledge, db_path, dt.date(2023, 1, 10)))
    old.fill_until(steps.SUMMARY)
    old.press("f:send")
    old.assistant.db.conn.close()
    monkeypatch.setenv("BOT_DATABASE", str(db_path))
    monkeypatch.setenv("RETENTION_MONTHS", "12")
    from bot.cli import main

    assert main(["purge", "--today", "2024-02-01"]) == 0
    out = capsys.readouterr().out
    assert "1 pré-inscription" in out and "0 brouillon" in out and "12 mois" in out
    assert "Dupont" not in out and "MCO-" not in out
    assert open_database(db_path)["registrations"].count == 0


def test_retention_shown_is_the_configured_one(knowledge: KnowledgeStore, db_path: Path) -> None:
    chat = Chat(make_assistant(knowledge, db_path, retention_months=24))
    chat.command("inscription")
    assert "24 mois" in chat.said


# --- storage ------------------------------------------------------------------------------


def test_an_older_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    open_database(path, MIGRATIONS[:2]).conn.close()
    db = open_database(path)
    assert {"registrations", "drafts"} <= set(db.table_names())
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_references_are_unique(knowledge: KnowledgeStore, db_path: Path) -> None:
    assistant = make_assistant(knowledge, db_path)
    refs = set()
    for user_id in range(1, 31):
        chat = Chat(assistant, Person(user_id=user_id))
        chat.fill_until(steps.SUMMARY)
        chat.press("f:send")
        refs.add(chat.registration()["ref"])
    assert len(refs) == 30 and all(REF.match(r) for r in refs)


# --- the terminal runs the same flow ----------------------------------------------------------


def test_terminal_chat_runs_the_form(knowledge: KnowledgeStore, db_path: Path) -> None:
    from bot.terminal import run_chat

    assistant = make_assistant(knowledge, db_path)
    lines = ["/inscription", "1", "Martin", "Zoé", "12/03/2007", "zoe@example.com", "06 12 34 56 78",
             "3", "1", "2", "5", "10"]
    out: list[str] = []
    run_chat(assistant, stdin=io.StringIO("\n".join(lines) + "\n"), out=out.append)
    row = RegistrationStore(assistant.db).registration(1)
    assert row is not None and row["diploma"] == "bac_pro" and row["heard"] == "parcoursup"
    assert row["phone"] == "+33612345678"
    assert any(row["ref"] in line for line in out)


def test_a_draft_at_an_unknown_step_continues_at_the_next_missing_field(chat: Chat) -> None:
    chat.fill_until(steps.EMAIL)
    draft = chat.store.draft(USER.user_id)
    chat.store.save_draft(USER.user_id, draft.data, "step_of_an_older_version", draft.consent_at,
                          chat.assistant.clock.now())
    chat.text("zoe@example.com")
    assert chat.step() == steps.PHONE


def test_start_without_argument_leaves_an_unanswered_notice(chat: Chat) -> None:
    chat.command("inscription")
    chat.command("start")
    assert chat.state().get("mode") != MODE
    chat.text("c'est payé combien ?")
    assert chat.t("form.reprend", question="").strip() not in chat.said
