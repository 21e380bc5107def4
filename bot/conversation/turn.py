"""One message's handling (:class:`Turn`) and what handles it (:data:`Handler`).

In a module of its own so that the features (the form, the staff desk) can name
these types without importing the engine that installs them: the engine imports
the features, never the reverse.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from bot.conversation.faq import Answer, Faq
from bot.messages import Incoming, Reply


@dataclass
class Turn:
    """Everything one message's handling needs, and the state it may change."""

    msg: Incoming
    state: dict[str, Any]
    faq: Faq
    replies: list[Reply] = field(default_factory=list)
    #: The questions answered during this turn (``ask --dialogue`` reports their entries).
    answers: list[Answer] = field(default_factory=list)

    @property
    def user_id(self) -> int:
        return self.msg.person.user_id

    def say(self, reply: Reply) -> None:
        self.replies.append(reply)


Handler = Callable[[Turn], None]
