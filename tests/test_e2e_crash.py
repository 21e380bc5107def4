"""End to end: the bot killed with SIGKILL again and again while prospects pre-register.

A killer thread sends SIGKILL to the bot process at random moments and starts it
again at once, while prospects go through the whole form. At the end every
prospect has exactly one pre-registration and the staff group got every lead:
nothing lost, nothing doubled in silence. A kill that falls inside the HTTP round
trip of a notification (Telegram posted it, the bot never heard back) makes the bot
post it again, since sendMessage has no idempotency key; that second copy must say
on its first line that it may be a repetition.
"""
from __future__ import annotations

import random
import re
import sqlite3
import threading
import time
from pathlib import Path

from testing.process import intake_steps
from test_e2e_delivery import resend_label

STAFF_CHAT = -100777
STAFF_MEMBER = 9001
PROSPECTS = range(8801, 8811)


def steps(n: int) -> list[tuple[str, str, str]]:
    """(kind, what to send, what the bot answers) for one whole pre-registration."""
    return [
        ("command", "/inscription", "RGPD"),
        ("button", "✅ J'accepte", "nom de famille"),
        ("text", "Martin", "prénom"),
        ("text", f"Léa-{chr(65 + n % 26)}", "date de naissance"),
        ("text", "12/03/2006", "adresse e-mail"),
        ("text", f"lea{n}@example.com", "numéro de téléphone"),
        ("text", "06 12 34 56 78", "diplôme le plus élevé"),
        ("button", "Bac pro", "situation"),
        ("button", "Lycéen·ne", "entreprise d'accueil"),
        ("button", "🔎 Je cherche encore", "connu l'école"),
        *[("button", label, expect) for label, expect in intake_steps()],
        ("button", "✅ Confirmer et envoyer", r"MCO-[A-Z0-9]{6}"),
    ]


def send(double, user: int, kind: str, payload: str) -> None:
    if kind == "command":
        double.push_command(user, payload, first_name="Léa", last_name="Martin")
    elif kind == "button":
        double.click_button(user, payload)
    else:
        double.push_text(user, payload, first_name="Léa", last_name="Martin")


def killer(process, stop: threading.Event, kills: list[float], rng: random.Random) -> None:
    """Kill the bot a random while after it is up again, so it dies at every stage of its work."""
    while not stop.wait(rng.uniform(0.05, 0.8)):
        kills.append(time.monotonic())
        process.restart(crash=True, wait=True, timeout=30)


def test_sigkill_at_any_moment_loses_nothing_and_duplicates_nothing_silently(
        botapi_double, bot_process_factory, tmp_path: Path) -> None:
    double = botapi_double
    double.register_group(STAFF_CHAT, "Admissions", members=[STAFF_MEMBER])
    process = bot_process_factory(STAFF_CHAT_ID=STAFF_CHAT, STAFF_USER_IDS=STAFF_MEMBER)
    stop, kills = threading.Event(), []
    thread = threading.Thread(target=killer, args=(process, stop, kills, random.Random(7)), daemon=True)
    thread.start()
    try:
        for user in PROSPECTS:
            for kind, payload, expect in steps(user):
                mark = double.mark()
                send(double, user, kind, payload)
                double.wait_for_text(user, expect, since=mark, timeout=60)
    finally:
        stop.set()
        thread.join()
    assert len(kills) >= 3, "the bot was really killed during the run"
    process.wait_ready()

    db = sqlite3.connect(tmp_path / "bot.db")
    refs = dict(db.execute("SELECT user_id, ref FROM registrations").fetchall())
    assert sorted(refs) == list(PROSPECTS)
    for user in PROSPECTS:
        double.wait_for_text(STAFF_CHAT, re.escape(refs[user]), timeout=30)
    time.sleep(1.0)  # let any duplicate that would come arrive
    staff_texts = [m["text"] for m in double.messages_to(STAFF_CHAT)]
    outbox = db.execute("SELECT id, ref, status, attempts, sent_message_id FROM outbox").fetchall()
    label = resend_label()
    for ref in refs.values():
        copies = [t for t in staff_texts if ref in t]
        unlabelled = [t for t in copies if not t.startswith(label)]
        sends = [round(c.done_at or 0, 3) for c in double.calls("sendMessage") if c.chat_id == STAFF_CHAT]
        context = f"kills at {kills}; sends {sends}; outbox {outbox}"
        assert copies, f"lead {ref} never notified; {context}"
        assert len(unlabelled) <= 1, f"lead {ref} notified {len(unlabelled)} times without a label; {context}"
