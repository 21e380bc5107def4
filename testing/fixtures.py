"""The pytest fixtures of the end-to-end tests, defined once.

``tests/conftest.py`` provides them to every test (no import by name needed);
``tests/e2e_support.py`` still exports them for modules that import them.
"""
from __future__ import annotations

import datetime as dt

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.clock import Clock
from bot.conversation.engine import Assistant
from bot.conversation.faq import Faq
from bot.knowledge.store import KnowledgeStore
from testing.assistants import KNOWLEDGE_DIR, build_assistant as _build_assistant
from testing.botapi import BotApiDouble
from testing.process import BotProcess, bot_env

__all__ = ["bot_api_double", "bot_process", "bot_process_factory", "botapi_double", "assistant_builder", "knowledge"]


@pytest.fixture
def botapi_double() -> Iterator[BotApiDouble]:
    """A started :class:`BotApiDouble`, stopped after the test."""
    double = BotApiDouble().start()
    try:
        yield double
    finally:
        double.stop()


bot_api_double = botapi_double  # alias for the spelling used in some briefs


@pytest.fixture
def bot_process_factory(
    botapi_double: BotApiDouble, tmp_path: Path
) -> Iterator[Callable[..., BotProcess]]:
    """Factory ``make(command=None, *, env=None, name="bot", ready=True, **env_vars)``.

    Builds a :class:`BotProcess` with :func:`bot_env` (plus ``env``/``env_vars``),
    starts it and, unless ``ready=False``, waits until it polls.  At teardown every
    process is stopped and its log tail printed — pytest shows that output in the
    report of a failing test only.
    """
    created: list[BotProcess] = []

    def make(
        command: Sequence[str] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        name: str = "bot",
        ready: bool = True,
        **env_vars: str | int | Path,
    ) -> BotProcess:
        full_env = bot_env(botapi_double, tmp_path, **env_vars)
        full_env.update(env or {})
        process = BotProcess(command, env=full_env, log_dir=tmp_path / "logs",
                             name=f"{name}{len(created) or ''}", double=botapi_double)
        created.append(process)
        process.start()
        if ready:
            process.wait_ready()
        return process

    yield make
    for process in created:
        code = process.stop(timeout=5)
        sys.stderr.write(f"{process!r} stopped with code {code}\n{process.log_tail()}\n")


@pytest.fixture
def bot_process(bot_process_factory: Callable[..., BotProcess]) -> BotProcess:
    """``run_bot.py`` started against the double and polling."""
    return bot_process_factory()


@pytest.fixture(scope="module")
def knowledge() -> KnowledgeStore:
    """The real knowledge base, which must load without problems."""
    store = KnowledgeStore(KNOWLEDGE_DIR)
    assert not store.startup_problems, store.startup_problems
    return store


@pytest.fixture
def assistant_builder(knowledge: KnowledgeStore) -> Callable[..., Assistant]:
    """Build assistants on the real knowledge: ``assistant_builder(path, clock=None, **settings)``."""
    def build(path: Path, clock: Clock | None = None, **options: Any) -> Assistant:
        return _build_assistant(knowledge, path, clock, **options)

    return build


#: The day the FAQ fixtures answer for: the expectations about dates are written for it
#: (the shared evaluation asks on the same day).
EVAL_DAY = dt.date(2026, 11, 22)


@pytest.fixture
def faq(knowledge: KnowledgeStore) -> Faq:
    """The FAQ of the real base, answering as of :data:`EVAL_DAY`."""
    return Faq(knowledge.current, knowledge.current.renderer(EVAL_DAY))
