"""Test doubles and helpers shared by ``tests/`` and ``benchmarks/``.

``testing.botapi`` is a local Bot API server the real python-telegram-bot stack talks to;
``testing.process`` starts the bot as a real process against it; ``testing.echo_bots``
are minimal bots for measuring the double and python-telegram-bot themselves.
"""
