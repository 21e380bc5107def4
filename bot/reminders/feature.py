"""Reminders in the conversation: the offer, consent, ``/rappels``, "stop", follow-up answers.

Nothing is sent to anyone who did not say yes: a subscription exists only after a
tap on "🔔 Je te préviens ?" (or a choice in ``/rappels``), recorded with its date.
The offer appears under the answers of the entries a kind of reminder names in
``knowledge/reminders.yaml``, and after a pre-registration.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from bot.conversation.faq import ENTRY, HUMAN, Answer
from bot.conversation.messages import Button, Reply
from bot.reminders.model import ReminderKind
from bot.reminders.sending import ANSWER, OFF
from bot.reminders.store import ReminderStore, erase_reminders
from bot.staff.campaigns import install as install_campaigns
from bot.knowledge.render import french_date
from bot.storage.staff import FOLLOW_UP_EVENTS, LeadStore
from bot.storage.times import in_paris

if TYPE_CHECKING:
    from bot.conversation.engine import Assistant, Turn

PREFIX = "rp:"
ON = "rp:on:"
STOP_ALL = "rp:stop"
#: Words that stop every reminder when they are the whole message.
STOP_WORDS = frozenset({"stop", "stop rappels", "stop les rappels", "arrete", "arrete les rappels"})
#: A follow-up is answered in words within this many days of being sent.
ANSWER_WINDOW = dt.timedelta(days=30)
#: Lead events written when a prospect answers a follow-up (defined with the other lead events).
ANSWER_EVENTS = FOLLOW_UP_EVENTS


def normalized(text: str) -> str:
    """Lower case, no accents, no punctuation, single spaces: how a short answer is compared."""
    plain = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w']+", " ", plain).replace("'", " ").split())


class Reminders:
    """The conversation side of reminders (the sending side is :mod:`bot.reminders.sending`)."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.store = ReminderStore(assistant.db)

    # --- helpers -------------------------------------------------------------------------
    def kinds(self) -> dict[str, ReminderKind]:
        return self.assistant.knowledge.current.kb.reminders

    def of_offer(self, offer: str) -> list[str]:
        return [k.id for k in self.kinds().values() if k.offer == offer]

    def names(self, turn: Turn, kinds: list[str]) -> str:
        known = self.kinds()
        return ", ".join(turn.faq.render.text(known[k].name_key) for k in kinds if k in known)

    def now(self) -> dt.datetime:
        return self.assistant.clock.now()

    # --- the offer -----------------------------------------------------------------------
    def offer_after_answer(self, turn: Turn, answer: Answer) -> None:
        """Under an answer about dates or open days: "🔔 Je te préviens ?" unless already subscribed."""
        answered = set(answer.entries or ((answer.entry,) if answer.entry else ()))
        if not answered or not answer.replies:
            return
        active = set(self.store.active(turn.user_id))
        for offer in dict.fromkeys(k.offer for k in self.kinds().values() if answered & set(k.entries)):
            if offer == "preinscription" or set(self.of_offer(offer)) <= active:
                continue
            answer.replies[-1].buttons.insert(0, [Button(turn.faq.render.text("rappels.bouton_proposer"), ON + offer)])
            return

    def after_registration(self, turn: Turn, row: dict[str, Any]) -> None:
        """A pre-registration: the steps that follow count from now; offer to remind them."""
        self.store.record_event(turn.user_id, "preinscription", self.now())
        kinds = self.of_offer("preinscription")
        if kinds and not set(kinds) <= set(self.store.active(turn.user_id)) and turn.replies:
            turn.replies[-1].buttons.insert(
                0, [Button(turn.faq.render.text("rappels.bouton_proposer_inscription"), ON + "preinscription")])

    # --- buttons -------------------------------------------------------------------------
    def on_button(self, turn: Turn) -> None:
        data = turn.msg.payload
        if data.startswith(ON):
            self.subscribe(turn, data[len(ON):])
        elif data.startswith(OFF):
            self.stop_kind(turn, data[len(OFF):])
        elif data.startswith(ANSWER):
            self.answer(turn, data[len(ANSWER):])
        elif data == STOP_ALL:
            self.stop_all(turn)
        else:
            turn.say(turn.faq.menu_reply("general.bouton_perime"))

    def subscribe(self, turn: Turn, offer: str) -> None:
        """Consent, recorded with its date, to the reminders of one offer."""
        kinds = self.of_offer(offer)
        if not kinds:
            turn.say(turn.faq.menu_reply("general.bouton_perime"))
            return
        added = self.store.subscribe(turn.user_id, kinds, self.now())
        key = "rappels.inscrit" if added else "rappels.deja_inscrit"
        turn.say(Reply(turn.faq.render.text(key, liste=self.names(turn, kinds))))

    def stop_kind(self, turn: Turn, kind: str) -> None:
        """"Ne plus recevoir": one kind stops, the others go on."""
        self.store.stop(turn.user_id, [kind], self.now())
        turn.say(Reply(turn.faq.render.text("rappels.arrete", sujet=self.names(turn, [kind]) or kind)))

    def stop_all(self, turn: Turn) -> None:
        """``/stop`` or "stop": every reminder stops."""
        stopped = self.store.stop(turn.user_id, None, self.now())
        turn.say(Reply(turn.faq.render.text("rappels.tout_arrete" if stopped else "rappels.rien_a_arreter")))

    # --- /rappels --------------------------------------------------------------------------
    def show(self, turn: Turn) -> None:
        """``/rappels``: what the prospect receives, a button to stop each, and the offers not taken."""
        render = turn.faq.render
        active = {k: v for k, v in self.store.active(turn.user_id).items() if k in self.kinds()}
        buttons = [[Button(render.text("rappels.bouton_arreter", sujet=self.names(turn, [k]))[:64], OFF + k)]
                   for k in active]
        for offer in dict.fromkeys(k.offer for k in self.kinds().values()):
            if not set(self.of_offer(offer)) <= set(active):
                label = render.text("rappels.bouton_reprendre", sujet=self.names(turn, self.of_offer(offer)[:1]))
                buttons.append([Button(label[:64], ON + offer)])
        if not active:
            turn.say(Reply(render.text("rappels.liste_rien"), buttons))
            return
        lines = [render.text("rappels.liste_intro")]
        lines += [render.text("rappels.liste_ligne", sujet=self.names(turn, [k]), date=_day(v)) for k, v in active.items()]
        lines.append(render.text("rappels.liste_fin"))
        turn.say(Reply("\n".join(lines), buttons))

    # --- words -------------------------------------------------------------------------------
    def intercept(self, turn: Turn) -> bool:
        """"stop" (with reminders running) and the answers to a follow-up, in words."""
        text = normalized(turn.msg.payload)
        if text in STOP_WORDS and self.store.active(turn.user_id):
            self.stop_all(turn)
            return True
        code = self._answer_in_words(turn.user_id, text)
        if code is None:
            return False
        self.answer(turn, code)
        return True

    def _answer_in_words(self, user_id: int, text: str) -> str | None:
        if not text or len(text) > 80:
            return None
        for kind in self.kinds().values():
            if not kind.answers:
                continue
            last = self.store.last_sent(user_id, kind.id)
            if last is None or self.now() - last > ANSWER_WINDOW:
                continue
            for code, phrases in kind.answers.items():
                if any(text == normalized(p) or text.startswith(normalized(p) + " ") for p in phrases):
                    return code
        return None

    def answer(self, turn: Turn, code: str) -> None:
        """A follow-up answered: staff see it on the lead, what no longer applies stops, help is offered."""
        render = turn.faq.render
        asked = [k for k in self.kinds().values() if k.answers]
        if code == "trouve":
            related = {e for k in asked for e in k.entries}
            stop = [k.id for k in self.kinds().values() if k.answers or set(k.entries) & related]
            self.store.stop(turn.user_id, stop, self.now())
            turn.say(Reply(render.text("rappels.reponse_trouve")))
        elif code == "pas_encore":
            buttons = [[Button(turn.faq.kb.entries[e].title, ENTRY + e)] for k in asked for e in k.entries
                       if e in turn.faq.kb.entries]
            buttons.append([Button(render.text("general.bouton_conseiller"), HUMAN)])
            turn.say(Reply(render.text("rappels.reponse_pas_encore"), buttons))
        elif code == "plus_interesse":
            self.store.stop(turn.user_id, None, self.now())
            turn.say(Reply(render.text("rappels.reponse_plus_interesse")))
        else:
            turn.say(turn.faq.menu_reply("general.bouton_perime"))
            return
        self._tell_staff(turn, code)

    def _tell_staff(self, turn: Turn, code: str) -> None:
        """The answer goes on the lead: an event in its history (``/lead``) and a note under its card."""
        row = self.assistant.db.execute("SELECT ref, status FROM registrations WHERE user_id = ?",
                                        [turn.user_id]).fetchone()
        if row is None:
            return
        ref, status = row
        LeadStore(self.assistant.db).record(ref, turn.user_id, ANSWER_EVENTS[code], status, self.now())
        desk = self.assistant.staff
        if desk is None or not desk.enabled:
            return
        card = self.assistant.db.execute("SELECT id FROM outbox WHERE audience = 'staff' AND kind = 'lead' "
                                         "AND ref = ? ORDER BY id LIMIT 1", [ref]).fetchone()
        note = desk.text("staff.relance_note", ref=ref,
                         valeur=desk.text(f"staff.evenement_{ANSWER_EVENTS[code]}"))
        desk.queue_staff("lead_note", Reply(note), ref=ref, reply_to=card[0] if card else None)

    # --- /mesdonnees -----------------------------------------------------------------------
    def data_lines(self, turn: Turn) -> list[str]:
        """What ``/mesdonnees`` shows: each subscription with its consent date, each reminder sent."""
        render = turn.faq.render
        subscriptions = [(k, c) for k, c, stopped in self.store.subscriptions(turn.user_id) if stopped is None]
        sent = self.store.sent_to(turn.user_id)
        campaigns = self.store.campaigns_received(turn.user_id)
        if not subscriptions and not sent and not campaigns:
            return []
        lines = [render.text("rappels.donnees_abonnements")]
        lines += [render.text("rappels.donnees_abonnement", sujet=self.names(turn, [k]) or k, date=_day(c))
                  for k, c in subscriptions]
        lines += [render.text("rappels.donnees_envoye", sujet=self.names(turn, [k]) or k, date=_day(at))
                  for k, at in sent]
        if campaigns:
            lines.append(render.text("rappels.donnees_campagnes", n=campaigns))
        return lines


def _day(stamp: str) -> str:
    return french_date(in_paris(stamp).date())


def install(assistant: Assistant) -> Reminders:
    """Plug reminders into the assistant: commands, buttons, words, offers, /mesdonnees, erasure."""
    feature = Reminders(assistant)
    assistant.commands["rappels"] = feature.show
    assistant.commands["stop"] = feature.stop_all
    assistant.button_prefixes[PREFIX] = feature.on_button
    assistant.text_interceptors.append(feature.intercept)
    assistant.after_answer.append(feature.offer_after_answer)
    assistant.on_confirmed.append(feature.after_registration)
    assistant.data_sections.append(feature.data_lines)
    assistant.erasers["reminders"] = erase_reminders
    assistant.reminders = feature
    if assistant.staff is not None:  # campaigns go to the prospects who opted in
        install_campaigns(assistant.staff)
    return feature
