"""Answering questions from the knowledge base: answers, menu, choices, fallback.

Everything here is a pure function of the loaded knowledge and today's date, so
``run_bot.py ask`` and the live conversation give exactly the same answers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.conversation.messages import Button, Reply
from bot.knowledge.render import Renderer
from bot.knowledge.store import Loaded
from bot.matching.matcher import Match

#: Matching looks at the start of a message only: nobody asks two pages of questions,
#: and a 4,000-character paste must not slow everyone else down.
MAX_QUESTION_CHARS = 500
SMALLTALK_THRESHOLD = 0.6

# Callback data of the buttons (Telegram allows 64 bytes).
MENU = "m"
TOPIC = "t:"
ENTRY = "e:"
CONTACTS = "c"
APPLY = "inscription"
HUMAN = "conseiller"


@dataclass
class Answer:
    """What the bot says to one question, and why (for the log and ``ask --json``)."""

    replies: list[Reply]
    outcome: str  # answered, ambiguous, fallback, smalltalk
    entry: str | None = None
    score: float = 0.0
    candidates: tuple[str, ...] = field(default_factory=tuple)


class Faq:
    """Builds the replies of the question-and-answer part of the conversation."""

    def __init__(self, loaded: Loaded, renderer: Renderer, *, apply_button: bool = True,
                 human_button: bool = True) -> None:
        self.loaded = loaded
        self.kb = loaded.kb
        self.render = renderer
        self.apply_button = apply_button
        self.human_button = human_button

    def answer(self, text: str) -> Answer:
        """Answer a free-text question: an entry, a choice, small talk or the fallback."""
        question = text[:MAX_QUESTION_CHARS]
        match = self.loaded.faq.match(question)
        small = self.loaded.smalltalk.match(question)
        # Small talk wins when it fits at least as well: "quelle heure est-il" shares
        # "heure" with the programme's length, but it is all about the time of day.
        if small.entry_id and small.score >= max(SMALLTALK_THRESHOLD, match.score):
            reply = Reply(self.render.render(self.kb.smalltalk[small.entry_id].answer))
            return Answer([reply], "smalltalk", None, small.score)
        if match.entry_id:
            return Answer([self.entry_reply(match.entry_id, question)], "answered", match.entry_id, match.score)
        if match.candidates:
            return Answer([self.choice_reply(match)], "ambiguous", None, match.score, match.candidates)
        return Answer([self.fallback_reply()], "fallback", None, match.score)

    def entry_reply(self, entry_id: str, question: str = "") -> Reply:
        """The answer of one entry with its follow-up buttons.

        ``question`` aims the date texts at the intake it names ("l'an prochain").
        """
        entry = self.kb.entries[entry_id]
        buttons = [[Button(self.kb.entries[r].title, ENTRY + r)] for r in entry.related
                   if r in self.kb.entries]
        last_row = [Button(self.render.text("general.bouton_menu"), MENU)]
        if self.apply_button and entry.topic == self._apply_topic(entry_id):
            buttons.append([Button(self.render.text("general.bouton_inscription"), APPLY)])
        buttons.append(last_row)
        render = self.render.for_question(question) if question else self.render
        return Reply(render.answer(entry.answer), buttons)

    def choice_reply(self, match: Match) -> Reply:
        """Ask which of a few equally likely entries the prospect meant."""
        buttons = [[Button(self.kb.entries[c].title, ENTRY + c)] for c in match.candidates]
        buttons.append([Button(self.render.text("general.bouton_autre_question"), MENU)])
        return Reply(self.render.text("general.ambigu"), buttons)

    def fallback_reply(self) -> Reply:
        """Say we are not sure, offer the topics and a way to reach a person."""
        buttons = self.topic_buttons()
        if self.human_button:
            buttons.append([Button(self.render.text("general.bouton_conseiller"), HUMAN)])
        return Reply(self.render.text("general.pas_compris"), buttons)

    def menu_reply(self, intro_key: str = "general.menu", **params: object) -> Reply:
        """The topic menu."""
        buttons = self.topic_buttons()
        extra = []
        if self.apply_button:
            extra.append(Button(self.render.text("general.bouton_inscription"), APPLY))
        if self.human_button:
            extra.append(Button(self.render.text("general.bouton_conseiller"), HUMAN))
        if extra:
            buttons.append(extra)
        return Reply(self.render.text(intro_key, **params), buttons)

    def topic_reply(self, topic_id: str) -> Reply | None:
        """The entries of one topic as buttons, or None for an unknown topic."""
        topic = self.kb.topic(topic_id)
        if topic is None:
            return None
        buttons = [[Button(e.title, ENTRY + e.id)] for e in self.kb.entries_of_topic(topic_id)]
        buttons.append([Button(self.render.text("general.bouton_menu"), MENU)])
        return Reply(self.render.text("general.theme", sujet=topic.label), buttons)

    def topic_buttons(self) -> list[list[Button]]:
        """The topics, two per row so the menu fits a phone screen."""
        buttons = [Button(t.label, TOPIC + t.id) for t in self.kb.topics]
        return [buttons[i:i + 2] for i in range(0, len(buttons), 2)]

    def _apply_topic(self, entry_id: str) -> str | None:
        """The topic under which applying is explained: answers there offer to pre-register."""
        apply_entry = self.kb.entries.get("candidater")
        return apply_entry.topic if apply_entry else None
