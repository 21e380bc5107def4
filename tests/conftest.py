"""The fixtures every test may use, defined once (pytest finds them here, no import needed).

- ``botapi_double``, ``bot_process_factory``, ``bot_process``: the Bot API double and the
  real bot process against it (:mod:`testing.fixtures`, where all of these are defined);
- ``knowledge``: the project's knowledge base, loaded once per test module;
- ``faq``: its FAQ answering as of ``testing.fixtures.EVAL_DAY``;
- ``assistant_builder``: ``assistant_builder(path, clock=None, **settings)``, an assistant
  on that knowledge (:func:`testing.assistants.build_assistant`).
"""
from __future__ import annotations

from testing.fixtures import (  # noqa: F401 (pytest collects the fixtures from this module's names)
    bot_api_double,
    bot_process,
    bot_process_factory,
    botapi_double,
    assistant_builder,
    faq,
    knowledge,
)
