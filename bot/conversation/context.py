"""What the bot remembers of a conversation between two messages, to read the next one.

A real prospect rarely asks a bare question: they say who they are ("je me renseigne
pour ma fille", "je suis RH"), which path they want (block 4 only), then ask short
follow-ups ("et en 2e année ?"). This record carries that from one message to the
next. It lives inside the session state (``state["context"]``, a plain JSON dict in
SQLite), so a restart loses nothing, and it fades after a configurable silence so
a prospect who comes back weeks later is not read with a stale context.

The per-segment unit of understanding is ``answer_segment(segment, context)`` in
:mod:`bot.conversation.understanding`: it answers ONE question segment given this
context; the message-level code cuts a message into segments, calls it for each and
joins the blocks. Features that know the prospect's own case (age, language) read
and fill the fields of this record at that level.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: The key of the context inside the session state.
STATE_KEY = "context"
#: How many of the last answered entries are kept (follow-ups look at the latest first).
KEEP_ENTRIES = 5
TRACKS = (None, "bloc4")
AUDIENCES = (None, "parent", "entreprise", "self")
REGISTERS = (None, "tu", "vous")
#: Who is addressed with "vous" unless they write "tu" (see :attr:`ConversationContext.address`).
FORMAL_AUDIENCES = ("parent", "entreprise")
LANGS = ("fr", "en")


@dataclass
class ConversationContext:
    """The conversation's context: who is asking, on which path, about what.

    Every field is optional: a fresh prospect has an empty context and gets the
    default answers.
    """

    #: ``"bloc4"`` once the prospect said they only want block 4 as a free candidate.
    track: str | None = None
    #: Who asks: ``"parent"`` (for their child), ``"entreprise"`` (an employer), ``"self"``.
    audience: str | None = None
    #: Ids of the entries answered, oldest first, the latest last (at most :data:`KEEP_ENTRIES`).
    last_entries: list[str] = field(default_factory=list)
    #: The topic of the latest answered entry (follow-ups stay on it).
    topic: str | None = None
    #: The prospect's age (or their child's), when said in the conversation.
    age: int | None = None
    #: The language the prospect writes in.
    lang: str = "fr"
    #: ``"vous"`` when the prospect writes with "vous", ``"tu"`` with "tu", None when unknown.
    register: str | None = None
    #: When the context was last touched (ISO, Paris time): the fading reads it.
    updated_at: str | None = None

    # --- persistence -----------------------------------------------------------------

    @classmethod
    def from_state(cls, state: dict[str, Any], now: dt.datetime | None = None,
                   fade: dt.timedelta | None = None) -> "ConversationContext":
        """The context kept in a session state, or an empty one if none or faded.

        Unknown keys (written by a newer version) are ignored, and bad values reset
        to the default, so an odd row never breaks a conversation.
        """
        raw = state.get(STATE_KEY)
        if not isinstance(raw, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        context = cls(**{k: v for k, v in raw.items() if k in known})
        context._sanitise()
        if now is not None and fade is not None and context.faded(now, fade):
            return cls()
        return context

    def save_to(self, state: dict[str, Any], now: dt.datetime) -> None:
        """Write the context into the session state (nothing when it is empty)."""
        if self.is_empty():
            state.pop(STATE_KEY, None)
            return
        self.updated_at = now.isoformat(timespec="seconds")
        state[STATE_KEY] = asdict(self)

    def faded(self, now: dt.datetime, fade: dt.timedelta) -> bool:
        """True when the conversation has been silent longer than ``fade``."""
        if not self.updated_at:
            return False
        try:
            then = dt.datetime.fromisoformat(self.updated_at)
        except ValueError:
            return True
        if (then.tzinfo is None) != (now.tzinfo is None):
            then = then.replace(tzinfo=now.tzinfo)
        return now - then > fade

    def is_empty(self) -> bool:
        """True when nothing is known (the state then stays free of a context)."""
        return self == ConversationContext(updated_at=self.updated_at) and not self.last_entries

    # --- updates ---------------------------------------------------------------------

    def remember(self, entry_id: str, topic: str | None) -> None:
        """Note that an entry was answered (follow-ups are read after it)."""
        if entry_id in self.last_entries:
            self.last_entries.remove(entry_id)
        self.last_entries.append(entry_id)
        del self.last_entries[:-KEEP_ENTRIES]
        self.topic = topic

    @property
    def address(self) -> str | None:
        """How answers address the prospect: ``"vous"``, ``"tu"`` or None (neutral texts).

        What the prospect wrote wins; a parent or a company who wrote neither is
        addressed with "vous": they write to an institution, and "tu es payé·e" reads
        wrong to them.
        """
        if self.register is None and self.audience in FORMAL_AUDIENCES:
            return "vous"
        return self.register

    @property
    def last_entry(self) -> str | None:
        """The latest answered entry, if any."""
        return self.last_entries[-1] if self.last_entries else None

    def _sanitise(self) -> None:
        """Reset any value outside its allowed set (a hand-edited or old row)."""
        if self.track not in TRACKS:
            self.track = None
        if self.audience not in AUDIENCES:
            self.audience = None
        if self.register not in REGISTERS:
            self.register = None
        if self.lang not in LANGS:
            self.lang = "fr"
        if not isinstance(self.last_entries, list):
            self.last_entries = []
        self.last_entries = [e for e in self.last_entries if isinstance(e, str)][-KEEP_ENTRIES:]
        if not isinstance(self.age, int) or isinstance(self.age, bool):
            self.age = None
        if not isinstance(self.topic, str):
            self.topic = None
