"""Faults injected into the double."""
from __future__ import annotations

from collections.abc import Callable

from testing.botapi.records import Fault


class FaultsMixin:
    """Faults a test injects: errors, unreachable chats, users who blocked the bot.

    A part of :class:`~testing.botapi.double.BotApiDouble`, which holds the state it uses.
    """

    def inject(
        self,
        method: str,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        description: str | None = None,
        times: int | None = 1,
        chat_id: int | None = None,
        delay: float | None = None,
        hang: bool = False,
        applied: bool | None = None,
    ) -> Fault:
        """Make the next ``times`` calls of ``method`` (``"*"`` = any but getUpdates),
        optionally only for ``chat_id``, misbehave.

        ``status``: 429 (``retry_after``, default 1 s), 403 (blocked), 400, 409, 500 →
        Bot API JSON error; 502/503/504 → nginx HTML page (unless ``description``).
        ``delay``: answer after that many seconds.  ``hang``: never answer; the
        client's read timeout fires.  ``applied``: whether the call still takes effect
        (default: yes for a pure delay/hang, no for an error).  ``times=None`` =
        until ``fault.cancel()``/``clear_faults()``.
        """
        if status is None and delay is None and not hang:
            raise ValueError("inject() needs status, delay or hang")
        fault = Fault(
            method=method.lower() if method != "*" else "*",
            status=status, retry_after=retry_after, description=description,
            remaining=times, chat_id=chat_id, delay=delay, hang=hang,
            applied=(status is None) if applied is None else applied,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail_chat(
        self,
        chat_id: int,
        status: int = 502,
        *,
        until: Callable[[], bool] | int | None = None,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> Fault:
        """Make every call aimed at ``chat_id`` fail with ``status``: ``until`` = a count
        of failing calls, or a callable (fail while it returns False), or None (until
        :meth:`heal_chat`)."""
        fault = Fault(
            method="*", status=status, retry_after=retry_after, description=description,
            remaining=until if isinstance(until, int) else None, chat_id=chat_id,
            delay=None, hang=False, applied=False,
            until=until if callable(until) else None,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def heal_chat(self, chat_id: int) -> None:
        """Cancel every fault rule restricted to ``chat_id``."""
        with self._lock:
            for fault in self._faults:
                if fault.chat_id == chat_id:
                    fault.cancel()

    def clear_faults(self) -> None:
        """Cancel every injected fault and unblock everyone."""
        with self._lock:
            for fault in self._faults:
                fault.cancel()
            self._faults.clear()
            self._blocked.clear()

    def block_user(self, user_id: int) -> None:
        """The user blocked the bot: every call to their private chat gets 403."""
        with self._lock:
            self._blocked.add(user_id)

    def unblock_user(self, user_id: int) -> None:
        """The user unblocked the bot."""
        with self._lock:
            self._blocked.discard(user_id)
