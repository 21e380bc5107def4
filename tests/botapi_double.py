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
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

__all__ = [
    "ApiError",
    "BotApiDouble",
    "Call",
    "EntityParseError",
    "Fault",
    "UploadedFile",
    "parse_html",
]

DEFAULT_TOKEN = "123456789:TEST-double-token_abcdefghijklmnopqrs"
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
DEFAULT_TOPIC_COLOR = 7322096

# Update types delivered when allowed_updates was never set (or set to []).
_DEFAULT_ALLOWED = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "inline_query", "chosen_inline_result",
        "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media",
        "poll", "poll_answer", "my_chat_member", "chat_join_request", "chat_boost",
        "removed_chat_boost",
    }
)

# Form fields that are always strings: never JSON-decode them (a text "42" stays "42").
_STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "name",
        "title", "description", "short_description", "url", "query", "emoji", "action",
        "language_code", "message_effect_id", "business_connection_id",
        "icon_custom_emoji_id", "secret_token", "first_name", "last_name", "phone_number",
        "vcard", "address", "question", "explanation", "document", "photo", "sticker",
        "voice", "video", "audio", "animation", "custom_title", "invite_link",
        "start_parameter", "payload", "currency", "provider_token", "file_id",
    }
)

_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)

_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")

_NGINX_BODIES = {
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
}

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """A Bot API error answer: HTTP ``status`` plus ``description`` (and ``parameters``)."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad_request(description: str) -> ApiError:
    """Build a 400 error; ``description`` is the part after ``Bad Request: ``."""
    return ApiError(400, f"Bad Request: {description}")


class EntityParseError(ValueError):
    """Raised by :func:`parse_html` for markup Telegram would refuse."""


# --------------------------------------------------------------------------- HTML


_ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "a": "text_link", "code": "code", "pre": "pre",
    "tg-spoiler": "spoiler", "span": "spoiler", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR_RE = re.compile(r"\s*([A-Za-z][A-Za-z0-9_-]*)\s*(?:=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]*);")
_PLAIN_RUN_RE = re.compile(r"[^<&]+")


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of ``text[index]``, as in Telegram's error messages."""
    return len(text[:index].encode("utf-8"))


def _decode_entity(match: re.Match[str], text: str) -> str:
    """Decode one ``&...;`` entity or raise :class:`EntityParseError`."""
    body = match.group(1)
    if body.startswith("#"):
        code = int(body[2:], 16) if body[1:2] in ("x", "X") else int(body[1:])
        if 0 < code <= 0x10FFFF:
            return chr(code)
    elif body in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[body]
    raise EntityParseError(
        f'Unsupported HTML entity "&{body};" at byte offset {_byte_offset(text, match.start())}'
    )


def _unescape_attr(value: str, text: str) -> str:
    """Strip quotes from an attribute value and decode its entities."""
    if value[:1] in ("'", '"'):
        value = value[1:-1]
    return _HTML_ENTITY_RE.sub(lambda m: _decode_entity(m, text), value)


@dataclass
class _OpenTag:
    name: str
    start: int  # UTF-16 offset in the output text
    attrs: dict[str, str]


def _parse_start_tag(text: str, pos: int) -> tuple[str, dict[str, str], int]:
    """Parse ``<name attr=...>`` starting at ``text[pos] == '<'``; return name, attrs, end."""
    name_match = _TAG_NAME_RE.match(text, pos + 1)
    if not name_match:
        raise EntityParseError(
            f'Unexpected "<" at byte offset {_byte_offset(text, pos)}: '
            'escape it as "&lt;" (html.escape)'
        )
    name = name_match.group().lower()
    if name not in _ENTITY_TYPES:
        raise EntityParseError(
            f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, pos)}'
        )
    attrs: dict[str, str] = {}
    cursor = name_match.end()
    while True:
        while cursor < len(text) and text[cursor].isspace():
            cursor += 1
        if cursor >= len(text):
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, pos)}")
        if text[cursor] == ">":
            return name, attrs, cursor + 1
        attr = _ATTR_RE.match(text, cursor)
        if not attr or attr.end() == cursor:
            raise EntityParseError(
                f'Unexpected character "{text[cursor]}" in tag "{name}" '
                f"at byte offset {_byte_offset(text, cursor)}"
            )
        attrs[attr.group(1).lower()] = _unescape_attr(attr.group(2) or "", text)
        cursor = attr.end()


def _check_tag_attrs(name: str, attrs: dict[str, str], text: str, pos: int) -> None:
    """Refuse attribute combinations Telegram refuses."""
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, pos)}'
        )
    if name == "tg-emoji" and "emoji-id" not in attrs:
        raise EntityParseError(
            f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset '
            f"{_byte_offset(text, pos)}"
        )


def _close_tag(
    tag: _OpenTag, stack: list[_OpenTag], end: int, entities: list[dict[str, Any]]
) -> None:
    """Turn a closed tag into an entity dict (dropping empty ones)."""
    if tag.name == "code" and stack and stack[-1].name == "pre":
        language = tag.attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1].attrs["language"] = language[len("language-") :]
            return
    length = end - tag.start
    if length <= 0 or (tag.name == "a" and "href" not in tag.attrs):
        return
    entity: dict[str, Any] = {"type": _ENTITY_TYPES[tag.name], "offset": tag.start, "length": length}
    if tag.name == "a":
        entity["url"] = tag.attrs["href"]
    elif tag.name == "pre" and tag.attrs.get("language"):
        entity["language"] = tag.attrs["language"]
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    entities.append(entity)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into ``(plain_text, entities)``.

    Raises :class:`EntityParseError` (message like Telegram's, after
    ``can't parse entities: ``) for unsupported tags, unbalanced tags, a bare ``<``
    and a ``&`` that does not start a supported entity.  Offsets are UTF-16 units.
    """
    out: list[str] = []
    out_len = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "&":
            match = _HTML_ENTITY_RE.match(text, pos)
            if not match:
                raise EntityParseError(
                    f'Unescaped "&" at byte offset {_byte_offset(text, pos)}: '
                    'escape it as "&amp;" (html.escape)'
                )
            decoded = _decode_entity(match, text)
            out.append(decoded)
            out_len += _utf16_len(decoded)
            pos = match.end()
        elif char == "<" and text.startswith("</", pos):
            end = text.find(">", pos)
            if end < 0:
                raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(text, pos)}")
            name = text[pos + 2 : end].strip().lower()
            if not stack:
                raise EntityParseError(
                    f'Unexpected end tag "</{name}>" at byte offset {_byte_offset(text, pos)}'
                )
            tag = stack.pop()
            if tag.name != name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {_byte_offset(text, pos)}, '
                    f'expected "</{tag.name}>", found "</{name}>"'
                )
            _close_tag(tag, stack, out_len, entities)
            pos = end + 1
        elif char == "<":
            name, attrs, end = _parse_start_tag(text, pos)
            _check_tag_attrs(name, attrs, text, pos)
            stack.append(_OpenTag(name, out_len, attrs))
            pos = end
        else:
            run = _PLAIN_RUN_RE.match(text, pos)
            assert run is not None
            out.append(run.group())
            out_len += _utf16_len(run.group())
            pos = run.end()
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class UploadedFile:
    """A file received in a multipart request (e.g. ``sendDocument``)."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Call:
    """One recorded Bot API request and, once answered, its outcome.

    ``params`` are decoded: nested JSON values (reply_markup, reply_parameters, scope,
    ...) are Python objects, numbers are ints, text fields stay strings.
    """

    seq: int
    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    at: float
    status: int | None = None
    result: Any = None
    error: str | None = None
    done_at: float | None = None

    @property
    def ok(self) -> bool:
        """True when the call was answered with HTTP 200."""
        return self.status == 200

    @property
    def chat_id(self) -> int | str | None:
        """The ``chat_id`` parameter, if any."""
        return self.params.get("chat_id")

    @property
    def latency(self) -> float | None:
        """Seconds between the request's arrival and its answer."""
        return None if self.done_at is None else self.done_at - self.at


@dataclass
class Fault:
    """An injected failure rule; see :meth:`BotApiDouble.inject` and ``fail_chat``."""

    method: str  # lower-case method name or "*"
    status: int | None
    retry_after: int | None
    description: str | None
    remaining: int | None  # None = unlimited
    chat_id: int | None
    delay: float | None
    hang: bool
    applied: bool
    until: Callable[[], bool] | None = None
    hits: int = 0
    cancelled: bool = False

    def matches(self, method: str, chat_id: int | None) -> bool:
        """Whether this rule applies to a request (does not consume it)."""
        if self.cancelled or self.remaining == 0:
            return False
        if self.until is not None and self.until():
            return False
        if self.method == "*":
            if method == "getupdates":
                return False
        elif self.method != method:
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def cancel(self) -> None:
        """Stop applying this rule."""
        self.cancelled = True


@dataclass
class _Stored:
    """A message in the double's store plus bookkeeping the Bot API does not expose."""

    message: dict[str, Any]
    seq: int  # last change
    at: float  # monotonic time of last change
    deleted: bool = False


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    hang: bool = False
    delay: float | None = None


@dataclass
class _AsyncWaiter:
    chat_id: int | None
    check: Callable[[dict[str, Any], int], None]


def _strip_reply(message: dict[str, Any]) -> dict[str, Any]:
    """A message as embedded in ``reply_to_message`` (Telegram does not nest deeper)."""
    return {k: v for k, v in message.items() if k != "reply_to_message"}


def _coerce_chat_id(value: Any) -> int | str | None:
    """``chat_id`` may arrive as int, numeric string or ``@username``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value if isinstance(value, str) else None


def _decode_param(name: str, raw: str) -> Any:
    """Decode one form value the way PTB encoded it (JSON for non-strings)."""
    if name in _STRING_PARAMS or not raw:
        return raw
    if raw in ("true", "false", "null") or raw[0] in "{[-0123456789":
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """Minimal ``multipart/form-data`` parser (httpx's output is well-formed)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise _bad_request("multipart boundary missing")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = re.search(r'(?:^|;)\s*name="([^"]*)"', disposition)
        if not name:
            continue
        filename = re.search(r'(?:^|;)\s*filename="([^"]*)"', disposition)
        if filename is None:
            fields[name.group(1)] = data.decode("utf-8", "replace")
        else:
            files[name.group(1)] = UploadedFile(
                name.group(1), filename.group(1), headers.get("content-type"), data
            )
    return fields, files


def _json_response(status: int, payload: dict[str, Any]) -> _Response:
    return _Response(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def _error_response(status: int, description: str | None, retry_after: int | None) -> _Response:
    """An error in the Bot API's shape (or nginx's HTML page for 502/503/504)."""
    if status in _NGINX_BODIES and description is None:
        title = f"{status} {_NGINX_BODIES[status]}"
        html = (
            f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
            "</body>\r\n</html>\r\n"
        )
        return _Response(status, html.encode(), content_type="text/html")
    parameters = None
    if status == 429:
        retry_after = retry_after or 1
        description = description or f"Too Many Requests: retry after {retry_after}"
        parameters = {"retry_after": retry_after}
    payload: dict[str, Any] = {
        "ok": False,
        "error_code": status,
        "description": description or _DEFAULT_DESCRIPTIONS.get(status, "Error"),
    }
    if parameters:
        payload["parameters"] = parameters
    return _json_response(status, payload)


def _has_inline_keyboard(markup: Any) -> bool:
    return isinstance(markup, dict) and "inline_keyboard" in markup


def _inline_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


# --------------------------------------------------------------------------- HTTP

_HTTP_REASONS = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}
_MAX_BODY = 60 * 1024 * 1024

# The reader of the request being served, so a long poll can tell whether its client left.
_current_reader: contextvars.ContextVar[asyncio.StreamReader | None] = contextvars.ContextVar(
    "botapi_double_reader", default=None
)


@dataclass
class _Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def keep_alive(self) -> bool:
        return self.headers.get("connection", "").lower() != "close"


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    """Read one HTTP/1.1 request (Content-Length or chunked body); None at EOF."""
    line = await reader.readline()
    while line in (b"\r\n", b"\n"):
        line = await reader.readline()
    if not line:
        return None
    method, target, *_ = line.decode("latin-1").split(" ")
    headers: dict[str, str] = {}
    while True:
        header = await reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        key, _, value = header.decode("latin-1").partition(":")
        headers[key.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks = []
        while size := int((await reader.readline()).split(b";")[0].strip() or b"0", 16):
            chunks.append(await reader.readexactly(size))
            await reader.readline()
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
            pass
        body = b"".join(chunks)
    else:
        length = int(headers.get("content-length") or 0)
        if length > _MAX_BODY:
            raise ValueError("request body too large")
        body = await reader.readexactly(length) if length else b""
    path, _, query = target.partition("?")
    return _Request(method.upper(), path, query, headers, body)


def _encode_response(response: _Response, keep_alive: bool) -> bytes:
    """Status line, headers and body in one buffer (one write, no Nagle stall)."""
    head = (
        f"HTTP/1.1 {response.status} {_HTTP_REASONS.get(response.status, 'Error')}\r\n"
        "Server: botapi-double\r\n"
        f"Content-Type: {response.content_type}\r\n"
        f"Content-Length: {len(response.body)}\r\n"
        + ("" if keep_alive else "Connection: close\r\n")
        + "\r\n"
    )
    return head.encode("latin-1") + response.body


async def _wait_for_eof(reader: asyncio.StreamReader) -> None:
    """Hold a request unanswered until the client closes the connection."""
    while await reader.read(65536):
        pass


# --------------------------------------------------------------------------- double


class BotApiDouble:
    """In-process fake of the Telegram Bot API server (see module docstring).

    Typical use::

        double = BotApiDouble().start()
        # bot: Application.builder().token(double.token).base_url(double.base_url)
        double.push_command(42, "/start")
        double.wait_for_text(42, r"Bonjour")
        double.stop()
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "admissions_test_bot",
        bot_first_name: str = "Admissions (test)",
    ) -> None:
        self.token = token
        self.host = host
        self._port = port
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self._lock = threading.RLock()
        self._changed_cv = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._shutdown: asyncio.Event | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._poll_events: set[asyncio.Event] = set()
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._update_ids = itertools.count(500_000_001)
        self._callback_ids = itertools.count(4_444_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._calls: list[Call] = []
        self._pending: list[dict[str, Any]] = []
        self._confirmed_update_id = 0
        self._last_pushed_update_id = 0
        self._allowed_updates: frozenset[str] = _DEFAULT_ALLOWED
        self._poll_generation = 0
        self.conflicts = 0
        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._started: set[int] = set()
        self._members: dict[int, set[int]] = {}
        self._admins: dict[int, dict[int, bool]] = {}  # chat -> {user id: is_anonymous}
        self.left_chats: list[int] = []
        self._topics: dict[int, dict[int, dict[str, Any]]] = {}
        self._messages: dict[int, dict[int, _Stored]] = {}
        self._next_message_id: dict[int, int] = {}
        self._keyboards: dict[int, dict[str, Any] | None] = {}
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._files: dict[str, UploadedFile] = {}
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._blocked: set[int] = set()
        self._bot_rights: dict[int, dict[str, Any]] = {}  # the bot's own membership, per group
        self._faults: list[Fault] = []
        self._listeners: list[Callable[[str, Any], None]] = []
        self._async_waiters: dict[int | None, list[_AsyncWaiter]] = {}
        self._extra_methods: dict[str, Callable[[dict[str, Any], dict[str, UploadedFile]], Any]] = {}
        self._methods: dict[str, Callable[[dict[str, Any], dict[str, UploadedFile]], Any]] = {
            "getme": self._m_get_me,
            "getupdates": self._m_get_updates,
            "deletewebhook": self._m_delete_webhook,
            "getwebhookinfo": self._m_get_webhook_info,
            "sendmessage": self._m_send_message,
            "editmessagetext": self._m_edit_message_text,
            "editmessagereplymarkup": self._m_edit_message_reply_markup,
            "deletemessage": self._m_delete_message,
            "answercallbackquery": self._m_answer_callback_query,
            "sendchataction": self._m_send_chat_action,
            "setmycommands": self._m_set_my_commands,
            "deletemycommands": self._m_delete_my_commands,
            "getmycommands": self._m_get_my_commands,
            "senddocument": self._m_send_document,
            "forwardmessage": self._m_forward_message,
            "copymessage": self._m_copy_message,
            "createforumtopic": self._m_create_forum_topic,
            "getchat": self._m_get_chat,
            "getchatmember": self._m_get_chat_member,
            "getchatadministrators": self._m_get_chat_administrators,
            "leavechat": self._m_leave_chat,
            "close": lambda params, files: True,
            "logout": lambda params, files: True,
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        """The TCP port (known after :meth:`start`)."""
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self.host}:{self._port}"

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url`` / ``TELEGRAM_BASE_URL`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``base_file_url`` (file downloads are not served)."""
        return f"{self.url}/file/bot"

    def start(self) -> BotApiDouble:
        """Bind (a random free port the first time, the same port on restart) and serve
        from an asyncio loop in a background thread."""
        if self._thread is not None:
            return self
        self._stopping.clear()
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run_loop, args=(ready, failure), name="botapi-double", daemon=True
        )
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread.join(5)
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop serving: connections are closed, long polls and hung requests released.

        State (messages, calls, queued updates) is kept, so ``stop(); start()`` simulates
        an API outage on the same port.
        """
        thread, loop, shutdown = self._thread, self._loop, self._shutdown
        if thread is None or loop is None or shutdown is None:
            return
        self._stopping.set()
        with contextlib.suppress(RuntimeError):  # loop already closed
            loop.call_soon_threadsafe(shutdown.set)
        thread.join(timeout=10)
        self._thread = self._loop = self._shutdown = None

    def _run_loop(self, ready: threading.Event, failure: list[BaseException]) -> None:
        try:
            asyncio.run(self._main(ready))
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            failure.append(exc)
            ready.set()

    async def _main(self, ready: threading.Event) -> None:
        """Server coroutine: accept connections until stop()."""
        self._loop = asyncio.get_running_loop()
        self._shutdown = asyncio.Event()
        server = await asyncio.start_server(
            self._handle_connection, self.host, self._port, backlog=2048, reuse_address=True
        )
        self._port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await self._shutdown.wait()
            server.close()
            self._wake_pollers()
            for writer in list(self._connections):
                writer.close()
            await asyncio.sleep(0)

    async def _handle_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve keep-alive requests on one connection until it closes."""
        self._connections.add(writer)
        _current_reader.set(reader)
        try:
            while not self._stopping.is_set():
                request = await _read_request(reader)
                if request is None:
                    break
                response = await self._serve(
                    request.path, request.query, request.headers.get("content-type", ""),
                    request.body,
                )
                if response.hang:
                    await _wait_for_eof(reader)
                    break
                if response.delay:
                    await asyncio.sleep(response.delay)
                writer.write(_encode_response(response, request.keep_alive))
                await writer.drain()
                if not request.keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()

    def _wake_pollers(self) -> None:
        """Wake every waiting getUpdates (call on the loop thread)."""
        for event in list(self._poll_events):
            event.set()

    def _wake_pollers_threadsafe(self) -> None:
        loop = self._loop
        if loop is not None and self._poll_events:
            with contextlib.suppress(RuntimeError):  # loop closing
                loop.call_soon_threadsafe(self._wake_pollers)

    def __enter__(self) -> BotApiDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def register_method(
        self, name: str, handler: Callable[[dict[str, Any], dict[str, UploadedFile]], Any]
    ) -> None:
        """Serve an extra method: ``handler(params, files)`` returns the ``result``
        or raises :class:`ApiError`."""
        self._extra_methods[name.lower()] = handler

    # ------------------------------------------------------------------ serving

    async def _serve(self, path: str, query: str, content_type: str, body: bytes) -> _Response:
        """Handle one HTTP request (on the server loop)."""
        parts = path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot"):
            return _error_response(404, "Not Found", None)
        token, method_name = parts[0][3:], parts[1]
        try:
            params, files = self._decode_request(query, content_type, body)
        except ApiError as exc:
            params, files = {"_raw": body[:2000].decode("utf-8", "replace")}, {}
            call = self._record_call(method_name, params, files)
            return self._finish(call, error=exc)
        call = self._record_call(method_name, params, files)
        if token != self.token:
            return self._finish(call, error=ApiError(401, "Unauthorized"))
        key = method_name.lower()
        chat_id = _coerce_chat_id(params.get("chat_id"))
        fault = self._take_fault(key, chat_id if isinstance(chat_id, int) else None)
        if fault is not None and not fault.applied:
            if fault.hang:
                self._finish(call, status=0, error="hang (no answer)")
                return _Response(0, b"", hang=True)
            response = self._fault_response(call, fault)
            response.delay = fault.delay
            return response
        response = await self._execute(call, key, params, files, chat_id)
        if fault is not None:
            if fault.hang:
                with self._lock:
                    call.error = "hang (applied, no answer)"
                return _Response(0, b"", hang=True)
            if fault.status is not None:
                response = self._fault_response(call, fault)
            response.delay = fault.delay
        return response

    def _decode_request(
        self, query: str, content_type: str, body: bytes
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        """Decode query string + body (urlencoded, multipart or JSON) into params/files."""
        raw: dict[str, str] = dict(parse_qsl(query, keep_blank_values=True))
        files: dict[str, UploadedFile] = {}
        ctype = content_type.lower()
        if ctype.startswith("multipart/form-data"):
            fields, files = _parse_multipart(body, content_type)
            raw.update(fields)
        elif ctype.startswith("application/json") and body:
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                raise _bad_request("invalid JSON body") from exc
            params = {k: _decode_param(k, v) if isinstance(v, str) else v for k, v in raw.items()}
            params.update(decoded)
            return params, files
        elif body:
            raw.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return {k: _decode_param(k, v) for k, v in raw.items()}, files

    async def _execute(
        self,
        call: Call,
        key: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile],
        chat_id: int | str | None,
    ) -> _Response:
        """Run the method implementation and finish the call record."""
        handler = self._extra_methods.get(key) or self._methods.get(key)
        if handler is None:
            return self._finish(call, error=ApiError(404, "Not Found"))
        try:
            if isinstance(chat_id, int) and chat_id in self._blocked and key != "getchat":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if handler == self._m_get_updates:
                result = await self._m_get_updates(params, files)
            else:
                result = handler(params, files)
        except ApiError as exc:
            return self._finish(call, error=exc)
        except Exception as exc:  # noqa: BLE001 - a bug in the double or a custom method
            return self._finish(call, error=ApiError(500, f"Internal Server Error: {exc!r}"))
        return self._finish(call, result=result)

    def _record_call(self, method: str, params: dict[str, Any], files: dict[str, UploadedFile]) -> Call:
        with self._lock:
            call = Call(self._next_seq(), method, params, files, time.monotonic())
            self._calls.append(call)
        return call

    def _finish(
        self,
        call: Call,
        *,
        result: Any = None,
        error: ApiError | str | None = None,
        status: int | None = None,
    ) -> _Response:
        """Store the outcome of ``call``, wake waiters and build the HTTP answer."""
        if isinstance(error, ApiError):
            response = _error_response(error.status, error.description, None)
            if error.parameters:
                payload = json.loads(response.body)
                payload["parameters"] = error.parameters
                response = _json_response(error.status, payload)
            status, description = error.status, error.description
        elif error is not None:
            response, description = _Response(0, b""), error
        else:
            response = _json_response(200, {"ok": True, "result": result})
            status, description = 200, None
        with self._lock:
            call.status, call.result, call.error = status, result, description
            call.done_at = time.monotonic()
            self._changed_cv.notify_all()
        self._emit("call", call)
        return response

    def _fault_response(self, call: Call, fault: Fault) -> _Response:
        status = fault.status or 500
        response = _error_response(status, fault.description, fault.retry_after)
        description = fault.description or (
            f"Too Many Requests: retry after {fault.retry_after or 1}"
            if status == 429
            else _DEFAULT_DESCRIPTIONS.get(status, _NGINX_BODIES.get(status, "Error"))
        )
        with self._lock:
            call.status, call.error, call.done_at = status, description, time.monotonic()
            self._changed_cv.notify_all()
        self._emit("call", call)
        return response

    def _take_fault(self, method: str, chat_id: int | None) -> Fault | None:
        """Find and consume the first matching fault rule."""
        if not self._faults:
            return None
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, chat_id):
                    fault.hits += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None

    def _next_seq(self) -> int:
        self._last_seq = next(self._seq)
        return self._last_seq

    def _emit(self, kind: str, payload: Any) -> None:
        """Notify listeners (outside the lock)."""
        for listener in list(self._listeners):
            listener(kind, payload)

    # ------------------------------------------------------------------ chats & users

    def register_user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        *,
        username: str | None = None,
        language_code: str | None = "fr",
        started: bool = True,
    ) -> dict[str, Any]:
        """Declare a user; ``started=True`` also opens the private chat with the bot
        (otherwise sending to them gets 403 "bot can't initiate conversation")."""
        with self._lock:
            user = dict(self._users.get(user_id) or {"id": user_id, "is_bot": False})
            user["first_name"] = first_name or user.get("first_name") or f"User{user_id}"
            for key, value in (("last_name", last_name), ("username", username),
                               ("language_code", language_code)):
                if value is not None:
                    user[key] = value
            self._users[user_id] = user
            if started:
                self._open_private_chat(user)
            return dict(user)

    def _open_private_chat(self, user: dict[str, Any]) -> dict[str, Any]:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        self._chats[user["id"]] = chat
        self._started.add(user["id"])
        return chat

    def register_group(
        self,
        chat_id: int,
        title: str = "Équipe admissions",
        *,
        chat_type: str = "supergroup",
        is_forum: bool = False,
        members: Iterable[int | dict[str, Any]] = (),
        username: str | None = None,
    ) -> dict[str, Any]:
        """Declare a group/supergroup (optionally a forum) the bot is in, with members."""
        if chat_type not in ("group", "supergroup", "channel"):
            raise ValueError(f"chat_type must be group/supergroup/channel, not {chat_type!r}")
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type, "title": title}
        if is_forum:
            chat["is_forum"] = True
        if username:
            chat["username"] = username
        with self._lock:
            self._chats[chat_id] = chat
            self._members.setdefault(chat_id, set())
            if is_forum:
                self._topics.setdefault(chat_id, {})
        for member in members:
            self.add_member(chat_id, member)
        return dict(chat)

    def add_member(self, chat_id: int, user: int | dict[str, Any]) -> dict[str, Any]:
        """Add a user (id or dict with first_name/last_name/username) to a group."""
        if isinstance(user, dict):
            info = self.register_user(
                user["id"], user.get("first_name"), user.get("last_name"),
                username=user.get("username"), started=False,
            )
        else:
            info = self._user(user)
        with self._lock:
            self._members.setdefault(chat_id, set()).add(info["id"])
        return info

    def set_admin(self, chat_id: int, user_id: int, *, anonymous: bool = False, admin: bool = True) -> None:
        """Make a member an administrator of a group (``anonymous``: "remain anonymous"), or no longer one."""
        with self._lock:
            self._members.setdefault(chat_id, set()).add(user_id)
            admins = self._admins.setdefault(chat_id, {})
            if admin:
                admins[user_id] = anonymous
            else:
                admins.pop(user_id, None)

    def push_anonymous_admin_command(self, chat_id: int, command: str) -> dict[str, Any]:
        """A command sent by an administrator who "remains anonymous": ``sender_chat`` is the group."""
        with self._lock:
            chat = self._chats[chat_id]
            sender = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
            content = {"text": command, "sender_chat": dict(chat),
                       "entities": [{"type": "bot_command", "offset": 0, "length": _utf16_len(command.split()[0])}]}
            message = self._store_new(sender, chat, content, None, None)
            return self.push_update({"message": message})

    def members(self, chat_id: int) -> set[int]:
        """User ids known to be in a group."""
        with self._lock:
            return set(self._members.get(chat_id, ()))

    def create_topic(self, chat_id: int, name: str, *, user_id: int | None = None) -> int:
        """Create a forum topic as a human would (no update queued); returns its thread id."""
        sender = self._user(user_id) if user_id is not None else self.bot_user
        return self._create_topic(chat_id, name, DEFAULT_TOPIC_COLOR, sender)["message_thread_id"]

    def _user(self, user_id: int, first_name: str | None = None,
              last_name: str | None = None, username: str | None = None) -> dict[str, Any]:
        """Registered user dict, registering (without a private chat) if new."""
        with self._lock:
            known = self._users.get(user_id)
            if known is not None and first_name is None and last_name is None and username is None:
                return known
        return self.register_user(user_id, first_name, last_name, username=username,
                                  started=False)

    def _chat_or_error(self, raw_chat_id: Any) -> dict[str, Any]:
        """Resolve ``chat_id`` like Telegram: unknown → 400, never started → 403."""
        chat_id = _coerce_chat_id(raw_chat_id)
        with self._lock:
            if isinstance(chat_id, str):
                for chat in self._chats.values():
                    if "@" + str(chat.get("username", "")).lower() == chat_id.lower():
                        return chat
                raise _bad_request("chat not found")
            if chat_id is None:
                raise _bad_request("chat_id is empty")
            chat = self._chats.get(chat_id)
            if chat is not None:
                return chat
            if chat_id in self._users:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        raise _bad_request("chat not found")

    # ------------------------------------------------------------------ message store

    def _alloc_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _store(self, chat_id: int, message: dict[str, Any]) -> None:
        """Insert/replace a message (lock held by caller) and notify waiters."""
        seq = self._next_seq()
        self._messages.setdefault(chat_id, {})[message["message_id"]] = _Stored(
            message, seq, time.monotonic()
        )
        self._changed_cv.notify_all()
        for key in (chat_id, None):
            for waiter in self._async_waiters.get(key, ()):
                waiter.check(message, seq)

    def _get_stored(self, chat_id: int, message_id: Any) -> _Stored | None:
        stored = self._messages.get(chat_id, {}).get(message_id) if isinstance(message_id, int) else None
        return None if stored is None or stored.deleted else stored

    def _topic_root(self, chat: dict[str, Any], thread_id: int | None) -> dict[str, Any] | None:
        """The ``forum_topic_created`` service message of a topic (forums only)."""
        if not thread_id or not chat.get("is_forum"):
            return None
        stored = self._get_stored(chat["id"], thread_id)
        return stored.message if stored else None

    def _check_thread(self, chat: dict[str, Any], thread_id: Any) -> int | None:
        if thread_id in (None, 0, ""):
            return None
        if not isinstance(thread_id, int):
            raise _bad_request("invalid message thread identifier specified")
        if chat.get("is_forum") and thread_id not in self._topics.get(chat["id"], {}):
            raise _bad_request("message thread not found")
        return thread_id

    def _reply_target(self, chat: dict[str, Any], params: dict[str, Any]) -> dict[str, Any] | None:
        """Resolve reply_parameters / reply_to_message_id (400 if the target is missing)."""
        reply = params.get("reply_parameters")
        if isinstance(reply, str):
            reply = {"message_id": _decode_param("message_id", reply)}
        if not isinstance(reply, dict):
            reply = {}
        if params.get("reply_to_message_id") is not None:
            reply = {"message_id": params["reply_to_message_id"],
                     "allow_sending_without_reply": params.get("allow_sending_without_reply")}
        if reply.get("message_id") is None:
            return None
        target_chat = chat
        if reply.get("chat_id") is not None:
            target_chat = self._chat_or_error(reply["chat_id"])
        stored = self._get_stored(target_chat["id"], reply["message_id"])
        if stored is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad_request("message to be replied not found")
        return stored.message

    def _new_bot_message(
        self, chat: dict[str, Any], params: dict[str, Any], content: dict[str, Any]
    ) -> dict[str, Any]:
        """Create, store and return a message sent by the bot (lock held by caller)."""
        thread_id = self._check_thread(chat, params.get("message_thread_id"))
        reply_to = self._reply_target(chat, params)
        if reply_to is not None and thread_id is None and reply_to.get("is_topic_message"):
            thread_id = reply_to.get("message_thread_id")
        return self._store_new(self.bot_user, chat, content, thread_id, reply_to)

    def _store_new(self, sender: dict[str, Any], chat: dict[str, Any], content: dict[str, Any],
                   thread_id: int | None, reply_to: dict[str, Any] | None) -> dict[str, Any]:
        """Build, store and return a message from ``sender`` (the bot or a user), as Telegram
        shapes it: topic messages in forums point at their topic's root (lock held by caller)."""
        message: dict[str, Any] = {
            "message_id": self._alloc_message_id(chat["id"]),
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat.get("is_forum"):
                message["is_topic_message"] = True
                reply_to = reply_to or self._topic_root(chat, thread_id)
        if reply_to is not None:
            message["reply_to_message"] = _strip_reply(reply_to)
        message.update(content)
        self._store(chat["id"], message)
        return message

    def _text_content(
        self, params: dict[str, Any], key: str = "text", limit: int = MAX_TEXT_LENGTH
    ) -> dict[str, Any]:
        """Validate text/caption + parse_mode; return ``{key, [key_]entities}``."""
        raw = params.get(key)
        if raw is None and key == "caption":
            return {}
        text = "" if raw is None else str(raw)
        entities = params.get("entities" if key == "text" else "caption_entities")
        parse_mode = str(params.get("parse_mode") or "").lower()
        if parse_mode == "html":
            try:
                text, entities = parse_html(text)
            except EntityParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        if not text.strip():
            if key == "caption":
                return {}
            raise _bad_request("message text is empty")
        if _utf16_len(text) > limit:  # like Telegram: UTF-16 units of the parsed text (tags excluded)
            raise _bad_request("message is too long" if key == "text" else "message caption is too long")
        content: dict[str, Any] = {key: text}
        if entities:
            content["entities" if key == "text" else "caption_entities"] = entities
        return content

    def _markup_content(self, markup: Any) -> dict[str, Any]:
        """Validate reply_markup; inline keyboards are part of the returned Message."""
        if markup is None or markup == "":
            return {}
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            _validate_inline_keyboard(markup["inline_keyboard"])
            return {"reply_markup": markup}
        if "keyboard" in markup:
            _validate_reply_keyboard(markup["keyboard"])
        return {}

    def _apply_keyboard(self, chat_id: int, markup: Any) -> None:
        """After a successful send: the client now shows (or hides) a reply keyboard."""
        if isinstance(markup, dict):
            if "keyboard" in markup:
                self._keyboards[chat_id] = markup
            elif markup.get("remove_keyboard"):
                self._keyboards[chat_id] = None

    def _send(self, chat: dict[str, Any], params: dict[str, Any],
              content: dict[str, Any]) -> dict[str, Any]:
        """Validate markup, store the bot's new message and update the keyboard state."""
        markup = params.get("reply_markup")
        content.update(self._markup_content(markup))
        with self._lock:
            message = self._new_bot_message(chat, params, content)
            self._apply_keyboard(chat["id"], markup)
        return message

    # ------------------------------------------------------------------ methods

    def _m_get_me(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_delete_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if params.get("drop_pending_updates") in (True, "true", "True", 1):
            with self._lock:
                self._pending.clear()
        return True

    def _m_get_webhook_info(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        with self._lock:
            return {"url": "", "has_custom_certificate": False,
                    "pending_update_count": len(self._pending)}

    async def _m_get_updates(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        """Long polling: confirm ``offset``, wait up to ``timeout`` for updates.

        A newer getUpdates terminates a waiting one with 409 Conflict, like Telegram
        (unless the older client already went away).
        """
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates")
        with self._lock:
            self._poll_generation += 1
            generation = self._poll_generation
            if isinstance(allowed, list):
                self._allowed_updates = frozenset(allowed) if allowed else _DEFAULT_ALLOWED
            self._confirm(offset)
        self._wake_pollers()  # an older long poll now gets 409
        reader = _current_reader.get()
        while True:
            event = asyncio.Event()
            with self._lock:
                if generation != self._poll_generation:
                    if reader is not None and reader.at_eof():
                        return []  # its client left (cancelled/killed): no conflict
                    self.conflicts += 1
                    raise ApiError(409, _DEFAULT_DESCRIPTIONS[409])
                batch = self._deliverable(limit)
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._stopping.is_set():
                    return batch
                self._poll_events.add(event)
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass
            finally:
                self._poll_events.discard(event)

    def _confirm(self, offset: Any) -> None:
        """Forget updates older than ``offset`` (negative: keep only the last -offset)."""
        if not isinstance(offset, int) or offset == 0:
            return
        if offset < 0:
            self._pending = self._pending[offset:]
            return
        if offset - 1 > self._confirmed_update_id:
            self._confirmed_update_id = offset - 1
            self._changed_cv.notify_all()
        self._pending = [u for u in self._pending if u["update_id"] >= offset]

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        """First ``limit`` pending updates of allowed types; others are dropped for good."""
        allowed = self._allowed_updates
        kept = [u for u in self._pending if _update_type(u) in allowed]
        if len(kept) != len(self._pending):
            self._pending = kept
        return kept[:limit]

    def _m_send_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        content = self._text_content(params)
        if isinstance(params.get("link_preview_options"), dict):
            content["link_preview_options"] = params["link_preview_options"]
        return self._send(chat, params, content)

    def _editable(self, params: dict[str, Any]) -> tuple[dict[str, Any], _Stored]:
        """The bot's own message targeted by an edit (400 otherwise)."""
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        chat = self._chat_or_error(params.get("chat_id"))
        stored = self._get_stored(chat["id"], params.get("message_id"))
        if stored is None:
            raise _bad_request("message to edit not found")
        if stored.message.get("from", {}).get("id") != self.bot_user["id"]:
            raise _bad_request("message can't be edited")
        return chat, stored

    def _replace_message(self, chat: dict[str, Any], old: dict[str, Any],
                         content: dict[str, Any], drop: Sequence[str]) -> dict[str, Any]:
        """Store an edited copy of ``old`` (edits without reply_markup drop the keyboard)."""
        new = {k: v for k, v in old.items() if k not in drop and k != "reply_markup"}
        new.update(content)
        comparable = ("text", "entities", "caption", "caption_entities", "reply_markup")
        if all(new.get(k) == old.get(k) for k in comparable):
            raise ApiError(400, _NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        self._store(chat["id"], new)
        return new

    def _m_edit_message_text(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        content = self._text_content(params)
        with self._lock:
            chat, stored = self._editable(params)
            if "text" not in stored.message:
                raise _bad_request("there is no text in the message to edit")
            content.update(self._inline_markup(params))
            return self._replace_message(chat, stored.message, content, ("text", "entities"))

    def _m_edit_message_reply_markup(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        with self._lock:
            chat, stored = self._editable(params)
            return self._replace_message(chat, stored.message, self._inline_markup(params), ())

    def _inline_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        markup = params.get("reply_markup")
        if markup in (None, "", {}):
            return {}
        if not _has_inline_keyboard(markup):
            raise _bad_request("inline keyboard expected")
        _validate_inline_keyboard(markup["inline_keyboard"])
        return {"reply_markup": markup} if markup["inline_keyboard"] else {}

    def _m_delete_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        with self._lock:
            stored = self._get_stored(chat["id"], params.get("message_id"))
            if stored is None:
                raise _bad_request("message to delete not found")
            stored.deleted = True
            stored.seq = self._next_seq()
            self._changed_cv.notify_all()
        return True

    def _m_answer_callback_query(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        with self._lock:
            query = self._callbacks.get(query_id)
            if query is None or "answer" in query:
                raise _bad_request(_QUERY_INVALID[len("Bad Request: "):])
            text = params.get("text")
            if text is not None and len(str(text)) > 200:
                raise _bad_request("MESSAGE_TOO_LONG")
            query["answer"] = {k: v for k, v in params.items() if k != "callback_query_id"}
            self._changed_cv.notify_all()
        return True

    def _m_send_chat_action(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        with self._lock:
            self._check_thread(chat, params.get("message_thread_id"))
        return True

    def _commands_key(self, params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad_request("can't parse BotCommandScope JSON object")
        if "chat_id" in scope:
            self._chat_or_error(scope["chat_id"])
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _m_set_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        with self._lock:
            self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    def _m_delete_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        key = self._commands_key(params)
        with self._lock:
            self._commands.pop(key, None)
        return True

    def _m_get_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        key = self._commands_key(params)
        with self._lock:
            return list(self._commands.get(key, []))

    def _m_send_document(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        upload = files.get("document")
        if upload is None:
            file_id = params.get("document")
            with self._lock:
                upload = self._files.get(str(file_id)) if file_id else None
            if upload is None:
                raise _bad_request("wrong file identifier/HTTP URL specified"
                                   if file_id else "there is no document in the request")
        if not upload.data:
            raise _bad_request("file must be non-empty")
        content = self._text_content(params, "caption", MAX_CAPTION_LENGTH)
        with self._lock:
            number = next(self._file_ids)
            file_id = f"BQACAgQAAxkDAAI{number:012d}"
            self._files[file_id] = upload
            content["document"] = {
                "file_id": file_id,
                "file_unique_id": f"AgAD{number:08d}",
                "file_name": upload.filename or "document",
                "mime_type": upload.content_type or "application/octet-stream",
                "file_size": len(upload.data),
            }
        return self._send(chat, params, content)

    def _source_message(self, params: dict[str, Any], verb: str) -> dict[str, Any]:
        source_chat = self._chat_or_error(params.get("from_chat_id"))
        stored = self._get_stored(source_chat["id"], params.get("message_id"))
        if stored is None:
            raise _bad_request(f"message to {verb} not found")
        return stored.message

    def _m_forward_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        with self._lock:
            source = self._source_message(params, "forward")
            content = {k: v for k, v in source.items()
                       if k not in ("message_id", "from", "chat", "date", "reply_to_message",
                                    "message_thread_id", "is_topic_message", "edit_date")}
            sender = source.get("from") or {}
            content["forward_origin"] = (
                {"type": "user", "sender_user": sender, "date": source["date"]}
                if sender else {"type": "hidden_user", "sender_user_name": "?", "date": source["date"]}
            )
            return self._new_bot_message(chat, params, content)

    def _m_copy_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        with self._lock:
            source = self._source_message(params, "copy")
            content = {k: v for k, v in source.items()
                       if k not in ("message_id", "from", "chat", "date", "reply_to_message",
                                    "message_thread_id", "is_topic_message", "edit_date",
                                    "reply_markup", "forward_origin")}
        if "caption" in params:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._text_content(params, "caption", MAX_CAPTION_LENGTH))
        return {"message_id": self._send(chat, params, content)["message_id"]}

    def _m_create_forum_topic(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        if not chat.get("is_forum"):
            raise _bad_request("the chat is not a forum")
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise _bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_INVALID")
        color = params.get("icon_color") or DEFAULT_TOPIC_COLOR
        topic = self._create_topic(chat["id"], name, color, self.bot_user)
        if params.get("icon_custom_emoji_id"):
            topic["icon_custom_emoji_id"] = params["icon_custom_emoji_id"]
        return topic

    def _create_topic(self, chat_id: int, name: str, color: int,
                      sender: dict[str, Any]) -> dict[str, Any]:
        """Allocate the topic's service message (its id is the thread id)."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None or not chat.get("is_forum"):
                raise ValueError(f"chat {chat_id} is not a registered forum supergroup")
            thread_id = self._alloc_message_id(chat_id)
            topic = {"message_thread_id": thread_id, "name": name, "icon_color": color}
            self._topics.setdefault(chat_id, {})[thread_id] = topic
            self._store(chat_id, {
                "message_id": thread_id, "from": sender, "chat": chat, "date": int(time.time()),
                "message_thread_id": thread_id, "is_topic_message": True,
                "forum_topic_created": {"name": name, "icon_color": color},
            })
            return dict(topic)

    def _m_get_chat(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        info: dict[str, Any] = {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                "premium_subscription": False, "gifts_from_channels": False,
            },
        }
        if chat["type"] == "private":
            user = self._users.get(chat["id"], {})
            info.update({k: user[k] for k in ("first_name", "last_name", "username") if k in user})
        return info

    def set_bot_membership(self, chat_id: int, status: str = "administrator", **rights: bool) -> None:
        """The bot's status in a group for ``getChatMember`` (default: administrator with every right)."""
        with self._lock:
            self._bot_rights[chat_id] = {"status": status, **rights}

    def _m_get_chat_member(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        user_id = _coerce_chat_id(params.get("user_id"))
        if user_id == self.bot_user["id"]:
            return self._bot_member(chat["id"])
        if user_id not in self._users:
            raise _bad_request("user not found")
        status = "member" if user_id in self.members(chat["id"]) else "left"
        return {"status": status, "user": self._users[user_id]}

    def _bot_member(self, chat_id: int) -> dict[str, Any]:
        with self._lock:
            wanted = dict(self._bot_rights.get(chat_id, {"status": "administrator"}))
        status = wanted.pop("status")
        member: dict[str, Any] = {"status": status, "user": self.bot_user}
        if status == "administrator":
            rights = ("can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
                      "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
                      "can_edit_stories", "can_delete_stories", "can_pin_messages", "can_manage_topics")
            member.update({"can_be_edited": False, "is_anonymous": False, **dict.fromkeys(rights, True), **wanted})
        return member
    def _m_get_chat_administrators(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        if chat["type"] == "private":
            raise _bad_request("there are no administrators in the private chat")
        with self._lock:
            admins = dict(self._admins.get(chat["id"], {}))
        result = [{"status": "administrator", "user": self._user(user_id), "is_anonymous": anonymous,
                   "can_be_edited": False, "can_manage_chat": True, "can_change_info": True,
                   "can_delete_messages": True, "can_invite_users": True, "can_restrict_members": True,
                   "can_pin_messages": True, "can_promote_members": False, "can_manage_video_chats": True,
                   "can_post_stories": True, "can_edit_stories": True, "can_delete_stories": True}
                  for user_id, anonymous in admins.items()]
        result.append({"status": "administrator", "user": dict(self.bot_user), "is_anonymous": False,
                       "can_be_edited": False, "can_manage_chat": True, "can_change_info": False,
                       "can_delete_messages": True, "can_invite_users": False, "can_restrict_members": False,
                       "can_pin_messages": False, "can_promote_members": False, "can_manage_video_chats": False,
                       "can_post_stories": False, "can_edit_stories": False, "can_delete_stories": False})
        return result

    def _m_leave_chat(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        if chat["type"] == "private":
            raise _bad_request("chat member status can't be changed in private chats")
        with self._lock:
            self.left_chats.append(chat["id"])
        return True

    # ------------------------------------------------------------------ pushing updates

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (``update_id`` is assigned if missing); returns it."""
        with self._lock:
            update = {"update_id": next(self._update_ids), **update}
            self._last_pushed_update_id = update["update_id"]
            self._pending.append(update)
        self._wake_pollers_threadsafe()
        return update

    def push_message(
        self,
        user_id: int,
        content: dict[str, Any],
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        message_thread_id: int | None = None,
        chat_type: str | None = None,
        is_forum: bool | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        """Queue a ``message`` update from ``user_id`` with the given content fields.

        Without ``chat_id`` the message comes from the user's private chat (which this
        opens).  An unknown ``chat_id`` is registered as a group of ``chat_type``
        (default supergroup).  In forum topics the message carries
        ``reply_to_message`` = the topic's creation message, like real Telegram.
        """
        user = self._user(user_id, first_name, last_name, username)
        with self._lock:
            chat = self._push_chat(user, chat_id, chat_type, is_forum, title)
            message = self._user_message(user, chat, content, reply_to_message_id,
                                         message_thread_id)
            if chat["type"] == "private":
                keyboard = self._keyboards.get(chat["id"])
                if keyboard and keyboard.get("one_time_keyboard"):
                    self._keyboards[chat["id"]] = None
            return self.push_update({"message": message})

    def _push_chat(self, user: dict[str, Any], chat_id: int | None, chat_type: str | None,
                   is_forum: bool | None, title: str | None) -> dict[str, Any]:
        if chat_id is None or chat_id == user["id"]:
            if chat_type not in (None, "private"):
                raise ValueError("a group message needs chat_id")
            return self._open_private_chat(user)  # refreshes names too
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self.register_group(
                chat_id, title or f"Group {chat_id}",
                chat_type=chat_type or "supergroup", is_forum=bool(is_forum),
            )
            chat = self._chats[chat_id]
        self._members.setdefault(chat_id, set()).add(user["id"])
        return chat

    def _user_message(
        self,
        user: dict[str, Any],
        chat: dict[str, Any],
        content: dict[str, Any],
        reply_to_message_id: int | None,
        message_thread_id: int | None,
    ) -> dict[str, Any]:
        reply_to = None
        if reply_to_message_id is not None:
            stored = self._get_stored(chat["id"], reply_to_message_id)
            if stored is None:
                raise ValueError(f"no message {reply_to_message_id} in chat {chat['id']}")
            reply_to = stored.message
            if message_thread_id is None:
                message_thread_id = reply_to.get("message_thread_id")
        if message_thread_id is not None and chat.get("is_forum"):
            if message_thread_id not in self._topics.get(chat["id"], {}):
                raise ValueError(f"no topic {message_thread_id} in chat {chat['id']}")
        return self._store_new(user, chat, content, message_thread_id, reply_to)

    def push_text(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        message_thread_id: int | None = None,
        chat_type: str | None = None,
        is_forum: bool | None = None,
        title: str | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Queue a text message; returns the update dict (see :meth:`push_message`)."""
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self.push_message(
            user_id, content, first_name=first_name, last_name=last_name, username=username,
            chat_id=chat_id, reply_to_message_id=reply_to_message_id,
            message_thread_id=message_thread_id, chat_type=chat_type, is_forum=is_forum,
            title=title,
        )

    def push_command(self, user_id: int, command: str, *args: str, **options: Any) -> dict[str, Any]:
        """Queue ``/command arg...`` with a proper ``bot_command`` entity."""
        command = command if command.startswith("/") else f"/{command}"
        text = " ".join([command, *args])
        entity = {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
        return self.push_text(user_id, text, entities=[entity], **options)

    def push_contact(
        self,
        user_id: int,
        phone_number: str,
        contact_user_id: int | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Queue a shared contact; ``contact_user_id`` defaults to the sender (what a
        ``request_contact`` button sends), ``0`` omits it (a non-Telegram contact)."""
        user = self._user(user_id)
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or user["first_name"],
        }
        if last_name or (contact_user_id is None and user.get("last_name")):
            contact["last_name"] = last_name or user["last_name"]
        owner = user_id if contact_user_id is None else contact_user_id
        if owner:
            contact["user_id"] = owner
        return self.push_message(user_id, {"contact": contact}, **options)

    def _file_stub(self, prefix: str) -> dict[str, str]:
        with self._lock:
            number = next(self._file_ids)
        return {"file_id": f"{prefix}{number:012d}", "file_unique_id": f"AgAD{number:08d}"}

    def push_sticker(self, user_id: int, emoji: str = "👍", **options: Any) -> dict[str, Any]:
        """Queue a sticker message."""
        sticker = {**self._file_stub("CAACAgIAAxkBAA"), "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False, "emoji": emoji,
                   "file_size": 24_000}
        return self.push_message(user_id, {"sticker": sticker}, **options)

    def push_photo(self, user_id: int, caption: str | None = None, **options: Any) -> dict[str, Any]:
        """Queue a photo message (three sizes, optional caption)."""
        sizes = [{**self._file_stub("AgACAgQAAxkBAA"), "width": w, "height": h, "file_size": s}
                 for w, h, s in ((90, 67, 1_200), (320, 240, 15_000), (1280, 960, 120_000))]
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self.push_message(user_id, content, **options)

    def push_voice(self, user_id: int, duration: int = 3, **options: Any) -> dict[str, Any]:
        """Queue a voice note."""
        voice = {**self._file_stub("AwACAgQAAxkBAA"), "duration": duration,
                 "mime_type": "audio/ogg", "file_size": 9_000}
        return self.push_message(user_id, {"voice": voice}, **options)

    def push_callback(
        self,
        user_id: int,
        data: str,
        message_id: int,
        chat_id: int | None = None,
        *,
        check_button: bool = True,
    ) -> dict[str, Any]:
        """Queue a ``callback_query`` for a button on the bot's message ``message_id``.

        The embedded message is its current state.  With ``check_button`` (default) the
        message must still show a button with this ``callback_data`` — a real user
        cannot press a button that an edit removed.
        """
        chat_id = user_id if chat_id is None else chat_id
        user = self._user(user_id)
        with self._lock:
            stored = self._get_stored(chat_id, message_id)
            if stored is None:
                raise AssertionError(f"no message {message_id} in chat {chat_id}")
            message = stored.message
            if check_button and data not in [b.get("callback_data") for b in _inline_buttons(message)]:
                raise AssertionError(
                    f"message {message_id} in chat {chat_id} has no button with "
                    f"callback_data {data!r}; buttons: {_inline_buttons(message)}"
                )
            query_id = str(next(self._callback_ids))
            self._callbacks[query_id] = {"user_id": user_id, "data": data,
                                         "chat_id": chat_id, "message_id": message_id}
            query = {
                "id": query_id,
                "from": user,
                "message": message,
                "chat_instance": str(abs(chat_id) * 7919 % 10**18 + 10**17),
                "data": data,
            }
            return self.push_update({"callback_query": query})

    def click_button(
        self,
        user_id: int,
        label: str | re.Pattern[str],
        *,
        chat_id: int | None = None,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        """Press the inline button whose text equals ``label`` (or matches the pattern)
        on the latest bot message showing it (or on ``message_id``)."""
        chat_id = user_id if chat_id is None else chat_id
        with self._lock:
            candidates = [s.message for s in self._messages.get(chat_id, {}).values()
                          if not s.deleted and (message_id is None
                                                or s.message["message_id"] == message_id)]
        for message in reversed(candidates):
            for button in _inline_buttons(message):
                text = button.get("text", "")
                hit = label.search(text) if isinstance(label, re.Pattern) else text == label
                if hit and "callback_data" in button:
                    return self.push_callback(user_id, button["callback_data"],
                                              message["message_id"], chat_id)
        labels = [[b.get("text") for b in _inline_buttons(m)] for m in candidates[-5:]]
        raise AssertionError(f"no button {label!r} in chat {chat_id}; recent buttons: {labels}")

    # ------------------------------------------------------------------ inspection

    def mark(self) -> int:
        """Current sequence number; pass as ``since=`` to only see later activity."""
        with self._lock:
            return self._last_seq

    def calls(self, method: str | None = None, *, since: int | None = None) -> list[Call]:
        """Recorded requests (all, or one method, case-insensitive), oldest first."""
        key = method.lower() if method else None
        with self._lock:
            return [c for c in self._calls
                    if (key is None or c.method.lower() == key)
                    and (since is None or c.seq > since)]

    def last_call(self, method: str | None = None) -> Call | None:
        """The most recent recorded request (of ``method``), or None."""
        found = self.calls(method)
        return found[-1] if found else None

    def messages_to(self, chat_id: int, *, thread_id: int | None = None,
                    since: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent in a chat, current state (edits applied, deletions gone)."""
        bot_id = self.bot_user["id"]
        return [m for m in self.chat_history(chat_id, thread_id=thread_id, since=since)
                if m.get("from", {}).get("id") == bot_id and "forum_topic_created" not in m]

    def chat_history(self, chat_id: int, *, thread_id: int | None = None,
                     since: int | None = None) -> list[dict[str, Any]]:
        """All messages of a chat (users' and the bot's), by message_id."""
        with self._lock:
            stored = sorted(self._messages.get(chat_id, {}).values(),
                            key=lambda s: s.message["message_id"])
            return [s.message for s in stored
                    if not s.deleted and (since is None or s.seq > since)
                    and (thread_id is None or s.message.get("message_thread_id") == thread_id)]

    def last_message(self, chat_id: int) -> dict[str, Any] | None:
        """The bot's latest message in a chat."""
        sent = self.messages_to(chat_id)
        return sent[-1] if sent else None

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """Current state of one message (None if unknown or deleted)."""
        with self._lock:
            stored = self._get_stored(chat_id, message_id)
            return stored.message if stored else None

    def current_keyboard(self, chat_id: int) -> dict[str, Any] | None:
        """The reply keyboard a client would show in the chat (None after a remove)."""
        with self._lock:
            return self._keyboards.get(chat_id)

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """Parameters of ``answerCallbackQuery`` for a query (None if unanswered)."""
        with self._lock:
            return (self._callbacks.get(str(query_id)) or {}).get("answer")

    def commands(self, scope: dict[str, Any] | None = None,
                 language_code: str = "") -> list[dict[str, Any]]:
        """Commands set with ``setMyCommands`` for a scope (default scope by default)."""
        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        with self._lock:
            return list(self._commands.get(key, []))

    def documents_to(self, chat_id: int) -> list[tuple[dict[str, Any], UploadedFile]]:
        """``(message, uploaded file)`` for every document the bot sent to a chat."""
        with self._lock:
            return [(m, self._files[m["document"]["file_id"]])
                    for m in self.messages_to(chat_id) if "document" in m]

    def topics(self, chat_id: int) -> dict[int, dict[str, Any]]:
        """Forum topics of a chat by thread id."""
        with self._lock:
            return {k: dict(v) for k, v in self._topics.get(chat_id, {}).items()}

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates pushed but not yet confirmed by the bot (``offset``)."""
        with self._lock:
            return list(self._pending)

    # ------------------------------------------------------------------ waiting

    def wait_until(self, condition: Callable[[], Any], timeout: float = 10,
                   message: str = "condition") -> Any:
        """Block until ``condition()`` is truthy (re-checked on every change); return it."""
        deadline = time.monotonic() + timeout
        with self._changed_cv:
            while True:
                value = condition()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for {message}\n"
                                         + self.describe_recent())
                self._changed_cv.wait(min(remaining, 0.5))

    def wait_for(self, predicate: Callable[[Call], Any], timeout: float = 10, *,
                 method: str | None = None, since: int | None = None) -> Call:
        """Wait for a finished recorded call satisfying ``predicate``; return it."""
        def find() -> Call | None:
            for call in self.calls(method, since=since):
                if call.status is not None and predicate(call):
                    return call
            return None
        return self.wait_until(find, timeout, f"a {method or ''} call matching {predicate}")

    def wait_for_message(self, predicate: Callable[[dict[str, Any]], Any], *,
                         chat_id: int | None = None, timeout: float = 10,
                         since: int | None = None) -> dict[str, Any]:
        """Wait for a bot message (current state) satisfying ``predicate``; return it."""
        def find() -> dict[str, Any] | None:
            chats = [chat_id] if chat_id is not None else list(self._messages)
            for chat in chats:
                for message in self.messages_to(chat, since=since):
                    if predicate(message):
                        return message
            return None
        return self.wait_until(find, timeout, f"a message matching {predicate} in {chat_id}")

    def wait_for_text(self, chat_id: int, regex: str | re.Pattern[str], timeout: float = 10,
                      *, since: int | None = None) -> dict[str, Any]:
        """Wait for a bot message in ``chat_id`` whose text/caption matches ``regex``
        (``re.search``); return the message."""
        pattern = re.compile(regex) if isinstance(regex, str) else regex
        def find() -> dict[str, Any] | None:
            for message in self.messages_to(chat_id, since=since):
                if pattern.search(message.get("text") or message.get("caption") or ""):
                    return message
            return None
        return self.wait_until(find, timeout, f"text /{pattern.pattern}/ in chat {chat_id}")

    def wait_consumed(self, timeout: float = 10) -> None:
        """Wait until the bot confirmed (fetched and moved past) every pushed update."""
        self.wait_until(lambda: self._confirmed_update_id >= self._last_pushed_update_id,
                        timeout, "the bot to confirm all pushed updates")

    def describe_recent(self, count: int = 8) -> str:
        """Human-readable tail of recent messages and failed calls (for assertions)."""
        with self._lock:
            stored = sorted((s for chat in self._messages.values() for s in chat.values()),
                            key=lambda s: s.seq)[-count:]
            failed = [c for c in self._calls if c.status not in (200, None)][-count:]
        lines = ["recent messages:"]
        for s in stored:
            m = s.message
            who = "bot" if m.get("from", {}).get("id") == self.bot_user["id"] else m.get("from", {}).get("id")
            body = m.get("text") or m.get("caption") or next(
                (k for k in ("contact", "document", "sticker", "photo", "voice",
                             "forum_topic_created") if k in m), "?")
            buttons = [b.get("text") for b in _inline_buttons(m)]
            lines.append(f"  [{m['chat']['id']}#{m['message_id']}] {who}: {body!r}"
                         + (f" buttons={buttons}" if buttons else "")
                         + (" (deleted)" if s.deleted else ""))
        lines.append("recent failed calls:" if failed else "no failed calls")
        lines += [f"  {c.method} -> {c.status} {c.error}" for c in failed]
        return "\n".join(lines)

    # ------------------------------------------------------------------ async helpers

    def add_listener(self, listener: Callable[[str, Any], None]) -> Callable[[], None]:
        """Call ``listener("call", Call)`` after every answered request (from the server
        thread; keep it quick).  Returns a function that removes the listener."""
        with self._lock:
            self._listeners.append(listener)
        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)
        return remove

    async def wait_for_message_async(
        self, predicate: Callable[[dict[str, Any]], Any], *, chat_id: int | None = None,
        timeout: float = 10, since: int | None = None,
    ) -> dict[str, Any]:
        """Asyncio version of :meth:`wait_for_message` (no thread per waiter)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()

        def resolve(message: dict[str, Any]) -> None:
            if not future.done():
                future.set_result(message)

        def check(message: dict[str, Any], seq: int) -> None:
            if (since is None or seq > since) and message.get("from", {}).get("id") == \
                    self.bot_user["id"] and predicate(message):
                loop.call_soon_threadsafe(resolve, message)

        waiter = _AsyncWaiter(chat_id, check)
        with self._lock:
            self._async_waiters.setdefault(chat_id, []).append(waiter)
            chats = [chat_id] if chat_id is not None else list(self._messages)
            for chat in chats:
                for stored in self._messages.get(chat, {}).values():
                    if not stored.deleted:
                        check(stored.message, stored.seq)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout}s waiting for a message in "
                                 f"{chat_id}\n" + self.describe_recent()) from None
        finally:
            with self._lock:
                self._async_waiters[chat_id].remove(waiter)

    async def wait_for_text_async(self, chat_id: int, regex: str | re.Pattern[str],
                                  timeout: float = 10, *, since: int | None = None) -> dict[str, Any]:
        """Asyncio version of :meth:`wait_for_text`."""
        pattern = re.compile(regex) if isinstance(regex, str) else regex
        return await self.wait_for_message_async(
            lambda m: pattern.search(m.get("text") or m.get("caption") or ""),
            chat_id=chat_id, timeout=timeout, since=since,
        )

    # ------------------------------------------------------------------ faults

    def inject(
        self,
        method: str,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        description: str | None = None,
        times: int | None = 1,
        chat_id: int | None = None,
        delay: float | None = None,
        hang: bool = False,
        applied: bool | None = None,
    ) -> Fault:
        """Make the next ``times`` calls of ``method`` (``"*"`` = any but getUpdates),
        optionally only for ``chat_id``, misbehave.

        ``status``: 429 (``retry_after``, default 1 s), 403 (blocked), 400, 409, 500 →
        Bot API JSON error; 502/503/504 → nginx HTML page (unless ``description``).
        ``delay``: answer after that many seconds.  ``hang``: never answer; the
        client's read timeout fires.  ``applied``: whether the call still takes effect
        (default: yes for a pure delay/hang, no for an error).  ``times=None`` =
        until ``fault.cancel()``/``clear_faults()``.
        """
        if status is None and delay is None and not hang:
            raise ValueError("inject() needs status, delay or hang")
        fault = Fault(
            method=method.lower() if method != "*" else "*",
            status=status, retry_after=retry_after, description=description,
            remaining=times, chat_id=chat_id, delay=delay, hang=hang,
            applied=(status is None) if applied is None else applied,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail_chat(
        self,
        chat_id: int,
        status: int = 502,
        *,
        until: Callable[[], bool] | int | None = None,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> Fault:
        """Make every call aimed at ``chat_id`` fail with ``status``: ``until`` = a count
        of failing calls, or a callable (fail while it returns False), or None (until
        :meth:`heal_chat`)."""
        fault = Fault(
            method="*", status=status, retry_after=retry_after, description=description,
            remaining=until if isinstance(until, int) else None, chat_id=chat_id,
            delay=None, hang=False, applied=False,
            until=until if callable(until) else None,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def heal_chat(self, chat_id: int) -> None:
        """Cancel every fault rule restricted to ``chat_id``."""
        with self._lock:
            for fault in self._faults:
                if fault.chat_id == chat_id:
                    fault.cancel()

    def clear_faults(self) -> None:
        """Cancel every injected fault and unblock everyone."""
        with self._lock:
            for fault in self._faults:
                fault.cancel()
            self._faults.clear()
            self._blocked.clear()

    def block_user(self, user_id: int) -> None:
        """The user blocked the bot: every call to their private chat gets 403."""
        with self._lock:
            self._blocked.add(user_id)

    def unblock_user(self, user_id: int) -> None:
        """The user unblocked the bot."""
        with self._lock:
            self._blocked.discard(user_id)


def _update_type(update: dict[str, Any]) -> str:
    return next((k for k in update if k != "update_id"), "")


def _validate_inline_keyboard(rows: Any) -> None:
    """Check an inline keyboard like Telegram does (cheap checks only)."""
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request("can't parse inline keyboard button: InlineKeyboardMarkup must be an array of arrays")
    for button in (b for row in rows for b in row):
        if not isinstance(button, dict) or not str(button.get("text", "")).strip():
            raise _bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                               if isinstance(button, dict) and "text" in button else
                               "can't parse inline keyboard button: Field \"text\" must be of type String")
        if "callback_data" in button:
            size = len(str(button["callback_data"]).encode("utf-8"))
            if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                raise _bad_request("BUTTON_DATA_INVALID")
        elif "url" in button:
            if not re.match(r"(https?|tg)://\S+$", str(button["url"])):
                raise _bad_request("BUTTON_URL_INVALID")
        elif not set(button) - {"text"}:
            raise _bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")


def _validate_reply_keyboard(rows: Any) -> None:
    """Reply keyboard buttons are strings or dicts with a non-empty text."""
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    for button in (b for row in rows for b in row):
        text = button.get("text") if isinstance(button, dict) else button
        if not isinstance(text, str) or not text.strip():
            raise _bad_request("keyboard button text is empty")
