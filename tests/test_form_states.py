"""The form's state machine, tested from its table (issue 12).

Every declared transition of :data:`bot.registration.states.FORM` and ``ERASURE`` is
walked through the real flow (an :class:`Assistant` on a real SQLite file, the real
knowledge): reach the state, make the event happen as a prospect would, and read the
state back from what is stored. A transition the table does not declare is refused,
and ``docs/form.md`` shows exactly the table.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Callable

import pytest

from bot.conversation.engine import Assistant
from bot.knowledge.loader import load_knowledge
from bot.knowledge.required import literal_text_keys
from bot.knowledge.store import KnowledgeStore
from bot.registration import flow as flow_module
from bot.registration import steps
from bot.registration.states import (
    ERASURE,
    FORM,
    EraseEvent,
    EraseState,
    FormEvent,
    FormState,
    Machine,
    UndeclaredTransition,
    erase_state,
    form_state,
    mermaid,
)
from bot.storage.registrations import purge_expired
from tests.test_registration_flow import GOOD, Chat
from tests.test_staff import build

ROOT = Path(__file__).resolve().parent.parent
S, E = FormState, FormEvent


@pytest.fixture
def chat(knowledge: KnowledgeStore, tmp_path: Path) -> Chat:
    """A prospect and an assistant with a staff desk (so that "conseiller" opens a conversation)."""
    return Chat(build(knowledge, tmp_path / "bot.db"))


def current(chat: Chat) -> FormState:
    return form_state(chat.state(), chat.step())


def reach(chat: Chat, state: FormState) -> None:
    """Bring the prospect to ``state`` the way a prospect would."""
    if state is S.CONSENT:
        chat.command("inscription")
    elif state in (S.FILLING, S.FILLING_AWAY):
        chat.begin()
    elif state in (S.CONFIRMING, S.CONFIRMING_AWAY):
        chat.fill_until(steps.SUMMARY)
    if state in (S.FILLING_AWAY, S.CONFIRMING_AWAY):
        chat.press("conseiller")  # the conversation with the team takes the session
    assert current(chat) is state


def purge(chat: Chat) -> None:
    later = chat.assistant.clock.now() + dt.timedelta(days=31 * (chat.assistant.retention_months + 1))
    purge_expired(chat.assistant.db, later, chat.assistant.retention_months)


#: How a prospect (or the world) makes each event happen.
EVENTS: dict[FormEvent, Callable[[Chat], object]] = {
    E.START: lambda chat: chat.command("inscription"),
    E.START_REGISTERED: lambda chat: chat.command("inscription"),
    E.RESUME: lambda chat: chat.command("inscription"),
    E.ACCEPT: lambda chat: chat.press("f:ok"),
    E.REFUSE: lambda chat: chat.press("f:no"),
    E.RESTART: lambda chat: chat.command("start"),
    E.ANSWER: lambda chat: chat.answer_current(),
    E.COMPLETE: lambda chat: chat.answer_current(),
    E.FIX: lambda chat: chat.press("f:fix:email"),
    E.SEND: lambda chat: chat.press("f:send"),
    E.CANCEL: lambda chat: chat.command("annuler"),
    E.ERASED: lambda chat: (chat.command("supprimer"), chat.press("f:del:yes")),
    E.OTHER_MODE: lambda chat: chat.press("conseiller"),
    E.PURGED: purge,
}

#: Where an event needs more than its state: the setup that gives the guard its value.
SETUPS: dict[tuple[FormState, FormEvent], Callable[[Chat], object]] = {
    (S.IDLE, E.START_REGISTERED): lambda chat: (chat.fill_until(steps.SUMMARY), chat.press("f:send")),
    # the last missing answer: a field corrected from the summary
    (S.FILLING, E.COMPLETE): lambda chat: (chat.fill_until(steps.SUMMARY), chat.press("f:fix:email")),
}


@pytest.mark.parametrize(("state", "event", "target"),
                         [(state, event, target) for (state, event), target in FORM.table.items()],
                         ids=[f"{state}-{event}" for state, event in FORM.table])
def test_every_declared_transition_of_the_form_happens_through_the_real_flow(
        chat: Chat, state: FormState, event: FormEvent, target: FormState) -> None:
    setup = SETUPS.get((state, event))
    if setup is not None:
        setup(chat)
        assert current(chat) is state
    else:
        reach(chat, state)
    EVENTS[event](chat)
    assert current(chat) is target
    if target is S.IDLE:
        assert chat.step() is None


ERASE_EVENTS: dict[EraseEvent, Callable[[Chat], object]] = {
    EraseEvent.ASK: lambda chat: chat.command("supprimer"),
    EraseEvent.CONFIRM: lambda chat: chat.press("f:del:yes"),
    EraseEvent.DECLINE: lambda chat: chat.press("f:del:no"),
}


@pytest.mark.parametrize(("state", "event", "target"),
                         [(state, event, target) for (state, event), target in ERASURE.table.items()],
                         ids=[f"{state}-{event}" for state, event in ERASURE.table])
def test_every_declared_transition_of_the_erasure_happens_through_the_real_flow(
        chat: Chat, state: EraseState, event: EraseEvent, target: EraseState) -> None:
    chat.begin()
    if state is EraseState.ASKED:
        chat.command("supprimer")
    assert erase_state(chat.state()) is state
    ERASE_EVENTS[event](chat)
    assert erase_state(chat.state()) is target
    # The erasure is beside the form: declined, the form is where it was; confirmed, it is gone.
    assert current(chat) is (S.IDLE if event is EraseEvent.CONFIRM else S.FILLING)


def test_an_undeclared_transition_is_refused_by_the_table() -> None:
    with pytest.raises(UndeclaredTransition):
        FORM.target(S.IDLE, E.SEND)
    with pytest.raises(UndeclaredTransition):
        ERASURE.target(EraseState.NONE, EraseEvent.CONFIRM)


def test_the_flow_refuses_a_transition_the_table_does_not_declare(chat: Chat,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The flow asks the table before changing anything: without (consent, accept), "J'accepte" changes nothing."""
    chat.command("inscription")
    table = {key: target for key, target in FORM.table.items() if key != (S.CONSENT, E.ACCEPT)}
    monkeypatch.setattr(flow_module, "FORM", Machine(FORM.name, FORM.initial, table))
    with pytest.raises(UndeclaredTransition):
        chat.press("f:ok")
    assert current(chat) is S.CONSENT and chat.draft() is None  # the turn was rolled back whole
    monkeypatch.undo()
    chat.press("f:ok")
    assert current(chat) is S.FILLING


def mermaid_blocks(path: Path) -> list[str]:
    return [block.strip() for block in re.findall(r"```mermaid\n(.*?)```", path.read_text("utf-8"), re.S)]


def test_the_diagram_in_the_docs_is_the_table() -> None:
    """``docs/form.md`` shows the tables as they are; regenerate it with :func:`mermaid` after a change."""
    assert mermaid_blocks(ROOT / "docs" / "form.md") == [mermaid(FORM), mermaid(ERASURE)]


def test_every_text_key_of_the_form_exists_and_is_required() -> None:
    """The questions, field names, choice labels and validation messages the records name."""
    kb, problems = load_knowledge(ROOT / "knowledge")
    assert not problems
    keys = steps.text_keys()
    assert {"form.ask_company_name", "form.champ_intake", "form.choix_heard_salon",
            "validation.phone_invalid"} <= keys
    assert sorted(keys - set(kb.texts)) == []
    assert sorted(keys - literal_text_keys()) == []  # so a missing one stops the bot from loading


def test_the_records_are_the_form(chat: Chat) -> None:
    """Every record is a column of ``registrations``; the tuples the flow reads come from the records."""
    columns = {row[1] for row in chat.assistant.db.execute("PRAGMA table_info(registrations)").fetchall()}
    assert {field.name for field in steps.FIELDS} <= columns
    assert steps.ORDER == tuple(f.name for f in steps.FIELDS if f.in_order)
    assert set(steps.TYPED) == {steps.LAST_NAME, steps.FIRST_NAME, steps.BIRTH_DATE, steps.EMAIL, steps.PHONE,
                                steps.COMPANY_NAME}
    assert all(f.kind == ("typed" if f.name in steps.TYPED else "choice") for f in steps.FIELDS)
    assert steps.validate(steps.EMAIL, GOOD[steps.EMAIL], dt.date(2026, 3, 2)).value == GOOD[steps.EMAIL]
    with pytest.raises(ValueError):
        steps.validate(steps.DIPLOMA, "bac pro", dt.date(2026, 3, 2))
