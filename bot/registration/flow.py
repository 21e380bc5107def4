"""The pre-registration conversation: consent, one question at a time, summary, reference.

Why it is built this way:

* **Nothing is lost.** Every accepted answer is written to the ``drafts`` table at
  once, with the step reached; the engine saves ``state["mode"] = "form"`` after each
  message. A bot restarted between two messages continues the same step, and
  ``/inscription`` resumes a draft from anywhere.
* **Nothing is stored without consent**, and never anything about health: an answer
  that mentions a disability or an illness is dropped and the prospect is pointed to
  the disability contact instead.
* **A question is not an answer.** A prospect who asks "c'est payé combien ?" in the
  middle of the form gets the answer, then the form resumes at the same step
  (:func:`bot.registration.steps.is_question` decides).
* **Buttons can be stale or forged.** Each form button names the step it answers;
  pressed at another step it only gets a polite "this button is no longer valid"
  and the current question again.

Everything the bot says comes from ``knowledge/texts/form.yaml``; nothing here knows
Telegram. :func:`install` plugs the flow into the :class:`Assistant`.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.conversation import faq as faq_module
from bot.conversation.messages import Button, Kind, Reply
from bot.knowledge.intake import intake_label, intake_of, possible_years
from bot.knowledge.render import french_date
from bot.registration import steps
from bot.registration.display import shown_value
from bot.registration.states import (
    CONSENT_FLAG,
    ERASE_FLAG,
    ERASURE,
    FORM,
    MODE,
    EraseEvent,
    EraseState,
    FormEvent,
    FormState,
    erase_state,
    form_state,
)
from bot.registration.validators import (
    TEXT_KEYS,
    Invalid,
    Valid,
    format_phone_for_humans,
    mentions_health,
    validate_name,
    validate_shared_contact,
)
from bot.storage.registrations import Draft, RegistrationStore
from bot.storage.times import in_paris, to_db

if TYPE_CHECKING:
    from bot.conversation.engine import Assistant
    from bot.conversation.turn import Handler, Turn

log = logging.getLogger(__name__)

__all__ = ["CONSENT_FLAG", "ERASE_FLAG", "MODE", "RegistrationFlow", "install"]

#: Longest ``/mesdonnees`` sent as a message (UTF-16 units); longer goes as a file.
DATA_AS_FILE = 3500

# Callback data of the form's buttons (all under the "f:" prefix, 64 bytes at most).
PREFIX = "f:"
ACCEPT, REFUSE = "f:ok", "f:no"
PROFILE = "f:me:"  # + step: the profile's name, read again from the person when pressed
VALUE = "f:v:"  # + step + ":" + code
FIX = "f:fix:"  # + field
SEND = "f:send"
ERASE_YES, ERASE_NO = "f:del:yes", "f:del:no"


class RegistrationFlow:
    """The form's handlers, bound to one :class:`Assistant`."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.store = RegistrationStore(assistant.db)

    # --- entry points ----------------------------------------------------------------

    def start(self, turn: Turn) -> None:
        """``/inscription`` and the "Je me pré-inscris" button: resume, update or begin."""
        draft = self._draft(turn.user_id)
        if draft is not None:
            self._go(turn, draft, FormEvent.RESUME)
            self._enter(turn)
            turn.say(self._prompt(turn, draft.step, draft.data, intro=self._t(turn, "form.reprise")))
            return
        registration = self.store.registration(turn.user_id)
        if registration is not None:
            self._go(turn, None, FormEvent.START_REGISTERED)
            data = {name: registration.get(name) for name in steps.ORDER if registration.get(name)}
            self._save(turn, data, steps.SUMMARY, registration.get("consent_at"))
            self._enter(turn)
            intro = self._t(turn, "form.deja_inscrit", ref=registration["ref"])
            turn.say(self._prompt(turn, steps.SUMMARY, data, intro=intro))
            return
        self._go(turn, None, FormEvent.START)
        self._enter(turn)
        turn.state[CONSENT_FLAG] = True
        turn.say(self._consent_reply(turn, self._t(turn, "form.notice", mois=self.assistant.retention_months,
                                                          jours=self.assistant.settings.question_retention_days)))

    def wrap_start(self, original: Handler) -> Handler:
        """``/start inscription`` opens the form after the welcome; ``/start`` recalls a draft."""
        def start(turn: Turn) -> None:
            original(turn)
            if turn.msg.args and turn.msg.args[0].lower() == faq_module.APPLY:
                self.start(turn)
            elif self._draft(turn.user_id) is not None:
                turn.say(Reply(self._t(turn, "form.rappel_brouillon")))
            elif turn.state.get(CONSENT_FLAG):
                if form_state(turn.state, None) is FormState.CONSENT:
                    self._go(turn, None, FormEvent.RESTART)
                self._leave(turn)  # also a flag left by another mode taking the session
        return start

    def cancel(self, turn: Turn) -> None:
        """``/annuler``: leave the form at any step; the draft is deleted."""
        draft = self._draft(turn.user_id)
        if form_state(turn.state, draft.step if draft else None) is not FormState.IDLE:
            self._go(turn, draft, FormEvent.CANCEL)
        in_form = turn.state.get("mode") == MODE
        deleted = self.store.delete_draft(turn.user_id)
        self._leave(turn)
        if not in_form and not deleted:
            turn.say(Reply(self._t(turn, "form.rien_a_annuler"), remove_keyboard=True))
            return
        registration = self.store.registration(turn.user_id)
        if registration is not None:
            text = self._t(turn, "form.annule_inscrit", ref=registration["ref"])
        else:
            text = self._t(turn, "form.annule")
        turn.say(Reply(text, remove_keyboard=True))

    def on_edit(self, turn: Turn) -> None:
        """An earlier message edited during the form: the answer first given stands, and the prospect is told.

        Re-reading it would take an old answer (a name) for the current step (an e-mail).
        """
        turn.say(Reply(self._t(turn, "form.modification_ignoree")))

    def show_data(self, turn: Turn) -> None:
        """``/mesdonnees``: everything stored about the prospect; as a file when it is long.

        A message is cut by Telegram at 4,096 UTF-16 units: past :data:`DATA_AS_FILE`
        the full text goes in a document, with a short caption.
        """
        text = self._data_text(turn)
        if len(text.encode("utf-16-le")) // 2 <= DATA_AS_FILE:
            turn.say(Reply(text))
            return
        document = ("mes-donnees.txt", text.replace("**", "").encode("utf-8"))
        turn.say(Reply(self._t(turn, "form.donnees_fichier"), document=document))

    def ask_erase(self, turn: Turn) -> None:
        """``/supprimer``: ask for a confirmation with two buttons."""
        ERASURE.target(erase_state(turn.state), EraseEvent.ASK)
        turn.state[ERASE_FLAG] = True
        buttons = [[Button(self._t(turn, "form.bouton_supprimer_oui"), ERASE_YES),
                    Button(self._t(turn, "form.bouton_supprimer_non"), ERASE_NO)]]
        turn.say(Reply(self._t(turn, "form.supprimer_question"), buttons))

    def on_button(self, turn: Turn) -> None:
        """Every ``f:`` button; a stale or forged one is answered, never obeyed."""
        data = turn.msg.payload
        if data in (ERASE_YES, ERASE_NO):
            self._erase_answer(turn, data == ERASE_YES)
            return
        step, draft = self._where(turn)
        if step is None:
            self._stale_outside(turn, data)
            return
        if data in (ACCEPT, REFUSE) and step == steps.CONSENT:
            self._consent(turn, data == ACCEPT)
        elif data.startswith(PROFILE) and data[len(PROFILE):] == step and step in steps.NAME_STEPS:
            self._profile_name(turn, draft, step)
        elif data.startswith(VALUE) and self._choice_of(data, step) is not None:
            self._choose(turn, draft, step, self._choice_of(data, step))
        elif data.startswith(FIX) and step == steps.SUMMARY and data[len(FIX):] in steps.SUMMARY_FIELDS:
            self._fix(turn, draft, data[len(FIX):])
        elif data == SEND and step == steps.SUMMARY:
            self._send(turn, draft)
        else:
            self._stale(turn, step, draft)

    def on_message(self, turn: Turn) -> None:
        """Free text, a shared contact or anything else while in the form."""
        step, draft = self._where(turn)
        if step is None:
            self._leave(turn)
            if turn.msg.kind is Kind.TEXT:
                self.assistant.answer_question(turn, turn.msg.payload)
            else:
                turn.say(turn.faq.menu_reply("general.pas_du_texte"))
            return
        kind = turn.msg.kind
        if kind is Kind.CONTACT:
            self._contact(turn, draft, step)
        elif kind is not Kind.TEXT:
            turn.say(self._prompt(turn, step, self._data(draft), intro=self._t(turn, "form.pas_du_texte")))
        elif mentions_health(turn.msg.payload, turn.faq.kb.health_words):
            turn.say(Reply(self._t(turn, "form.sante")))
            turn.say(self._prompt(turn, step, self._data(draft), resume=True))
        elif step in steps.TYPED:
            self._typed(turn, draft, step, turn.msg.payload)
        else:
            self._typed_choice(turn, draft, step, turn.msg.payload)

    def on_registration_confirmed(self, turn: Turn, row: dict[str, Any]) -> None:
        """Tell the subscribers (``assistant.on_confirmed``: the staff feature) of a confirmation.

        Called inside the confirmation's transaction, so what a subscriber writes (an
        outbox row) is committed with the registration. Each subscriber runs in its own
        savepoint: one that fails is rolled back and logged (its error type only) and
        never undoes the confirmation the prospect has just received.
        """
        for callback in list(self.assistant.on_confirmed):
            try:
                with self.assistant.db.atomic():
                    callback(turn, row)
            except Exception as exc:  # noqa: BLE001 - a notification must not break the form
                log.error("on_confirmed callback failed: %s", type(exc).__name__)

    # --- where the prospect is ---------------------------------------------------------

    def _where(self, turn: Turn) -> tuple[str | None, Draft | None]:
        """The current step (None when not in the form) and the draft, if any."""
        if turn.state.get("mode") != MODE:
            return None, None
        draft = self._draft(turn.user_id)
        state = form_state(turn.state, draft.step if draft else None)
        if state in (FormState.FILLING, FormState.CONFIRMING) and draft is not None:
            return draft.step, draft
        if state is FormState.CONSENT:
            return steps.CONSENT, None
        return None, None

    def _go(self, turn: Turn, draft: Draft | None, event: FormEvent) -> FormState:
        """Check a change of state against the table before making it (undeclared: refused).

        Raising rolls back the whole turn (one transaction per update): nothing of a
        change the table does not declare is kept.
        """
        return FORM.target(form_state(turn.state, draft.step if draft else None), event)

    def _draft(self, user_id: int) -> Draft | None:
        """The prospect's draft; a step this version does not know becomes the next missing one."""
        draft = self.store.draft(user_id)
        if draft is not None and draft.step not in (*steps.ORDER, steps.SUMMARY):
            draft = replace(draft, step=steps.next_step(draft.data))
        return draft

    def _intake_choices(self) -> dict[str, str]:
        """The intakes one may aim at today, by button code ("en_cours" -> "2026-2027")."""
        intake = intake_of(self.assistant.knowledge.current.kb.facts)
        years = possible_years(self.assistant.clock.today(), intake)
        codes = (steps.INTAKE_CURRENT, steps.INTAKE_NEXT) if len(years) == 2 else (steps.INTAKE_CURRENT,)
        return {code: intake_label(year) for code, year in zip(codes, years)}

    def _settle_intake(self, data: dict[str, Any]) -> None:
        """Record the intake without asking when only one is possible today (or none is known)."""
        if steps.INTAKE in data:
            return
        choices = self._intake_choices()
        if len(choices) < 2:
            data[steps.INTAKE] = next(iter(choices.values()), "")

    def _enter(self, turn: Turn) -> None:
        turn.state["mode"] = MODE

    def _leave(self, turn: Turn) -> None:
        if turn.state.get("mode") == MODE:
            del turn.state["mode"]
        turn.state.pop(CONSENT_FLAG, None)

    @staticmethod
    def _data(draft: Draft | None) -> dict[str, Any]:
        return dict(draft.data) if draft is not None else {}

    def _save(self, turn: Turn, data: dict[str, Any], step: str, consent_at: str | None) -> None:
        self.store.save_draft(turn.user_id, data, step, consent_at, self.assistant.clock.now())

    # --- consent -------------------------------------------------------------------------

    def _consent_reply(self, turn: Turn, text: str) -> Reply:
        buttons = [[Button(self._t(turn, "form.bouton_accepte"), ACCEPT),
                    Button(self._t(turn, "form.bouton_refuse"), REFUSE)]]
        return Reply(text, buttons)

    def _consent(self, turn: Turn, accepted: bool) -> None:
        self._go(turn, None, FormEvent.ACCEPT if accepted else FormEvent.REFUSE)
        turn.state.pop(CONSENT_FLAG, None)
        if not accepted:
            self._leave(turn)
            turn.say(turn.faq.menu_reply("form.refus"))
            return
        consent_at = to_db(self.assistant.clock.now())
        first = steps.next_step({})
        self._save(turn, {}, first, consent_at)
        turn.say(self._prompt(turn, first, {}, intro=self._t(turn, "form.debut")))

    # --- answers -------------------------------------------------------------------------

    def _typed(self, turn: Turn, draft: Draft | None, step: str, text: str) -> None:
        """A typed answer at a typed step: a question, a wrong answer, or the value."""
        result = steps.validate(step, text, self.assistant.clock.today())
        if self._is_question(turn, step, text, isinstance(result, Valid)):
            self._digress(turn, draft, step, text)
        elif isinstance(result, Invalid):
            reason = self._t(turn, TEXT_KEYS[result.reason_key])
            turn.say(self._prompt(turn, step, self._data(draft), text=reason))
        else:
            notes = [self._note_text(turn, result.note_key)] if result.note_key else []
            self._accept(turn, draft, step, self._stored(result.value), notes)

    def _typed_choice(self, turn: Turn, draft: Draft | None, step: str, text: str) -> None:
        """Text typed where buttons are expected: a label, a question, or a nudge to the buttons."""
        code = steps.match_choice(text, self._typed_labels(turn, step, self._data(draft)))
        if code is not None:
            self._press(turn, draft, step, code)
        elif self._is_question(turn, step, text, valid=False):
            self._digress(turn, draft, step, text)
        else:
            turn.say(self._prompt(turn, step, self._data(draft), text=self._t(turn, "form.choisis_bouton")))

    def _press(self, turn: Turn, draft: Draft | None, step: str, code: str) -> None:
        """What pressing the button ``code`` at ``step`` does (typed labels come here too)."""
        if step == steps.CONSENT:
            self._consent(turn, code == ACCEPT)
        elif step == steps.SUMMARY:
            if code == SEND:
                self._send(turn, draft)
            else:
                self._fix(turn, draft, code[len(FIX):])
        else:
            self._choose(turn, draft, step, code)

    def _is_question(self, turn: Turn, step: str, text: str, valid: bool) -> bool:
        if steps.has_question_marks(text) or steps.word_count(text) < 2:
            return steps.is_question(step, text, valid, None)
        return steps.is_question(step, text, valid, turn.faq.answer(text).outcome)

    def _digress(self, turn: Turn, draft: Draft | None, step: str, text: str) -> None:
        """Answer the question, then ask the same step again, saying so."""
        self.assistant.answer_question(turn, text)
        turn.say(self._prompt(turn, step, self._data(draft), resume=True))

    def _contact(self, turn: Turn, draft: Draft | None, step: str) -> None:
        if step != steps.PHONE:
            turn.say(self._prompt(turn, step, self._data(draft), intro=self._t(turn, "form.contact_hors_etape")))
            return
        result = validate_shared_contact(turn.msg.payload, turn.msg.contact_user_id, turn.user_id)
        if isinstance(result, Invalid):
            reason = self._t(turn, TEXT_KEYS[result.reason_key])
            turn.say(self._prompt(turn, step, self._data(draft), text=reason))
        else:
            self._accept(turn, draft, step, result.value, [])

    def _profile_name(self, turn: Turn, draft: Draft | None, step: str) -> None:
        """The one-tap profile name: checked again, as if it had been typed."""
        raw = turn.msg.person.last_name if step == steps.LAST_NAME else turn.msg.person.first_name
        result = validate_name(raw)
        if isinstance(result, Valid) and not mentions_health(raw, turn.faq.kb.health_words):
            self._accept(turn, draft, step, result.value, [])
        else:
            self._stale(turn, step, draft)

    def _choose(self, turn: Turn, draft: Draft | None, step: str, code: str) -> None:
        notes: list[str] = []
        data = self._data(draft)
        if step == steps.DIPLOMA and code == steps.FOREIGN_DIPLOMA:
            notes.append(self._t(turn, "form.note_etranger"))
        if step == steps.INTAKE:
            code = self._intake_choices().get(code, "")
        if step == steps.COMPANY:
            data.pop(steps.COMPANY_NAME, None)
            if code == steps.COMPANY_SEARCHING:
                notes.append(self._t(turn, "form.note_recherche"))
        data[step] = code
        self._advance(turn, draft, data, notes)

    def _accept(self, turn: Turn, draft: Draft | None, step: str, value: Any, notes: list[str]) -> None:
        data = self._data(draft)
        data[step] = value
        if step == steps.PHONE:  # its own message: only a reply without buttons can remove the keyboard
            shown = format_phone_for_humans(value)
            turn.say(Reply(self._t(turn, "form.telephone_note", valeur=shown), remove_keyboard=True))
        self._advance(turn, draft, data, notes)

    def _advance(self, turn: Turn, draft: Draft | None, data: dict[str, Any], notes: list[str]) -> None:
        """Save the answers and ask the next missing field (or show the summary)."""
        self._settle_intake(data)
        following = steps.next_step(data)
        self._go(turn, draft, FormEvent.COMPLETE if following == steps.SUMMARY else FormEvent.ANSWER)
        self._save(turn, data, following, draft.consent_at if draft else None)
        intro = "\n\n".join(notes) if notes else None
        turn.say(self._prompt(turn, following, data, intro=intro))

    def _note_text(self, turn: Turn, key: str) -> str:
        return "\n".join([self._t(turn, TEXT_KEYS[key]), self._t(turn, "form.note_age")])

    @staticmethod
    def _stored(value: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.date) else value

    # --- summary, correction, confirmation -----------------------------------------------

    def _fix(self, turn: Turn, draft: Draft | None, field: str) -> None:
        """Ask only ``field`` again; answering it brings the summary back (see ``next_step``)."""
        data = self._data(draft)
        self._go(turn, draft, FormEvent.FIX)
        self._save(turn, data, field, draft.consent_at if draft else None)
        turn.say(self._prompt(turn, field, data, progress=False))

    def _send(self, turn: Turn, draft: Draft | None) -> None:
        data = self._data(draft)
        self._settle_intake(data)
        if draft is None or steps.next_step(data) != steps.SUMMARY:
            self._stale(turn, draft.step if draft else steps.CONSENT, draft)
            return
        self._go(turn, draft, FormEvent.SEND)
        existed = self.store.registration(turn.user_id) is not None
        source = self.assistant.prospects.source(turn.user_id)
        with self.assistant.db.atomic():  # the registration, the draft's end and what subscribers queue
            row = self.store.confirm(turn.user_id, steps.columns(data), source, draft.consent_at,
                                     self.assistant.clock.now())
            self.store.delete_draft(turn.user_id)
            self._leave(turn)
            log.info("pre-registration %s", "updated" if existed else "created")
            key = "form.mise_a_jour" if existed else "form.confirme"
            text = "\n\n".join([self._t(turn, key, ref=row["ref"]), self._t(turn, "form.suite")])
            turn.say(Reply(text, [[Button(self._t(turn, "general.bouton_menu"), faq_module.MENU)]]))
            self.on_registration_confirmed(turn, row)

    # --- stale buttons, erasure ----------------------------------------------------------

    def _stale(self, turn: Turn, step: str, draft: Draft | None) -> None:
        if step == steps.CONSENT:
            turn.say(self._consent_reply(turn, self._t(turn, "form.bouton_perime") + "\n"
                                         + self._t(turn, "form.consent_question")))
            return
        turn.say(self._prompt(turn, step, self._data(draft), intro=self._t(turn, "form.bouton_perime")))

    def _stale_outside(self, turn: Turn, data: str) -> None:
        registration = self.store.registration(turn.user_id)
        if data == SEND and registration is not None:
            turn.say(Reply(self._t(turn, "form.deja_envoye", ref=registration["ref"])))
        else:
            turn.say(turn.faq.menu_reply("form.bouton_perime_hors"))

    def _erase_answer(self, turn: Turn, confirmed: bool) -> None:
        asked = erase_state(turn.state)
        if asked is EraseState.NONE:
            turn.say(Reply(self._t(turn, "form.supprimer_perime")))
            return
        if not confirmed:
            ERASURE.target(asked, EraseEvent.DECLINE)
            del turn.state[ERASE_FLAG]
            turn.say(Reply(self._t(turn, "form.supprimer_annule")))
            return
        ERASURE.target(asked, EraseEvent.CONFIRM)
        self._go(turn, self._draft(turn.user_id), FormEvent.ERASED)
        self.assistant.erase_person(turn.user_id)
        self.assistant.checkpoint_due = True  # read by the front end, after commit
        turn.state.clear()  # the engine then deletes the session row instead of saving it
        turn.say(Reply(self._t(turn, "form.supprime"), remove_keyboard=True))

    # --- what the prospect sees ----------------------------------------------------------

    def _t(self, turn: Turn, key: str, **params: object) -> str:
        return turn.faq.render.text(key, **params)

    def _label(self, turn: Turn, field: str) -> str:
        """A field's name as the summary shows it ("Date de naissance")."""
        return self._t(turn, steps.BY_NAME[field].label or field)

    def _choice_of(self, data: str, step: str) -> str | None:
        """The code of a ``f:v:step:code`` button if it answers ``step`` with a known code."""
        button_step, _, code = data[len(VALUE):].partition(":")
        return code if button_step == step and code in steps.CHOICES.get(step, ()) else None

    def _prompt(self, turn: Turn, step: str, data: dict[str, Any], *, intro: str | None = None,
                text: str | None = None, resume: bool = False, progress: bool = True) -> Reply:
        """The question of ``step`` with its buttons.

        ``text`` replaces the question (a validation reason already says what to type);
        ``intro`` comes before it; ``resume`` says "On reprend :" first.
        """
        if step == steps.SUMMARY:
            reply = self._summary(turn, data)
        elif step == steps.CONSENT:
            reply = self._consent_reply(turn, self._t(turn, "form.consent_question"))
        else:
            reply = self._question(turn, step, data, progress)
        if text is not None:
            reply.text = text
        if resume:
            reply.text = self._t(turn, "form.reprend", question=reply.text)
        if intro:
            reply.text = f"{intro}\n\n{reply.text}"
        return reply

    def _question(self, turn: Turn, step: str, data: dict[str, Any], progress: bool) -> Reply:
        source_code = steps.heard_from_source(self.assistant.prospects.source(turn.user_id))
        if step == steps.HEARD and source_code:
            label = self._t(turn, steps.label_key(step, source_code))
            question = self._t(turn, "form.ask_heard_source", source=label)
        else:
            question = self._t(turn, steps.BY_NAME[step].ask)
        if progress:
            number, total = steps.position(step)
            question = f"{self._t(turn, 'form.progression', n=number, total=total)} {question}"
        reply = Reply(question)
        if step == steps.PHONE:
            reply.contact_button = self._t(turn, "form.bouton_contact")
        elif step in steps.NAME_STEPS:
            reply.buttons = self._profile_buttons(turn, step)
        elif step in steps.CHOICES:
            reply.buttons = self._choice_buttons(turn, step, source_code if step == steps.HEARD else None)
        return reply

    def _profile_buttons(self, turn: Turn, step: str) -> list[list[Button]]:
        raw = turn.msg.person.last_name if step == steps.LAST_NAME else turn.msg.person.first_name
        result = validate_name(raw)
        if not isinstance(result, Valid) or mentions_health(raw, turn.faq.kb.health_words):
            return []
        return [[Button(self._t(turn, "form.bouton_profil", valeur=result.value), PROFILE + step)]]

    def _choice_buttons(self, turn: Turn, step: str, default: str | None) -> list[list[Button]]:
        codes = self._intake_choices() if step == steps.INTAKE else steps.CHOICES[step]
        buttons = [Button(self._t(turn, steps.label_key(step, code)), f"{VALUE}{step}:{code}")
                   for code in codes if code != default]
        per_row = steps.BY_NAME[step].buttons_per_row
        rows = [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]
        if default:
            label = self._t(turn, "form.bouton_source_ok", source=self._t(turn, steps.label_key(step, default)))
            rows.insert(0, [Button(label, f"{VALUE}{step}:{default}")])
        return rows

    def _typed_labels(self, turn: Turn, step: str, data: dict[str, Any]) -> dict[str, str]:
        """What a typed text may name at a button step: codes to labels (``_press`` codes)."""
        if step == steps.CONSENT:
            return {ACCEPT: self._t(turn, "form.bouton_accepte"), REFUSE: self._t(turn, "form.bouton_refuse")}
        if step == steps.SUMMARY:
            labels = {FIX + f: self._label(turn, f) for f in steps.SUMMARY_FIELDS}
            labels[SEND] = self._t(turn, "form.bouton_confirmer")
            return labels
        return {choice.code: self._t(turn, choice.label) for choice in steps.BY_NAME[step].choices}

    def _summary(self, turn: Turn, data: dict[str, Any]) -> Reply:
        lines = [self._t(turn, "form.recap_intro")]
        for field in steps.SUMMARY_FIELDS:
            lines.append(self._t(turn, "form.recap_ligne", champ=self._label(turn, field),
                                 valeur=self._shown(turn, field, data)))
        if data.get(steps.INTAKE):
            lines.append(self._t(turn, "form.recap_ligne", champ=self._t(turn, "form.champ_intake"),
                                 valeur=self._shown(turn, steps.INTAKE, data)))
        lines.append(self._t(turn, "form.recap_fin"))
        fixes = [Button(self._t(turn, "form.bouton_corriger", champ=self._label(turn, f)), FIX + f)
                 for f in steps.SUMMARY_FIELDS]
        rows = [fixes[i:i + 2] for i in range(0, len(fixes), 2)]
        rows.append([Button(self._t(turn, "form.bouton_confirmer"), SEND)])
        return Reply("\n".join(lines), rows)

    def _shown(self, turn: Turn, field: str, data: dict[str, Any]) -> str:
        """A stored value as the prospect reads it (dates in words, labels for codes)."""
        return shown_value(turn.faq.render, field, data)

    def _data_text(self, turn: Turn) -> str:
        """The ``/mesdonnees`` text."""
        uid = turn.user_id
        registration = self.store.registration(uid)
        draft = self.store.draft(uid)
        prospect = self.assistant.db.execute(
            "SELECT source, first_seen FROM prospects WHERE user_id = ?", [uid]).fetchone()
        questions = self.assistant.questions.count_of(uid)
        lines = [self._t(turn, "form.donnees_intro")]
        if registration is not None:
            lines += ["", self._t(turn, "form.donnees_inscription", ref=registration["ref"],
                                  statut=self._status_words(turn, registration["status"]),
                                  date=_day(registration["updated_at"]))]
            lines += self._field_lines(turn, registration)
            if registration.get("consent_at"):
                lines.append(self._t(turn, "form.donnees_consentement", date=_day(registration["consent_at"])))
        if draft is not None and (draft.data or registration is None):
            lines += ["", self._t(turn, "form.donnees_brouillon", date=_day(draft.updated_at))]
            lines += self._field_lines(turn, draft.data)
            if draft.consent_at and registration is None:
                lines.append(self._t(turn, "form.donnees_consentement", date=_day(draft.consent_at)))
        extra = []
        if prospect is not None and prospect[1]:
            extra.append(self._t(turn, "form.donnees_visite", date=_day(prospect[1])))
        if prospect is not None and prospect[0]:
            extra.append(self._t(turn, "form.donnees_source", source=prospect[0]))
        if questions:
            extra.append(self._t(turn, "form.donnees_questions", n=questions))
            extra += [self._t(turn, "form.donnees_question", date=_day(q["at"]), question=q["text"])
                      for q in self.assistant.questions.of_user(uid)]
            extra.append(self._t(turn, "form.donnees_questions_duree",
                                 jours=self.assistant.settings.question_retention_days))
        if registration is not None:
            lines += self._history_lines(turn, registration["ref"])
        lines += self._conversation_lines(turn, uid)
        age = (turn.state.get("context") or {}).get("age")  # said in the conversation (own case)
        if isinstance(age, int):
            extra.append(self._t(turn, "form.donnees_age", age=age))
        for section in self.assistant.data_sections:  # what other features keep (reminders...)
            extra += section(turn)
        if extra:
            lines += [""] + extra
        if registration is None and draft is None and not extra:
            lines.append(self._t(turn, "form.donnees_rien"))
        lines += ["", self._t(turn, "form.donnees_fin", mois=self.assistant.retention_months)]
        return "\n".join(lines)

    def _status_words(self, turn: Turn, status: str) -> str:
        """A lead status as the prospect reads it (``en_charge`` -> "prise en charge par l'équipe")."""
        return self._t(turn, f"form.statut_{status}")

    def _history_lines(self, turn: Turn, ref: str) -> list[str]:
        """What happened to the pre-registration, with dates (``lead_events``)."""
        events = self.assistant.db.execute(
            "SELECT at, event, status FROM lead_events WHERE ref = ? ORDER BY id", [ref]).fetchall()
        if not events:
            return []
        lines = [self._t(turn, "form.donnees_historique")]
        for at, event, status in events:
            what = self._status_words(turn, status) if event == "statut" else self._t(turn, f"form.evenement_{event}")
            lines.append(self._t(turn, "form.donnees_evenement", date=_day(at), valeur=what))
        return lines

    def _conversation_lines(self, turn: Turn, user_id: int) -> list[str]:
        """Conversations with the team: dates, and the messages still stored (until delivered)."""
        handoffs = self.assistant.db.execute(
            "SELECT id, first_name, opened_at, closed_at FROM handoffs WHERE user_id = ? ORDER BY id",
            [user_id]).fetchall()
        lines: list[str] = []
        for handoff_id, first_name, opened, closed in handoffs:
            key = "form.donnees_conversation_close" if closed else "form.donnees_conversation"
            lines += ["", self._t(turn, key, n=handoff_id, prenom=first_name, debut=_day(opened), fin=_day(closed))]
            for text in self._conversation_messages(user_id, str(handoff_id)):
                lines.append(self._t(turn, "form.donnees_message", message=text))
        return lines

    def _conversation_messages(self, user_id: int, ref: str) -> list[str]:
        """Texts of the conversation's relays still in the outbox (both ways), oldest first."""
        rows = self.assistant.db.execute(
            "SELECT json_extract(payload, '$.text') FROM outbox WHERE ref = ? AND kind IN ('relay_in', 'relay_out') "
            "AND (audience = 'staff' OR chat_id = ?) AND json_extract(payload, '$.edit_of') IS NULL ORDER BY id",
            [ref, user_id]).fetchall()
        return [r[0] for r in rows if r[0]]

    def _field_lines(self, turn: Turn, data: dict[str, Any]) -> list[str]:
        return [self._t(turn, "form.recap_ligne", champ=self._label(turn, f),
                        valeur=self._shown(turn, f, data))
                for f in steps.SUMMARY_FIELDS if data.get(f)]


def _day(stamp: str | None) -> str:
    """``2026-03-02T23:30:00+00:00`` (stored, UTC) -> ``3 mars 2026`` (the day in Paris)."""
    if not stamp:
        return "—"
    try:
        return french_date(in_paris(stamp).date())
    except ValueError:
        return stamp


def install(assistant: Assistant) -> RegistrationFlow:
    """Plug the pre-registration into the assistant: commands, buttons, prefix and mode."""
    flow = RegistrationFlow(assistant)
    assistant.commands["inscription"] = flow.start
    assistant.commands["annuler"] = flow.cancel
    assistant.commands["mesdonnees"] = flow.show_data
    assistant.commands["supprimer"] = flow.ask_erase
    assistant.commands["start"] = flow.wrap_start(assistant.commands["start"])
    assistant.buttons[faq_module.APPLY] = flow.start
    assistant.button_prefixes[PREFIX] = flow.on_button
    assistant.modes[MODE] = flow.on_message
    assistant.edit_handlers[MODE] = flow.on_edit
    return flow
