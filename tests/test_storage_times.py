"""One timestamp convention (``bot/storage/times.py``): UTC in the base, Paris time where people read it.

The migration test builds a database at the schema version before the conversion,
with the Paris-time strings older versions wrote (late October's repeated hour, a
summer and a winter time, values typed by hand without an offset), opens it with
the current code, and checks both the stored values and what the features that
compare or show times make of them: retention cutoffs, the two-working-day recall,
the digest's "since the last one", the statistics' periods, the CSV export, ``/lead``
and ``/mesdonnees``. Before the migration these rows were compared with
``julianday()`` (which honours the offset), so every count below is the one the old
code gave; the shown times are the Paris wall-clock times the rows were written at.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
import sqlite_utils

from bot.clock import PARIS
from bot.conversation.engine import Assistant
from bot.conversation.messages import Kind, Person
from bot.knowledge.store import KnowledgeStore
from bot.staff.followup import KIND_DIGEST, KIND_RECALL
from bot.storage.db import MIGRATIONS, PARIS_TIME_COLUMNS, _v13_utc_timestamps, open_database
from bot.storage.personal import purge
from bot.storage.times import from_db, in_paris, legacy_paris_to_db, to_db
from test_staff import MovableClock, build, outbox_rows, say, staff

UTC = dt.timezone.utc
#: Late October 2026: 02:00-03:00 happens twice in Paris (summer time, then winter time).
FIRST_0230 = "2026-10-25T02:30:00+02:00"  # 00:30 UTC
SECOND_0230 = "2026-10-25T02:30:00+01:00"  # 01:30 UTC, an hour later although it reads the same
SUMMER = "2026-07-14T10:00:00+02:00"
WINTER = "2026-01-15T09:00:00+01:00"
#: Columns the outbox, the inbox, the quarantine and the handled updates always wrote in UTC.
UTC_ALREADY = {("outbox", "created_at"), ("outbox", "next_attempt_at"), ("outbox", "attempt_started_at"),
               ("inbox", "received_at"), ("quarantine", "received_at"), ("handled_updates", "at")}


def previous_version(path: Path) -> sqlite_utils.Database:
    """A database as the version before the conversion left it."""
    return open_database(path, MIGRATIONS[:MIGRATIONS.index(_v13_utc_timestamps)])


# --- the conversion itself ------------------------------------------------------------------------


def test_stored_form_is_utc_of_fixed_width_and_reads_back_as_the_same_instant() -> None:
    moments = [dt.datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=fold) for fold in (0, 1)]
    stamps = [to_db(m) for m in moments]
    assert stamps == ["2026-10-25T00:30:00+00:00", "2026-10-25T01:30:00+00:00"]
    # (compared as timestamps: Python never finds a repeated-hour time equal to one of another zone)
    assert [from_db(s).timestamp() for s in stamps] == [m.timestamp() for m in moments]
    assert all(from_db(s).tzinfo == UTC for s in stamps)
    assert [in_paris(s).strftime("%H:%M") for s in stamps] == ["02:30", "02:30"]
    assert {len(to_db(dt.datetime(2026, month, 1, tzinfo=PARIS))) for month in range(1, 13)} == {25}
    # The Paris strings sorted as text put the later instant first; the stored ones do not.
    assert sorted([SECOND_0230.replace("02:30", "02:15"), FIRST_0230])[0] != FIRST_0230
    assert sorted([to_db(dt.datetime.fromisoformat(SECOND_0230.replace("02:30", "02:15"))),
                   to_db(dt.datetime.fromisoformat(FIRST_0230))])[0] == to_db(moments[0])
    with pytest.raises(ValueError):
        to_db(dt.datetime(2026, 3, 1, 12, 0))  # naive: on which clock?


@pytest.mark.parametrize("old, new", [
    (FIRST_0230, "2026-10-25T00:30:00+00:00"),
    (SECOND_0230, "2026-10-25T01:30:00+00:00"),
    (SUMMER, "2026-07-14T08:00:00+00:00"),
    (WINTER, "2026-01-15T08:00:00+00:00"),
    ("2026-07-14T10:00:00", "2026-07-14T08:00:00+00:00"),  # typed by hand: Paris wall-clock time
    ("2026-10-25T02:30:00", "2026-10-25T00:30:00+00:00"),  # the repeated hour: its first occurrence
    ("2026-03-29T02:30:00", "2026-03-29T01:30:00+00:00"),  # the skipped hour: read with the winter offset
    ("2026-01-15T08:00:00+00:00", "2026-01-15T08:00:00+00:00"),  # already UTC: unchanged
    ("2026-01-01", "2026-01-01"), ("x", "x"), ("", ""), (None, None),  # not a moment: left alone
])
def test_a_legacy_value_becomes_the_same_instant_in_utc(old: str | None, new: str | None) -> None:
    assert legacy_paris_to_db(old) == new


def test_every_timestamp_column_is_either_converted_or_was_utc_already(tmp_path: Path) -> None:
    """The inventory: a new ``*_at`` column must say which side it is on (a typo in the list fails too)."""
    db = previous_version(tmp_path / "old.db")
    stamps = {(table, column.name) for table in db.table_names() for column in db[table].columns
              if column.name.endswith("_at") or column.name in ("at", "first_seen", "last_seen")}
    listed = {(table, column) for table, columns in PARIS_TIME_COLUMNS.items() for column in columns}
    assert listed <= stamps
    assert stamps == listed | UTC_ALREADY


def test_the_migration_rewrites_paris_rows_in_utc_and_leaves_utc_ones(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    old = previous_version(path)
    old["questions"].insert_all([{"at": FIRST_0230, "user_id": 1, "text": "a"},
                                 {"at": SECOND_0230, "user_id": 1, "text": "b"},
                                 {"at": "2026-07-14T10:00:00", "user_id": 2, "text": "c"},
                                 {"at": "2026-01-01", "user_id": 3, "text": "d"}])
    old["handoffs"].insert({"user_id": 1, "opened_at": WINTER, "closed_at": None, "status": "open"})
    old["reminder_log"].insert({"user_id": 1, "kind": "k", "occurrence": "o", "status": "queued", "at": SUMMER})
    old["outbox"].insert({"created_at": "2026-10-25T00:45:00+00:00", "audience": "staff", "kind": "digest",
                          "ref": "x", "payload": "{}", "status": "sent", "next_attempt_at": "2026-10-25T00:45:00+00:00"})
    old.conn.close()

    db = open_database(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert [r[0] for r in db.execute("SELECT at FROM questions ORDER BY id")] == [
        "2026-10-25T00:30:00+00:00", "2026-10-25T01:30:00+00:00", "2026-07-14T08:00:00+00:00", "2026-01-01"]
    assert db.execute("SELECT opened_at, closed_at FROM handoffs").fetchone() == ("2026-01-15T08:00:00+00:00", None)
    assert db.execute("SELECT at FROM reminder_log").fetchone()[0] == "2026-07-14T08:00:00+00:00"
    assert db.execute("SELECT created_at FROM outbox").fetchone()[0] == "2026-10-25T00:45:00+00:00"


# --- the features, on a migrated base, across the change of time ----------------------------------

ANNE, BRUNO, CAMILLE = Person(501, "Anne", "Avant"), Person(502, "Bruno", "Bis"), Person(503, "Camille", "Été")


def legacy_base(path: Path) -> None:
    """Three leads written by the old code in Paris time: the first 02:30, the second 02:30, a summer one.

    Each person's only traces are their registration and its creation event, so the
    retention purge sees exactly those instants.
    """
    old = previous_version(path)
    for person, at, ref in ((ANNE, FIRST_0230, "MCO-AAAAAA"), (BRUNO, SECOND_0230, "MCO-BBBBBB"),
                            (CAMILLE, SUMMER, "MCO-CCCCCC")):
        old["registrations"].insert({"ref": ref, "user_id": person.user_id, "first_name": person.first_name,
                                     "last_name": person.last_name, "source": "salon", "consent_at": at,
                                     "created_at": at, "updated_at": at, "status": "nouveau"})
        old["lead_events"].insert({"ref": ref, "user_id": person.user_id, "at": at, "event": "cree",
                                   "status": "nouveau"})
    old["questions"].insert({"at": "2026-10-25T00:30:00+02:00", "user_id": ANNE.user_id, "text": "tard le soir"})
    old.conn.close()


@pytest.fixture
def migrated(knowledge: KnowledgeStore, tmp_path: Path) -> Assistant:
    legacy_base(tmp_path / "bot.db")
    return build(knowledge, tmp_path / "bot.db", MovableClock(dt.datetime(2026, 11, 2, 9, 0, tzinfo=PARIS)))


def at(assistant: Assistant, moment: dt.datetime) -> None:
    assistant.clock.at = moment  # type: ignore[attr-defined]


def test_stats_periods_split_the_repeated_hour_as_before(migrated: Assistant) -> None:
    # Seven days before 1 November 02:45 is 25 October 02:45 summer time (00:45 UTC): between the two 02:30s.
    at(migrated, dt.datetime(2026, 11, 1, 2, 45, tzinfo=PARIS))
    week, month = staff(migrated, command="stats").replies[0].text.split("**30 derniers jours**")
    assert "Pré-inscriptions : 1" in week and "Pré-inscriptions : 2" in month


def test_retention_cutoff_on_the_repeated_hour_keeps_only_the_later_instant(migrated: Assistant) -> None:
    # Six months before 25 April 2027 02:45 is 25 October 2026 02:45 summer time (00:45 UTC).
    counts = purge(migrated.db, dt.datetime(2027, 4, 25, 2, 45, tzinfo=PARIS), months=6, question_days=365)
    left = {r[0] for r in migrated.db.execute("SELECT user_id FROM registrations")}
    assert left == {BRUNO.user_id} and counts["personnes"] == 2


def test_digest_since_the_last_one_counts_only_what_came_after(migrated: Assistant) -> None:
    migrated.db["outbox"].insert({"created_at": "2026-10-25T01:00:00+00:00", "audience": "staff", "kind": KIND_DIGEST,
                                  "ref": "2026-10-24", "payload": "{}", "status": "sent",
                                  "next_attempt_at": "2026-10-25T01:00:00+00:00"})
    at(migrated, dt.datetime(2026, 10, 26, 8, 30, tzinfo=PARIS))
    assert "depuis le dernier point : 1" in migrated.staff.followup.digest_text()  # Bruno's, not Anne's


def test_recall_after_two_working_days_at_the_same_paris_time_across_the_change(knowledge: KnowledgeStore,
                                                                                tmp_path: Path) -> None:
    """Friday 23 October 10:00 (summer time) + 2 working days = Tuesday 27 October 10:00 (winter time)."""
    old = previous_version(tmp_path / "bot.db")
    old["registrations"].insert({"ref": "MCO-FRIDAY", "user_id": 9, "first_name": "Zoé", "status": "nouveau",
                                 "created_at": "2026-10-23T10:00:00+02:00", "updated_at": "2026-10-23T10:00:00+02:00"})
    old.conn.close()
    assistant = build(knowledge, tmp_path / "bot.db", MovableClock(dt.datetime(2026, 10, 27, 9, 59, tzinfo=PARIS)))
    assistant.staff.followup.tick()
    assert outbox_rows(assistant, KIND_RECALL) == []
    at(assistant, dt.datetime(2026, 10, 27, 10, 0, tzinfo=PARIS))
    assistant.staff.followup.tick()
    [recall] = outbox_rows(assistant, KIND_RECALL)
    assert "23 octobre 2026 à 10h00" in recall["text"]


def test_people_are_shown_the_paris_times_the_rows_were_written_at(migrated: Assistant) -> None:
    content = staff(migrated, command="export").replies[0].document[1]
    rows = {r[0]: r for r in csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";")}
    assert [rows[ref][1] for ref in ("MCO-AAAAAA", "MCO-BBBBBB", "MCO-CCCCCC")] == [
        "2026-10-25 02:30", "2026-10-25 02:30", "2026-07-14 10:00"]
    detail = staff(migrated, command="lead", args=("MCO-CCCCCC",)).replies[0].text
    assert "14 juillet 2026 à 10h00" in detail
    # 00:30 in Paris is the evening before in UTC: /mesdonnees gives the Paris day.
    assert migrated.db.execute("SELECT at FROM questions").fetchone()[0] == "2026-10-24T22:30:00+00:00"
    mine = say(migrated, Kind.COMMAND, "mesdonnees", person=ANNE)
    assert "25 octobre 2026 : « tard le soir »" in mine
