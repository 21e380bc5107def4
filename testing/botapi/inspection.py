"""Reading back what the bot did, and waiting for it."""
from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from testing.botapi.records import _AsyncWaiter, _inline_buttons

if TYPE_CHECKING:
    from testing.botapi.records import Call, UploadedFile


class InspectionMixin:
    """What a test reads back: calls, messages, keyboards, and waiting for them.

    A part of :class:`~testing.botapi.double.BotApiDouble`, which holds the state it uses.
    """

    def mark(self) -> int:
        """Current sequence number; pass as ``since=`` to only see later activity."""
        with self._lock:
            return self._last_seq

    def calls(self, method: str | None = None, *, since: int | None = None) -> list[Call]:
        """Recorded requests (all, or one method, case-insensitive), oldest first."""
        key = method.lower() if method else None
        with self._lock:
            return [c for c in self._calls
                    if (key is None or c.method.lower() == key)
                    and (since is None or c.seq > since)]

    def last_call(self, method: str | None = None) -> Call | None:
        """The most recent recorded request (of ``method``), or None."""
        found = self.calls(method)
        return found[-1] if found else None

    def messages_to(self, chat_id: int, *, thread_id: int | None = None,
                    since: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent in a chat, current state (edits applied, deletions gone)."""
        bot_id = self.bot_user["id"]
        return [m for m in self.chat_history(chat_id, thread_id=thread_id, since=since)
                if m.get("from", {}).get("id") == bot_id and "forum_topic_created" not in m]

    def chat_history(self, chat_id: int, *, thread_id: int | None = None,
                     since: int | None = None) -> list[dict[str, Any]]:
        """All messages of a chat (users' and the bot's), by message_id."""
        with self._lock:
            stored = sorted(self._messages.get(chat_id, {}).values(),
                            key=lambda s: s.message["message_id"])
            return [s.message for s in stored
                    if not s.deleted and (since is None or s.seq > since)
                    and (thread_id is None or s.message.get("message_thread_id") == thread_id)]

    def last_message(self, chat_id: int) -> dict[str, Any] | None:
        """The bot's latest message in a chat."""
        sent = self.messages_to(chat_id)
        return sent[-1] if sent else None

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """Current state of one message (None if unknown or deleted)."""
        with self._lock:
            stored = self._get_stored(chat_id, message_id)
            return stored.message if stored else None

    def current_keyboard(self, chat_id: int) -> dict[str, Any] | None:
        """The reply keyboard a client would show in the chat (None after a remove)."""
        with self._lock:
            return self._keyboards.get(chat_id)

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """Parameters of ``answerCallbackQuery`` for a query (None if unanswered)."""
        with self._lock:
            return (self._callbacks.get(str(query_id)) or {}).get("answer")

    def commands(self, scope: dict[str, Any] | None = None,
                 language_code: str = "") -> list[dict[str, Any]]:
        """Commands set with ``setMyCommands`` for a scope (default scope by default)."""
        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        with self._lock:
            return list(self._commands.get(key, []))

    def documents_to(self, chat_id: int) -> list[tuple[dict[str, Any], UploadedFile]]:
        """``(message, uploaded file)`` for every document the bot sent to a chat."""
        with self._lock:
            return [(m, self._files[m["document"]["file_id"]])
                    for m in self.messages_to(chat_id) if "document" in m]

    def topics(self, chat_id: int) -> dict[int, dict[str, Any]]:
        """Forum topics of a chat by thread id."""
        with self._lock:
            return {k: dict(v) for k, v in self._topics.get(chat_id, {}).items()}

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates pushed but not yet confirmed by the bot (``offset``)."""
        with self._lock:
            return list(self._pending)


    def wait_until(self, condition: Callable[[], Any], timeout: float = 10,
                   message: str = "condition") -> Any:
        """Block until ``condition()`` is truthy (re-checked on every change); return it."""
        deadline = time.monotonic() + timeout
        with self._changed_cv:
            while True:
                value = condition()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for {message}\n"
                                         + self.describe_recent())
                self._changed_cv.wait(min(remaining, 0.5))

    def wait_for(self, predicate: Callable[[Call], Any], timeout: float = 10, *,
                 method: str | None = None, since: int | None = None) -> Call:
        """Wait for a finished recorded call satisfying ``predicate``; return it."""
        def find() -> Call | None:
            for call in self.calls(method, since=since):
                if call.status is not None and predicate(call):
                    return call
            return None
        return self.wait_until(find, timeout, f"a {method or ''} call matching {predicate}")

    def wait_for_message(self, predicate: Callable[[dict[str, Any]], Any], *,
                         chat_id: int | None = None, timeout: float = 10,
                         since: int | None = None) -> dict[str, Any]:
        """Wait for a bot message (current state) satisfying ``predicate``; return it."""
        def find() -> dict[str, Any] | None:
            chats = [chat_id] if chat_id is not None else list(self._messages)
            for chat in chats:
                for message in self.messages_to(chat, since=since):
                    if predicate(message):
                        return message
            return None
        return self.wait_until(find, timeout, f"a message matching {predicate} in {chat_id}")

    def wait_for_text(self, chat_id: int, regex: str | re.Pattern[str], timeout: float = 10,
                      *, since: int | None = None) -> dict[str, Any]:
        """Wait for a bot message in ``chat_id`` whose text/caption matches ``regex``
        (``re.search``); return the message."""
        pattern = re.compile(regex) if isinstance(regex, str) else regex
        def find() -> dict[str, Any] | None:
            for message in self.messages_to(chat_id, since=since):
                if pattern.search(message.get("text") or message.get("caption") or ""):
                    return message
            return None
        return self.wait_until(find, timeout, f"text /{pattern.pattern}/ in chat {chat_id}")

    def wait_consumed(self, timeout: float = 10) -> None:
        """Wait until the bot confirmed (fetched and moved past) every pushed update."""
        self.wait_until(lambda: self._confirmed_update_id >= self._last_pushed_update_id,
                        timeout, "the bot to confirm all pushed updates")

    def describe_recent(self, count: int = 8) -> str:
        """Human-readable tail of recent messages and failed calls (for assertions)."""
        with self._lock:
            stored = sorted((s for chat in self._messages.values() for s in chat.values()),
                            key=lambda s: s.seq)[-count:]
            failed = [c for c in self._calls if c.status not in (200, None)][-count:]
        lines = ["recent messages:"]
        for s in stored:
            m = s.message
            who = "bot" if m.get("from", {}).get("id") == self.bot_user["id"] else m.get("from", {}).get("id")
            body = m.get("text") or m.get("caption") or next(
                (k for k in ("contact", "document", "sticker", "photo", "voice",
                             "forum_topic_created") if k in m), "?")
            buttons = [b.get("text") for b in _inline_buttons(m)]
            lines.append(f"  [{m['chat']['id']}#{m['message_id']}] {who}: {body!r}"
                         + (f" buttons={buttons}" if buttons else "")
                         + (" (deleted)" if s.deleted else ""))
        lines.append("recent failed calls:" if failed else "no failed calls")
        lines += [f"  {c.method} -> {c.status} {c.error}" for c in failed]
        return "\n".join(lines)


    def add_listener(self, listener: Callable[[str, Any], None]) -> Callable[[], None]:
        """Call ``listener("call", Call)`` after every answered request (from the server
        thread; keep it quick).  Returns a function that removes the listener."""
        with self._lock:
            self._listeners.append(listener)
        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)
        return remove

    async def wait_for_message_async(
        self, predicate: Callable[[dict[str, Any]], Any], *, chat_id: int | None = None,
        timeout: float = 10, since: int | None = None,
    ) -> dict[str, Any]:
        """Asyncio version of :meth:`wait_for_message` (no thread per waiter)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()

        def resolve(message: dict[str, Any]) -> None:
            if not future.done():
                future.set_result(message)

        def check(message: dict[str, Any], seq: int) -> None:
            if (since is None or seq > since) and message.get("from", {}).get("id") == \
                    self.bot_user["id"] and predicate(message):
                loop.call_soon_threadsafe(resolve, message)

        waiter = _AsyncWaiter(chat_id, check)
        with self._lock:
            self._async_waiters.setdefault(chat_id, []).append(waiter)
            chats = [chat_id] if chat_id is not None else list(self._messages)
            for chat in chats:
                for stored in self._messages.get(chat, {}).values():
                    if not stored.deleted:
                        check(stored.message, stored.seq)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout}s waiting for a message in "
                                 f"{chat_id}\n" + self.describe_recent()) from None
        finally:
            with self._lock:
                self._async_waiters[chat_id].remove(waiter)

    async def wait_for_text_async(self, chat_id: int, regex: str | re.Pattern[str],
                                  timeout: float = 10, *, since: int | None = None) -> dict[str, Any]:
        """Asyncio version of :meth:`wait_for_text`."""
        pattern = re.compile(regex) if isinstance(regex, str) else regex
        return await self.wait_for_message_async(
            lambda m: pattern.search(m.get("text") or m.get("caption") or ""),
            chat_id=chat_id, timeout=timeout, since=since,
        )
