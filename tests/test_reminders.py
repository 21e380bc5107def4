"""Opt-in reminders in the core: knowledge, consent, rounds, follow-up answers, privacy.

Through ``Assistant.handle()`` on a real SQLite file and the real ``knowledge/``; what
would reach a prospect is read from the outbox, as the deliverer would send it.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from bot.clock import PARIS, Clock, parse_bot_clock
from bot.config import load_settings
from bot.conversation.messages import Kind, Person
from bot.knowledge.loader import load_knowledge
from bot.knowledge.store import KnowledgeStore
from bot.reminders.schedule import is_quiet
from bot.reminders.sending import preview, run_round
from bot.storage.times import in_paris
from tests.test_staff import MovableClock, build, outbox_rows, pre_register, say

ROOT = Path(__file__).resolve().parent.parent
ZOE = Person(4242, "Zoé", "Dupont")
#: Thursday 2026-03-12, 11:00: the open day of Friday 2026-03-20 is 8 days away.
THURSDAY = dt.datetime(2026, 3, 12, 11, 0, tzinfo=PARIS)


@pytest.fixture(scope="module")
def knowledge() -> KnowledgeStore:
    return KnowledgeStore(ROOT / "knowledge")


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(THURSDAY)


@pytest.fixture
def assistant(knowledge: KnowledgeStore, tmp_path: Path, clock: MovableClock):
    return build(knowledge, tmp_path / "bot.db", clock)


def buttons(assistant, payload: str, kind: Kind = Kind.TEXT, person: Person = ZOE) -> list[str]:
    from bot.conversation.messages import Incoming

    replies = assistant.handle(Incoming(person, kind, payload))
    return [b.data for r in replies for b in r.flat_buttons()]


def reminders_sent(assistant) -> list[dict]:
    return [r for r in outbox_rows(assistant, "reminder")]


def round_at(assistant, clock: MovableClock, moment: dt.datetime):
    clock.at = moment
    return run_round(assistant.db, assistant.knowledge.current, moment)


# --- the clock ------------------------------------------------------------------------------

def test_bot_clock_starts_at_the_instant_and_advances() -> None:
    start = parse_bot_clock("2026-03-18T10:00:00")
    assert start.tzinfo is not None and start.utcoffset() == dt.timedelta(hours=1)  # Paris, winter
    clock = Clock(start=start)
    first = clock.now()
    assert dt.timedelta(0) <= first - start < dt.timedelta(seconds=5)
    later = clock.now()
    assert later >= first  # it moves on, it is not frozen
    assert load_settings({"BOT_CLOCK": "2026-03-18T10:00"}).bot_clock == start
    assert load_settings({}).bot_clock is None


# --- the knowledge ----------------------------------------------------------------------------

def test_reminders_are_knowledge_checked_with_file_and_line(tmp_path: Path) -> None:
    kb, problems = load_knowledge(ROOT / "knowledge")
    assert not problems and {"portes_ouvertes", "entreprise"} <= set(kb.reminders)
    folder = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", folder)
    path = folder / "reminders.yaml"
    text = path.read_text("utf-8").replace("{fact: date_cloture_candidatures,", "{fact: tel_standard,")
    text = text.replace("text: rappels.suite_mail", "text: rappels.nexiste_pas")
    path.write_text(text, "utf-8")
    _, problems = load_knowledge(folder)
    messages = [str(p) for p in problems]
    assert any(m.startswith("knowledge/reminders.yaml:") and "tel_standard" in m for m in messages), messages
    assert any("rappels.nexiste_pas" in m for m in messages), messages


def test_quiet_hours() -> None:
    assert is_quiet(dt.datetime(2026, 3, 12, 20, 0, tzinfo=PARIS))
    assert is_quiet(dt.datetime(2026, 3, 12, 8, 59, tzinfo=PARIS))
    assert is_quiet(dt.datetime(2026, 3, 15, 12, 0, tzinfo=PARIS))  # Sunday
    assert not is_quiet(dt.datetime(2026, 3, 12, 9, 0, tzinfo=PARIS))


# --- consent ------------------------------------------------------------------------------------

def test_nothing_is_sent_without_consent(assistant, clock) -> None:
    datas = buttons(assistant, "c'est quand les portes ouvertes ?")
    assert "rp:on:portes_ouvertes" in datas  # offered...
    round_at(assistant, clock, dt.datetime(2026, 3, 18, 10, 30, tzinfo=PARIS))
    assert reminders_sent(assistant) == []  # ...but not taken: nothing


def test_opt_in_then_the_open_day_reminder_two_days_before(assistant, clock) -> None:
    buttons(assistant, "c'est quand les portes ouvertes ?")
    text = say(assistant, Kind.BUTTON, "rp:on:portes_ouvertes")
    assert "C'est noté" in text
    consent = assistant.db.execute("SELECT consent_at FROM reminder_subscriptions WHERE user_id = ?",
                                   [ZOE.user_id]).fetchone()[0]
    assert in_paris(consent).isoformat().startswith("2026-03-12T11:00")  # stored in UTC, read in Paris
    assert "rp:on:portes_ouvertes" not in buttons(assistant, "c'est quand les portes ouvertes ?")  # not offered twice
    round_at(assistant, clock, dt.datetime(2026, 3, 18, 9, 30, tzinfo=PARIS))  # 2 days before, 10:00 not yet
    assert reminders_sent(assistant) == []
    round_at(assistant, clock, dt.datetime(2026, 3, 18, 10, 1, tzinfo=PARIS))
    round_at(assistant, clock, dt.datetime(2026, 3, 18, 10, 2, tzinfo=PARIS))  # a second round: not twice
    sent = reminders_sent(assistant)
    assert len(sent) == 1 and "20 mars 2026" in sent[0]["text"] and "17h" in sent[0]["text"]
    assert any(b[1] == "rp:off:portes_ouvertes" for row in sent[0]["buttons"] for b in row)


def test_pending_reminders_follow_the_base_dates(assistant, clock, tmp_path: Path, knowledge) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", folder)
    moved = KnowledgeStore(folder)
    assistant.knowledge = moved
    buttons(assistant, "c'est quand les portes ouvertes ?")
    say(assistant, Kind.BUTTON, "rp:on:portes_ouvertes")
    calendar = folder / "calendar.yaml"
    calendar.write_text(calendar.read_text("utf-8").replace("2026-03-20", "2026-03-27"), "utf-8")
    assert moved.reload() == []
    round_at(assistant, clock, dt.datetime(2026, 3, 18, 10, 30, tzinfo=PARIS))
    assert reminders_sent(assistant) == []  # the old date is gone
    round_at(assistant, clock, dt.datetime(2026, 3, 25, 10, 30, tzinfo=PARIS))
    assert "27 mars 2026" in reminders_sent(assistant)[0]["text"]


def test_quiet_hours_wait_and_a_passed_moment_is_dropped(assistant, clock) -> None:
    buttons(assistant, "c'est quand les portes ouvertes ?")
    say(assistant, Kind.BUTTON, "rp:on:portes_ouvertes")
    round_at(assistant, clock, dt.datetime(2026, 3, 18, 21, 0, tzinfo=PARIS))  # due at 10:00, but evening
    assert reminders_sent(assistant) == []
    # the bot was down until the open day itself: both reminders' moments have passed
    counts = round_at(assistant, clock, dt.datetime(2026, 3, 20, 10, 0, tzinfo=PARIS))
    assert reminders_sent(assistant) == [] and counts["dropped"] == 2


def test_at_most_two_a_week_and_stop_words(assistant, clock) -> None:
    buttons(assistant, "c'est quand les portes ouvertes ?")
    say(assistant, Kind.BUTTON, "rp:on:portes_ouvertes")
    say(assistant, Kind.BUTTON, "rp:on:dates")
    for kind in ("cloture_candidatures", "entree_tardive"):  # pretend two were sent this week
        assistant.db.execute("INSERT INTO reminder_log (user_id, kind, occurrence, status, at) VALUES (?, ?, ?, ?, ?)",
                             [ZOE.user_id, kind, "x", "queued", "2026-03-16T10:00:00+01:00"])
    counts = round_at(assistant, clock, dt.datetime(2026, 3, 18, 10, 30, tzinfo=PARIS))
    assert reminders_sent(assistant) == [] and counts["waiting_weekly_limit"] == 1
    assert "plus aucun rappel" in say(assistant, Kind.TEXT, "STOP")
    assert assistant.db.execute("SELECT COUNT(*) FROM reminder_subscriptions WHERE stopped_at IS NULL").fetchone()[0] == 0


def test_rappels_shows_and_one_kind_stops(assistant) -> None:
    say(assistant, Kind.BUTTON, "rp:on:dates")
    text = say(assistant, Kind.COMMAND, "rappels")
    assert "la fin des candidatures" in text and "la date limite d'entrée" in text
    say(assistant, Kind.BUTTON, "rp:off:cloture_candidatures")
    assert "la fin des candidatures" not in say(assistant, Kind.COMMAND, "rappels")


# --- after a pre-registration ---------------------------------------------------------------------

def test_follow_up_answer_updates_the_lead_and_stops_the_question(assistant, clock) -> None:
    ref = pre_register(assistant)
    say(assistant, Kind.BUTTON, "rp:on:preinscription")
    # three weeks later (a weekday): "as-tu trouvé ton entreprise ?"
    round_at(assistant, clock, dt.datetime(2026, 4, 2, 10, 30, tzinfo=PARIS))
    texts = [r["text"] for r in reminders_sent(assistant)]
    assert any("as-tu trouvé ton entreprise" in t for t in texts), texts
    text = say(assistant, Kind.TEXT, "pas encore")
    assert "30 novembre" in text  # the late-entry rule, from the facts
    events = [r[0] for r in assistant.db.execute("SELECT event FROM lead_events WHERE ref = ?", [ref])]
    assert "relance_pas_encore" in events
    assert "pas encore d'entreprise" in "\n".join(r["text"] for r in outbox_rows(assistant, "lead_note"))
    say(assistant, Kind.TEXT, "oui j'ai trouvé")
    active = assistant.db.execute("SELECT kind FROM reminder_subscriptions WHERE stopped_at IS NULL").fetchall()
    assert ("entreprise",) not in active and ("entreprise_limite",) not in active
    from tests.test_staff import staff

    lead = staff(assistant, command="lead", args=(ref,))
    assert "a trouvé son entreprise" in "\n".join(r.text for r in lead.replies)


def test_mesdonnees_shows_reminders_and_supprimer_erases_them(assistant, clock) -> None:
    say(assistant, Kind.BUTTON, "rp:on:portes_ouvertes")
    round_at(assistant, clock, dt.datetime(2026, 3, 18, 10, 30, tzinfo=PARIS))
    text = say(assistant, Kind.COMMAND, "mesdonnees")
    assert "journées portes ouvertes : accord le 12 mars 2026" in text and "envoyé le 18 mars 2026" in text
    assert assistant.db.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'reminder'").fetchone()[0] == 1
    assistant.erase_person(ZOE.user_id)
    assert assistant.db.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'reminder'").fetchone()[0] == 0
    for table in ("reminder_subscriptions", "reminder_log", "reminder_events", "reminder_people"):
        assert assistant.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0


def test_preview_counts_per_kind_without_sending(assistant, clock) -> None:
    say(assistant, Kind.BUTTON, "rp:on:portes_ouvertes")
    counts = preview(assistant.db, assistant.knowledge.current.kb, dt.date(2026, 3, 18))
    assert counts == {"portes_ouvertes": 1}
    assert reminders_sent(assistant) == []


def test_the_retention_purge_removes_reminders(assistant, clock) -> None:
    from bot.storage.personal import purge

    say(assistant, Kind.BUTTON, "rp:on:portes_ouvertes")
    round_at(assistant, clock, dt.datetime(2026, 3, 18, 10, 30, tzinfo=PARIS))
    later = dt.datetime(2030, 3, 18, 10, 30, tzinfo=PARIS)
    purge(assistant.db, later, 36, 180, features=assistant.erasers)
    for table in ("reminder_subscriptions", "reminder_log"):
        assert assistant.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0


def test_the_digest_counts_the_reminders_and_campaign_messages_sent_since_the_last_one(knowledge, tmp_path) -> None:
    """Delivered rows only, counted since the previous digest; no name, no text of theirs."""
    from bot.storage.outbox import Outbox
    from tests.test_campaigns import data_of
    from tests.test_staff import staff

    clock = MovableClock(dt.datetime(2026, 3, 18, 9, 0, tzinfo=PARIS))  # the first digest looks one day back
    assistant = build(knowledge, tmp_path / "bot.db", clock, digest_time=dt.time(8, 30))
    outbox, followup = Outbox(assistant.db), assistant.staff.followup
    followup.tick()  # today's digest (nothing yet): the next one counts from here
    for user in (701, 702, 703):
        say(assistant, Kind.BUTTON, "rp:on:portes_ouvertes", person=Person(user, "Inès"))
    preview = staff(assistant, command="campagne", text="/campagne tous Réunion mardi")
    staff(assistant, callback_data=next(d for d in data_of(preview) if ":ok:" in d))
    campaign = outbox_rows(assistant, "campaign")
    for row in campaign[:2]:
        outbox.mark_sent(row["id"], 10 + row["id"])
    outbox.give_up(campaign[2]["id"], "403 blocked")  # not sent: not counted
    round_at(assistant, clock, dt.datetime(2026, 3, 18, 10, 1, tzinfo=PARIS))
    reminders = reminders_sent(assistant)
    assert len(reminders) == 2  # 703 blocked the bot (the campaign's 403)
    outbox.mark_sent(reminders[0]["id"], 20)  # the second is still pending: not counted
    clock.at = dt.datetime(2026, 3, 19, 8, 30, tzinfo=PARIS)
    followup.tick()
    [_, digest] = outbox_rows(assistant, "digest")
    assert "Envoyés depuis le dernier point : 1 rappel(s), 2 message(s) de 1 campagne(s)" in digest["text"]
    assert "Inès" not in digest["text"] and "Réunion" not in digest["text"]
    outbox.mark_sent(reminders[1]["id"], 99)  # delivered after the digest, but queued before it
    clock.at = dt.datetime(2026, 3, 20, 8, 30, tzinfo=PARIS)
    followup.tick()
    assert "Envoyés depuis le dernier point : 0 rappel(s), 0 message(s) de 0 campagne(s)" in \
        outbox_rows(assistant, "digest")[-1]["text"]
