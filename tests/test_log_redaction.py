"""No personal data in tracebacks: frames and exception types stay, exception messages do not.

The formatter is tested on a chain of exceptions whose messages quote a fake email
and phone number; the real configuration through ``run_bot.py``, once in a short
process that crashes and once in the running bot, where Telegram answers "Bad
Request" quoting the prospect's text and the error handler logs the traceback.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys

from bot.logs import LOG_FORMAT, MARKER, RedactingFormatter
from testing.process import PROJECT_ROOT

EMAIL, PHONE = "zoe.dupont@example.com", "06 12 34 56 78"
PROSPECT = 6161


def parse_phone(text: str) -> str:
    raise ValueError(f"not a phone number: {text}")


def register(email: str, phone: str) -> None:
    try:
        try:
            parse_phone(phone)
        except ValueError:
            {}[email]  # a KeyError while handling the ValueError: its context
    except KeyError as exc:
        raise RuntimeError(f"registration of {email} failed") from exc


def failed_record() -> logging.LogRecord:
    """A record as ``log.exception`` makes it, for a chain of three exceptions quoting personal data."""
    try:
        register(EMAIL, PHONE)
    except RuntimeError:
        return logging.getLogger("bot.test").makeRecord(
            "bot.test", logging.ERROR, __file__, 1, "handling an update failed", (), sys.exc_info())
    raise AssertionError("register() did not fail")


def test_a_traceback_keeps_frames_and_types_but_no_message() -> None:
    text = RedactingFormatter(LOG_FORMAT).format(failed_record())
    assert EMAIL not in text and PHONE not in text and "dupont" not in text
    assert "handling an update failed" in text
    for kept in ("Traceback (most recent call last):", "in register", "in parse_phone", "parse_phone(phone)",
                 f"ValueError: {MARKER}", f"KeyError: {MARKER}", f"RuntimeError: {MARKER}",
                 "During handling of the above exception", "The above exception was the direct cause"):
        assert kept in text, kept
    assert text.index("ValueError") < text.index("KeyError") < text.index("RuntimeError"), "Python's order"


def test_groups_notes_and_qualified_types_are_redacted_too() -> None:
    class PhoneError(ValueError):
        pass

    inner = PhoneError(PHONE)
    inner.add_note(f"typed by {EMAIL}")
    try:
        raise ExceptionGroup(f"two errors for {EMAIL}", [inner, KeyError(EMAIL)])
    except ExceptionGroup:
        record = logging.getLogger("t").makeRecord("t", logging.ERROR, __file__, 1, "x", (), sys.exc_info())
    text = RedactingFormatter(LOG_FORMAT).format(record)
    assert EMAIL not in text and PHONE not in text
    assert f"ExceptionGroup: {MARKER}" in text and f"KeyError: {MARKER}" in text
    assert f"PhoneError: {MARKER}" in text and "test_log_redaction" in text


def test_a_traceback_cached_by_another_formatter_is_not_reused() -> None:
    record = failed_record()
    assert EMAIL in logging.Formatter(LOG_FORMAT).format(record), "a plain formatter caches the full text"
    assert EMAIL not in RedactingFormatter(LOG_FORMAT).format(record)
    assert EMAIL in logging.Formatter(LOG_FORMAT).format(record), "and keeps its own cache"


def test_lines_without_an_exception_are_unchanged() -> None:
    record = logging.getLogger("updates").makeRecord(
        "updates", logging.INFO, __file__, 1, "update %s kind=%s chat=%s user=%s",
        (500000001, "text", "private", "ed16509134"), None)
    assert RedactingFormatter(LOG_FORMAT).format(record) == logging.Formatter(LOG_FORMAT).format(record)
    assert RedactingFormatter(LOG_FORMAT).format(record).endswith(
        "INFO updates: update 500000001 kind=text chat=private user=ed16509134")


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})


def test_a_librarys_lines_keep_their_wording_but_hide_content_and_tokens() -> None:
    """python-telegram-bot logs a batch it cannot parse at CRITICAL, and every request at DEBUG."""
    formatter = RedactingFormatter(LOG_FORMAT)
    batch = [{"update_id": 5, "message": {"from": {"first_name": "Zoé"}, "text": f"mon numéro {PHONE}"}}]
    lines = [formatter.format(logging.getLogger("telegram.Bot").makeRecord(
        "telegram.Bot", level, __file__, 1, msg, args, None)) for level, msg, args in [
        (logging.CRITICAL, "Error while parsing updates! Received data was %r", (batch,)),
        (logging.DEBUG, "Calling Bot API endpoint `%s` with parameters `%s`", ("sendMessage", {"text": EMAIL})),
        (logging.DEBUG, "Set Bot API URL: %s", ("https://api.telegram.org/bot123456789:AAE-x_abcdefghijklmnopqrstuvwxyz",)),
        (logging.INFO, "Rate limit hit. Retrying after %f seconds", (1.5,)),
    ]]
    text = "\n".join(lines)
    for secret in ("Zoé", PHONE, EMAIL, "AAE-x_abcdefghijklmnopqrstuvwxyz"):
        assert secret not in text
    assert "Error while parsing updates! Received data was '[hidden]'" in lines[0]
    assert "Calling Bot API endpoint `sendMessage` with parameters `[hidden]`" in lines[1]
    assert "Retrying after 1.500000 seconds" in lines[3]
    own = formatter.format(logging.getLogger("bot.x").makeRecord(
        "bot.x", logging.INFO, __file__, 1, "url %s", ("https://x/bot123456789:AAE-x_abcdefghijklmnopqrstuvwxyz/getMe",), None))
    assert own.endswith("url https://x/bot[token]/getMe")  # the bot's own lines: as written, token excepted


def test_configure_logging_redacts_logged_and_uncaught_exceptions() -> None:
    result = run_python(
        "import logging\n"
        "from bot.logs import configure_logging\n"
        "configure_logging('INFO')\n"
        "try:\n"
        f"    raise ValueError('contact: {EMAIL}')\n"
        "except ValueError:\n"
        "    logging.getLogger('bot.x').exception('caught')\n"
        f"raise LookupError('no lead for {PHONE}')\n")
    assert result.returncode == 1
    assert EMAIL not in result.stderr and PHONE not in result.stderr, result.stderr
    assert "ERROR bot.x: caught" in result.stderr and f"ValueError: {MARKER}" in result.stderr
    assert "CRITICAL bot: uncaught exception" in result.stderr and f"LookupError: {MARKER}" in result.stderr
    assert 'File "<string>", line 8, in <module>' in result.stderr, "the frames stay"


def test_configure_logging_leaves_a_configured_root_alone() -> None:
    result = run_python(
        "import io, logging, sys\n"
        "from bot.logs import configure_logging\n"
        "logging.basicConfig(stream=io.StringIO())\n"
        "configure_logging('INFO', io.StringIO())\n"
        "print(len(logging.getLogger().handlers), logging.getLogger('httpx').level,\n"
        "      sys.excepthook is sys.__excepthook__)\n")
    assert result.stdout.split() == ["1", str(logging.WARNING), "True"], result.stderr


def test_the_running_bot_logs_a_bad_request_without_the_text_it_quotes(botapi_double, bot_process_factory) -> None:
    double = botapi_double
    bot = bot_process_factory()
    double.inject("sendMessage", chat_id=PROSPECT, status=400,
                  description=f"Bad Request: can't parse entities in « mon mail {EMAIL}, tel {PHONE} »")
    update = double.push_text(PROSPECT, f"mon mail {EMAIL}, tel {PHONE}", first_name="Zoé")
    double.wait_until(lambda: "telegram.error.BadRequest:" in bot.stderr_text(), 15, "the error's traceback")
    logs = bot.stderr_text()
    assert EMAIL not in logs and PHONE not in logs and "parse entities" not in logs, bot.log_tail()
    assert "ERROR handlers.app: error while handling an update: BadRequest" in logs
    assert f"telegram.error.BadRequest: {MARKER}" in logs
    assert "Traceback (most recent call last):" in logs and "in send_replies" in logs, "the frames stay"
    assert f"update {update['update_id']} kind=text chat=private user=" in logs, "the line per update is unchanged"

