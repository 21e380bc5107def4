"""End to end: a prospect asks questions on Telegram, through the real bot process.

``run_bot.py`` runs as a subprocess with the real python-telegram-bot stack, pointed
at the local Bot API double through ``TELEGRAM_BASE_URL``; every assertion is on what
the double received, as Telegram would have.
"""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path


PROSPECT = 4242


def buttons_of(message: dict) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


def test_start_with_deep_link_shows_menu_and_stores_source(botapi_double, bot_process, tmp_path: Path) -> None:
    botapi_double.push_command(PROSPECT, "/start", "jpo", first_name="Zoé")
    welcome = botapi_double.wait_for_text(PROSPECT, "Salut Zoé")
    assert "BTS MCO" in welcome["text"]
    assert len(buttons_of(welcome)) >= 6  # the topic menu
    db = sqlite3.connect(tmp_path / "bot.db")
    assert db.execute("SELECT source FROM prospects WHERE user_id = ?", [PROSPECT]).fetchone() == ("jpo",)


def test_commands_are_set_for_private_chats(botapi_double, bot_process) -> None:
    call = botapi_double.wait_for(lambda c: True, method="setMyCommands")
    names = [c["command"] for c in call.params["commands"]]
    assert {"start", "menu", "aide"} <= set(names)
    assert call.params["scope"]["type"] == "all_private_chats"


def test_free_text_question_gets_answer_with_follow_up_buttons(botapi_double, bot_process, tmp_path: Path) -> None:
    botapi_double.push_text(PROSPECT, "c combien le salaire en alternance ?")
    answer = botapi_double.wait_for_text(PROSPECT, r"496")
    assert "1612" in answer["text"].replace(" ", "")
    assert "📋 Menu" in buttons_of(answer)
    sent = botapi_double.last_call("sendMessage")
    assert sent.params["parse_mode"] == "HTML"
    row = sqlite3.connect(tmp_path / "bot.db").execute(
        "SELECT text, entry, score, outcome FROM questions").fetchone()
    assert row[0] == "c combien le salaire en alternance ?"
    assert row[1] == "remuneration" and row[2] > 0.5 and row[3] == "answered"


def test_typing_is_shown_while_a_slow_answer_waits(botapi_double, bot_process) -> None:
    """A flaky network (a 502, retried): "typing" shows until the answer gets through."""
    botapi_double.inject("sendMessage", status=502, chat_id=PROSPECT)
    botapi_double.push_text(PROSPECT, "c combien le salaire en alternance ?")
    botapi_double.wait_for_text(PROSPECT, r"496")
    typing = botapi_double.calls("sendChatAction")
    assert typing and typing[0].params["action"] == "typing"
    delivered = botapi_double.wait_for(lambda c: c.ok, method="sendMessage")
    assert typing[0].seq < delivered.seq, "the typing action is shown before the answer"


def test_quick_answers_spend_no_request_on_typing(botapi_double, bot_process) -> None:
    """Telegram counts chat actions in the bot's 30 requests/s: a burst must go to answers."""
    for question in ("c combien le salaire ?", "les horaires de cours", "c ou l'ecole ?"):
        botapi_double.push_text(PROSPECT, question)
    botapi_double.wait_until(lambda: len(botapi_double.messages_to(PROSPECT)) >= 3, 10, "three answers")
    assert botapi_double.calls("sendChatAction") == []


def test_a_pressed_button_is_acknowledged_even_when_its_answer_is_slow(botapi_double, bot_process) -> None:
    botapi_double.push_command(PROSPECT, "/menu")
    menu = botapi_double.wait_for_text(PROSPECT, "Choisis un thème")
    botapi_double.inject("sendMessage", status=502, chat_id=PROSPECT)
    before = botapi_double.last_call().seq
    botapi_double.click_button(PROSPECT, buttons_of(menu)[0])
    ack = botapi_double.wait_for(lambda c: True, method="answerCallbackQuery", since=before)
    delivered = botapi_double.wait_for(lambda c: c.ok, method="sendMessage", since=before)
    assert ack.seq < delivered.seq, "the spinner stops while the answer is on its way"


def test_menu_topic_and_entry_buttons(botapi_double, bot_process) -> None:
    botapi_double.push_command(PROSPECT, "/menu")
    menu = botapi_double.wait_for_text(PROSPECT, "Choisis un thème")
    topic_label = buttons_of(menu)[0]
    botapi_double.click_button(PROSPECT, topic_label)
    topic = botapi_double.wait_for_text(PROSPECT, re.escape(topic_label))
    entry_label = buttons_of(topic)[0]
    mark = botapi_double.mark()
    botapi_double.click_button(PROSPECT, entry_label)
    botapi_double.wait_for(lambda c: True, method="answerCallbackQuery", since=mark)
    reply = botapi_double.wait_for_message(lambda m: True, chat_id=PROSPECT, since=mark)
    assert reply["text"]


def test_out_of_scope_question_falls_back_with_menu_and_contacts(botapi_double, bot_process) -> None:
    botapi_double.push_text(PROSPECT, "combien coute une pizza")
    reply = botapi_double.wait_for_text(PROSPECT, "pas sûr")
    assert "03 22 82 84 70" in reply["text"]
    assert any("conseiller" in b.lower() for b in buttons_of(reply))


def test_html_in_a_question_is_never_interpreted(botapi_double, bot_process) -> None:
    botapi_double.push_command(PROSPECT, "/start", first_name="<b>Bob</b> & {tel_standard}")
    welcome = botapi_double.wait_for_text(PROSPECT, "Salut")
    assert "<b>Bob</b> & {tel_standard}" in welcome["text"]  # shown as typed, not bold, not expanded


def test_stickers_photos_and_voice_get_a_polite_text(botapi_double, bot_process) -> None:
    for push in (botapi_double.push_sticker, botapi_double.push_photo, botapi_double.push_voice):
        mark = botapi_double.mark()
        push(PROSPECT)
        botapi_double.wait_for_text(PROSPECT, "messages écrits", since=mark)


def test_a_4000_character_message_is_answered_under_the_limit(botapi_double, bot_process) -> None:
    botapi_double.push_text(PROSPECT, "le salaire " + "blabla " * 570)
    notice = botapi_double.wait_for_text(PROSPECT, "très long")
    fallback = botapi_double.wait_for_text(PROSPECT, "pas sûr")  # gibberish is not answered
    assert len(notice["text"]) < 4096 and len(fallback["text"]) < 4096


def test_unknown_command_and_forged_button(botapi_double, bot_process) -> None:
    botapi_double.push_command(PROSPECT, "/nimportequoi", "x" * 300)
    botapi_double.wait_for_text(PROSPECT, "Je ne connais pas cette commande")
    botapi_double.push_command(PROSPECT, "/menu")
    menu = botapi_double.wait_for_text(PROSPECT, "Choisis un thème")
    botapi_double.push_callback(PROSPECT, "e:n_existe_pas", menu["message_id"], check_button=False)
    botapi_double.wait_for_text(PROSPECT, "plus valable")
