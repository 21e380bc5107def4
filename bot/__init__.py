"""The admissions assistant's core: knowledge base, matching, conversation, storage, staff handoff.

Nothing in this package imports Telegram: the same core serves the Telegram handlers
(``handlers/``) and the terminal chat (``run_bot.py chat``).
"""
