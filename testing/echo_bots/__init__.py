"""Minimal python-telegram-bot bots, run as scripts against the Bot API double.

``echo.py`` is the latency floor of the load benchmark; ``rate_limited.py`` proves that the
double's 429 answers are retried by PTB's rate limiter.
"""
