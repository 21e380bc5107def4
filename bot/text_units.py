"""Message lengths as Telegram counts them, and cutting texts to fit.

Telegram limits a message to 4,096 *UTF-16 code units* of text, counted after the
HTML is parsed: an emoji such as 😀 counts two, ``<b>`` counts nothing, ``&amp;``
counts one. Python's ``len`` counts code points, so a text of 3,500 ``len`` may be
refused ("message is too long"), and one refused message used to block a whole
delivery queue.

The core writes texts in its own markup (``**bold**``, turned into ``<b>`` by the
Telegram adapter after escaping): what Telegram counts is exactly the text without
the ``**`` of each bold pair. So texts are measured and cut here, *before* they
become HTML: a cut can never fall inside a tag or an entity, and a bold span cut in
two is closed at the end of one piece and reopened at the start of the next.
"""
from __future__ import annotations

import re

#: Telegram's limit for a message text, in UTF-16 code units after entity parsing.
TELEGRAM_LIMIT = 4096
#: What a stored message may hold: room is left for what is added at send time
#: (the "sent again after an outage" label, a status line under a request).
STORED_LIMIT = 3900
#: Marks a text that had to be shortened.
ELLIPSIS = "…"

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_MARK = "**"


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (an astral character, e.g. most emoji, counts 2)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def visible_len(text: str) -> int:
    """Length Telegram will count for a core text: UTF-16 units, without the ``**`` of bold pairs."""
    return utf16_len(_BOLD.sub(r"\1", text))


def _runs(text: str) -> list[tuple[str, bool]]:
    """The text as (visible characters, bold?) runs, in order."""
    runs: list[tuple[str, bool]] = []
    last = 0
    for match in _BOLD.finditer(text):
        if match.start() > last:
            runs.append((text[last:match.start()], False))
        runs.append((match.group(1), True))
        last = match.end()
    if last < len(text):
        runs.append((text[last:], False))
    return runs


def _cut_point(chars: str, units: list[int], start: int, limit: int) -> int:
    """Index (exclusive) where the piece starting at ``start`` ends: at most ``limit`` units.

    Prefers the end of a line, then a space, in the second half of the window, so a
    word (and an emoji sequence between two spaces) is rarely cut.
    """
    end = start
    total = 0
    while end < len(chars) and total + units[end] <= limit:
        total += units[end]
        end += 1
    if end >= len(chars):
        return end
    half = start + (end - start) // 2
    for sep in ("\n", " "):
        cut = chars.rfind(sep, half, end)
        if cut > start:
            return cut
    return max(end, start + 1)


def _render(chars: str, bold: list[bool]) -> str:
    """Core markup for visible characters with their bold flags (bold spans get ``**`` back)."""
    out: list[str] = []
    i = 0
    while i < len(chars):
        j = i
        while j < len(chars) and bold[j] == bold[i]:
            j += 1
        run = chars[i:j]
        if bold[i] and run.strip():
            out.append(f"{_MARK}{run}{_MARK}")
        else:
            out.append(run)
        i = j
    return "".join(out)


def split_units(text: str, limit: int = STORED_LIMIT) -> list[str]:
    """Cut a core text into pieces of at most ``limit`` units as Telegram counts them.

    Pieces are cut between lines when possible, else between words; a bold span
    cut in two stays bold in both pieces. Blank pieces are dropped.
    """
    if visible_len(text) <= limit:
        return [text] if text.strip() else []
    runs = _runs(text)
    chars = "".join(run for run, _ in runs)
    bold = [flag for run, flag in runs for _ in run]
    units = [2 if ord(ch) > 0xFFFF else 1 for ch in chars]
    pieces: list[str] = []
    start = 0
    while start < len(chars):
        end = _cut_point(chars, units, start, limit)
        piece = _render(chars[start:end], bold[start:end]).strip()
        if piece:
            pieces.append(piece)
        start = end
        while start < len(chars) and chars[start] in " \n":
            start += 1
    return pieces


#: Telegram's limit for a forum topic's name (plain text, no markup), in UTF-16 units.
TOPIC_NAME_LIMIT = 128


def cut_plain_units(text: str, limit: int) -> str:
    """Plain text (a forum topic's name: no markup) cut to at most ``limit`` UTF-16 units.

    ``text[:limit]`` counts code points: a name full of emoji would be refused, and one cut
    inside a character pair is not valid text. This cuts between characters, by units.
    """
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def truncate_units(text: str, limit: int = TELEGRAM_LIMIT) -> str:
    """``text`` shortened to fit ``limit`` units, ending with an ellipsis when it was cut."""
    if visible_len(text) <= limit:
        return text
    return split_units(text, limit - utf16_len(ELLIPSIS))[0].rstrip() + ELLIPSIS
