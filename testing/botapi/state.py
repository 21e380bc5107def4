"""The double's users, chats and stored messages."""
from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from testing.botapi.http import _decode_param
from testing.botapi.markup import EntityParseError, _utf16_len, _validate_inline_keyboard, _validate_reply_keyboard, parse_html
from testing.botapi.records import ApiError, DEFAULT_TOPIC_COLOR, MAX_TEXT_LENGTH, _Stored, _bad_request, _coerce_chat_id, _strip_reply


class StateMixin:
    """Users, chats, groups, topics and the stored messages.

    A part of :class:`~testing.botapi.double.BotApiDouble`, which holds the state it uses.
    """

    def register_user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        *,
        username: str | None = None,
        language_code: str | None = "fr",
        started: bool = True,
    ) -> dict[str, Any]:
        """Declare a user; ``started=True`` also opens the private chat with the bot
        (otherwise sending to them gets 403 "bot can't initiate conversation")."""
        with self._lock:
            user = dict(self._users.get(user_id) or {"id": user_id, "is_bot": False})
            user["first_name"] = first_name or user.get("first_name") or f"User{user_id}"
            for key, value in (("last_name", last_name), ("username", username),
                               ("language_code", language_code)):
                if value is not None:
                    user[key] = value
            self._users[user_id] = user
            if started:
                self._open_private_chat(user)
            return dict(user)

    def _open_private_chat(self, user: dict[str, Any]) -> dict[str, Any]:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        self._chats[user["id"]] = chat
        self._started.add(user["id"])
        return chat

    def register_group(
        self,
        chat_id: int,
        title: str = "Équipe admissions",
        *,
        chat_type: str = "supergroup",
        is_forum: bool = False,
        members: Iterable[int | dict[str, Any]] = (),
        username: str | None = None,
    ) -> dict[str, Any]:
        """Declare a group/supergroup (optionally a forum) the bot is in, with members."""
        if chat_type not in ("group", "supergroup", "channel"):
            raise ValueError(f"chat_type must be group/supergroup/channel, not {chat_type!r}")
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type, "title": title}
        if is_forum:
            chat["is_forum"] = True
        if username:
            chat["username"] = username
        with self._lock:
            self._chats[chat_id] = chat
            self._members.setdefault(chat_id, set())
            if is_forum:
                self._topics.setdefault(chat_id, {})
        for member in members:
            self.add_member(chat_id, member)
        return dict(chat)

    def add_member(self, chat_id: int, user: int | dict[str, Any]) -> dict[str, Any]:
        """Add a user (id or dict with first_name/last_name/username) to a group."""
        if isinstance(user, dict):
            info = self.register_user(
                user["id"], user.get("first_name"), user.get("last_name"),
                username=user.get("username"), started=False,
            )
        else:
            info = self._user(user)
        with self._lock:
            self._members.setdefault(chat_id, set()).add(info["id"])
        return info

    def set_admin(self, chat_id: int, user_id: int, *, anonymous: bool = False, admin: bool = True) -> None:
        """Make a member an administrator of a group (``anonymous``: "remain anonymous"), or no longer one."""
        with self._lock:
            self._members.setdefault(chat_id, set()).add(user_id)
            admins = self._admins.setdefault(chat_id, {})
            if admin:
                admins[user_id] = anonymous
            else:
                admins.pop(user_id, None)

    def push_anonymous_admin_command(self, chat_id: int, command: str) -> dict[str, Any]:
        """A command sent by an administrator who "remains anonymous": ``sender_chat`` is the group."""
        with self._lock:
            chat = self._chats[chat_id]
            sender = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
            content = {"text": command, "sender_chat": dict(chat),
                       "entities": [{"type": "bot_command", "offset": 0, "length": _utf16_len(command.split()[0])}]}
            message = self._store_new(sender, chat, content, None, None)
            return self.push_update({"message": message})

    def members(self, chat_id: int) -> set[int]:
        """User ids known to be in a group."""
        with self._lock:
            return set(self._members.get(chat_id, ()))

    def create_topic(self, chat_id: int, name: str, *, user_id: int | None = None) -> int:
        """Create a forum topic as a human would (no update queued); returns its thread id."""
        sender = self._user(user_id) if user_id is not None else self.bot_user
        return self._create_topic(chat_id, name, DEFAULT_TOPIC_COLOR, sender)["message_thread_id"]

    def _user(self, user_id: int, first_name: str | None = None,
              last_name: str | None = None, username: str | None = None) -> dict[str, Any]:
        """Registered user dict, registering (without a private chat) if new."""
        with self._lock:
            known = self._users.get(user_id)
            if known is not None and first_name is None and last_name is None and username is None:
                return known
        return self.register_user(user_id, first_name, last_name, username=username,
                                  started=False)

    def _chat_or_error(self, raw_chat_id: Any) -> dict[str, Any]:
        """Resolve ``chat_id`` like Telegram: unknown → 400, never started → 403."""
        chat_id = _coerce_chat_id(raw_chat_id)
        with self._lock:
            if isinstance(chat_id, str):
                for chat in self._chats.values():
                    if "@" + str(chat.get("username", "")).lower() == chat_id.lower():
                        return chat
                raise _bad_request("chat not found")
            if chat_id is None:
                raise _bad_request("chat_id is empty")
            chat = self._chats.get(chat_id)
            if chat is not None:
                return chat
            if chat_id in self._users:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        raise _bad_request("chat not found")


    def _alloc_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _store(self, chat_id: int, message: dict[str, Any]) -> None:
        """Insert/replace a message (lock held by caller) and notify waiters."""
        seq = self._next_seq()
        self._messages.setdefault(chat_id, {})[message["message_id"]] = _Stored(
            message, seq, time.monotonic()
        )
        self._changed_cv.notify_all()
        for key in (chat_id, None):
            for waiter in self._async_waiters.get(key, ()):
                waiter.check(message, seq)

    def _get_stored(self, chat_id: int, message_id: Any) -> _Stored | None:
        stored = self._messages.get(chat_id, {}).get(message_id) if isinstance(message_id, int) else None
        return None if stored is None or stored.deleted else stored

    def _topic_root(self, chat: dict[str, Any], thread_id: int | None) -> dict[str, Any] | None:
        """The ``forum_topic_created`` service message of a topic (forums only)."""
        if not thread_id or not chat.get("is_forum"):
            return None
        stored = self._get_stored(chat["id"], thread_id)
        return stored.message if stored else None

    def _check_thread(self, chat: dict[str, Any], thread_id: Any) -> int | None:
        if thread_id in (None, 0, ""):
            return None
        if not isinstance(thread_id, int):
            raise _bad_request("invalid message thread identifier specified")
        if chat.get("is_forum") and thread_id not in self._topics.get(chat["id"], {}):
            raise _bad_request("message thread not found")
        return thread_id

    def _reply_target(self, chat: dict[str, Any], params: dict[str, Any]) -> dict[str, Any] | None:
        """Resolve reply_parameters / reply_to_message_id (400 if the target is missing)."""
        reply = params.get("reply_parameters")
        if isinstance(reply, str):
            reply = {"message_id": _decode_param("message_id", reply)}
        if not isinstance(reply, dict):
            reply = {}
        if params.get("reply_to_message_id") is not None:
            reply = {"message_id": params["reply_to_message_id"],
                     "allow_sending_without_reply": params.get("allow_sending_without_reply")}
        if reply.get("message_id") is None:
            return None
        target_chat = chat
        if reply.get("chat_id") is not None:
            target_chat = self._chat_or_error(reply["chat_id"])
        stored = self._get_stored(target_chat["id"], reply["message_id"])
        if stored is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad_request("message to be replied not found")
        return stored.message

    def _new_bot_message(
        self, chat: dict[str, Any], params: dict[str, Any], content: dict[str, Any]
    ) -> dict[str, Any]:
        """Create, store and return a message sent by the bot (lock held by caller)."""
        thread_id = self._check_thread(chat, params.get("message_thread_id"))
        reply_to = self._reply_target(chat, params)
        if reply_to is not None and thread_id is None and reply_to.get("is_topic_message"):
            thread_id = reply_to.get("message_thread_id")
        return self._store_new(self.bot_user, chat, content, thread_id, reply_to)

    def _store_new(self, sender: dict[str, Any], chat: dict[str, Any], content: dict[str, Any],
                   thread_id: int | None, reply_to: dict[str, Any] | None) -> dict[str, Any]:
        """Build, store and return a message from ``sender`` (the bot or a user), as Telegram
        shapes it: topic messages in forums point at their topic's root (lock held by caller)."""
        message: dict[str, Any] = {
            "message_id": self._alloc_message_id(chat["id"]),
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat.get("is_forum"):
                message["is_topic_message"] = True
                reply_to = reply_to or self._topic_root(chat, thread_id)
        if reply_to is not None:
            message["reply_to_message"] = _strip_reply(reply_to)
        message.update(content)
        self._store(chat["id"], message)
        return message

    def _text_content(
        self, params: dict[str, Any], key: str = "text", limit: int = MAX_TEXT_LENGTH
    ) -> dict[str, Any]:
        """Validate text/caption + parse_mode; return ``{key, [key_]entities}``."""
        raw = params.get(key)
        if raw is None and key == "caption":
            return {}
        text = "" if raw is None else str(raw)
        entities = params.get("entities" if key == "text" else "caption_entities")
        parse_mode = str(params.get("parse_mode") or "").lower()
        if parse_mode == "html":
            try:
                text, entities = parse_html(text)
            except EntityParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        if not text.strip():
            if key == "caption":
                return {}
            raise _bad_request("message text is empty")
        if _utf16_len(text) > limit:  # like Telegram: UTF-16 units of the parsed text (tags excluded)
            raise _bad_request("message is too long" if key == "text" else "message caption is too long")
        content: dict[str, Any] = {key: text}
        if entities:
            content["entities" if key == "text" else "caption_entities"] = entities
        return content

    def _markup_content(self, markup: Any) -> dict[str, Any]:
        """Validate reply_markup; inline keyboards are part of the returned Message."""
        if markup is None or markup == "":
            return {}
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            _validate_inline_keyboard(markup["inline_keyboard"])
            return {"reply_markup": markup}
        if "keyboard" in markup:
            _validate_reply_keyboard(markup["keyboard"])
        return {}

    def _apply_keyboard(self, chat_id: int, markup: Any) -> None:
        """After a successful send: the client now shows (or hides) a reply keyboard."""
        if isinstance(markup, dict):
            if "keyboard" in markup:
                self._keyboards[chat_id] = markup
            elif markup.get("remove_keyboard"):
                self._keyboards[chat_id] = None

    def _send(self, chat: dict[str, Any], params: dict[str, Any],
              content: dict[str, Any]) -> dict[str, Any]:
        """Validate markup, store the bot's new message and update the keyboard state."""
        markup = params.get("reply_markup")
        content.update(self._markup_content(markup))
        with self._lock:
            message = self._new_bot_message(chat, params, content)
            self._apply_keyboard(chat["id"], markup)
        return message
