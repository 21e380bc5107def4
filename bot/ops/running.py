"""Knowing, from another process, whether a bot is running on a database.

Why: ``restore`` replaces the database; doing it under a running bot would mix two
histories (the bot keeps writing through its open connection). A pid file can lie
after a kill -9; an advisory lock (``flock``) cannot: the kernel releases it when the
process dies, however it dies. The running bot holds a *shared* lock on
``<database>.lock`` for its whole life; ``restore`` takes it *exclusively*, without
waiting, so it fails while any bot runs and keeps any bot from starting meanwhile.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class DatabaseBusy(RuntimeError):
    """Another process holds the database's lock (a bot running, or a restore under way)."""


def lock_path(database: Path | str) -> Path:
    """The lock file beside the database (``data/bot.db`` → ``data/bot.db.lock``)."""
    return Path(f"{database}.lock")


@contextlib.contextmanager
def _locked(database: Path | str, mode: int) -> Iterator[None]:
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseBusy(str(path)) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


def bot_running_lock(database: Path | str) -> contextlib.AbstractContextManager[None]:
    """Held by the bot while it runs (shared: it never stops a second bot, only a restore)."""
    return _locked(database, fcntl.LOCK_SH)


def exclusive_lock(database: Path | str) -> contextlib.AbstractContextManager[None]:
    """Held by ``restore``: raises :class:`DatabaseBusy` if a bot runs on ``database``."""
    return _locked(database, fcntl.LOCK_EX)
