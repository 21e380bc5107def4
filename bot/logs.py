"""Logging for every command: one format, and tracebacks without exception messages.

Why: the bot logs one pseudonymous line per update and never a message's content,
but a traceback ends with the exception's message, and that message is built from
whatever the failing code had at hand — a ``ValueError`` quoting a typed phone
number, a Telegram "Bad Request" quoting the text it refused. Logs are kept and
shared (hosting consoles, bug reports); personal data must not end up there by
accident. :class:`RedactingFormatter` keeps what a developer needs to find the bug
(every frame, the exception's type, for each exception of the chain) and replaces
each message with :data:`MARKER`. Exception notes (``add_note``) are left out for the
same reason.

Log lines of the bot's own code are formatted as written: that code keeps personal
data out. Libraries do not: at DEBUG, python-telegram-bot logs every request's
parameters (the texts sent) and every update received, and its Bot API URL, like
httpx's request lines, contains the bot token. So, at every level, a library's line
keeps its wording but each argument that is not a number (or a Bot API method name
such as ``sendMessage``) is replaced by :data:`HIDDEN`, and anything shaped like a
bot token is replaced by :data:`TOKEN` in every line, the bot's own included.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import traceback
from types import TracebackType
from typing import IO

#: What a traceback shows instead of an exception's message.
MARKER = "[message hidden]"
#: What a library's log line shows instead of an argument that could hold content.
HIDDEN = "[hidden]"
#: What a log line shows instead of a bot token.
TOKEN = "[token]"
#: A Telegram bot token (``123456789:AA…``), as it appears in Bot API URLs.
TOKEN_PATTERN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
#: Loggers of this project: their lines are kept as written.
OWN_LOGGERS = ("bot", "handlers", "updates", "__main__", "root")
_METHOD_NAME = re.compile(r"[a-z]+(?:[A-Z][a-z]+)+")

#: The format of every log line.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def redacted_traceback(exc: BaseException) -> str:
    """The traceback Python would print for ``exc``, each exception's message replaced by :data:`MARKER`."""
    return "".join(_exception_lines(exc, set())).rstrip("\n")


def _exception_lines(exc: BaseException, seen: set[int]) -> list[str]:
    """The lines of one exception, after those of its cause or context (as ``traceback`` orders them)."""
    seen.add(id(exc))
    lines = _chained_lines(exc, seen)
    if exc.__traceback__ is not None:
        lines.append("Traceback (most recent call last):\n")
        lines += traceback.format_tb(exc.__traceback__)
    lines.append(f"{_type_name(type(exc))}: {MARKER}\n")
    if isinstance(exc, BaseExceptionGroup):
        lines += _group_lines(exc, seen)
    return lines


def _chained_lines(exc: BaseException, seen: set[int]) -> list[str]:
    """The exception this one was raised from (or while handling), then the sentence linking them."""
    cause, context = exc.__cause__, exc.__context__
    if cause is not None and id(cause) not in seen:
        return _exception_lines(cause, seen) + [_CAUSE]
    if context is not None and not exc.__suppress_context__ and id(context) not in seen:
        return _exception_lines(context, seen) + [_CONTEXT]
    return []


def _group_lines(group: BaseExceptionGroup, seen: set[int]) -> list[str]:
    """Each exception of a group, indented under it."""
    lines: list[str] = []
    for number, sub in enumerate(group.exceptions, start=1):
        lines.append(f"  +---------------- {number} ----------------\n")
        lines += [f"    | {line}" for line in "".join(_exception_lines(sub, seen)).splitlines(keepends=True)]
    return lines


def _type_name(kind: type[BaseException]) -> str:
    """``telegram.error.BadRequest``, or ``ValueError`` for a built-in (as ``traceback`` writes it)."""
    module = kind.__module__
    return kind.__qualname__ if module in ("builtins", "__main__") else f"{module}.{kind.__qualname__}"


class RedactingFormatter(logging.Formatter):
    """A ``logging.Formatter`` whose tracebacks keep frames and types, never exception messages."""

    def formatException(self, ei: ExcInfo | tuple[None, None, None]) -> str:  # noqa: N802 (logging's name)
        """The traceback of ``ei``, messages replaced by :data:`MARKER`."""
        exc = ei[1]
        return redacted_traceback(exc) if exc is not None else ""

    def format(self, record: logging.LogRecord) -> str:
        """Format as usual, ignoring a traceback another formatter may have cached on the record.

        ``logging.Formatter`` stores the formatted traceback in ``record.exc_text``
        and reuses it: a plain formatter that saw the record first would slip its
        unredacted text in here.
        """
        cached = record.exc_text
        record.exc_text = None
        try:
            shown = record if _is_own(record.name) else _library_record(record)
            try:
                line = super().format(shown)
            except (TypeError, ValueError):  # a hidden argument under "%d": never let logging print the args
                shown = logging.makeLogRecord({**shown.__dict__, "msg": f"{record.msg} {HIDDEN}", "args": None})
                line = super().format(shown)
            return TOKEN_PATTERN.sub(TOKEN, line)
        finally:
            record.exc_text = cached


class JsonFormatter(RedactingFormatter):
    """``LOG_FORMAT=json``: one JSON object per line, for log collectors (journald, Loki, a hosting console).

    The message and the traceback go through :class:`RedactingFormatter`, so the JSON
    lines follow exactly the same redaction rules as the text lines.
    """

    def __init__(self) -> None:
        super().__init__("%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """``{"time", "level", "logger", "message"}``, plus ``"traceback"`` when there is one."""
        bare = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None})
        entry = {"time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": super().format(bare)}
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def _is_own(name: str) -> bool:
    """Whether a logger belongs to this project (its lines never carry content)."""
    return any(name == own or name.startswith(own + ".") for own in OWN_LOGGERS)


def _library_record(record: logging.LogRecord) -> logging.LogRecord:
    """A copy of a library's record whose arguments that could carry content are hidden."""
    shown = logging.makeLogRecord(record.__dict__)
    shown.exc_text = None
    if not isinstance(record.msg, str):
        shown.msg, shown.args = f"<{type(record.msg).__name__}>", None
    elif isinstance(record.args, dict):
        shown.args = {key: _safe_arg(value) for key, value in record.args.items()}
    elif record.args:
        shown.args = tuple(_safe_arg(value) for value in record.args)
    return shown


def _safe_arg(value: object) -> object:
    """A number or a Bot API method name as is; anything else (texts, updates, URLs) hidden."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str) and _METHOD_NAME.fullmatch(value):
        return value
    return HIDDEN


def configure_logging(level: str | int, stream: IO[str] | None = None, json_lines: bool = False) -> None:
    """Log to ``stream`` (stderr by default) with :class:`RedactingFormatter` (or :class:`JsonFormatter`), at ``level``.

    An uncaught exception goes through logging too, so the traceback that ends the
    process is redacted like the others. Like ``logging.basicConfig``, it leaves a
    root logger that already has handlers alone (and then ``sys.excepthook`` too):
    whoever configured it (a test run) keeps its own output.
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else RedactingFormatter(LOG_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    # httpx logs every request URL at INFO, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if handler in logging.getLogger().handlers:
        sys.excepthook = log_uncaught


def log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """``sys.excepthook``: the crash's traceback through logging (Ctrl-C stays Python's short message)."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    logging.getLogger("bot").critical("uncaught exception, the process stops", exc_info=(kind, exc, tb))
