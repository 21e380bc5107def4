"""HTML ``parse_mode`` and keyboards, checked the way Telegram checks them."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from testing.botapi.records import MAX_CALLBACK_DATA_BYTES, _bad_request


class EntityParseError(ValueError):
    """Raised by :func:`parse_html` for markup Telegram would refuse."""


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
