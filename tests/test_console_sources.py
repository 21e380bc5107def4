"""Where prospects come from: ``run_bot.py qr`` and the funnel per source in /stats and ``run_bot.py stats``."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.conversation.engine import Assistant
from bot.conversation.messages import Incoming, Kind, Person
from bot.staff import qr
from bot.storage.staff import KIND_LEAD
from e2e_support import botapi_double  # noqa: F401 (fixture)
from test_staff import ZOE, assistant, deliver_all, knowledge, message_of, pre_register, staff  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def run_bot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_", "STAFF_"))}
    return subprocess.run([sys.executable, "run_bot.py", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**clean, **(env or {})}, timeout=120)


@pytest.mark.parametrize("source", ["salon_etudiant-2026", "A", "x" * 64])
def test_valid_sources(source: str) -> None:
    assert qr.valid_source(source)


@pytest.mark.parametrize("source", ["", "x" * 65, "salon étudiant", "flyer!", "a/b", "porte ouverte"])
def test_invalid_sources_are_refused(source: str) -> None:
    assert not qr.valid_source(source)
    with pytest.raises(ValueError):
        qr.deep_link("SacreCoeurBot", source)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_qr_command_writes_a_code_that_decodes_to_the_link(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"flyer{suffix}"
    done = run_bot("qr", "salon_amiens-2026", "--out", str(out), "--bot-username", "SacreCoeurBot")
    assert done.returncode == 0, done.stderr
    link = "https://t.me/SacreCoeurBot?start=salon_amiens-2026"
    assert done.stdout.strip() == link
    assert out.stat().st_size > 0
    if suffix == ".png":
        zxingcpp = pytest.importorskip("zxingcpp")
        from PIL import Image  # zxing-cpp reads images through Pillow or numpy

        [result] = zxingcpp.read_barcodes(Image.open(out))
        assert result.text == link
    else:
        assert out.read_text().startswith("<?xml") or "<svg" in out.read_text()


def test_qr_command_refuses_an_invalid_source() -> None:
    done = run_bot("qr", "salon étudiant", "--bot-username", "SacreCoeurBot")
    assert done.returncode == 2 and "64 caractères" in done.stderr


def test_funnel_per_source(assistant: Assistant) -> None:
    prospects = [Person(5000 + i, "P", "X") for i in range(4)]
    for person, source in zip(prospects, ["salon", "salon", "salon", "flyer"]):
        assistant.handle(Incoming(person, Kind.COMMAND, "start", (source,)))
    assistant.handle(Incoming(prospects[0], Kind.TEXT, "c'est payant la formation ?"))
    assistant.handle(Incoming(prospects[1], Kind.TEXT, "c'est quoi le rythme"))
    assistant.handle(Incoming(ZOE, Kind.COMMAND, "start", ("salon",)))
    ref = pre_register(assistant)
    deliver_all(assistant)
    staff(assistant, callback_data=f"s:l:contacte:{ref}", message_id=message_of(assistant, KIND_LEAD))
    text = staff(assistant, command="stats").replies[0].text
    assert "• salon : 4 → 2 → 1 → 1 → 0" in text
    assert "• flyer : 1 → 0 → 0 → 0 → 0" in text


def test_qr_asks_telegram_for_the_bot_username(botapi_double) -> None:  # noqa: F811
    done = run_bot("qr", "flyer_lycees", env={"TELEGRAM_BOT_TOKEN": botapi_double.token,
                                              "TELEGRAM_BASE_URL": botapi_double.base_url})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"https://t.me/{botapi_double.bot_user['username']}?start=flyer_lycees"
