"""Updates a test pushes to the bot through the double."""
from __future__ import annotations

import re
from typing import Any

from testing.botapi.markup import _utf16_len
from testing.botapi.records import _inline_buttons


class UpdatesMixin:
    """What a test pushes to the bot: messages, commands, contacts, button presses.

    A part of :class:`~testing.botapi.double.BotApiDouble`, which holds the state it uses.
    """

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (``update_id`` is assigned if missing); returns it."""
        with self._lock:
            update = {"update_id": next(self._update_ids), **update}
            self._last_pushed_update_id = update["update_id"]
            self._pending.append(update)
        self._wake_pollers_threadsafe()
        return update

    def push_message(
        self,
        user_id: int,
        content: dict[str, Any],
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        message_thread_id: int | None = None,
        chat_type: str | None = None,
        is_forum: bool | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        """Queue a ``message`` update from ``user_id`` with the given content fields.

        Without ``chat_id`` the message comes from the user's private chat (which this
        opens).  An unknown ``chat_id`` is registered as a group of ``chat_type``
        (default supergroup).  In forum topics the message carries
        ``reply_to_message`` = the topic's creation message, like real Telegram.
        """
        user = self._user(user_id, first_name, last_name, username)
        with self._lock:
            chat = self._push_chat(user, chat_id, chat_type, is_forum, title)
            message = self._user_message(user, chat, content, reply_to_message_id,
                                         message_thread_id)
            if chat["type"] == "private":
                keyboard = self._keyboards.get(chat["id"])
                if keyboard and keyboard.get("one_time_keyboard"):
                    self._keyboards[chat["id"]] = None
            return self.push_update({"message": message})

    def _push_chat(self, user: dict[str, Any], chat_id: int | None, chat_type: str | None,
                   is_forum: bool | None, title: str | None) -> dict[str, Any]:
        if chat_id is None or chat_id == user["id"]:
            if chat_type not in (None, "private"):
                raise ValueError("a group message needs chat_id")
            return self._open_private_chat(user)  # refreshes names too
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self.register_group(
                chat_id, title or f"Group {chat_id}",
                chat_type=chat_type or "supergroup", is_forum=bool(is_forum),
            )
            chat = self._chats[chat_id]
        self._members.setdefault(chat_id, set()).add(user["id"])
        return chat

    def _user_message(
        self,
        user: dict[str, Any],
        chat: dict[str, Any],
        content: dict[str, Any],
        reply_to_message_id: int | None,
        message_thread_id: int | None,
    ) -> dict[str, Any]:
        reply_to = None
        if reply_to_message_id is not None:
            stored = self._get_stored(chat["id"], reply_to_message_id)
            if stored is None:
                raise ValueError(f"no message {reply_to_message_id} in chat {chat['id']}")
            reply_to = stored.message
            if message_thread_id is None:
                message_thread_id = reply_to.get("message_thread_id")
        if message_thread_id is not None and chat.get("is_forum"):
            if message_thread_id not in self._topics.get(chat["id"], {}):
                raise ValueError(f"no topic {message_thread_id} in chat {chat['id']}")
        return self._store_new(user, chat, content, message_thread_id, reply_to)

    def push_text(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        message_thread_id: int | None = None,
        chat_type: str | None = None,
        is_forum: bool | None = None,
        title: str | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Queue a text message; returns the update dict (see :meth:`push_message`)."""
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self.push_message(
            user_id, content, first_name=first_name, last_name=last_name, username=username,
            chat_id=chat_id, reply_to_message_id=reply_to_message_id,
            message_thread_id=message_thread_id, chat_type=chat_type, is_forum=is_forum,
            title=title,
        )

    def push_command(self, user_id: int, command: str, *args: str, **options: Any) -> dict[str, Any]:
        """Queue ``/command arg...`` with a proper ``bot_command`` entity."""
        command = command if command.startswith("/") else f"/{command}"
        text = " ".join([command, *args])
        entity = {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
        return self.push_text(user_id, text, entities=[entity], **options)

    def push_contact(
        self,
        user_id: int,
        phone_number: str,
        contact_user_id: int | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Queue a shared contact; ``contact_user_id`` defaults to the sender (what a
        ``request_contact`` button sends), ``0`` omits it (a non-Telegram contact)."""
        user = self._user(user_id)
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or user["first_name"],
        }
        if last_name or (contact_user_id is None and user.get("last_name")):
            contact["last_name"] = last_name or user["last_name"]
        owner = user_id if contact_user_id is None else contact_user_id
        if owner:
            contact["user_id"] = owner
        return self.push_message(user_id, {"contact": contact}, **options)

    def _file_stub(self, prefix: str) -> dict[str, str]:
        with self._lock:
            number = next(self._file_ids)
        return {"file_id": f"{prefix}{number:012d}", "file_unique_id": f"AgAD{number:08d}"}

    def push_sticker(self, user_id: int, emoji: str = "👍", **options: Any) -> dict[str, Any]:
        """Queue a sticker message."""
        sticker = {**self._file_stub("CAACAgIAAxkBAA"), "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False, "emoji": emoji,
                   "file_size": 24_000}
        return self.push_message(user_id, {"sticker": sticker}, **options)

    def push_photo(self, user_id: int, caption: str | None = None, **options: Any) -> dict[str, Any]:
        """Queue a photo message (three sizes, optional caption)."""
        sizes = [{**self._file_stub("AgACAgQAAxkBAA"), "width": w, "height": h, "file_size": s}
                 for w, h, s in ((90, 67, 1_200), (320, 240, 15_000), (1280, 960, 120_000))]
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self.push_message(user_id, content, **options)

    def push_voice(self, user_id: int, duration: int = 3, **options: Any) -> dict[str, Any]:
        """Queue a voice note."""
        voice = {**self._file_stub("AwACAgQAAxkBAA"), "duration": duration,
                 "mime_type": "audio/ogg", "file_size": 9_000}
        return self.push_message(user_id, {"voice": voice}, **options)

    def push_callback(
        self,
        user_id: int,
        data: str,
        message_id: int,
        chat_id: int | None = None,
        *,
        check_button: bool = True,
    ) -> dict[str, Any]:
        """Queue a ``callback_query`` for a button on the bot's message ``message_id``.

        The embedded message is its current state.  With ``check_button`` (default) the
        message must still show a button with this ``callback_data`` — a real user
        cannot press a button that an edit removed.
        """
        chat_id = user_id if chat_id is None else chat_id
        user = self._user(user_id)
        with self._lock:
            stored = self._get_stored(chat_id, message_id)
            if stored is None:
                raise AssertionError(f"no message {message_id} in chat {chat_id}")
            message = stored.message
            if check_button and data not in [b.get("callback_data") for b in _inline_buttons(message)]:
                raise AssertionError(
                    f"message {message_id} in chat {chat_id} has no button with "
                    f"callback_data {data!r}; buttons: {_inline_buttons(message)}"
                )
            query_id = str(next(self._callback_ids))
            self._callbacks[query_id] = {"user_id": user_id, "data": data,
                                         "chat_id": chat_id, "message_id": message_id}
            query = {
                "id": query_id,
                "from": user,
                "message": message,
                "chat_instance": str(abs(chat_id) * 7919 % 10**18 + 10**17),
                "data": data,
            }
            return self.push_update({"callback_query": query})

    def click_button(
        self,
        user_id: int,
        label: str | re.Pattern[str],
        *,
        chat_id: int | None = None,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        """Press the inline button whose text equals ``label`` (or matches the pattern)
        on the latest bot message showing it (or on ``message_id``)."""
        chat_id = user_id if chat_id is None else chat_id
        with self._lock:
            candidates = [s.message for s in self._messages.get(chat_id, {}).values()
                          if not s.deleted and (message_id is None
                                                or s.message["message_id"] == message_id)]
        for message in reversed(candidates):
            for button in _inline_buttons(message):
                text = button.get("text", "")
                hit = label.search(text) if isinstance(label, re.Pattern) else text == label
                if hit and "callback_data" in button:
                    return self.push_callback(user_id, button["callback_data"],
                                              message["message_id"], chat_id)
        labels = [[b.get("text") for b in _inline_buttons(m)] for m in candidates[-5:]]
        raise AssertionError(f"no button {label!r} in chat {chat_id}; recent buttons: {labels}")
