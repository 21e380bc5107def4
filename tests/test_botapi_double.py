"""The Bot API double behaves like Telegram for a real python-telegram-bot stack.

Why: every end-to-end test and the load benchmark trust this double.  These tests
check it with PTB itself — in-process ``Bot`` calls for the API surface, and the
benchmark echo bot / a rate-limited bot as real subprocesses for the polling loop —
so an encoding or semantics mismatch shows up here rather than as a mysterious e2e
failure.
"""
from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, TimedOut
from telegram.request import HTTPXRequest

from testing.botapi import BotApiDouble, parse_html
from testing.process import PROJECT_ROOT, BotProcess

ECHO_BOT = [sys.executable, str(PROJECT_ROOT / "testing" / "echo_bots" / "echo.py")]
RATE_LIMITED_BOT = [sys.executable, str(PROJECT_ROOT / "testing" / "echo_bots" / "rate_limited.py")]
USER = 4242


@pytest.fixture
async def bot(botapi_double: BotApiDouble) -> AsyncIterator[Bot]:
    """An initialised PTB Bot talking to the double, with a roomy connection pool."""
    request = HTTPXRequest(connection_pool_size=64, read_timeout=5)
    async with Bot(botapi_double.token, base_url=botapi_double.base_url, request=request) as ptb_bot:
        yield ptb_bot


def buttons(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data)] for text, data in pairs])


# --------------------------------------------------------------------- real bot processes


def test_echo_bot_text_round_trip(botapi_double: BotApiDouble, bot_process_factory) -> None:
    bot_process_factory(ECHO_BOT, name="echo")
    botapi_double.push_text(USER, "Bonjour, c'est pour le BTS MCO")
    reply = botapi_double.wait_for_text(USER, r"^Bonjour, c'est pour le BTS MCO$")
    assert reply["from"]["is_bot"] and reply["chat"]["id"] == USER
    startup = [c.method for c in botapi_double.calls()][:3]
    assert startup == ["getMe", "deleteWebhook", "getUpdates"]
    botapi_double.wait_consumed()


def test_echo_bot_answers_callback_query(botapi_double: BotApiDouble, bot_process_factory) -> None:
    botapi_double.register_user(USER, "Camille")
    # Seed a bot message with a button, as if the bot had sent it earlier.
    sent = httpx.post(
        f"{botapi_double.base_url}{botapi_double.token}/sendMessage",
        data={"chat_id": USER, "text": "Choisissez",
              "reply_markup": buttons(("JPO", "topic:jpo")).to_json()},
    ).json()["result"]
    bot_process_factory(ECHO_BOT, name="echo")
    update = botapi_double.click_button(USER, "JPO")
    query_id = update["callback_query"]["id"]
    assert update["callback_query"]["message"]["message_id"] == sent["message_id"]
    answered = botapi_double.wait_for(lambda c: c.ok, method="answerCallbackQuery")
    assert answered.params["callback_query_id"] == query_id
    assert botapi_double.callback_answer(query_id)["text"] == "topic:jpo"


def test_rate_limiter_retries_after_429(botapi_double: BotApiDouble, bot_process_factory) -> None:
    bot_process_factory(RATE_LIMITED_BOT, name="ratelimited")
    botapi_double.inject("sendMessage", status=429, retry_after=1)
    botapi_double.push_text(USER, "réessaie")
    botapi_double.wait_for_text(USER, "^réessaie$")
    first, second = botapi_double.calls("sendMessage")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 1.0
    assert len(botapi_double.messages_to(USER)) == 1


def test_killed_bot_gets_unconfirmed_updates_after_restart(
    botapi_double: BotApiDouble, bot_process_factory
) -> None:
    process: BotProcess = bot_process_factory(ECHO_BOT, name="echo")
    process.kill()
    botapi_double.push_text(USER, "pendant la panne")
    process.restart()
    botapi_double.wait_for_text(USER, "^pendant la panne$")
    assert process.starts == 2 and "=== start #2" in process.stderr_text()


# --------------------------------------------------------------------- long polling


async def test_long_poll_returns_as_soon_as_an_update_is_pushed(
    botapi_double: BotApiDouble, bot: Bot
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()
    started = time.monotonic()
    botapi_double.push_command(USER, "/start", "jpo")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1
    message = updates[0].message
    assert message.text == "/start jpo"
    assert message.parse_entities(["bot_command"]) == {message.entities[0]: "/start"}
    # Confirming with offset forgets it; an empty poll honours the timeout.
    started = time.monotonic()
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0.3) == ()
    assert 0.25 < time.monotonic() - started < 2
    assert botapi_double.pending_updates() == []


async def test_get_updates_honours_limit_and_allowed_updates(
    botapi_double: BotApiDouble, bot: Bot
) -> None:
    for text in ("un", "deux", "trois"):
        botapi_double.push_text(USER, text)
    botapi_double.push_sticker(USER)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first] == ["un", "deux"]
    rest = await bot.get_updates(offset=first[-1].update_id + 1, allowed_updates=["callback_query"])
    assert rest == ()
    assert botapi_double.pending_updates() == []


async def test_second_poller_terminates_the_first_with_409(botapi_double: BotApiDouble) -> None:
    async with Bot(botapi_double.token, base_url=botapi_double.base_url) as first, \
            Bot(botapi_double.token, base_url=botapi_double.base_url) as second:
        old = asyncio.create_task(first.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        new = asyncio.create_task(second.get_updates(timeout=0.5))
        with pytest.raises(Conflict):
            await asyncio.wait_for(old, 2)
        await new
    assert botapi_double.conflicts == 1


# --------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "markup",
    ["<b>gras", "<div>bloc</div>", "Bac < 10", "R&D", "<b>x</i>", '<span class="x">y</span>',
     "&nbsp;"],
)
async def test_html_validation_rejects_bad_markup(bot: Bot, botapi_double: BotApiDouble, markup: str) -> None:
    botapi_double.register_user(USER)
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(USER, markup, parse_mode="HTML")
    assert botapi_double.messages_to(USER) == []


async def test_html_is_parsed_into_text_and_entities(bot: Bot, botapi_double: BotApiDouble) -> None:
    botapi_double.register_user(USER)
    html = ('<b>Date</b> : <i>12 mars</i> 🎓 <a href="https://example.fr/?a=1&amp;b=2">lien</a>'
            ' <span class="tg-spoiler">s</span> <pre><code class="language-python">x &lt; 1</code></pre>'
            " &#233;&quot;")
    message = await bot.send_message(USER, html, parse_mode="HTML")
    assert message.text == 'Date : 12 mars 🎓 lien s x < 1 é"'
    parsed = {e.type: message.parse_entity(e) for e in message.entities}
    assert parsed == {"bold": "Date", "italic": "12 mars", "text_link": "lien",
                      "spoiler": "s", "pre": "x < 1"}
    link = next(e for e in message.entities if e.type == "text_link")
    assert link.url == "https://example.fr/?a=1&b=2"
    assert next(e for e in message.entities if e.type == "pre").language == "python"


def test_parse_html_offsets_are_utf16() -> None:
    text, entities = parse_html("🎓 <b>BTS</b>")
    assert text == "🎓 BTS" and entities == [{"type": "bold", "offset": 3, "length": 3}]


async def test_message_length_limits(bot: Bot, botapi_double: BotApiDouble) -> None:
    botapi_double.register_user(USER)
    await bot.send_message(USER, "x" * 4096)
    await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER, "x" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode="HTML")


async def test_callback_data_over_64_bytes_is_refused(bot: Bot, botapi_double: BotApiDouble) -> None:
    botapi_double.register_user(USER)
    await bot.send_message(USER, "ok", reply_markup=buttons(("a", "é" * 32)))
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "trop", reply_markup=buttons(("a", "é" * 32 + "x")))


async def test_unknown_chats_and_users_who_never_started(bot: Bot, botapi_double: BotApiDouble) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "allô ?")
    botapi_double.register_user(777, "Staff", started=False)
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(777, "allô ?")


async def test_edits_follow_telegram_rules(bot: Bot, botapi_double: BotApiDouble) -> None:
    botapi_double.register_user(USER)
    sent = await bot.send_message(USER, "Question ?", reply_markup=buttons(("Oui", "y"), ("Non", "n")))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Question ?", USER, sent.message_id, reply_markup=sent.reply_markup)
    edited = await bot.edit_message_text("Merci !", USER, sent.message_id)
    assert edited.reply_markup is None and edited.edit_date is not None
    assert [m["text"] for m in botapi_double.messages_to(USER)] == ["Merci !"]
    with pytest.raises(AssertionError, match="no button"):
        botapi_double.push_callback(USER, "y", sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_reply_markup(USER, 9999, reply_markup=buttons(("a", "b")))


async def test_reply_keyboards_contacts_and_replies(bot: Bot, botapi_double: BotApiDouble) -> None:
    asked = botapi_double.push_text(USER, "je veux être rappelé")["message"]
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("Partager mon numéro", request_contact=True)]],
                                   one_time_keyboard=True)
    prompt = await bot.send_message(USER, "Votre numéro ?", reply_markup=keyboard,
                                    reply_to_message_id=asked["message_id"])
    assert prompt.reply_to_message.text == "je veux être rappelé"
    assert prompt.reply_markup is None  # Telegram only echoes inline keyboards
    assert botapi_double.current_keyboard(USER)["keyboard"][0][0]["request_contact"] is True
    contact = botapi_double.push_contact(USER, "+33612345678")["message"]["contact"]
    assert contact["user_id"] == USER and botapi_double.current_keyboard(USER) is None
    await bot.send_message(USER, "Merci", reply_markup=ReplyKeyboardRemove())
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(USER, "x", reply_to_message_id=12345)
    call = botapi_double.calls("sendMessage")[0]
    assert call.params["reply_markup"]["keyboard"][0][0]["text"] == "Partager mon numéro"
    assert call.params["reply_parameters"] == {"message_id": asked["message_id"]}


async def test_staff_forum_topics_and_replies(bot: Bot, botapi_double: BotApiDouble) -> None:
    staff = -1001234567890
    botapi_double.register_group(staff, "Admissions", is_forum=True,
                                 members=[{"id": 501, "first_name": "Claire"}])
    topic = await bot.create_forum_topic(staff, "Camille D. — JPO")
    question = await bot.send_message(staff, "Nouvelle question", message_thread_id=topic.message_thread_id)
    assert question.is_topic_message and question.reply_to_message.forum_topic_created.name == topic.name
    plain = botapi_double.push_text(501, "On s'en occupe", chat_id=staff,
                                    message_thread_id=topic.message_thread_id)["message"]
    assert plain["reply_to_message"]["forum_topic_created"]["name"] == topic.name  # Telegram quirk
    reply = botapi_double.push_text(501, "Oui, le 12 mars", chat_id=staff,
                                    reply_to_message_id=question.message_id)["message"]
    assert reply["reply_to_message"]["text"] == "Nouvelle question"
    assert reply["message_thread_id"] == topic.message_thread_id
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(staff, "x", message_thread_id=999)
    assert [m["text"] for m in botapi_double.messages_to(staff, thread_id=topic.message_thread_id)] \
        == ["Nouvelle question"]


async def test_commands_documents_chat_actions_and_unknown_methods(
    bot: Bot, botapi_double: BotApiDouble
) -> None:
    botapi_double.register_user(USER)
    scope = BotCommandScopeChat(USER)
    await bot.set_my_commands([BotCommand("start", "Commencer"), BotCommand("aide", "Aide")], scope=scope)
    assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["start", "aide"]
    assert botapi_double.commands({"type": "chat", "chat_id": USER})[1]["description"] == "Aide"
    await bot.delete_my_commands(scope=scope)
    assert await bot.get_my_commands(scope=scope) == ()
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start", "majuscule")])
    payload = "nom;téléphone\nCamille;0612345678\n".encode()
    await bot.send_document(USER, document=payload, filename="export.csv", caption="Export")
    message, upload = botapi_double.documents_to(USER)[0]
    assert (upload.filename, upload.data, message["caption"]) == ("export.csv", payload, "Export")
    assert await bot.send_chat_action(USER, "typing") is True
    assert (await bot.get_chat(USER)).first_name == f"User{USER}"
    with pytest.raises(InvalidToken):  # PTB maps Telegram's 404 to InvalidToken
        await bot._post("sendTeleportation", {"chat_id": USER})
    assert botapi_double.last_call("sendTeleportation").status == 404
    assert await bot.close() is True


# --------------------------------------------------------------------- faults


async def test_injected_faults_look_like_telegram(bot: Bot, botapi_double: BotApiDouble) -> None:
    botapi_double.register_user(USER)
    botapi_double.inject("sendMessage", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(USER, "a")
    botapi_double.inject("sendMessage", status=403, chat_id=USER)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(USER, "b")
    botapi_double.inject("sendMessage", hang=True)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "c", read_timeout=0.3)
    botapi_double.inject("sendMessage", delay=0.3)
    started = time.monotonic()
    await bot.send_message(USER, "d")
    assert time.monotonic() - started >= 0.3
    # A hung request still took effect by default (the classic duplicate-send trap).
    assert [m["text"] for m in botapi_double.messages_to(USER)] == ["c", "d"]


async def test_blocked_users_and_unreachable_staff_chat(bot: Bot, botapi_double: BotApiDouble) -> None:
    botapi_double.register_user(USER)
    botapi_double.block_user(USER)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_chat_action(USER, "typing")
    botapi_double.unblock_user(USER)
    staff = -100777
    botapi_double.register_group(staff, "Staff")
    botapi_double.fail_chat(staff, until=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(staff, "relais")
    await bot.send_message(staff, "relais")
    reachable = asyncio.Event()
    botapi_double.fail_chat(staff, status=403, until=reachable.is_set,
                            description="Forbidden: bot was kicked from the supergroup chat")
    with pytest.raises(Forbidden, match="kicked"):
        await bot.send_message(staff, "relais")
    reachable.set()
    await bot.send_message(staff, "relais")
    assert len(botapi_double.messages_to(staff)) == 2


async def test_hundreds_of_concurrent_requests(bot: Bot, botapi_double: BotApiDouble) -> None:
    users = range(1000, 1300)
    for user in users:
        botapi_double.register_user(user)
    started = time.monotonic()
    sent = await asyncio.gather(*(bot.send_message(user, f"hello {user}") for user in users))
    assert time.monotonic() - started < 10
    assert {m.chat_id for m in sent} == set(users)
    found = await asyncio.gather(*(botapi_double.wait_for_text_async(u, f"^hello {u}$", timeout=2)
                                   for u in users))
    assert len(found) == len(users)


def test_wait_for_text_failure_shows_recent_messages(botapi_double: BotApiDouble) -> None:
    botapi_double.push_text(USER, "bonjour")
    with pytest.raises(AssertionError, match="(?s)timed out.*'bonjour'"):
        botapi_double.wait_for_text(USER, "réponse", timeout=0.1)
