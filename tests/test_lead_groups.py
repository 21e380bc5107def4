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


def test_an_erasure_while_a_grouped_message_is_in_flight_blanks_only_its_part_once_posted(tmp_path: Path) -> None:
    """/supprimer while the request carrying six cards is out: once Telegram has posted it, one edit
    rebuilds the message with that part blanked and the five others as they were."""
    import datetime as dt

    from bot.storage.outbox import STAFF, Outbox, erased_in_flight, settle_erased

    assistant = build(KnowledgeStore(ROOT / "knowledge"), tmp_path / "bot.db")
    people = [Person(6000 + n, "Zoé", "Dupont") for n in range(6)]
    refs = [pre_register(assistant, person) for person in people]
    outbox, leads, later = Outbox(assistant.db), assistant.staff.leads, assistant.clock.now() + dt.timedelta(days=1)
    rows, message = leads.batch(outbox.next_in_chat(STAFF, None, later))
    assert [row.ref for row in rows] == refs and all(ref in message.reply.text for ref in refs)
    for row in rows:  # the request leaves...
        outbox.begin_attempt(row.id, assistant.clock.now())
    assistant.erase_person(people[2].user_id)  # ...the prospect erases everything meanwhile...
    for row in rows:  # ...and Telegram answers: posted as message 700
        erased = erased_in_flight(assistant.db, row.id)
        outbox.mark_sent(row.id, 700)
        if erased:
            settle_erased(assistant.db, row.id, erased, assistant.clock.now())
    [edit] = [d for d in outbox.due(later) if d.edit_of is not None]
    text = leads.regroup(edit).reply.text
    assert refs[2] not in text and text.count("données effacées") == 1
    assert all(text.count(ref) == 1 for n, ref in enumerate(refs) if n != 2)
    assert outbox.message_id_of(edit.edit_of) == 700
