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
