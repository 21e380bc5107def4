"""What goes into the conversation core and what comes out of it.

The core never sees a Telegram object: the handlers translate an update into an
:class:`Incoming`, call the core, and translate each :class:`Reply` back into a
Telegram message. The terminal chat does the same with ``input()`` and ``print()``.
That is the whole contract between ``bot/`` and ``handlers/``.

Reply texts are plain text. The only markup allowed is ``**bold**``; each front end
renders it its own way (HTML ``<b>`` on Telegram after escaping, nothing in the
terminal), so no prospect-typed text can ever be interpreted as markup.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Kind(str, Enum):
    """The kinds of input a prospect can send."""

    TEXT = "text"
    COMMAND = "command"  # ``payload`` is the command name, ``args`` its arguments
    BUTTON = "button"  # ``payload`` is the button's callback data
    CONTACT = "contact"  # ``payload`` is the phone number, ``contact_user_id`` whose it is
    OTHER = "other"  # sticker, photo, voice note...: ``payload`` names the kind
    EDITED = "edited"  # an earlier message, edited: ``payload`` is its new text (never re-processed)


@dataclass(frozen=True)
class Person:
    """Who is talking, as far as the core needs to know.

    ``first_name``/``last_name`` come from the messaging profile and are only
    offered as a one-tap choice in the pre-registration form; they are stored only
    if the prospect picks them there.
    """

    user_id: int
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True)
class Incoming:
    """One thing a prospect sent."""

    person: Person
    kind: Kind
    payload: str = ""
    args: tuple[str, ...] = ()
    contact_user_id: int | None = None
    #: The messaging platform's id of this input, when it has one: an input seen
    #: twice (Telegram delivers again after a crash) is answered once.
    update_id: int | None = None


@dataclass(frozen=True)
class Button:
    """An inline button: ``data`` comes back as a :attr:`Kind.BUTTON` payload."""

    label: str
    data: str


@dataclass
class Reply:
    """One message to show the prospect.

    ``buttons`` are rows of inline buttons. ``contact_button``, when set, is the
    label of a "share my phone number" keyboard the front end offers alongside the
    text (Telegram); ``remove_keyboard`` removes that keyboard again. ``document``
    is a file to send with the text as its caption: (file name, content), e.g. the
    staff's CSV export.
    """

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    contact_button: str = ""
    remove_keyboard: bool = False
    document: tuple[str, bytes] | None = None

    def plain_text(self) -> str:
        """The text as the prospect reads it, without the ``**`` markers."""
        return self.text.replace("**", "")

    def flat_buttons(self) -> list[Button]:
        """All buttons, row after row: the numbered choices of the terminal chat."""
        return [b for row in self.buttons for b in row]

    def to_dict(self) -> dict:
        """A JSON-ready form, to store a reply and send it again later (documents excluded)."""
        return {"text": self.text, "buttons": [[[b.label, b.data] for b in row] for row in self.buttons],
                "contact_button": self.contact_button, "remove_keyboard": self.remove_keyboard}

    @classmethod
    def from_dict(cls, data: dict) -> "Reply":
        """The reply :meth:`to_dict` stored."""
        return cls(data["text"], [[Button(label, cb) for label, cb in row] for row in data.get("buttons", [])],
                   data.get("contact_button", ""), data.get("remove_keyboard", False))
