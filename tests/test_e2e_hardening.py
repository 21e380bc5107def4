"""End to end: the bot holds up against floods and hostile input, and logs no personal data."""
from __future__ import annotations

import sqlite3
from pathlib import Path


from bot.conversation.flood import FloodControl

FLOODER, CALM = 7001, 7002


def test_flood_control_unit_window() -> None:
    flood = FloodControl(limit=3, window=5.0)
    verdicts = [flood.check(1, t) for t in (0.0, 0.1, 0.2, 0.3, 0.4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False, False]
    assert [v.notify for v in verdicts] == [False, False, False, True, False]  # one notice per burst
    assert flood.check(2, 0.5).allowed  # someone else is unaffected
    assert flood.check(1, 5.5).allowed  # the window has moved on


def test_a_flooder_is_slowed_down_and_others_are_not(botapi_double, bot_process_factory) -> None:
    bot_process_factory(FLOOD_LIMIT=20, FLOOD_WINDOW=5)
    for i in range(50):
        botapi_double.push_text(FLOODER, f"salaire {i}")
    botapi_double.push_text(CALM, "c'est quand la rentree ?")
    botapi_double.wait_for_text(CALM, "27 août")
    botapi_double.wait_for_text(FLOODER, "Doucement")
    botapi_double.wait_consumed()
    to_flooder = botapi_double.messages_to(FLOODER)
    notices = [m for m in to_flooder if "Doucement" in m["text"]]
    assert len(notices) == 1
    assert len(to_flooder) <= 21  # at most the allowed answers plus one notice


def test_hostile_text_is_answered_and_logs_hold_no_personal_data(botapi_double, bot_process,
                                                                  tmp_path: Path) -> None:
    hostile = [
        "\u200b\u200b\u202eelbatsni\u202c",  # zero-width and right-to-left override
        "😀😀😀🎉",
        "<script>alert(1)</script> & <b>",
        "**gras** _italique_ `code` [lien](http://x.y)",
        "/start " + "A" * 200,
        "je suis dyslexique, c'est quoi le salaire ?",
    ]
    for i, text in enumerate(hostile):
        mark = botapi_double.mark()
        botapi_double.push_text(CALM, text, first_name="Élodie<i>")
        botapi_double.wait_for_message(lambda m: True, chat_id=CALM, since=mark)
    botapi_double.wait_consumed()
    failed = [c for c in botapi_double.calls() if c.status not in (200, None)]
    assert failed == [], failed
    db = sqlite3.connect(tmp_path / "bot.db")
    logged = [row[0] for row in db.execute("SELECT text FROM questions")]
    assert not any("dyslexique" in t for t in logged), "no health detail is ever stored"
    bot_process.stop()
    logs = bot_process.stderr_text() + bot_process.stdout_text()
    assert "update " in logs and "kind=text" in logs  # one line per update
    for secret in ("Élodie", "dyslexique", "salaire", str(CALM), botapi_double.token):
        assert secret not in logs, f"{secret!r} leaked into the logs"


def test_telegram_faults_delay_answers_but_lose_none(botapi_double, bot_process) -> None:
    """429 with retry_after, 502s, a slow answer, a timeout: every question is answered."""
    faults = [
        dict(status=429, retry_after=1),
        dict(status=502, times=2),
        dict(delay=2.0),
        dict(hang=True, applied=False),
    ]
    for number, fault in enumerate(faults):
        user = 7100 + number
        botapi_double.inject("sendMessage", chat_id=user, **fault)
        botapi_double.push_text(user, "c combien le salaire")
        botapi_double.wait_for_text(user, "496", timeout=30)
    assert bot_process.is_running()


def test_a_prospect_who_blocked_the_bot_does_not_stop_it(botapi_double, bot_process) -> None:
    botapi_double.block_user(7200)
    botapi_double.push_text(7200, "c combien le salaire")
    botapi_double.push_text(7201, "c combien le salaire")
    botapi_double.wait_for_text(7201, "496")
    botapi_double.wait_consumed()
    assert bot_process.is_running()
    assert botapi_double.messages_to(7200) == []


def test_a_429_on_the_staff_group_does_not_stall_prospects(botapi_double, bot_process_factory) -> None:
    """Telegram makes the staff group wait 30 s: prospects are still answered in the meantime."""
    staff_chat = -100555
    botapi_double.register_group(staff_chat, "Admissions", members=[9100])
    bot_process_factory(STAFF_CHAT_ID=staff_chat, STAFF_USER_IDS=9100)
    fault = botapi_double.inject("sendMessage", chat_id=staff_chat, status=429, retry_after=30, times=None)
    botapi_double.push_command(7301, "/conseiller")  # a request for staff: it meets the 429
    botapi_double.wait_for(lambda c: c.chat_id == staff_chat and c.status == 429, method="sendMessage")
    for user in (7302, 7303, 7304):
        botapi_double.push_text(user, "c quand la rentree")
        botapi_double.wait_for_text(user, "27 août")  # well before the staff group's 30 s are over
    assert not botapi_double.messages_to(staff_chat), "the staff message is still waiting"
    fault.cancel()
