"""Per-prospect flood control: one person typing 50 messages in 5 seconds is slowed
down with a notice, without anybody else noticing.

A sliding window per prospect, in memory: losing it at a restart only forgives a
flooder, which is harmless. Messages over the limit are not answered (the notice
says so once per burst), so one person cannot monopolise the bot's time.
"""
from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """Whether to handle a message, and whether to tell the prospect to slow down."""

    allowed: bool
    notify: bool = False


class FloodControl:
    """At most ``limit`` messages per ``window`` seconds per prospect."""

    def __init__(self, limit: int = 12, window: float = 5.0) -> None:
        self.limit = limit
        self.window = window
        self._times: dict[int, deque[float]] = defaultdict(deque)
        self._notified: set[int] = set()

    def check(self, user_id: int, now: float) -> Verdict:
        """Record a message at ``now`` (seconds, monotonic) and judge it."""
        times = self._times[user_id]
        while times and now - times[0] > self.window:
            times.popleft()
        if len(times) >= self.limit:
            first = user_id not in self._notified
            self._notified.add(user_id)
            return Verdict(allowed=False, notify=first)
        times.append(now)
        self._notified.discard(user_id)
        if len(self._times) > 10000:  # forget idle prospects so memory stays bounded
            self._forget_idle(now)
        return Verdict(allowed=True)

    def _forget_idle(self, now: float) -> None:
        for user_id in [u for u, t in self._times.items() if not t or now - t[-1] > self.window]:
            del self._times[user_id]
