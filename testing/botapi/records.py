"""The double's records and limits: calls, faults, uploaded files, Telegram's sizes."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


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


_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)


_QUERY_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)


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


def _has_inline_keyboard(markup: Any) -> bool:
    return isinstance(markup, dict) and "inline_keyboard" in markup


def _inline_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def _update_type(update: dict[str, Any]) -> str:
    return next((k for k in update if k != "update_id"), "")
