"""Pytest helpers to run a real bot process against the local Bot API double.

Why: end-to-end tests must exercise the bot exactly as it runs in production — a
separate process started from the command line, configured only by environment
variables, stopped by SIGTERM, sometimes crashing.  :class:`BotProcess` wraps such a
process, keeps its stdout/stderr in files and puts their tail in assertion messages
and in the test report, so a failing e2e test shows what the bot logged.

The fixtures (``botapi_double``, ``bot_process_factory``, ``bot_process``) are in
:mod:`testing.fixtures`, provided to every test by ``tests/conftest.py``::

    def test_start(botapi_double, bot_process_factory):
        bot = bot_process_factory()            # run_bot.py, started and ready
        botapi_double.push_command(42, "/start")
        botapi_double.wait_for_text(42, "Bonjour")
"""
from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from testing.botapi import BotApiDouble

__all__ = [
    "PROJECT_ROOT",
    "BotApiDouble",
    "BotProcess",
    "bot_env",
    "intake_steps",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COMMAND: tuple[str, ...] = (sys.executable, "run_bot.py")

# Settings read by bot/config.py: always set explicitly so a developer's .env or shell
# cannot leak into a test run (load_dotenv never overrides a variable that is set).
_BOT_SETTINGS_DEFAULTS: dict[str, str] = {
    "STAFF_CHAT_ID": "",
    "STAFF_USER_IDS": "",
    "OFFICE_HOURS": "",
    "OFFICE_DAYS": "",
    "RETENTION_MONTHS": "",
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "",
    # Tests drive conversations far faster than a person types; flood control has its
    # own test, which sets the production limit explicitly.
    "FLOOD_LIMIT": "10000",
    "FLOOD_WINDOW": "",
    # The daily digest would otherwise appear in the staff group of any test run after 08:30;
    # the digest's own test sets DIGEST_TIME.
    "DIGEST_TIME": "off",
    "CAMPAIGN_IN_FLIGHT": "",
    "CAMPAIGN_RATE": "",
}
_SCRUBBED_PREFIXES = ("TELEGRAM_", "BOT_", "STAFF_", "KNOWLEDGE_", "OFFICE_", "FLOOD_")

_LIVE_PROCESSES: set[BotProcess] = set()


def _kill_leftovers() -> None:
    """Never leave a bot polling a dead port after the test run."""
    for process in list(_LIVE_PROCESSES):
        process.kill()


atexit.register(_kill_leftovers)


def bot_env(double: BotApiDouble, tmp_path: Path, **extra: str | int | Path) -> dict[str, str]:
    """Environment for a bot process talking to ``double``, with its own database.

    ``extra`` adds or overrides variables (values are converted with ``str``).
    """
    env = dict(_BOT_SETTINGS_DEFAULTS)
    env.update(
        TELEGRAM_BOT_TOKEN=double.token,
        TELEGRAM_BASE_URL=double.base_url,
        BOT_DATABASE=str(tmp_path / "bot.db"),
        KNOWLEDGE_DIR=str(PROJECT_ROOT / "knowledge"),
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


class BotProcess:
    """A bot run as a subprocess, with captured logs.

    ``env`` is added to a scrubbed copy of the current environment (any
    ``TELEGRAM_*``/``BOT_*``/``STAFF_*``... variable of the caller is removed first).
    stdout/stderr go to ``<log_dir>/<name>.stdout.log`` / ``.stderr.log``; restarts
    append to the same files after a ``=== start #n ===`` line.
    """

    def __init__(
        self,
        command: Sequence[str] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path = PROJECT_ROOT,
        log_dir: Path | None = None,
        name: str = "bot",
        double: BotApiDouble | None = None,
    ) -> None:
        self.command = list(command or DEFAULT_COMMAND)
        self.env = dict(env or {})
        self.cwd = Path(cwd)
        self.log_dir = Path(log_dir) if log_dir else PROJECT_ROOT / ".pytest_cache" / "bot-logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.double = double
        self.stdout_path = self.log_dir / f"{name}.stdout.log"
        self.stderr_path = self.log_dir / f"{name}.stderr.log"
        self.starts = 0
        self._popen: subprocess.Popen[bytes] | None = None
        self._start_mark = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def pid(self) -> int | None:
        """Process id of the current run (None before start)."""
        return self._popen.pid if self._popen else None

    @property
    def returncode(self) -> int | None:
        """Exit code of the last run (None while running or before start)."""
        return self._popen.poll() if self._popen else None

    def is_running(self) -> bool:
        """True while the process is alive."""
        return self._popen is not None and self._popen.poll() is None

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
        for key in _BOT_SETTINGS_DEFAULTS:
            env.pop(key, None)
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        env.update(self.env)
        return env

    def start(self) -> BotProcess:
        """Launch the command (no-op if already running)."""
        if self.is_running():
            return self
        self.starts += 1
        banner = f"=== start #{self.starts} {time.strftime('%H:%M:%S')} {' '.join(self.command)} ===\n"
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            out.write(banner.encode())
            err.write(banner.encode())
            out.flush()
            err.flush()
            if self.double is not None:
                self._start_mark = self.double.mark()
            self._popen = subprocess.Popen(  # noqa: S603 - test helper, trusted command
                self.command, cwd=self.cwd, env=self._environment(),
                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            )
        _LIVE_PROCESSES.add(self)
        return self

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM (graceful PTB shutdown), wait up to ``timeout``, then SIGKILL."""
        if not self.is_running():
            _LIVE_PROCESSES.discard(self)
            return self.returncode
        assert self._popen is not None
        self._popen.send_signal(signal.SIGTERM)
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self._popen.kill()
            self._popen.wait(5)
        _LIVE_PROCESSES.discard(self)
        return self._popen.returncode

    def kill(self) -> int | None:
        """SIGKILL (a crash: no shutdown code runs) and reap the process."""
        if self.is_running():
            assert self._popen is not None
            self._popen.kill()
            self._popen.wait(5)
        _LIVE_PROCESSES.discard(self)
        return self.returncode

    def restart(self, *, crash: bool = False, wait: bool = True, timeout: float = 15) -> BotProcess:
        """Stop (or, with ``crash``, kill) and start again; by default wait until ready."""
        if crash:
            self.kill()
        else:
            self.stop()
        self.start()
        if wait and self.double is not None:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 15) -> None:
        """Wait until this run has called ``getUpdates`` on the double (polling started).

        Fails fast, with the log tail, if the process exits first.
        """
        if self.double is None:
            raise RuntimeError("wait_ready() needs the BotProcess to know the double")
        double, mark = self.double, self._start_mark

        def ready_or_dead() -> bool:
            return bool(double.calls("getUpdates", since=mark)) or not self.is_running()

        try:
            double.wait_until(ready_or_dead, timeout, "the bot to poll getUpdates")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log_tail()}") from None
        if not self.is_running():
            raise AssertionError(
                f"bot process exited with code {self.returncode} before polling\n{self.log_tail()}"
            )

    def __enter__(self) -> BotProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ logs

    def stdout_text(self) -> str:
        """Everything the process wrote on stdout (all runs)."""
        return self.stdout_path.read_text("utf-8", "replace") if self.stdout_path.exists() else ""

    def stderr_text(self) -> str:
        """Everything the process wrote on stderr (all runs) — where logging goes."""
        return self.stderr_path.read_text("utf-8", "replace") if self.stderr_path.exists() else ""

    def log_tail(self, lines: int = 60) -> str:
        """Last lines of stderr and stdout, with the file paths, for failure messages."""
        parts = []
        for label, path, text in (("stderr", self.stderr_path, self.stderr_text()),
                                  ("stdout", self.stdout_path, self.stdout_text())):
            tail = "\n".join(text.splitlines()[-lines:])
            parts.append(f"----- {self.name} {label} ({path}) -----\n{tail}")
        return "\n".join(parts)

    def __repr__(self) -> str:
        state = "running" if self.is_running() else f"exited({self.returncode})"
        return f"<BotProcess {self.name} pid={self.pid} {state} {self.command}>"


def intake_steps() -> list[tuple[str, str]]:
    """(button to press, text expected) after "connu l'école", as the real bot asks them today.

    The form asks which intake the person aims at only while two are possible (from the
    start day to the late-entry deadline, in Paris time): the bot process runs on the real
    clock, so the end-to-end flows follow the same rule instead of assuming a date.
    """
    from bot.clock import Clock
    from bot.knowledge.intake import intake_of, possible_years
    from bot.knowledge.loader import load_knowledge

    kb, _ = load_knowledge(Path(__file__).resolve().parent.parent / "knowledge")
    if len(possible_years(Clock().today(), intake_of(kb.facts))) < 2:
        return [("Parcoursup", "Récapitulatif")]
    return [("Parcoursup", "Pour quelle"), ("📅 La suivante", "Récapitulatif")]
