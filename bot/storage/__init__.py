"""SQLite storage (through sqlite-utils): everything that must survive a restart.

Timestamps: every column holds UTC, written and read only through
:mod:`bot.storage.times` (``to_db`` / ``from_db``), so they compare as text and with
``julianday()`` across daylight-saving changes. Paris time exists only at the edges:
the clock that gives "now" (``bot/clock.py``) and what people are shown (``in_paris``).
"""
