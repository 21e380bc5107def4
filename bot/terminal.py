"""The same conversation in a terminal: how anyone tries the bot without a token.

Buttons are shown as numbered choices; typing the number presses the button.
``/commande arguments`` works as on Telegram.
"""
from __future__ import annotations

import sys
from typing import Callable, TextIO

from bot.conversation.engine import Assistant
from bot.conversation.messages import Button, Incoming, Kind, Person, Reply

TERMINAL_USER = Person(user_id=1, first_name="", last_name="")


def parse_input(line: str, person: Person, choices: list[Button]) -> Incoming:
    """Turn a typed line into what a Telegram update would have been."""
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return Incoming(person, Kind.BUTTON, choices[int(text) - 1].data)
    if text.startswith("/") and len(text) > 1:
        name, *args = text[1:].split()
        return Incoming(person, Kind.COMMAND, name.split("@")[0].lower(), tuple(args))
    return Incoming(person, Kind.TEXT, text)


def format_reply(reply: Reply, first_number: int) -> str:
    """A reply as terminal text, buttons numbered from ``first_number``."""
    lines = [reply.plain_text()]
    for offset, button in enumerate(reply.flat_buttons()):
        lines.append(f"  [{first_number + offset}] {button.label}")
    return "\n".join(lines)


def run_chat(assistant: Assistant, stdin: TextIO = sys.stdin, out: Callable[[str], None] = print,
             person: Person = TERMINAL_USER) -> None:
    """Talk with the assistant until end of input or ``/quitter``."""
    interactive = stdin.isatty()
    out("Assistant des admissions (terminal). Tape ta question, un numéro de choix, /menu, ou /quitter.")
    choices = _show(assistant.handle(Incoming(person, Kind.COMMAND, "start")), out)
    while True:
        if interactive:
            out("")
        try:
            line = input("> ") if interactive and stdin is sys.stdin else stdin.readline()
        except (EOFError, KeyboardInterrupt):
            break
        if not line:
            break
        if line.strip() in {"/quitter", "/quit", "/exit"}:
            break
        if not line.strip():
            continue
        if not interactive:
            out(f"> {line.rstrip()}")
        choices = _show(assistant.handle(parse_input(line, person, choices)), out)
    out("À bientôt ! 👋")


def _show(replies: list[Reply], out: Callable[[str], None]) -> list[Button]:
    choices: list[Button] = []
    for reply in replies:
        out(format_reply(reply, len(choices) + 1))
        choices.extend(reply.flat_buttons())
    return choices
