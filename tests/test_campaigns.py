"""Staff campaigns in the core: segment, preview, count, confirmation(s), queued once, figures."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.clock import PARIS
from bot.conversation.messages import Kind, Person
from bot.knowledge.store import KnowledgeStore
from bot.staff.campaigns import SECOND_CONFIRMATION
from bot.storage.outbox import Outbox
from tests.test_staff import MovableClock, build, outbox_rows, pre_register, say, staff

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def knowledge() -> KnowledgeStore:
    return KnowledgeStore(ROOT / "knowledge")


@pytest.fixture
def assistant(knowledge: KnowledgeStore, tmp_path: Path):
    return build(knowledge, tmp_path / "bot.db", MovableClock(dt.datetime(2026, 3, 12, 11, 0, tzinfo=PARIS)))


def opt_in(assistant, user: int, offer: str = "portes_ouvertes") -> None:
    say(assistant, Kind.BUTTON, f"rp:on:{offer}", person=Person(user, "P"))


def data_of(result, index: int = 0) -> list[str]:
    return [b.data for b in result.replies[0].flat_buttons()]


def test_a_campaign_reaches_only_the_opted_in_segment_after_confirmation(assistant) -> None:
    for user in (501, 502, 503):
        opt_in(assistant, user)
    say(assistant, Kind.TEXT, "c'est quand les portes ouvertes ?", person=Person(504, "Q"))  # never said yes
    pre_register(assistant, Person(503, "Zoé", "Dupont"))  # 503 is searching for a company
    usage = staff(assistant, command="campagne", text="/campagne")
    assert "SEGMENT" in usage.replies[0].text
    preview = staff(assistant, command="campagne", text="/campagne sans_entreprise Réunion d'information mardi")
    assert "**1** destinataire" in preview.replies[0].text and "Réunion d'information mardi" in preview.replies[0].text
    assert outbox_rows(assistant, "campaign") == []  # nothing before the confirmation
    everyone = staff(assistant, command="campagne", text="/campagne tous Bonjour à tous")
    assert "**3** destinataire" in everyone.replies[0].text
    ok = next(d for d in data_of(everyone) if ":ok:" in d)
    sent = staff(assistant, callback_data=ok)
    assert "3 message(s)" in sent.replies[0].text
    assert sorted(r["chat_id"] for r in outbox_rows(assistant, "campaign")) == [501, 502, 503]
    again = staff(assistant, callback_data=ok)  # a second press does not send twice
    assert not again.replies and len(outbox_rows(assistant, "campaign")) == 3


def test_above_100_recipients_a_second_confirmation(assistant) -> None:
    for user in range(1000, 1000 + SECOND_CONFIRMATION + 1):
        assistant.db.execute("INSERT INTO reminder_subscriptions (user_id, kind, consent_at) VALUES (?, ?, ?)",
                             [user, "portes_ouvertes", "2026-03-01T10:00:00+01:00"])
    preview = staff(assistant, command="campagne", text="/campagne tous Bonjour")
    first = staff(assistant, callback_data=next(d for d in data_of(preview) if ":ok:" in d))
    assert "confirmer une seconde fois" in first.replies[0].text.lower() and outbox_rows(assistant, "campaign") == []
    second = staff(assistant, callback_data=data_of(first)[0])
    assert len(outbox_rows(assistant, "campaign")) == SECOND_CONFIRMATION + 1 and second.replies


def test_campagnes_lists_figures_and_the_report_is_posted_once(assistant) -> None:
    for user in (601, 602):
        opt_in(assistant, user)
    preview = staff(assistant, command="campagne", text="/campagne tous Bonjour")
    staff(assistant, callback_data=next(d for d in data_of(preview) if ":ok:" in d))
    outbox = Outbox(assistant.db)
    rows = outbox_rows(assistant, "campaign")
    outbox.mark_sent(rows[0]["id"], 10)
    outbox.give_up(rows[1]["id"], "403 blocked")
    listing = staff(assistant, command="campagnes", text="/campagnes").replies[0].text
    assert "1 envoyé(s), 1 bloqué(s), 0 échec(s), 0 en attente" in listing
    campaigns = assistant.staff.campaigns
    assert campaigns.report_finished() == 1 and campaigns.report_finished() == 0
    assert "Bilan de la campagne" in outbox_rows(assistant, "campaign_report")[0]["text"]


def test_progress_is_one_message_edited_sparingly_then_ended_and_lost_messages_are_counted(assistant) -> None:
    for user in range(700, 740):  # 40 recipients
        assistant.db.execute("INSERT INTO reminder_subscriptions (user_id, kind, consent_at) VALUES (?, ?, ?)",
                             [user, "portes_ouvertes", "2026-03-01T10:00:00+01:00"])
    preview = staff(assistant, command="campagne", text="/campagne tous Bonjour")
    staff(assistant, callback_data=next(d for d in data_of(preview) if ":ok:" in d))
    campaigns, outbox = assistant.staff.campaigns, Outbox(assistant.db)
    rows = outbox_rows(assistant, "campaign")
    assert {r["priority"] for r in rows} == {2}  # bulk rows: the bulk lane sends them, no prospect's lane

    def send(n: int) -> None:
        for row in [r for r in outbox_rows(assistant, "campaign") if r["status"] == "pending"][:n]:
            outbox.mark_sent(row["id"], 1)

    def settle_progress() -> None:
        for row in outbox_rows(assistant):
            if row["kind"].startswith("campaign_progress") and row["status"] == "pending":
                outbox.mark_sent(row["id"], 99)

    send(4)
    assert campaigns.tick() == 1  # the progress message is posted
    assert "4/40 (10 %)" in outbox_rows(assistant, "campaign_progress")[0]["text"]
    send(4)
    assert campaigns.tick() == 0, "not while the first one waits in the staff queue"
    settle_progress()
    assert campaigns.tick() == 0, "not sooner than a few seconds"
    assistant.clock.at += dt.timedelta(seconds=6)
    assert campaigns.tick() == 1
    edit = outbox_rows(assistant, "campaign_progress_edit")[-1]
    assert edit["edit_of"] == outbox_rows(assistant, "campaign_progress")[0]["id"] and "8/40 (20 %)" in edit["text"]
    settle_progress()
    assistant.clock.at += dt.timedelta(seconds=6)
    assert campaigns.tick() == 0, "nothing changed: no edit"
    pending = [r for r in outbox_rows(assistant, "campaign") if r["status"] == "pending"]
    outbox.fail(pending[0]["id"], "in flight when the process stopped")  # lost at a kill -9
    outbox.give_up(pending[1]["id"], "403 blocked")
    send(len(pending))
    assert campaigns.tick() == 2  # the last edit ("terminée") and the report
    assert "terminée : 40/40 (100 %)" in outbox_rows(assistant, "campaign_progress_edit")[-1]["text"]
    assert "38 envoyé(s), 1 bloqué(s), 0 échec(s), 1 perdu(s)" in outbox_rows(assistant, "campaign_report")[0]["text"]
