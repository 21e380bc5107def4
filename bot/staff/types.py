"""What a staff input is and what the desk answers, shared by the desk and its parts.

In a module of its own so that the parts (commands, leads, conversations) and the
desk that assembles them import these names from below, not from each other.
``bot.staff.desk`` still exports them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.messages import Reply

#: Callback data of every staff button starts with this (64 bytes at most in all).
PREFIX = "s:"


@dataclass(frozen=True)
class StaffInput:
    """One thing a staff member did in the group: a command, a message or a button press.

    ``message_thread_id`` is set only for a message inside a forum topic;
    ``message_id`` is the message itself, or for a button the message it is on.
    ``update_id`` is the messaging platform's id of the input, when it has one: an
    input delivered twice is handled once.
    """

    chat_id: int
    user_id: int
    first_name: str = ""
    text: str = ""
    command: str = ""
    args: tuple[str, ...] = ()
    message_id: int | None = None
    reply_to_message_id: int | None = None
    message_thread_id: int | None = None
    callback_data: str = ""
    update_id: int | None = None
    #: The input is an edit of an earlier message (``text`` is its new version).
    edited: bool = False


@dataclass
class StaffResult:
    """What to answer in the group (``replies``) or on the pressed button (``notice``, a toast).

    ``handled`` is False for a group message that was not meant for the bot (staff
    talking among themselves): nothing is sent.
    """

    replies: list[Reply] = field(default_factory=list)
    notice: str = ""
    handled: bool = True
    #: Work a heavy command leaves for the main connection (see ``StaffCommands.complete``); never stored.
    later: Any = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, to answer a redelivered input again (documents are not kept)."""
        return {"replies": [r.to_dict() for r in self.replies], "notice": self.notice, "handled": self.handled}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StaffResult":
        """The result :meth:`to_dict` stored."""
        return cls([Reply.from_dict(r) for r in data.get("replies", [])], data.get("notice", ""),
                   data.get("handled", True))


def clean(text: str | None, limit: int) -> str:
    """Prospect or staff text made safe for the core's markup: trimmed, ``**`` defused, cut."""
    value = (text or "").strip().replace("**", "*\u200b*")
    return value if len(value) <= limit else value[:limit - 1].rstrip() + "…"
