"""The prospect's own case in the answer: their age, their pay, their language.

A prospect who said "j'ai 17 ans" (in this message or an earlier one) asking "je
peux candidater ?" or "je serai payé combien ?" wants the answer *for 17*, not the
general rule; one who writes in English wants English. This layer sits around
:meth:`Faq.answer`: it reads the age and the language of a message, keeps them in the
conversation's context (``state["context"]``, keys ``age`` and ``lang``, the record
of :mod:`bot.conversation.context`), and adapts the answer:

- the age rule (16 to 29 révolus, no limit with a disability or for high-level
  athletes, under 16 not yet) for an age question;
- the legal minimum pay for the age and contract year, next to the brochure's range,
  always said to be the law's minimum computed by the bot, never the school's;
- English answers for the entries translated in ``english.yaml``, and the French
  answer with one English line otherwise.

Only the age (a number) and the language are kept: a disability said in passing
gives the rule's answer and is stored nowhere.
"""
from __future__ import annotations

import re
from typing import Any

from bot.conversation.age import AgeRule, age_rule, ages_born_in, find_age, find_birth_year, without_age, years_in
from bot.conversation.english import STOPWORDS as ENGLISH_STOPWORDS
from bot.conversation.english import english_fact, english_smalltalk, render_english
from bot.conversation.faq import HUMAN, Answer, Faq
from bot.conversation.language import detect_language
from bot.conversation.messages import Button, Reply
from bot.conversation.understanding import SegmentAnswer, block_text
from bot.conversation.pay import BANDS, SMIC_FACT, find_contract_year, legal_minimum, without_contract_year
from bot.knowledge.render import format_fact, french_date
from bot.matching import french
from bot.matching.french import fold
from bot.matching.health import mentions_health

#: The key of the conversation's context in the session state (shared with the context record).
CONTEXT_KEY = "context"
KEEP_ENTRIES = 5
AGE_ENTRY = "age_limite"
PAY_ENTRY = "remuneration"
#: Entries a message stating an age lands on when it is really about the age
#: ("c'est encore possible à 28 ans ?" looks like the late-entry question).
AGE_QUESTIONS = frozenset({AGE_ENTRY, "public_concerne", "inscription_encore_possible"})
#: Entries whose answer gets the age verdict on top when the age is known.
AGE_PREFIXED = frozenset({"conditions_acces"})
#: Words that make "encore possible" a question about the calendar, not the age.
_CALENDAR = re.compile(r"\b(rentree|septembre|octobre|novembre|decembre|date|inscri\w*|cette annee|delai|temps)\b")
#: Words that ask whether the asker may still do it ("c'est possible pour moi ?", "je peux encore ?"):
#: with an age stated in the same message, the question is about that age.
_ELIGIBLE = re.compile(r"\b(possible|(?:peu[xt]|pourr\w*|puis) encore|trop (vieux|vieille|age|agee|tard)|mon age|eligible|le droit)\b")
#: A message saying the asker is a high-level athlete or has a disability: no age limit applies.
#: Read to answer that one message; never kept (see :func:`mentions_health` for the health side).
_NO_LIMIT = re.compile(r"\b(sporti\w* de haut niv\w*|haut niveau|athlete|disab\w*|handicap\w*|rqth)\b")
_SENTENCES = re.compile(r"(?<=[.?!;])\s+|\n+")
#: The ages a birth year may give (outside: a typo, or a year that is not a birth year).
PLAUSIBLE_AGES = range(10, 100)
#: Contract years given when none is asked: the BTS lasts two years.
DEFAULT_YEARS = (1, 2)
#: Words that leave a message about nothing but the age ("ma fille a 17 ans") ...
WHO_WORDS = frozenset("fille fils enfant enfants petit petite daughter son child kid ans an years old".split())
#: ... or nothing but the contract year, after pay was answered ("et la 2e année, c'est combien ?").
FOLLOW_UP_WORDS = frozenset("what about how much combien and et alors then so".split())


#: The conversation's context: the session's dict, or the context record (attributes).
Context = Any


def _get(context: Context, name: str) -> Any:
    return context.get(name) if isinstance(context, dict) else getattr(context, name, None)


def _set(context: Context, name: str, value: Any) -> None:
    if isinstance(context, dict):
        context[name] = value
    else:
        setattr(context, name, value)


class OwnCase:
    """Answers a message for this prospect's case, given the conversation's context."""

    def __init__(self, faq: Faq) -> None:
        self.faq = faq
        self.kb = faq.kb
        #: The answer each entry got in this message, as worded for this asker (a parent's
        #: "vous" variant...): the own-case text is built on it, not on the plain answer.
        self._worded: dict[str, str] = {}
        #: The English question being answered: its dates are aimed at the intake it names.
        self._question = ""
        #: (birth year, younger age, older age) when this message gives a birth year, not an age.
        self._born: tuple[int, int, int] | None = None

    def note(self, text: str, context: Context) -> int | None:
        """Keep the age and the language ``text`` states in ``context``; return the age it states.

        ``context`` is the session's context dict or the context record: both have
        ``age`` and ``lang``. Nothing else about the prospect is kept.
        """
        age = find_age(text)
        year = find_birth_year(text) if age is None else None
        if year is not None:
            # Born in 2005: 20 or 21 this year, depending on the birthday; the younger age is
            # kept (the rule is told for both when they differ).
            younger, older = ages_born_in(year, self.faq.render.today.year)
            if 0 < younger and older in PLAUSIBLE_AGES:
                self._born, age = (year, younger, older), younger
        if age is not None:
            _set(context, "age", age)
        lang = detect_language(text)
        if lang is not None:
            _set(context, "lang", lang)
        return age

    def answer(self, text: str, context: Context) -> Answer:
        """Answer ``text`` for this prospect; update ``context`` (age, language, entry answered)."""
        age = self.note(text, context)
        if _get(context, "lang") != "en":
            return self._french(text, context, age)  # the French reading remembers what it answered
        answer = self.english(text, context, age)
        if answer.entry:
            remember(context, answer.entry)
        return answer

    # --- the two languages -----------------------------------------------------------

    def _french(self, text: str, context: Context, stated_age: int | None) -> Answer:
        adapted: list[SegmentAnswer] = []

        def for_this_case(part: SegmentAnswer) -> None:
            """Each question of the message, answered for this prospect's age or contract year."""
            if part.entry is not None:
                self._worded[part.entry] = block_text(self.faq, part)
            own = self.for_case(part.entry, part.segment, context, stated_age, "fr", part.score)
            if own is not None:
                part.entry, part.text = own.entry, own.replies[0].text
                adapted.append(part)

        answer = self.faq.answer(text, context, case=for_this_case)
        if answer.outcome == "smalltalk" or adapted:
            return answer
        if answer.entry is None and stated_age is not None:
            # "Ma fille a 17 ans. Combien sera-t-elle payée ?": the sentence stating the age
            # drowns the question; the age is kept, the rest of the message is the question.
            rest = " ".join(s for s in _SENTENCES.split(text) if s.strip() and find_age(s) is None)
            retry = self.faq.answer(rest) if rest else answer
            if retry.outcome == "answered":
                answer = retry
        return self.for_case(answer.entry, text, context, stated_age, "fr", answer.score) or answer

    def english(self, text: str, context: Context, stated_age: int | None) -> Answer:
        """Answer ``text`` in English: a translated entry, else the French one with an English line."""
        self._question = text
        small = english_smalltalk(text)
        if small is not None and f"english.{small}" in self.kb.texts:
            return Answer([Reply(self._text("en", small))], "smalltalk", None, 1.0)
        matcher = self.faq.loaded.english
        match = matcher.match(text) if matcher is not None else None
        entry_id, score = (match.entry_id, match.score) if match else (None, 0.0)
        if match is not None and match.candidates and stated_age is None:
            reply = self.faq.choice_reply(match)  # the entries' buttons (French titles)
            reply.text = self._text("en", "ambigu")
            return Answer([reply], "ambiguous", None, score, match.candidates)
        if entry_id is None:  # "BTS", "VAE", "OPCO", "bloc 4": the French matcher knows them
            french = self.faq.answer(text)
            if french.outcome == "answered":
                entry_id, score = french.entry, french.score
        own = self.for_case(entry_id, text, context, stated_age, "en", score)
        if own is not None:
            return own
        if entry_id is None:
            return Answer([self._english_fallback()], "fallback", None, score)
        return Answer([self._english_entry(entry_id)], "answered", entry_id, score)

    def for_case(self, entry_id: str | None, text: str, context: Context, stated_age: int | None,
                 lang: str, score: float = 0.0) -> Answer | None:
        """The answer for this prospect's age or pay, or None when the general answer is right.

        ``entry_id`` is what the question was matched to (None if nothing sure),
        ``stated_age`` the age this very message states (see :meth:`note`).
        """
        known_age = _get(context, "age") if isinstance(_get(context, "age"), int) else None
        year = find_contract_year(text)
        if stated_age is not None and (self._about_age(entry_id, text) or _only(without_age(text), WHO_WORDS)):
            exception = bool(_NO_LIMIT.search(fold(text))) or mentions_health(text)
            return Answer([self._age_reply(stated_age, lang, exception)], "answered", AGE_ENTRY, score)
        if entry_id == AGE_ENTRY and known_age is not None:
            return Answer([self._age_reply(known_age, lang)], "answered", AGE_ENTRY, score)
        calendar_with_age = entry_id in AGE_QUESTIONS and stated_age is not None  # "à 28 ans, encore temps ?"
        if calendar_with_age or entry_id in AGE_PREFIXED and known_age is not None:
            reply = self._entry_reply(entry_id, lang)
            reply.text = self._age_text(stated_age or known_age, lang) + "\n\n" + reply.text
            return Answer([reply], "answered", entry_id, score)
        if entry_id == PAY_ENTRY:
            reply = self._entry_reply(PAY_ENTRY, lang)
            extra = self._pay_text(known_age, (year,) if year else DEFAULT_YEARS, lang)
            reply.text += "\n\n" + extra if extra else ""
            return Answer([reply], "answered", PAY_ENTRY, score)
        if year is not None and last_entry(context) == PAY_ENTRY and (
                entry_id is None or _only(without_contract_year(text), FOLLOW_UP_WORDS)):
            reply = self._entry_reply(PAY_ENTRY, lang)  # for its buttons
            reply.text = "\n".join([self._pay_text(known_age, (year,), lang), self._text(lang, "salaire_brochure")])
            return Answer([reply], "answered", PAY_ENTRY, score)
        return None

    def _about_age(self, entry_id: str | None, text: str) -> bool:
        """True when a message that states an age asks about the age (or about nothing else)."""
        if entry_id is None:
            return True
        if self._born is not None and entry_id != PAY_ENTRY:
            return True  # a birth year is given to ask whether that age may apply ("je suis né en 2005, je peux ?")
        if entry_id == "inscription_encore_possible":
            return not _CALENDAR.search(fold(text))
        if entry_id != PAY_ENTRY and _ELIGIBLE.search(fold(text)) and not _CALENDAR.search(fold(text)):
            return True  # "j'ai 31 ans, le BTS en alternance c'est possible pour moi ?"
        return entry_id in AGE_QUESTIONS

    # --- the replies -----------------------------------------------------------------

    def _text(self, lang: str, key: str, **params: object) -> str:
        """One sentence of ``texts/situation.yaml``, or of ``texts/english.yaml`` in English."""
        if lang == "en" and f"english.{key}" in self.kb.texts:
            return render_english(self.kb, self.kb.texts[f"english.{key}"], params)
        return self.faq.render.text(f"situation.{key}", **params)

    def _age_text(self, age: int, lang: str, exception: bool = False) -> str:
        """The rule for ``age``; ``exception`` when the message says disability or high-level sport."""
        minimum, maximum = years_in(self.kb.facts.get("age_min")), years_in(self.kb.facts.get("age_max"))
        if minimum is None or maximum is None:
            return ""
        rule = age_rule(age, minimum, maximum)
        if rule is AgeRule.OVER and exception:
            return self._text(lang, "age_sans_limite", age=age)
        key = {AgeRule.TOO_YOUNG: "age_trop_jeune", AgeRule.OK: "age_ok", AgeRule.OVER: "age_au_dela"}
        return self._text(lang, key[rule], age=age)

    def _rule(self, age: int) -> AgeRule | None:
        """The admission rule for ``age`` (None when the base lacks the bounds)."""
        minimum, maximum = years_in(self.kb.facts.get("age_min")), years_in(self.kb.facts.get("age_max"))
        return None if minimum is None or maximum is None else age_rule(age, minimum, maximum)

    def _age_reply(self, age: int, lang: str, exception: bool = False) -> Reply:
        reply = self._entry_reply(AGE_ENTRY, lang) if AGE_ENTRY in self.kb.entries else Reply("")
        reply.text = self._age_text(age, lang, exception) or reply.text
        if self._born is not None and self._born[1] == age:
            year, younger, older = self._born
            said = self._text(lang, "age_naissance", annee=year, min=younger, max=older)
            # One rule for both ages is said once; across a limit (15 or 16, 29 or 30), both are said.
            both = self._rule(younger) != self._rule(older)
            reply.text = "\n".join([said, reply.text, *([self._age_text(older, lang, exception)] if both else [])])
        return reply

    def _pay_text(self, age: int | None, years: tuple[int, ...], lang: str) -> str:
        """The legal minimum for ``age`` in each of ``years``, with its source; or ask for the age."""
        figures = [f for f in (legal_minimum(self.kb, age, y) for y in years) if f] if age is not None else []
        if not figures:
            return self._text(lang, "salaire_demander_age") if age is None else ""
        smic = self.kb.official[SMIC_FACT]
        number = (lambda v: f"{v:,.2f}") if lang == "en" else format_fact
        lines = [self._text(lang, "salaire_intro", age=age, tranche=self._text(lang, f"tranche_{figures[0].band_fact}"))]
        lines += [self._text(lang, "salaire_ligne", annee=self._text(lang, f"annee_{f.year}"),
                             pourcent=f"{f.percent:g}", montant=number(float(f.monthly))) for f in figures]
        if figures[0].conventional:
            lines.append(self._text(lang, "salaire_convention"))
        if figures[0].band_fact != BANDS[-1][1]:
            lines.append(self._text(lang, "salaire_anniversaire"))
        date = english_fact(smic.checked) if lang == "en" else french_date(smic.checked)
        lines.append(self._text(lang, "salaire_source", smic=number(float(smic.value)), date=date))
        return "\n".join(lines)

    def _entry_reply(self, entry_id: str, lang: str) -> Reply:
        """The entry's reply (its buttons), in English when it is translated."""
        reply = self.faq.entry_reply(entry_id, self._worded.get(entry_id) if lang == "fr" else None)
        english = self.kb.english.get(entry_id)
        if lang == "en":
            if english is not None and english.answer:
                reply.text = self.faq.render.in_english(self._question).answer(english.answer)
            else:
                reply.text = self._text("en", "en_francais") + "\n\n" + reply.text
        return reply

    def _english_entry(self, entry_id: str) -> Reply:
        return self._entry_reply(entry_id, "en")

    def _english_fallback(self) -> Reply:
        buttons = self.faq.topic_buttons()
        if self.faq.human_button:
            buttons.append([Button(self.faq.render.text("general.bouton_conseiller"), HUMAN)])
        return Reply(self._text("en", "pas_compris"), buttons)


def _only(rest: str, allowed: frozenset[str]) -> bool:
    """True when ``rest`` holds no word but grammar, greetings and ``allowed`` words."""
    return all(w in french.STOPWORDS or w in ENGLISH_STOPWORDS or w in allowed for w in french.words(rest))


def remember(context: Context, entry_id: str) -> None:
    """Note the entry answered last (follow-ups such as "et en 2e année ?" are read after it)."""
    entries = _get(context, "last_entries") or []
    entries = [e for e in entries if isinstance(e, str) and e != entry_id]
    _set(context, "last_entries", [*entries, entry_id][-KEEP_ENTRIES:])


def last_entry(context: Context) -> str | None:
    """The entry answered last in the conversation, if any."""
    entries = _get(context, "last_entries")
    return entries[-1] if isinstance(entries, list) and entries else None
