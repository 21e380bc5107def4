"""Lengths as Telegram counts them (UTF-16 code units, tags excluded) and texts cut to fit."""
from __future__ import annotations

import re

from bot.text_units import (TELEGRAM_LIMIT, TOPIC_NAME_LIMIT, cut_plain_units, split_units, truncate_units, utf16_len,
                             visible_len)
from handlers.render import telegram_messages, to_html
from bot.conversation.messages import Reply

EMOJI = "😀"  # outside the Basic Multilingual Plane: two UTF-16 units, one Python character


def _parsed_len(html_text: str) -> int:
    """What Telegram counts in an HTML message: tags removed, each entity one character."""
    text = re.sub(r"<[^>]+>", "", html_text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return utf16_len(text)


def test_emoji_count_two_units_and_bold_marks_count_nothing() -> None:
    assert utf16_len(EMOJI) == 2 and len(EMOJI) == 1
    assert utf16_len("é") == 1
    assert visible_len(f"**Léa {EMOJI}** & co") == len("Léa ") + 2 + len(" & co")


def test_an_emoji_heavy_text_is_split_into_pieces_telegram_accepts() -> None:
    text = "a" * 2900 + EMOJI * 598  # 4,096 units: the label pushes it over the limit
    labelled = f"💬 **Léa (n°3) :**\n{text}"
    assert visible_len(labelled) > TELEGRAM_LIMIT and len(labelled) < TELEGRAM_LIMIT
    pieces = split_units(labelled)
    assert len(pieces) == 2
    assert all(visible_len(p) <= 3900 for p in pieces)
    assert "".join(pieces).replace("**", "").replace("\n", "") == labelled.replace("**", "").replace("\n", "")


def test_every_rendered_message_fits_once_tags_and_entities_are_parsed() -> None:
    text = "\n".join(f"**{EMOJI * 30} <b> & {i}** fin de ligne {EMOJI}" for i in range(300))
    messages = telegram_messages(Reply(text))
    assert len(messages) > 1
    for html_text, _ in messages:
        assert _parsed_len(html_text) <= TELEGRAM_LIMIT
        assert html_text.count("<b>") == html_text.count("</b>")


def test_a_bold_span_cut_in_two_is_closed_and_reopened() -> None:
    text = "**" + "mot " * 50 + "**"
    pieces = split_units(text, 60)
    assert len(pieces) > 1
    for piece in pieces:
        assert piece.startswith("**") and piece.endswith("**")
        assert to_html(piece).startswith("<b>") and to_html(piece).endswith("</b>")


def test_a_text_without_spaces_is_cut_between_characters_never_inside_an_emoji() -> None:
    pieces = split_units(EMOJI * 5000, TELEGRAM_LIMIT)
    assert [utf16_len(p) for p in pieces] == [4096, 4096, 1808]


def test_truncation_ends_with_an_ellipsis_and_fits() -> None:
    cut = truncate_units(EMOJI * 3000, TELEGRAM_LIMIT)
    assert cut.endswith("…") and visible_len(cut) <= TELEGRAM_LIMIT
    assert truncate_units("court") == "court"


def test_a_topic_name_full_of_emoji_is_cut_by_units_never_inside_a_pair() -> None:
    """Forum topic names (128 units): a first name of emoji cut by characters was refused by Telegram."""
    name = "Conversation n°7 · " + "😀" * 100  # 19 units, then pairs: the 128th unit falls inside one
    cut = cut_plain_units(name, TOPIC_NAME_LIMIT)
    assert utf16_len(cut) <= TOPIC_NAME_LIMIT < utf16_len(name[:TOPIC_NAME_LIMIT])
    assert cut.endswith("😀") and name.startswith(cut) and utf16_len(cut) == TOPIC_NAME_LIMIT - 1
    assert cut_plain_units("**Zoé**", TOPIC_NAME_LIMIT) == "**Zoé**"  # plain text: no markup is read
