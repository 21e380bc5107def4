"""Opt-in reminders: what prospects asked to be told, and when (issue 13).

The kinds of reminder and their triggers are knowledge (``knowledge/reminders.yaml``);
who said yes, and what was sent, live in SQLite (:mod:`bot.reminders.store`). Due
moments are computed from the current knowledge at each round, never stored, so a
date changed in the base moves the pending reminders with it.
"""
