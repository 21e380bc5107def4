"""The life cycle of a handoff ("talk to a person"), declared as data.

One source of truth: the ``status`` column of the conversation's ``handoffs`` row.
Why the row and not the prospect's session: both sides change a conversation (the
prospect asks, writes and leaves; staff answer, end and reopen it from the group,
outside the prospect's turn), the staff side reads it by id (buttons, replies,
topics), and erasure and retention delete it; the row is the one place all of them
see, written in the same transaction as the messages a change queues. The session
keeps only the engine's routing slot (``state["mode"] = "handoff"``: the prospect's
free text goes to the conversation), which :mod:`bot.staff.handoff` rebuilds from the
row after every change and never reads to decide a conversation's state. Whether the
prospect's first message was acknowledged ("Transmis") is a state of the row too
(:attr:`HandoffState.RELAYED`), no longer a session key.

Every change of status goes through :func:`next_state` over :data:`TRANSITIONS`; a pair
that is not declared is refused and logged (ids and names of states only, never a
person's data). ``NEW`` and ``ERASED`` are not stored: they stand for "no row yet" and
"row deleted" (``/supprimer``, or the retention purge of ended conversations).
Closed by staff and closed by the prospect are one state: they behave the same
afterwards; who closed it is kept in ``closed_by`` (:data:`CLOSED_BY`).

Hand-written rather than a state-machine library: the machine is a dict of eight
pairs whose state lives in SQLite, not in a Python object; a library would hold a
second copy of the state, which is what this module removes. ``docs/handoff.md`` shows
:func:`mermaid`'s rendering of the table, checked by a test.
"""
from __future__ import annotations

import logging
from enum import StrEnum

log = logging.getLogger(__name__)


class HandoffState(StrEnum):
    """Where a conversation is (the values stored in ``handoffs.status``, except NEW and ERASED)."""

    NEW = "new"  #: no row yet
    OPEN = "open"  #: asked (or reopened by staff); the prospect has not written since
    RELAYED = "relayed"  #: the prospect wrote and was told it was passed on ("Transmis")
    CLOSED = "closed"  #: ended by staff or by the prospect (``closed_by``)
    ERASED = "erased"  #: row deleted


class HandoffEvent(StrEnum):
    """What happens to a conversation."""

    ASKED = "asked"  #: the prospect asks for a person (button, /conseiller, in words)
    PROSPECT_WROTE = "prospect_wrote"  #: the prospect's first message since (re)opening is relayed
    STAFF_ENDED = "staff_ended"  #: "Terminer" or /fin in the group
    PROSPECT_LEFT = "prospect_left"  #: "Revenir au bot", /fin, /menu, /start or the menu button
    STAFF_REOPENED = "staff_reopened"  #: a staff member writes in an ended conversation
    ERASED = "erased"  #: /supprimer
    PURGED = "purged"  #: retention: ended long enough ago


S, E = HandoffState, HandoffEvent

#: The declared transitions: (state, event) -> new state. Anything else is refused.
TRANSITIONS: dict[tuple[HandoffState, HandoffEvent], HandoffState] = {
    (S.NEW, E.ASKED): S.OPEN,
    (S.OPEN, E.PROSPECT_WROTE): S.RELAYED,
    (S.OPEN, E.STAFF_ENDED): S.CLOSED,
    (S.RELAYED, E.STAFF_ENDED): S.CLOSED,
    (S.OPEN, E.PROSPECT_LEFT): S.CLOSED,
    (S.RELAYED, E.PROSPECT_LEFT): S.CLOSED,
    (S.CLOSED, E.STAFF_REOPENED): S.OPEN,
    (S.OPEN, E.ERASED): S.ERASED,
    (S.RELAYED, E.ERASED): S.ERASED,
    (S.CLOSED, E.ERASED): S.ERASED,
    (S.CLOSED, E.PURGED): S.ERASED,
}

#: States of a live conversation: the prospect's messages are relayed, staff can end it.
LIVE: tuple[HandoffState, ...] = (S.OPEN, S.RELAYED)
#: Who closed it, stored in ``closed_by`` by the events that end a conversation.
CLOSED_BY: dict[HandoffEvent, str] = {E.STAFF_ENDED: "staff", E.PROSPECT_LEFT: "prospect"}


def next_state(state: str, event: HandoffEvent, handoff_id: int | None = None) -> HandoffState | None:
    """The state ``event`` leads to from ``state``; None (and a warning) when not declared."""
    try:
        target = TRANSITIONS.get((HandoffState(state), event))
    except ValueError:  # a status this version does not know
        target = None
    if target is None:
        log.warning("handoff %s: transition %s refused in state %s", handoff_id, event.value, state)
    return target


def sources_of(event: HandoffEvent) -> tuple[HandoffState, ...]:
    """The states from which ``event`` is declared (e.g. what the retention purge may delete)."""
    return tuple(state for (state, ev) in TRANSITIONS if ev is event)


def mermaid() -> str:
    """The table as a Mermaid state diagram (``docs/handoff.md`` holds this text)."""
    lines = ["stateDiagram-v2"]
    for (state, event), target in TRANSITIONS.items():
        lines.append(f"    {_node(state)} --> {_node(target)}: {event.value}")
    return "\n".join(lines)


def _node(state: HandoffState) -> str:
    return "[*]" if state in (S.NEW, S.ERASED) else state.value
