"""Alerts in the staff group (``bot/staff/alerts.py``): short, no personal data, once per kind per hour."""
from __future__ import annotations

import datetime as dt
import sqlite3

from bot.conversation.engine import Assistant
from bot.storage.outbox import STAFF, Delivery
from bot.conversation.messages import Reply
from test_staff import assistant, knowledge, outbox_rows  # noqa: F401 (fixtures)


def test_one_alert_per_kind_per_hour(assistant: Assistant) -> None:
    alerts = assistant.staff.alerts
    assert alerts.unexpected_error(KeyError("Zoé Dupont 06 12 34 56 78"))
    assert not alerts.unexpected_error(ValueError("again"))
    [alert] = outbox_rows(assistant, "alert")
    assert "KeyError" in alert["text"] and "Zoé" not in alert["text"] and "06" not in alert["text"]
    assistant.clock.at += dt.timedelta(minutes=59)
    assert not alerts.unexpected_error(KeyError())
    assistant.clock.at += dt.timedelta(minutes=2)
    assert alerts.unexpected_error(KeyError())
    assert len(outbox_rows(assistant, "alert")) == 2


def test_failed_deliveries_are_rate_limited_and_never_about_an_alert(assistant: Assistant) -> None:
    desk = assistant.staff
    row = lambda n, kind="relay_in": Delivery(n, STAFF, None, kind, "1", Reply("Zoé : mon numéro"), None, None, 1)  # noqa: E731
    desk.delivery_problem(row(41), "failed")
    desk.delivery_problem(row(42), "failed")
    [notice] = outbox_rows(assistant, "delivery_notice")
    assert "n°41" in notice["text"] and "Zoé" not in notice["text"]
    assistant.clock.at += dt.timedelta(hours=2)
    desk.delivery_problem(row(43, "delivery_notice"), "failed")
    desk.delivery_problem(row(44, "alert"), "failed")
    assert len(outbox_rows(assistant, "delivery_notice")) == 1


def test_integrity_checked_hourly(assistant: Assistant) -> None:
    alerts = assistant.staff.alerts
    assert not alerts.check_integrity()  # sound
    assert alerts._integrity_checked == assistant.clock.now()


def test_a_damaged_database_is_reported_once_an_hour(assistant: Assistant, monkeypatch) -> None:
    db = assistant.db
    real = db.execute

    def damaged(sql: str, *args, **kwargs):
        if sql.startswith("PRAGMA quick_check"):
            raise sqlite3.DatabaseError("database disk image is malformed")
        return real(sql, *args, **kwargs)

    monkeypatch.setattr(db, "execute", damaged)
    alerts = assistant.staff.alerts
    assert alerts.check_integrity()
    assistant.clock.at += dt.timedelta(minutes=30)
    assert not alerts.check_integrity()
    assistant.clock.at += dt.timedelta(minutes=31)
    assert alerts.check_integrity()
    assert all("base de données" in row["text"] for row in outbox_rows(assistant, "alert"))
    assert len(outbox_rows(assistant, "alert")) == 2
