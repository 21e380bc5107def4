"""Lead cards sent together (``bot/staff/leads.py``): the shared message always fits, whatever the leads say."""
from __future__ import annotations

from pathlib import Path

from bot.conversation.messages import Person
from bot.knowledge.store import KnowledgeStore
from bot.staff.leads import GROUP_SIZE
from bot.text_units import TELEGRAM_LIMIT, visible_len
from test_staff import ROOT, build, pre_register


def test_ten_leads_with_the_longest_values_and_a_status_fit_with_the_resend_label(tmp_path: Path) -> None:
    assistant = build(KnowledgeStore(ROOT / "knowledge"), tmp_path / "bot.db")
    ref = pre_register(assistant, Person(5001, "Zoé", "Dupont"))
    wide = "👩🏽‍🎓" * 60  # 7 UTF-16 units each
    assistant.db.execute("UPDATE registrations SET first_name = ?, last_name = ?, email = ?, phone = ?, source = ? "
                         "WHERE ref = ?", [wide, wide, wide + "@example.com", wide, wide, ref])
    leads = assistant.staff.leads
    leads.store.set_status(ref, "en_charge", assistant.clock.now(), 11, wide)
    lead = leads.store.get(ref)
    text = assistant.staff.text("staff.renvoi_doublon_possible") + "\n" + \
        leads.group_text([lead] * GROUP_SIZE)
    assert visible_len(text) <= TELEGRAM_LIMIT
    assert text.count(f"/lead_{ref.removeprefix('MCO-').lower()}") == GROUP_SIZE  # no part lost its command
