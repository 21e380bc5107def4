"""The handoff's transition table (``bot/storage/handoff_states.py``), tested from the table.

- every declared transition is walked through the real bot process against the Bot API
  double: the prospect and the staff group bring the conversation to the transition's
  source state, fire its event as they would on Telegram, and the ``handoffs`` row must
  then be in the declared target state (or gone);
- every pair the table does not declare is refused, and the refusal is logged without
  the prospect's data;
- the state lives in the row, so it survives a new :class:`Assistant` on the same file;
- ``docs/handoff.md`` shows the table's own rendering.
"""
from __future__ import annotations

import datetime as dt
import itertools
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from bot.conversation.messages import Incoming, Kind, Person
from bot.storage.handoff_states import TRANSITIONS, HandoffEvent, HandoffState, mermaid, next_state
from bot.storage.staff import HandoffStore
from testing.process import PROJECT_ROOT, bot_env
from test_e2e_staff import (MARIE, PAUL, PROSPECT, STAFF, command, db_rows, press, staff_says,
                            start_bot, wait_db)
from test_staff import ZOE, build, deliver_all, message_of, outbox_rows, say, staff

S, E = HandoffState, HandoffEvent
QUIT = "↩️ Revenir au bot"
STATUS = "SELECT status FROM handoffs WHERE user_id = ?"


# --- the walk, through the real bot process ------------------------------------------------------


class Walk:
    """One prospect and the staff group, driving one conversation through the bot process."""

    def __init__(self, double: Any, bot: Any, tmp_path: Path, prospect: int, name: str = "Zoé") -> None:
        self.double, self.bot, self.tmp_path, self.prospect, self.name = double, bot, tmp_path, prospect, name
        self.request: dict[str, Any] | None = None

    def rows(self, sql: str) -> list[tuple]:
        return db_rows(self.tmp_path, sql, self.prospect)

    def expect(self, state: HandoffState) -> None:
        """Wait until the row is in ``state`` (the bot commits before Telegram has the reply)."""
        expected = [] if state in (S.NEW, S.ERASED) else [(state.value,)]
        wait_db(self.double, self.tmp_path, STATUS, expected, self.prospect)

    # The events, as people fire them on Telegram.

    def ask(self) -> None:
        mark = self.double.mark()
        command(self.double, self.prospect, "/conseiller", "ici même", first_name=self.name)
        self.request = self.double.wait_for_text(STAFF, rf"{self.name} \(n°\d+\) veut parler", since=mark)

    def prospect_writes(self) -> None:
        mark = self.double.mark()
        self.double.push_text(self.prospect, "je voudrais visiter le campus", first_name=self.name)
        self.double.wait_for_text(self.prospect, "Transmis", since=mark)
        self.double.wait_for_text(STAFF, "visiter le campus", since=mark)

    def staff_ends(self) -> None:
        mark = self.double.mark()
        self.double.push_command(PAUL, "/fin", chat_id=STAFF, reply_to_message_id=self.request["message_id"])
        self.double.wait_for_text(STAFF, "terminée par Paul", since=mark)
        self.double.wait_for_text(self.prospect, "terminé la conversation", since=mark)

    def prospect_leaves(self) -> None:
        press(self.double, self.prospect, QUIT, "je reprends la main")

    def staff_reopens(self) -> None:
        mark = staff_says(self.double, MARIE, "Je vous rappelle demain ?",
                          reply_to_message_id=self.request["message_id"])
        self.double.wait_for_text(STAFF, "rouverte", since=mark)
        self.double.wait_for_text(self.prospect, "rappelle demain", since=mark)

    def erase(self) -> None:
        command(self.double, self.prospect, "/supprimer", "tout effacer", first_name=self.name)
        press(self.double, self.prospect, "🗑️ Oui, tout effacer", "C'est fait")

    def purge(self) -> None:
        """The retention purge (``run_bot.py purge``), years later, the bot stopped as an operator would."""
        self.bot.stop()
        years_later = dt.date.today() + dt.timedelta(days=4 * 366)
        env = bot_env(self.double, self.tmp_path, STAFF_CHAT_ID=STAFF)
        result = subprocess.run([sys.executable, "run_bot.py", "purge", "--today", years_later.isoformat()],
                                cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr

    def fire(self, event: HandoffEvent) -> None:
        actions: dict[HandoffEvent, Callable[[], None]] = {
            E.ASKED: self.ask, E.PROSPECT_WROTE: self.prospect_writes, E.STAFF_ENDED: self.staff_ends,
            E.PROSPECT_LEFT: self.prospect_leaves, E.STAFF_REOPENED: self.staff_reopens, E.ERASED: self.erase,
            E.PURGED: self.purge,
        }
        actions[event]()

    def reach(self, state: HandoffState) -> None:
        """Bring the conversation to ``state`` by declared transitions from NEW."""
        path = {S.NEW: [], S.OPEN: [E.ASKED], S.RELAYED: [E.ASKED, E.PROSPECT_WROTE],
                S.CLOSED: [E.ASKED, E.PROSPECT_LEFT]}[state]
        for event in path:
            self.fire(event)
        self.expect(state)

    def check(self, state: HandoffState, event: HandoffEvent, target: HandoffState) -> None:
        """Reach ``state``, fire ``event``, and find the row in ``target``."""
        self.reach(state)
        self.fire(event)
        self.expect(target)
        if target is S.CLOSED:
            closed_by = "staff" if event is E.STAFF_ENDED else "prospect"
            assert self.rows("SELECT closed_by FROM handoffs WHERE user_id = ?") == [(closed_by,)]


def _case_id(item: tuple[tuple[HandoffState, HandoffEvent], HandoffState]) -> str:
    (state, event), target = item
    return f"{state.value}-{event.value}-{target.value}"


@pytest.mark.parametrize("transition", list(TRANSITIONS.items()), ids=_case_id)
def test_every_declared_transition_through_the_real_bot(transition, botapi_double, bot_process_factory,
                                                        tmp_path: Path) -> None:
    """A bot process per case: the staff group's pace (~20 messages a minute) would make shared ones wait."""
    (state, event), target = transition
    bot = start_bot(bot_process_factory, botapi_double)
    Walk(botapi_double, bot, tmp_path, PROSPECT).check(state, event, target)
    logs = bot.stderr_text()
    assert "Zoé" not in logs and "visiter" not in logs


# --- what the table refuses --------------------------------------------------------------------------


UNDECLARED = [pair for pair in itertools.product(HandoffState, HandoffEvent) if pair not in TRANSITIONS]


@pytest.mark.parametrize("state,event", UNDECLARED, ids=[f"{s.value}-{e.value}" for s, e in UNDECLARED])
def test_an_undeclared_transition_is_refused(state: HandoffState, event: HandoffEvent) -> None:
    assert next_state(state, event) is None


def test_a_refused_change_leaves_the_row_alone_and_is_logged_without_personal_data(
        knowledge, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assistant = build(knowledge, tmp_path / "bot.db")
    say(assistant, Kind.BUTTON, "conseiller")
    say(assistant, Kind.BUTTON, "h:quit")
    store = HandoffStore(assistant.db)
    before = store.get(1)
    with caplog.at_level(logging.WARNING, logger="bot.storage.handoff_states"):
        assert store.move(1, E.PROSPECT_WROTE, assistant.clock.now()) is None
        assert store.move(1, E.STAFF_ENDED, assistant.clock.now()) is None
    assert store.get(1) == before and before["status"] == "closed" and before["closed_by"] == "prospect"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "prospect_wrote refused in state closed" in logged and "staff_ended refused" in logged
    assert "Zoé" not in logged and str(ZOE.user_id) not in logged
    # Through the real path: "Terminer" on a conversation the prospect left changes nothing.
    deliver_all(assistant)
    assert "déjà terminée" in staff(assistant, callback_data="s:h:end:1", message_id=1).notice
    assert store.get(1) == before and outbox_rows(assistant, "handoff_end") == []


def test_erasure_is_declared_from_every_stored_state() -> None:
    """/supprimer deletes every row of the prospect whatever its state: the table must say so."""
    stored = set(HandoffState) - {S.NEW, S.ERASED}
    assert {state for (state, event) in TRANSITIONS if event is E.ERASED} == stored
    assert all(target is S.ERASED for (_, event), target in TRANSITIONS.items() if event in (E.ERASED, E.PURGED))


def test_a_status_this_version_does_not_know_is_refused(knowledge, tmp_path: Path) -> None:
    assistant = build(knowledge, tmp_path / "bot.db")
    say(assistant, Kind.BUTTON, "conseiller")
    assistant.db.execute("UPDATE handoffs SET status = 'paused'")
    assert HandoffStore(assistant.db).move(1, E.STAFF_ENDED, assistant.clock.now()) is None
    assert assistant.db.execute("SELECT status FROM handoffs").fetchone() == ("paused",)


# --- one source of truth -----------------------------------------------------------------------------


def test_the_state_survives_a_new_assistant_on_the_same_file(knowledge, tmp_path: Path) -> None:
    first = build(knowledge, tmp_path / "bot.db")
    say(first, Kind.BUTTON, "conseiller")
    assert "Transmis" in say(first, Kind.TEXT, "je voudrais visiter le campus")
    first.db.conn.close()

    second = build(knowledge, tmp_path / "bot.db")
    assert second.db.execute("SELECT status FROM handoffs").fetchone() == ("relayed",)
    assert "Transmis" not in say(second, Kind.TEXT, "et le samedi ?"), "acknowledged once per conversation"
    assert len(outbox_rows(second, "relay_in")) == 2
    deliver_all(second)
    staff(second, command="fin", reply_to_message_id=message_of(second, "handoff"))
    assert second.db.execute("SELECT status, closed_by FROM handoffs").fetchone() == ("closed", "staff")
    assert second.sessions.load(ZOE.user_id).get("mode") is None
    second.db.conn.close()

    third = build(knowledge, tmp_path / "bot.db")
    deliver_all(third)
    staff(third, text="Finalement, je vous rappelle", reply_to_message_id=message_of(third, "handoff"))
    assert third.db.execute("SELECT status FROM handoffs").fetchone() == ("open",)
    assert "Transmis" in say(third, Kind.TEXT, "d'accord"), "a reopened conversation acknowledges again"


def test_an_old_session_acknowledgement_is_dropped(knowledge, tmp_path: Path) -> None:
    assistant = build(knowledge, tmp_path / "bot.db")
    assistant.sessions.save(ZOE.user_id, {"handoff_ack": 7}, assistant.clock.now())
    say(assistant, Kind.BUTTON, "conseiller")
    say(assistant, Kind.TEXT, "je voudrais visiter le campus")
    assert assistant.sessions.load(ZOE.user_id).get("handoff_ack") is None
    assert assistant.sessions.load(ZOE.user_id)["mode"] == "handoff"


def test_the_digest_counts_every_live_conversation_without_an_answer(knowledge, tmp_path: Path) -> None:
    assistant = build(knowledge, tmp_path / "bot.db", digest_time=dt.time(8, 30))
    say(assistant, Kind.BUTTON, "conseiller")
    say(assistant, Kind.TEXT, "je voudrais visiter le campus")  # relayed
    assistant.handle(Incoming(Person(5, "Léo"), Kind.BUTTON, "conseiller"))  # open
    assistant.clock.at = assistant.clock.at.replace(hour=8, minute=30) + dt.timedelta(days=1)
    assistant.staff.followup.tick()
    [digest] = outbox_rows(assistant, "digest")
    assert "sans réponse de l'équipe : 2" in digest["text"]


# --- the diagram ---------------------------------------------------------------------------------------


def test_the_diagram_in_the_docs_is_the_table() -> None:
    doc = (PROJECT_ROOT / "docs" / "handoff.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)\n```", doc, re.S)
    assert blocks == [mermaid()]
    edges = re.findall(r"^\s+(\S+) --> (\S+): (\S+)$", blocks[0], re.M)
    assert len(edges) == len(TRANSITIONS) and {e for *_, e in edges} == {e.value for e in HandoffEvent}
