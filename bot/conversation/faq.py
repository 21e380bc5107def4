"""Answering questions from the knowledge base: answers, menu, choices, fallback.

Everything here is a pure function of the loaded knowledge and today's date, so
``run_bot.py ask`` and the live conversation give exactly the same answers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from bot.conversation.context import ConversationContext
from bot.conversation.messages import Button, Reply
from bot.conversation.understanding import (MAX_ANSWERS, SegmentAnswer, block_text, note_cues, read_message,
                                            variant, without_link)
from bot.knowledge.render import Renderer
from bot.knowledge.store import Loaded
from bot.matching.matcher import Match

#: Matching looks at the start of a message only: nobody asks two pages of questions,
#: and a 4,000-character paste must not slow everyone else down.
MAX_QUESTION_CHARS = 500

# Callback data of the buttons (Telegram allows 64 bytes).
MENU = "m"
TOPIC = "t:"
ENTRY = "e:"
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
    #: Every entry answered, in the order asked (several questions in one message).
    entries: tuple[str, ...] = field(default_factory=tuple)


class Faq:
    """Builds the replies of the question-and-answer part of the conversation."""

    def __init__(self, loaded: Loaded, renderer: Renderer, *, apply_button: bool = True,
                 human_button: bool = True) -> None:
        self.loaded = loaded
        self.kb = loaded.kb
        self.render = renderer
        self.apply_button = apply_button
        self.human_button = human_button

    def answer(self, text: str, context: ConversationContext | None = None,
               case: Callable[[SegmentAnswer], None] | None = None) -> Answer:
        """Answer a free-text message: entries, a choice, small talk or the fallback.

        The message is read part by part (:mod:`bot.conversation.understanding`) in the
        conversation's ``context``, which is updated with what the message said (who is
        asking, the track, the entries answered). Without a context, a fresh one is used.
        ``case`` may adapt each answered part to the prospect's own case (their age: see
        :mod:`bot.conversation.own_case`) before it is shown and remembered.
        """
        context = context if context is not None else ConversationContext()
        question = text[:MAX_QUESTION_CHARS]
        note_cues(self, question, context)
        self.render.register = context.address
        reading = read_message(self, question, context)
        if case is not None:
            for part in reading.answers:
                if part.outcome == "answered":
                    case(part)
            # Two parts may now say the same ("j'ai 31 ans, c'est trop tard ?": both the age answer).
            reading.answers = _said_once(reading.answers)
        answered = [a for a in reading.answers if a.outcome != "ambiguous"]
        if not reading.answers:
            if reading.smalltalk is not None and not reading.unknown:
                return Answer([Reply(reading.smalltalk.text or "")], "smalltalk", None, reading.smalltalk.score)
            if reading.introduction:
                return Answer([self.noted_reply()], "fallback", None, reading.best_score)
            return Answer([self.fallback_reply()], "fallback", None, reading.best_score)
        for part in answered:
            if part.entry is not None:
                context.remember(part.entry, self.kb.entries[part.entry].topic)
                if self.kb.entries[part.entry].track:
                    context.track = self.kb.entries[part.entry].track
        entries = [a.entry for a in answered if a.entry is not None]
        first = reading.answers[0]
        if len(reading.answers) == 1 and not reading.unknown:
            return self._single(first, entries)
        reply = self.blocks_reply(reading.answers, reading.unknown)
        outcome = "answered" if entries else ("fallback" if answered else "ambiguous")
        return Answer([reply], outcome, entries[0] if entries else None, first.score,
                      entries=tuple(entries[:MAX_ANSWERS]))

    def _single(self, part: SegmentAnswer, entries: list[str]) -> Answer:
        """One question in the message: the reply the bot has always given, in context."""
        if part.outcome == "ambiguous":
            match = Match(None, part.score, candidates=part.candidates)
            return Answer([self.choice_reply(match)], "ambiguous", None, part.score, part.candidates)
        if part.outcome == "not_covered":
            return Answer([self.not_covered_reply(block_text(self, part))], "fallback", None, part.score)
        reply = self.entry_reply(part.entry or "", text=block_text(self, part))
        return Answer([reply], "answered", part.entry, part.score, entries=tuple(entries))

    def blocks_reply(self, parts: list[SegmentAnswer], unknown: list[SegmentAnswer]) -> Reply:
        """Several questions in one message: one short block per answer, in the order asked.

        A part not understood is named, so the prospect knows it was read and what to do;
        so is a question beyond the :data:`MAX_ANSWERS` answered, never dropped silently.
        """
        blocks: list[str] = []
        buttons: list[list[Button]] = []
        shown = {id(p) for p in parts[:MAX_ANSWERS]}
        for part in sorted([*parts, *unknown], key=lambda p: p.order):
            quoted = _quote(part.segment)
            if part in parts and id(part) not in shown:
                blocks.append(self.render.text("general.partie_en_trop", question=quoted))
            elif part.outcome == "answered" and part.entry:
                blocks.append(self.render.text("general.bloc_reponse", sujet=self.kb.entries[part.entry].title,
                                               message=block_text(self, part)))
            elif part.outcome == "not_covered":
                blocks.append(self.render.text("general.bloc_reponse", sujet=f"« {quoted} »",
                                               message=block_text(self, part)))
            elif part.outcome == "ambiguous":
                blocks.append(self.render.text("general.partie_ambigue", question=quoted))
                buttons.extend([Button(self.kb.entries[c].title, ENTRY + c)] for c in part.candidates)
            else:
                blocks.append(self.render.text("general.partie_sans_reponse", question=quoted))
        buttons.append([Button(self.render.text("general.bouton_menu"), MENU)])
        return Reply("\n\n".join(blocks), buttons)

    def not_covered_reply(self, text: str) -> Reply:
        """An honest "the brochures don't say", with the way to reach a person."""
        buttons = [[Button(self.render.text("general.bouton_menu"), MENU)]]
        if self.human_button:
            buttons.insert(0, [Button(self.render.text("general.bouton_conseiller"), HUMAN)])
        return Reply(text, buttons)

    def entry_reply(self, entry_id: str, text: str | None = None, question: str = "",
                    context: ConversationContext | None = None) -> Reply:
        """The answer of one entry (or the given ``text`` for it) with its follow-up buttons.

        ``question`` aims the date texts at the intake it names ("l'an prochain");
        ``context`` picks the variant written for this asker (a parent tapping a button).
        """
        entry = self.kb.entries[entry_id]
        buttons = [[Button(self.kb.entries[r].title, ENTRY + r)] for r in entry.related
                   if r in self.kb.entries]
        last_row = [Button(self.render.text("general.bouton_menu"), MENU)]
        if self.apply_button and entry.topic == self._apply_topic(entry_id):
            buttons.append([Button(self.render.text("general.bouton_inscription"), APPLY)])
        buttons.append(last_row)
        if text is None:
            template = variant(entry, context) if context is not None else entry.answer
            text = self.render.for_question(question).answer(template)
        return Reply(text, buttons)

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

    def noted_reply(self) -> Reply:
        """A message that only says who the prospect is: noted (kept as context), then "your question?".

        "Je suis RH dans une enseigne d'optique." asks nothing: "I'm not sure I can answer
        that" would read as a refusal of a question never asked.
        """
        buttons = self.topic_buttons()
        if self.human_button:
            buttons.append([Button(self.render.text("general.bouton_conseiller"), HUMAN)])
        return Reply(self.render.text("general.note_presentation"), buttons)

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


def _said_once(parts: list[SegmentAnswer]) -> list[SegmentAnswer]:
    """The parts without a repeat of an earlier one's answer (same entry, same text)."""
    seen: set[tuple[str | None, str | None]] = set()
    kept = []
    for part in parts:
        key = (part.entry, part.text if part.text is not None else part.template)
        if part.outcome == "answered" and key in seen:
            continue
        seen.add(key)
        kept.append(part)
    return kept


def _quote(segment: str, limit: int = 80) -> str:
    """A prospect's words as quoted back to them: trimmed, without markup characters."""
    text = " ".join(without_link(segment).replace("*", "").split()).strip(" ?!.,;:")
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"
