"""Reading a real prospect message: cut it up, read each part in context, answer each question.

A real first message is rarely a bare question: "Bonjour, je me renseigne pour ma
fille. Combien coûte la formation ?". Matched whole, the greeting and the context
sentence bring words the base does not know and the covered question is refused.
So a message is read in three steps:

1. **Cut** into sentences, and a question sentence into clauses ("c'est payé combien
   et ya cours quels jours ?") when the clauses find different entries.
2. **Sort** the parts: small talk (only when the part is small talk through and
   through: "vae" is not "va"), statements (preambles: who is asking, kept as
   context) and questions. With no question at all, the statements are the question.
3. **Answer** each question with :func:`answer_segment`, the per-segment unit, which
   reads it in the conversation's context (its track, audience and last entries).

Up to :data:`MAX_ANSWERS` answers come back in the order asked; a question not
understood is named rather than dropped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.conversation.context import ConversationContext
from bot.matching.cues import folded
from bot.matching import french
from bot.matching.matcher import THRESHOLD, decide

if TYPE_CHECKING:
    from bot.conversation.faq import Faq
    from bot.knowledge.model import Entry
    from bot.matching.matcher import Matcher

#: The most questions answered from one message (a phone screen stays readable).
MAX_ANSWERS = 3
#: Small talk takes a part only above this score (and strictly above the FAQ's).
SMALLTALK_THRESHOLD = 0.6
#: ... or above this one when every word of the part is a small-talk word ("ok merci bye":
#: thanks and a farewell at once, each intent only part of the whole).
SMALLTALK_WHOLE_THRESHOLD = 0.35
#: Added to an entry of the track the prospect is on (block 4 only...).
TRACK_BONUS = 0.12
#: Taken from an entry scoped to a track (or audience) the prospect is not on ("en présentiel ?").
OFF_SCOPE_PENALTY = 0.06
#: Added to an entry written for the prospect's audience (employer, parent).
AUDIENCE_BONUS = 0.06
#: Added, for a short follow-up, to the entries next to the last one answered.
FOLLOW_BONUS = 0.08
#: Added to the entry a message's preamble points to (scored at least :data:`PREAMBLE_MIN` alone).
PREAMBLE_BONUS = 0.1
PREAMBLE_MIN = 0.15
#: The most the context can add to an entry, plus the most it can take from the best one:
#: an entry further than this below the best cannot reach the top once re-weighed.
MAX_LIFT = TRACK_BONUS + AUDIENCE_BONUS + FOLLOW_BONUS + PREAMBLE_BONUS + 2 * OFF_SCOPE_PENALTY
#: A part with at most this many content words is read as a possible follow-up.
FOLLOW_UP_WORDS = 3
#: The fewest content words a clause needs to stand alone (else it stays with its neighbour).
MIN_CLAUSE_WORDS = 2

_SENTENCE_END = re.compile(r"(?<=[?!;])\s*|(?<=[.:])\s+|\n+")
#: Clauses are cut at commas, and at "et" when what follows asks its own question.
#: The question words include their SMS spellings ("et c payé cb ?"): the text is cut before it is folded.
_CLAUSE_CUT = re.compile(r",\s*(?:et\s+|ou\s+)?|\s+et\s+(?=(?:[\w'-]+\s+){0,3}?(?:combien|comment|quand|quel|"
                         r"quelle|quels|quelles|pourquoi|ou|où|est-ce|y a|ya|il y a|faut-il|il faut|cb|cmb|qd|kan|kand|"
                         r"koi|kel|kelle|kels|kelles|cmt|c|ca|sa)\b)",
                         re.IGNORECASE)
_QUESTION_WORDS = re.compile(
    r"(?<!\S)(?:combien|comment|quand|quel|quelle|quels|quelles|pourquoi|est ce que|c est quoi|"
    r"qu est ce|ou est|ou se|ou je|ou on|a quoi|y a t il|peut on|puis je|dois je|faut il)(?!\S)")
#: Words that point back to what was said before ("pour en parler", "à ce sujet", "son cas").
#: ... and so does a question opening on a pronoun subject ("Est-il accepté ?"), not one whose
#: subject is named first ("La formation est-elle payante ?").
_BACK_REFERENCE = re.compile(r"(?<!\S)(?:en (?:parler|discuter|savoir)|a ce (?:sujet|propos)|pour (?:ca|cela)|"
                             r"de (?:ca|cela)|son cas|sa situation|ce cas|dans ce cas|concernant ca)(?!\S)|"
                             r"^(?:et )?(?:est|sont) (?:il|elle|ils|elles)(?!\S)")
#: Words that make a sentence without a question mark a request ("j'aimerais savoir si...").
_REQUEST = re.compile(r"(?<!\S)(?:savoir|renseign\w*|connaitre|aimerais|aimerai|voudrais|voudrai|souhait\w*|besoin|"
                      r"information|expliqu\w*|dire|preciser|si)(?!\S)")
#: The asker speaking of themselves ("je suis...", "nous sommes...", "mon magasin...").
_SELF = re.compile(r"(?<!\S)(?:je|j|moi|nous|mon|ma|mes|notre|nos)(?!\S)")
#: A short question whose subject is a pronoun ("ça dépend de quoi ?", "c'est valable combien de temps ?"):
#: the pronoun stands for what was answered last.
_PRONOUN_LEAD = re.compile(r"^(?:et |mais )?(?:ca|cela|c est|il|elle|ils|elles)(?!\S)")
#: Question words that ask about any topic: "et c'est quand ?" may follow anything ("où" names a place).
_ANY_TOPIC = frozenset(french.stem(w) for w in ("combien", "quand", "comment", "pourquoi"))
#: Tokens that never make a topic on their own (a negation: "je sais pas si c'est pour moi").
_NO_TOPIC = frozenset({"pas"})
#: Between two equally likely entries, the one whose title the question matches this much better wins.
TITLE_MARGIN = 0.05
_LINKS = frozenset("pour sur avec dans par chez et ou mais sans vers entre a".split())
_LEADING_AND = re.compile(r"^\s*(?:et|ou|mais|sinon|aussi)\b[\s,]*", re.IGNORECASE)


@dataclass
class SegmentAnswer:
    """What one question segment gets: a block of text and the entry behind it.

    ``outcome`` is ``answered``, ``ambiguous``, ``not_covered`` (an honest "not in the
    brochures"), ``smalltalk`` or ``unknown``. ``template`` is the answer chosen for
    the context, not yet filled in (clauses are tried and dropped: only what is
    shown gets rendered); ``text``, when set, is the finished block and wins (a
    feature answering from the prospect's own case sets it).
    """

    segment: str
    outcome: str
    entry: str | None = None
    score: float = 0.0
    candidates: tuple[str, ...] = ()
    text: str | None = None
    template: str | None = None
    #: The segment's place in the message (blocks are shown in the order asked).
    order: int = 0


@dataclass
class Reading:
    """A whole message once read: the answered segments, in order, and the rest."""

    answers: list[SegmentAnswer] = field(default_factory=list)
    unknown: list[SegmentAnswer] = field(default_factory=list)
    smalltalk: SegmentAnswer | None = None
    best_score: float = 0.0
    #: True when no part of the message asks anything and it speaks of the asker ("je suis
    #: RH dans une enseigne."): not understood, it is an introduction to acknowledge, not a
    #: question to refuse. "le salaire blabla" asks about a topic: it stays a question.
    introduction: bool = False


# --- cutting -------------------------------------------------------------------------


def sentences(text: str) -> list[str]:
    """The sentences of a message (after ``?``, ``!``, ``;``, ``:``, a full stop, a new line)."""
    # A part with no letter nor digit ("!!" after "top merci") is punctuation, not a sentence.
    return [s.strip() for s in _SENTENCE_END.split(text) if s and any(c.isalnum() for c in s)]


def clauses(sentence: str) -> list[str]:
    """A sentence cut at commas and "et"; a clause too short to stand alone stays joined."""
    parts = [p.strip() for p in _CLAUSE_CUT.split(sentence) if p and p.strip(" ,.?!")]
    merged: list[str] = []
    for part in parts:
        if merged and clause_words(part) < MIN_CLAUSE_WORDS:
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    if len(merged) > 1 and clause_words(merged[0]) < MIN_CLAUSE_WORDS:
        merged[1] = f"{merged[0]} {merged[1]}"
        del merged[0]
    return merged


def clause_words(text: str) -> int:
    """How many words could make a clause a question of its own ("il faut le bac": 2).

    "pour l'entreprise ?" (1) is not one: it completes the clause before it.
    """
    return sum(1 for w in french.words(text) if len(w) > 1 and w not in french.GRAMMAR and w not in _LINKS)


def without_link(text: str) -> str:
    """A segment without its opening "et", "mais"... (how it is quoted back)."""
    return _LEADING_AND.sub("", text) or text


def content_words(text: str) -> int:
    """How many words of a text carry a topic (stop words left out)."""
    return sum(1 for w in french.words(text) if w not in french.STOPWORDS)


def is_question(text: str) -> bool:
    """A part asked as a question: a question mark or an interrogative word."""
    return "?" in text or bool(_QUESTION_WORDS.search(folded(text)))


# --- one segment ---------------------------------------------------------------------


def answer_segment(faq: "Faq", segment: str, context: ConversationContext,
                   hint: str | None = None) -> SegmentAnswer:
    """Answer ONE question segment, read in the conversation's context.

    The lexical ranking is re-weighed by the context (the prospect's track and
    audience, the entries just answered for a short follow-up), then decided by the
    matcher's own rule, so the context settles what it can and "did you mean" stays
    for real ambiguity. ``hint`` is the entry the message's preamble points to
    ("mon fils a une RQTH." -> disability): it is favoured. A chosen entry may hand over to another in this context
    (``instead``), and its text is the variant written for this context if any.
    """
    loaded = faq.loaded
    tokens = loaded.faq.tokens(segment)
    if tokens and set(tokens) <= _NO_TOPIC:  # "jsp si c pour moi": a "pas" alone asks about nothing
        return SegmentAnswer(segment, "unknown", None, 0.0)
    ranked = reweigh(faq, segment, context, loaded.faq.ranked(segment), hint)
    match = decide(ranked)
    small = smalltalk_of(faq, segment, match.score, context)
    if small is not None:
        return small
    chosen = match.entry_id
    if chosen is None and is_follow_up(segment) and context.last_entry is not None:
        chosen = follow_up_choice(faq, segment, context, match.candidates)
    if hint is None and leans_back(segment) and context.last_entry is not None and (
            chosen is None or chosen not in neighbours(faq, context)):
        chosen = about_earlier(faq, segment, context, strict=True) or chosen  # "ça dépend de quoi ?" after the pay
    if _BACK_REFERENCE.search(folded(segment)):
        if hint is not None and chosen != hint:
            chosen = about_preamble(faq, segment, context, hint) or chosen
        elif hint is None and context.last_entry is not None and chosen != context.last_entry:
            chosen = about_earlier(faq, segment, context) or chosen
    real = tuple(c for c in match.candidates if c in loaded.kb.entries)
    if chosen is None and len(real) > 1:
        chosen = title_choice(faq, segment, real)
    if chosen is None and match.candidates and len(real) < 2:
        # A choice between an answer and "not covered" is no choice to offer: the
        # closest example (candidates come closest first) settles it.
        chosen = match.candidates[0]
    if chosen is None:
        if real:
            return SegmentAnswer(segment, "ambiguous", None, match.score, real)
        return SegmentAnswer(segment, "unknown", None, match.score)
    entry_id = handover(faq, chosen, context)
    if entry_id in loaded.kb.not_covered:
        entry = loaded.kb.not_covered[entry_id]
        return SegmentAnswer(segment, "not_covered", None, match.score, template=variant(entry, context))
    entry = loaded.kb.entries[entry_id]
    return SegmentAnswer(segment, "answered", entry_id, match.score, template=variant(entry, context))


def reweigh(faq: "Faq", segment: str, context: ConversationContext,
            ranked: list[tuple[str, float, float]], hint: str | None = None) -> list[tuple[str, float, float]]:
    """The ranking adjusted by the context, best first (``hint``: see :func:`answer_segment`)."""
    if not ranked:
        return ranked
    kb = faq.loaded.kb
    cues = faq.loaded.cues
    said_track = cues.value(segment, "tracks") if cues else None
    track = said_track or context.track
    follow_up = is_follow_up(segment) and context.last_entry is not None
    near = neighbours(faq, context) if follow_up else set()
    result = []
    matcher = faq.loaded.faq
    tokens = set(matcher.tokens(segment))
    known = all(t in matcher.idf or t.isdigit() for t in tokens)
    own = [t for t in tokens if t not in _ANY_TOPIC]
    top = [kb.entries.get(r[0]) or kb.not_covered.get(r[0]) for r in ranked[:3]]
    titles = {e.id: set(matcher.tokens(e.title, correct=False)) for e in top if e is not None}
    others = {i: set().union(*(t for j, t in titles.items() if j != i)) for i in titles}
    # Only an entry the context could lift to the top can change the decision: the rest of
    # a long ranking (a big base shares "bts" with every entry) is left as it is.
    floor = ranked[0][1] - MAX_LIFT
    kept = [r for r in ranked if r[1] >= floor]
    for entry_id, score, fit in kept:
        entry = kb.entries.get(entry_id) or kb.not_covered.get(entry_id)
        bonus = 0.0
        said = 0.0  # what the message's own words add (a track it names, its preamble)
        if entry is None:
            result.append((entry_id, score, fit))
            continue
        # An entry scoped to a track or an audience is set aside for other prospects,
        # unless the question itself names what sets it apart ("l'examen du bloc 4",
        # "combien ça coûte à l'entreprise"): the words of its title no close rival has.
        distinct = titles[entry_id] - others[entry_id] if entry_id in titles else set()
        named = bool(tokens & distinct)
        on_track = bool(entry.track) and entry.track == track or not entry.track and track in entry.instead
        if on_track and track == said_track:
            said += TRACK_BONUS
        elif on_track:  # includes an entry that hands over to the track's own answer
            bonus += TRACK_BONUS
        elif entry.track and not named:
            bonus -= OFF_SCOPE_PENALTY
        if entry.audience:
            if entry.audience == context.audience:
                bonus += AUDIENCE_BONUS
            elif not named:
                bonus -= OFF_SCOPE_PENALTY
        if entry_id in near and (not own or any(matcher.knows(entry_id, [t]) for t in own)):
            bonus += FOLLOW_BONUS  # not when it knows none of the words: "comment se passe l'admission ?" after the pay
        if entry_id == hint:
            said += PREAMBLE_BONUS
        adjusted = score + said + bonus
        if bonus > 0 and adjusted >= THRESHOLD > score + said and not known:
            # The earlier turns order what the words support; they never make a question
            # with a word the base does not know ("une pizza") clear the bar it failed alone.
            adjusted = max(score + said, THRESHOLD - 0.0001)
        result.append((entry_id, round(adjusted, 4), fit))
    result.sort(key=lambda item: -item[1])
    return result + ranked[len(kept):]


def preamble_entry(faq: "Faq", preamble: str) -> str | None:
    """The entry a message's context sentences point to, if they point anywhere.

    Read as a person would: "mon fils est autiste et a une RQTH. Qui contacter ?" is
    about the disability contact, not the switchboard.
    """
    if not preamble.strip():
        return None
    ranked = [r for r in faq.loaded.faq.ranked(preamble) if r[0] in faq.loaded.kb.entries]
    return ranked[0][0] if ranked and ranked[0][1] >= PREAMBLE_MIN else None


def follow_up_choice(faq: "Faq", segment: str, context: ConversationContext,
                     candidates: tuple[str, ...]) -> str | None:
    """What a short follow-up is about when it is unclear alone ("et en 2e année ?").

    Among equally likely entries, the one answered most recently; else the follow-up
    read together with the last entry's title, kept only if it lands next to that
    entry. Otherwise None: then the bot asks or says it does not know.
    """
    recent = [e for e in reversed(context.last_entries) if e in candidates]
    if recent:
        return recent[0]
    if not all_known(faq, segment):
        return None  # "combien coûte une pizza" after the salary: out of scope, not a follow-up
    last = faq.loaded.kb.entries.get(context.last_entry or "")
    if last is None:
        return None
    carried = decide(reweigh(faq, f"{segment} {last.title}", context,
                             faq.loaded.faq.ranked(f"{segment} {last.title}")))
    return carried.entry_id if fits_context(faq, segment, context, carried.entry_id) else None


def about_preamble(faq: "Faq", segment: str, context: ConversationContext, hint: str) -> str | None:
    """The preamble's entry, when a question points back to it ("pour en parler").

    "Ma fille a une RQTH. Qui appeler pour en parler ?": alone, the question is the
    switchboard's; read with the preamble's topic (its entry's title), it is the
    disability contact's. Kept only when that reading lands on the preamble's entry.
    """
    title = faq.loaded.kb.entries[hint].title if hint in faq.loaded.kb.entries else ""
    if not title or not all_known(faq, segment):
        return None
    text = f"{segment} {title}"
    carried = decide(reweigh(faq, text, context, faq.loaded.faq.ranked(text)))
    return hint if carried.entry_id == hint else None


def about_earlier(faq: "Faq", segment: str, context: ConversationContext, strict: bool = False) -> str | None:
    """What a question pointing back to the previous turn is about ("qui contacter pour cela ?").

    Read with the title of the entry answered last, kept only when that reading lands
    next to it (its related entries, its topic): after the exam arrangements, "pour
    cela" is the disability contact, not the switchboard.
    """
    last = faq.loaded.kb.entries.get(context.last_entry or "")
    if last is None or not all_known(faq, segment):
        return None
    text = f"{segment} {last.title}"
    carried = decide(reweigh(faq, text, context, faq.loaded.faq.ranked(text)))
    if not strict:  # "qui contacter pour cela ?": the words name the contact, "cela" the topic
        return carried.entry_id if carried.entry_id in neighbours(faq, context) else None
    return carried.entry_id if fits_context(faq, segment, context, carried.entry_id) else None


def fits_context(faq: "Faq", segment: str, context: ConversationContext, entry_id: str | None) -> bool:
    """True when a reading carried by the previous turn may stand: next to the last answer, and
    about every word the segment says itself (after the pay, "c'est où ?" is still the place)."""
    matcher = faq.loaded.faq
    topic = topic_tokens(faq, segment)  # a bare number ("et si j'ai 10 sur 20 ?") names no topic to carry
    return entry_id is not None and entry_id in neighbours(faq, context) and any(
        not t.isdigit() for t in topic) and matcher.knows(entry_id, topic)


def topic_tokens(faq: "Faq", segment: str) -> list[str]:
    """The segment's tokens without the question words that ask about any topic ("combien", "quand")."""
    return [t for t in faq.loaded.faq.tokens(segment) if t not in _ANY_TOPIC]


def leans_back(segment: str) -> bool:
    """A short question on a pronoun or opening with "et" ("ça dépend de quoi ?", "et après ?")."""
    line = folded(segment)
    return content_words(segment) <= FOLLOW_UP_WORDS and bool(_PRONOUN_LEAD.match(line) or _LEADING_AND.match(line))


def title_choice(faq: "Faq", segment: str, candidates: tuple[str, ...]) -> str | None:
    """Among equally likely entries, the one whose title says what the question says, if one clearly does.

    "Comment se passe l'admission ?" fits both the admission steps and the admission
    interview; the first one's title ("Les étapes de l'admission") is about the admission
    as a whole, the second's about a part of it.
    """
    matcher = faq.loaded.faq
    words = set(matcher.tokens(segment))
    if not words:
        return None
    fits = []
    for entry_id in candidates:
        title = set(matcher.tokens(faq.loaded.kb.entries[entry_id].title, correct=False))
        fits.append((len(words & title) / len(words | title) if title else 0.0, entry_id))
    fits.sort(reverse=True)
    best, second = fits[0][0], fits[1][0]
    return fits[0][1] if best > 0 and best - second >= TITLE_MARGIN else None


def all_known(faq: "Faq", segment: str) -> bool:
    """True when every word of a segment is known to the base (numbers aside).

    A word the base has never seen is what makes a question out of scope; reading
    such a question with the previous turns would answer what was not asked.
    """
    matcher = faq.loaded.faq
    return all(t in matcher.idf or t.isdigit() for t in matcher.tokens(segment))


def is_follow_up(segment: str) -> bool:
    """A short part, or one opening with "et", that may lean on the previous turns."""
    return bool(_LEADING_AND.match(french.fold(segment))) or content_words(segment) <= FOLLOW_UP_WORDS


def neighbours(faq: "Faq", context: ConversationContext) -> set[str]:
    """The entries a follow-up is likely about: the last ones, their related ones, their topic."""
    kb = faq.loaded.kb
    last = kb.entries.get(context.last_entry or "")
    if last is None:
        return set()
    near = {*context.last_entries, *last.related}
    near.update(e.id for e in kb.entries.values() if e.topic == last.topic)
    return near


def handover(faq: "Faq", entry_id: str, context: ConversationContext) -> str:
    """The entry that answers in this context (``instead``: block 4 fees for "c'est payant ?")."""
    entry = faq.loaded.kb.entries.get(entry_id)
    if entry is None:
        return entry_id
    for key in (context.audience, context.track):
        if key and key in entry.instead:
            return entry.instead[key]
    return entry_id


def variant(entry: "Entry", context: ConversationContext) -> str:
    """The entry's text for this context: audience, then track, then "vous", else the default."""
    for key in (context.audience, context.track, "vous" if context.address == "vous" else None):
        if key and key in entry.variants:
            return entry.variants[key]
    return entry.answer


def smalltalk_of(faq: "Faq", segment: str, faq_score: float,
                 context: ConversationContext | None = None) -> SegmentAnswer | None:
    """Small talk, only when the part is small talk through and through.

    "je peux faire une vae ?" shares a near-word with "ça va"; "Merci, bonne journée"
    shares "journée" with the open days; "il faut un cv ?" shares "cv" with "ça va".
    Small talk wins only when every word of the part (articles and pronouns aside)
    occurs in a small-talk example, or when no entry claims any of its words
    ("merci pour tout"), and it scores at least as well as the FAQ.
    """
    loaded = faq.loaded
    words = {w for w in french.words(segment) if w not in french.GRAMMAR}
    if not words:
        return None
    if not words <= loaded.smalltalk_words and (faq_score > 0 or _claimed(loaded.faq, segment)):
        return None  # other words, and the FAQ claims some of them: not small talk
    small = loaded.smalltalk.match(segment)
    bar = SMALLTALK_WHOLE_THRESHOLD if words <= loaded.smalltalk_words else SMALLTALK_THRESHOLD
    if small.entry_id is None or small.score < bar or small.score < faq_score:
        return None
    entry = loaded.kb.smalltalk[small.entry_id]
    return SegmentAnswer(segment, "smalltalk", None, small.score,
                         text=faq.render.render(variant(entry, context or ConversationContext())))


def _claimed(matcher: "Matcher", segment: str) -> bool:
    """True when an entry knows one of the segment's words."""
    return any(t in matcher.idf for t in matcher.tokens(segment))


def smalltalk_sentence(faq: "Faq", sentence: str, context: ConversationContext) -> SegmentAnswer | None:
    """A sentence that is small talk whole, or clause after clause ("Merci beaucoup, bonne journée").

    The last clause answers: a farewell comes after the thanks.
    """
    whole = smalltalk_of(faq, sentence, 0.0, context)
    if whole is not None:
        return whole
    parts = clauses(sentence)
    if len(parts) < 2:
        return None
    answers = [smalltalk_of(faq, p, 0.0, context) for p in parts]
    return answers[-1] if all(answers) else None


# --- a whole message -----------------------------------------------------------------


def read_message(faq: "Faq", text: str, context: ConversationContext) -> Reading:
    """Cut a message, sort its parts and answer its questions (up to :data:`MAX_ANSWERS`)."""
    reading = Reading()
    parts = sentences(text) or [text]
    questions = [p for p in parts if is_question(p)]
    statements = [p for p in parts if not is_question(p)]
    line = folded(text)
    reading.introduction = not questions and not _REQUEST.search(line) and bool(_SELF.search(line))
    chatter = {}
    for part in statements:  # a greeting sentence is small talk, a preamble is context
        small = smalltalk_sentence(faq, part, context)
        if small is not None:
            chatter[part] = reading.smalltalk = small
    targets = questions or [p for p in statements if p not in chatter]
    order = 0
    preamble = [p for p in statements if p not in chatter] if questions else []
    hint = preamble_entry(faq, " ".join(preamble))
    for sentence in targets:
        for answer in answer_sentence(faq, sentence, context, preamble, hint):
            answer.order = order
            order += 1
            _add(reading, answer)
    return reading


def note_cues(faq: "Faq", text: str, context: ConversationContext) -> None:
    """Keep what a message says about the asker: audience, track, register ("vous").

    Read on the whole message, preambles included: "je cherche un apprenti" makes
    every later answer the employer's, even when the question itself says nothing.
    """
    cues = faq.loaded.cues
    if cues is None:
        return
    audience = cues.value(text, "audiences")
    if audience:
        context.audience = audience
    track = cues.value(text, "tracks")
    if track:
        context.track = track
    found = cues.found(text)
    if "register.vous" in found:
        context.register = "vous"
    elif "register.tu" in found:
        context.register = "tu"


def block_text(faq: "Faq", answer: SegmentAnswer) -> str:
    """The text the prospect reads for one answered segment."""
    if answer.text is not None:
        return answer.text
    # Aimed at the intake the segment names ("la rentrée de l'an prochain"), each sentence once.
    return faq.render.for_question(answer.segment).answer(answer.template or "")


def _add(reading: Reading, answer: SegmentAnswer) -> None:
    """File one segment's answer, dropping a repeat of an entry already answered."""
    reading.best_score = max(reading.best_score, answer.score)
    if answer.outcome == "smalltalk":
        reading.smalltalk = answer
    elif answer.outcome == "unknown":
        reading.unknown.append(answer)
    elif not any(a.entry == answer.entry and a.template == answer.template for a in reading.answers):
        reading.answers.append(answer)


def answer_sentence(faq: "Faq", sentence: str, context: ConversationContext,
                    preamble: list[str], hint: str | None = None) -> list[SegmentAnswer]:
    """One sentence's answers: each of its clauses when they ask different things, else the whole.

    A question that finds nothing alone is tried once more with the statements said
    before it ("je travaille en restauration. C'est possible à mon âge ?").
    """
    parts = clauses(sentence)
    before = hint
    whole = answer_segment(faq, sentence, context, before)
    if len(parts) > 1:
        answers = [answer_segment(faq, without_link(p), context, before) for p in parts]
        found = [a for a in answers if a.outcome in ("answered", "not_covered")]
        # Clauses win when they ask different things, each read at least as surely as
        # the whole sentence ("je peux faire le bts et continuer en licence ?" is one question).
        if len({a.entry or a.template for a in found}) > 1 and min(a.score for a in found) >= whole.score:
            # A clause that asks nothing and finds nothing ("wesh jsuis en terminale, c koi
            # les jours et c payé cb ?") is the question's preamble, not a question to name.
            return [a for a in answers if a.outcome != "smalltalk"
                    and not (a.outcome == "unknown" and not is_question(a.segment))]
    if whole.outcome == "unknown" and len(parts) > 1:
        best = [a for a in (answer_segment(faq, p, context, before) for p in parts) if a.outcome == "answered"]
        if len(best) == 1:
            return best
    if whole.outcome == "unknown" and preamble:
        joined = answer_segment(faq, " ".join([*preamble, sentence]), context)
        if joined.outcome in ("answered", "not_covered"):
            return [joined]
    return [whole]
