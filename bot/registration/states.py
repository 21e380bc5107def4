"""The form's states and the declared transitions between them.

Why a table: the form's state is stored in three places that must agree (the session's
``mode``, shared with the conversation with the team; the session's ``form_consent``
flag while the notice awaits an answer; the ``drafts`` row and its ``step``). Rather
than a fourth copy, :func:`form_state` derives the one state from them, and every
change the form makes is first looked up in :data:`FORM` (:meth:`Machine.target`):
a change the table does not declare is logged and refused (an exception, so the
turn's transaction is rolled back and nothing half-done is kept). ``/supprimer`` has
its own small machine (:data:`ERASURE`, the ``erase_asked`` flag), independent of the
form: it can be asked at any step without leaving it.

Two events come from outside the form and are declared so that the diagram is
complete: another mode taking the session (the prospect asks for a person: the
handoff sets ``mode`` to its own; the draft is kept) and the retention purge deleting
a draft. ``tests/test_form_states.py`` walks every declared transition through the
real flow and checks that ``docs/form.md`` shows this table (:func:`mermaid`).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.registration.steps import SUMMARY

log = logging.getLogger(__name__)

#: The session's ``mode`` while the form handles free text (shared with other modes).
MODE = "form"
#: Set in the session between "/inscription" and the consent (no draft exists yet).
CONSENT_FLAG = "form_consent"
#: Set in the session between "/supprimer" and its confirmation button.
ERASE_FLAG = "erase_asked"


class FormState(StrEnum):
    """Where a prospect is in the form."""

    IDLE = "idle"  # no draft, not in the form
    CONSENT = "consent"  # the notice is shown, its answer awaited
    FILLING = "filling"  # in the form, a question asked (the draft's step)
    CONFIRMING = "confirming"  # in the form, the summary shown (send or correct)
    FILLING_AWAY = "filling_away"  # a draft at a question, the session in another mode
    CONFIRMING_AWAY = "confirming_away"  # a draft at the summary, the session in another mode


class FormEvent(StrEnum):
    """What happens to the form (the guard already applied: ``complete`` is the last answer)."""

    START = "start"  # /inscription, no draft, no pre-registration: the notice
    START_REGISTERED = "start_registered"  # /inscription with a pre-registration: its summary
    RESUME = "resume"  # /inscription with a draft: its step again
    ACCEPT = "accept"
    REFUSE = "refuse"
    RESTART = "restart"  # /start while the notice awaits an answer
    ANSWER = "answer"  # an answer, another field still missing
    COMPLETE = "complete"  # the last missing answer: the summary
    FIX = "fix"  # a correction asked from the summary
    SEND = "send"
    CANCEL = "cancel"  # /annuler
    ERASED = "erased"  # /supprimer confirmed: everything deleted
    OTHER_MODE = "other_mode"  # outside the form: another mode takes the session
    PURGED = "purged"  # outside the form: the retention purge deletes the draft


class EraseState(StrEnum):
    """Whether ``/supprimer`` awaits its confirmation."""

    NONE = "none"
    ASKED = "asked"


class EraseEvent(StrEnum):
    ASK = "ask"
    CONFIRM = "confirm"
    DECLINE = "decline"


class UndeclaredTransition(RuntimeError):
    """A change of state the table does not declare: refused."""


@dataclass(frozen=True)
class Machine:
    """A declared transition table: (state, event) -> new state."""

    name: str
    initial: str
    table: Mapping[tuple[Any, Any], Any]

    def target(self, state: Any, event: Any) -> Any:
        """The state ``event`` leads to from ``state``; raises when the table does not declare it."""
        try:
            return self.table[(state, event)]
        except KeyError:
            log.error("%s: undeclared transition %s --%s-->, refused", self.name, state, event)
            raise UndeclaredTransition(f"{self.name}: {state} --{event}--> is not declared") from None


S, E = FormState, FormEvent
_IN_FORM = (S.CONSENT, S.FILLING, S.CONFIRMING)
_AWAY = (S.FILLING_AWAY, S.CONFIRMING_AWAY)

FORM = Machine("form", S.IDLE, {
    (S.IDLE, E.START): S.CONSENT,
    (S.CONSENT, E.START): S.CONSENT,
    (S.IDLE, E.START_REGISTERED): S.CONFIRMING,
    (S.FILLING, E.RESUME): S.FILLING,
    (S.CONFIRMING, E.RESUME): S.CONFIRMING,
    (S.FILLING_AWAY, E.RESUME): S.FILLING,
    (S.CONFIRMING_AWAY, E.RESUME): S.CONFIRMING,
    (S.CONSENT, E.ACCEPT): S.FILLING,
    (S.CONSENT, E.REFUSE): S.IDLE,
    (S.CONSENT, E.RESTART): S.IDLE,
    (S.FILLING, E.ANSWER): S.FILLING,
    (S.FILLING, E.COMPLETE): S.CONFIRMING,
    (S.CONFIRMING, E.FIX): S.FILLING,
    (S.CONFIRMING, E.SEND): S.IDLE,
    **{(state, E.CANCEL): S.IDLE for state in (*_IN_FORM, *_AWAY)},
    **{(state, E.ERASED): S.IDLE for state in S},
    (S.CONSENT, E.OTHER_MODE): S.IDLE,
    (S.FILLING, E.OTHER_MODE): S.FILLING_AWAY,
    (S.CONFIRMING, E.OTHER_MODE): S.CONFIRMING_AWAY,
    **{(state, E.PURGED): S.IDLE for state in (S.FILLING, S.CONFIRMING, *_AWAY)},
})

ERASURE = Machine("erasure", EraseState.NONE, {
    (EraseState.NONE, EraseEvent.ASK): EraseState.ASKED,
    (EraseState.ASKED, EraseEvent.ASK): EraseState.ASKED,
    (EraseState.ASKED, EraseEvent.CONFIRM): EraseState.NONE,
    (EraseState.ASKED, EraseEvent.DECLINE): EraseState.NONE,
})


def form_state(session: Mapping[str, Any], draft_step: str | None) -> FormState:
    """The form's one state, from the session and the draft's step (None: no draft)."""
    in_form = session.get("mode") == MODE
    if draft_step is not None:
        if draft_step == SUMMARY:
            return S.CONFIRMING if in_form else S.CONFIRMING_AWAY
        return S.FILLING if in_form else S.FILLING_AWAY
    if in_form and session.get(CONSENT_FLAG):
        return S.CONSENT
    return S.IDLE


def erase_state(session: Mapping[str, Any]) -> EraseState:
    """Whether ``/supprimer`` awaits its confirmation in this session."""
    return EraseState.ASKED if session.get(ERASE_FLAG) else EraseState.NONE


def mermaid(machine: Machine) -> str:
    """The table as a Mermaid state diagram (``docs/form.md`` holds it; a test compares)."""
    lines = ["stateDiagram-v2", f"    [*] --> {machine.initial}"]
    for (state, event), new in machine.table.items():
        lines.append(f"    {state} --> {new}: {event}")
    return "\n".join(lines)
