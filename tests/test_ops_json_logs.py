"""``LOG_FORMAT=json``: one JSON object per line, redacted exactly like the text format.

Checked on the formatter with a chain of exceptions quoting personal data, and on
the running bot, whose every stderr line must then parse as JSON.
"""
from __future__ import annotations

import json
import logging

from bot.logs import MARKER, JsonFormatter

from test_log_redaction import EMAIL, PHONE, PROSPECT, failed_record


def test_a_record_becomes_one_json_line_with_a_redacted_traceback() -> None:
    line = JsonFormatter().format(failed_record())
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "bot.test"
    assert entry["message"] == "handling an update failed"
    assert entry["time"].endswith("+00:00")
    assert EMAIL not in line and PHONE not in line
    for kept in (f"ValueError: {MARKER}", f"KeyError: {MARKER}", f"RuntimeError: {MARKER}", "in parse_phone"):
        assert kept in entry["traceback"], kept


def test_arguments_are_merged_and_lines_without_exception_have_no_traceback() -> None:
    record = logging.getLogger("updates").makeRecord(
        "updates", logging.INFO, __file__, 1, "update %s kind=%s", (500000001, "text"), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "update 500000001 kind=text" and "traceback" not in entry


def test_the_running_bot_writes_only_json_lines_without_personal_data(botapi_double, bot_process_factory) -> None:
    double = botapi_double
    bot = bot_process_factory(LOG_FORMAT="json")
    double.inject("sendMessage", chat_id=PROSPECT, status=400,
                  description=f"Bad Request: can't parse entities in « mon mail {EMAIL}, tel {PHONE} »")
    update = double.push_text(PROSPECT, f"mon mail {EMAIL}, tel {PHONE}", first_name="Zoé")
    double.wait_until(lambda: "telegram.error.BadRequest:" in bot.stderr_text(), 15, "the error's traceback")
    bot.stop()
    lines = [line for line in bot.stderr_text().splitlines() if not line.startswith("=== start")]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    text = bot.stderr_text()
    assert EMAIL not in text and PHONE not in text and "parse entities" not in text
    errors = [e for e in entries if e["level"] == "ERROR" and e["logger"] == "handlers.app"]
    assert errors and f"telegram.error.BadRequest: {MARKER}" in errors[0]["traceback"]
    assert any(e["message"].startswith(f"update {update['update_id']} kind=text chat=private user=")
               for e in entries)
