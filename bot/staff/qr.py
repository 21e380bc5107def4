"""QR codes of the tracking links, for flyers and fair stands (``run_bot.py qr SOURCE``).

A prospect who scans the code opens ``https://t.me/<bot>?start=SOURCE``; the bot
stores SOURCE with the prospect (``/start`` payload) and ``/stats`` counts each
campaign's funnel. Telegram accepts only ``A-Z a-z 0-9 _ -``, up to 64 characters,
as a ``start`` parameter: anything else is refused here, before a thousand flyers
are printed with a link that opens the bot without its source. segno writes PNG
and SVG itself (no imaging library).
"""
from __future__ import annotations

import re
from pathlib import Path

import segno

#: Telegram's rule for deep-link parameters.
SOURCE_RULE = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Telegram's rule for bot usernames (5-32 characters, ending in "bot").
USERNAME_RULE = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")


def valid_source(source: str) -> bool:
    """Whether Telegram passes ``source`` to the bot unchanged as the ``/start`` parameter."""
    return SOURCE_RULE.fullmatch(source) is not None


def deep_link(username: str, source: str) -> str:
    """The link that opens the bot with ``source``; ValueError for an invalid source or username."""
    username = username.lstrip("@")
    if not valid_source(source):
        raise ValueError("source")
    if USERNAME_RULE.fullmatch(username) is None:
        raise ValueError("username")
    return f"https://t.me/{username}?start={source}"


def make_qr(link: str) -> segno.QRCode:
    """The QR code of a link (error correction M, enough for a flyer folded once)."""
    return segno.make_qr(link, error="m", boost_error=False)


def save(qr: segno.QRCode, out: Path) -> None:
    """Write ``out`` as PNG or SVG after its extension (big modules: it is printed)."""
    if out.suffix.lower() not in (".png", ".svg"):
        raise ValueError("extension")
    qr.save(str(out), scale=10, border=4)
