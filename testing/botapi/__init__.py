"""A local stand-in for the Telegram Bot API, for end-to-end tests and load benchmarks.

Why: unit tests with mocked ``Bot`` objects never exercise what breaks in production —
PTB's request encoding, long polling, retries on 429, HTML that Telegram refuses,
"message is not modified", a staff group that cannot be reached.  This module runs a
small HTTP server on 127.0.0.1 that answers the Bot API methods the admissions bot
uses, in the Bot API's own JSON shape, so an unmodified python-telegram-bot
``Application`` (``run_polling``) can talk to it through
``base_url=double.base_url`` (``http://127.0.0.1:<port>/bot``).

The server is a minimal HTTP/1.1 keep-alive server on a stdlib asyncio loop running in
its own background thread, so the double works the same from synchronous pytest tests
and from asyncio benchmarks, and hundreds of open connections cost no threads (a
thread-per-connection ``ThreadingHTTPServer`` collapsed under the GIL at ~250
connections).  Shared state sits behind one re-entrant lock that is only held for
dictionary work, never while waiting or doing I/O.  Only the stdlib is used.

What it deliberately checks (like Telegram, so bugs show up in tests rather than in
production): HTML ``parse_mode`` markup (stricter than Telegram: a bare ``&`` is
refused, escape user text), text length, empty text, ``callback_data`` size, unknown
chats, users that never started the bot, replies to missing messages, edits that change
nothing, forum topics that do not exist, a second concurrent ``getUpdates`` (409).

Test-side helpers push updates (``push_text``, ``push_command``, ``push_callback`` ...),
inspect what the bot did (``calls``, ``messages_to``, ``wait_for_text`` ...) and inject
faults (``inject``, ``block_user``, ``fail_chat``).

The parts, one concern each: ``records`` (calls, faults, Telegram's limits), ``markup``
(HTML and keyboards as Telegram checks them), ``http`` (the HTTP/1.1 plumbing),
``server`` (lifecycle and dispatch), ``state`` (users, chats, messages), ``methods``
(the Bot API methods), ``updates`` (what a test pushes), ``inspection`` (what a test
reads back and waits for), ``faults`` (what a test breaks); ``double`` assembles them.
"""
from testing.botapi.double import BotApiDouble
from testing.botapi.markup import EntityParseError, parse_html
from testing.botapi.records import (
    DEFAULT_TOKEN,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    ApiError,
    Call,
    Fault,
    UploadedFile,
)

__all__ = [
    "ApiError",
    "BotApiDouble",
    "Call",
    "DEFAULT_TOKEN",
    "EntityParseError",
    "Fault",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_TEXT_LENGTH",
    "UploadedFile",
    "parse_html",
]
