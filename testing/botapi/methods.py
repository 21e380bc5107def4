"""The Bot API methods the double answers."""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from testing.botapi.http import _DEFAULT_DESCRIPTIONS, _current_reader
from testing.botapi.markup import _validate_inline_keyboard
from testing.botapi.records import ApiError, DEFAULT_TOPIC_COLOR, MAX_CAPTION_LENGTH, _CHAT_ACTIONS, _COMMAND_RE, _DEFAULT_ALLOWED, _NOT_MODIFIED, _QUERY_INVALID, _bad_request, _coerce_chat_id, _has_inline_keyboard, _update_type

if TYPE_CHECKING:
    from testing.botapi.records import UploadedFile, _Stored


class MethodsMixin:
    """The Bot API methods the bot calls (``_m_<name>``), as Telegram answers them.

    A part of :class:`~testing.botapi.double.BotApiDouble`, which holds the state it uses.
    """

    def _m_get_me(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_delete_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if params.get("drop_pending_updates") in (True, "true", "True", 1):
            with self._lock:
                self._pending.clear()
        return True

    def _m_get_webhook_info(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        with self._lock:
            return {"url": "", "has_custom_certificate": False,
                    "pending_update_count": len(self._pending)}

    async def _m_get_updates(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        """Long polling: confirm ``offset``, wait up to ``timeout`` for updates.

        A newer getUpdates terminates a waiting one with 409 Conflict, like Telegram
        (unless the older client already went away).
        """
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates")
        with self._lock:
            self._poll_generation += 1
            generation = self._poll_generation
            if isinstance(allowed, list):
                self._allowed_updates = frozenset(allowed) if allowed else _DEFAULT_ALLOWED
            self._confirm(offset)
        self._wake_pollers()  # an older long poll now gets 409
        reader = _current_reader.get()
        while True:
            event = asyncio.Event()
            with self._lock:
                if generation != self._poll_generation:
                    if reader is not None and reader.at_eof():
                        return []  # its client left (cancelled/killed): no conflict
                    self.conflicts += 1
                    raise ApiError(409, _DEFAULT_DESCRIPTIONS[409])
                batch = self._deliverable(limit)
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._stopping.is_set():
                    return batch
                self._poll_events.add(event)
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass
            finally:
                self._poll_events.discard(event)

    def _confirm(self, offset: Any) -> None:
        """Forget updates older than ``offset`` (negative: keep only the last -offset)."""
        if not isinstance(offset, int) or offset == 0:
            return
        if offset < 0:
            self._pending = self._pending[offset:]
            return
        if offset - 1 > self._confirmed_update_id:
            self._confirmed_update_id = offset - 1
            self._changed_cv.notify_all()
        self._pending = [u for u in self._pending if u["update_id"] >= offset]

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        """First ``limit`` pending updates of allowed types; others are dropped for good."""
        allowed = self._allowed_updates
        kept = [u for u in self._pending if _update_type(u) in allowed]
        if len(kept) != len(self._pending):
            self._pending = kept
        return kept[:limit]

    def _m_send_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        content = self._text_content(params)
        if isinstance(params.get("link_preview_options"), dict):
            content["link_preview_options"] = params["link_preview_options"]
        return self._send(chat, params, content)

    def _editable(self, params: dict[str, Any]) -> tuple[dict[str, Any], _Stored]:
        """The bot's own message targeted by an edit (400 otherwise)."""
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        chat = self._chat_or_error(params.get("chat_id"))
        stored = self._get_stored(chat["id"], params.get("message_id"))
        if stored is None:
            raise _bad_request("message to edit not found")
        if stored.message.get("from", {}).get("id") != self.bot_user["id"]:
            raise _bad_request("message can't be edited")
        return chat, stored

    def _replace_message(self, chat: dict[str, Any], old: dict[str, Any],
                         content: dict[str, Any], drop: Sequence[str]) -> dict[str, Any]:
        """Store an edited copy of ``old`` (edits without reply_markup drop the keyboard)."""
        new = {k: v for k, v in old.items() if k not in drop and k != "reply_markup"}
        new.update(content)
        comparable = ("text", "entities", "caption", "caption_entities", "reply_markup")
        if all(new.get(k) == old.get(k) for k in comparable):
            raise ApiError(400, _NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        self._store(chat["id"], new)
        return new

    def _m_edit_message_text(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        content = self._text_content(params)
        with self._lock:
            chat, stored = self._editable(params)
            if "text" not in stored.message:
                raise _bad_request("there is no text in the message to edit")
            content.update(self._inline_markup(params))
            return self._replace_message(chat, stored.message, content, ("text", "entities"))

    def _m_edit_message_reply_markup(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        with self._lock:
            chat, stored = self._editable(params)
            return self._replace_message(chat, stored.message, self._inline_markup(params), ())

    def _inline_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        markup = params.get("reply_markup")
        if markup in (None, "", {}):
            return {}
        if not _has_inline_keyboard(markup):
            raise _bad_request("inline keyboard expected")
        _validate_inline_keyboard(markup["inline_keyboard"])
        return {"reply_markup": markup} if markup["inline_keyboard"] else {}

    def _m_delete_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        with self._lock:
            stored = self._get_stored(chat["id"], params.get("message_id"))
            if stored is None:
                raise _bad_request("message to delete not found")
            stored.deleted = True
            stored.seq = self._next_seq()
            self._changed_cv.notify_all()
        return True

    def _m_answer_callback_query(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        with self._lock:
            query = self._callbacks.get(query_id)
            if query is None or "answer" in query:
                raise _bad_request(_QUERY_INVALID[len("Bad Request: "):])
            text = params.get("text")
            if text is not None and len(str(text)) > 200:
                raise _bad_request("MESSAGE_TOO_LONG")
            query["answer"] = {k: v for k, v in params.items() if k != "callback_query_id"}
            self._changed_cv.notify_all()
        return True

    def _m_send_chat_action(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        with self._lock:
            self._check_thread(chat, params.get("message_thread_id"))
        return True

    def _commands_key(self, params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad_request("can't parse BotCommandScope JSON object")
        if "chat_id" in scope:
            self._chat_or_error(scope["chat_id"])
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _m_set_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        with self._lock:
            self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    def _m_delete_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        key = self._commands_key(params)
        with self._lock:
            self._commands.pop(key, None)
        return True

    def _m_get_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        key = self._commands_key(params)
        with self._lock:
            return list(self._commands.get(key, []))

    def _m_send_document(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        upload = files.get("document")
        if upload is None:
            file_id = params.get("document")
            with self._lock:
                upload = self._files.get(str(file_id)) if file_id else None
            if upload is None:
                raise _bad_request("wrong file identifier/HTTP URL specified"
                                   if file_id else "there is no document in the request")
        if not upload.data:
            raise _bad_request("file must be non-empty")
        content = self._text_content(params, "caption", MAX_CAPTION_LENGTH)
        with self._lock:
            number = next(self._file_ids)
            file_id = f"BQACAgQAAxkDAAI{number:012d}"
            self._files[file_id] = upload
            content["document"] = {
                "file_id": file_id,
                "file_unique_id": f"AgAD{number:08d}",
                "file_name": upload.filename or "document",
                "mime_type": upload.content_type or "application/octet-stream",
                "file_size": len(upload.data),
            }
        return self._send(chat, params, content)

    def _source_message(self, params: dict[str, Any], verb: str) -> dict[str, Any]:
        source_chat = self._chat_or_error(params.get("from_chat_id"))
        stored = self._get_stored(source_chat["id"], params.get("message_id"))
        if stored is None:
            raise _bad_request(f"message to {verb} not found")
        return stored.message

    def _m_forward_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        with self._lock:
            source = self._source_message(params, "forward")
            content = {k: v for k, v in source.items()
                       if k not in ("message_id", "from", "chat", "date", "reply_to_message",
                                    "message_thread_id", "is_topic_message", "edit_date")}
            sender = source.get("from") or {}
            content["forward_origin"] = (
                {"type": "user", "sender_user": sender, "date": source["date"]}
                if sender else {"type": "hidden_user", "sender_user_name": "?", "date": source["date"]}
            )
            return self._new_bot_message(chat, params, content)

    def _m_copy_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        with self._lock:
            source = self._source_message(params, "copy")
            content = {k: v for k, v in source.items()
                       if k not in ("message_id", "from", "chat", "date", "reply_to_message",
                                    "message_thread_id", "is_topic_message", "edit_date",
                                    "reply_markup", "forward_origin")}
        if "caption" in params:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._text_content(params, "caption", MAX_CAPTION_LENGTH))
        return {"message_id": self._send(chat, params, content)["message_id"]}

    def _m_create_forum_topic(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        if not chat.get("is_forum"):
            raise _bad_request("the chat is not a forum")
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise _bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_INVALID")
        color = params.get("icon_color") or DEFAULT_TOPIC_COLOR
        topic = self._create_topic(chat["id"], name, color, self.bot_user)
        if params.get("icon_custom_emoji_id"):
            topic["icon_custom_emoji_id"] = params["icon_custom_emoji_id"]
        return topic

    def _create_topic(self, chat_id: int, name: str, color: int,
                      sender: dict[str, Any]) -> dict[str, Any]:
        """Allocate the topic's service message (its id is the thread id)."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None or not chat.get("is_forum"):
                raise ValueError(f"chat {chat_id} is not a registered forum supergroup")
            thread_id = self._alloc_message_id(chat_id)
            topic = {"message_thread_id": thread_id, "name": name, "icon_color": color}
            self._topics.setdefault(chat_id, {})[thread_id] = topic
            self._store(chat_id, {
                "message_id": thread_id, "from": sender, "chat": chat, "date": int(time.time()),
                "message_thread_id": thread_id, "is_topic_message": True,
                "forum_topic_created": {"name": name, "icon_color": color},
            })
            return dict(topic)

    def _m_get_chat(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        info: dict[str, Any] = {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                "premium_subscription": False, "gifts_from_channels": False,
            },
        }
        if chat["type"] == "private":
            user = self._users.get(chat["id"], {})
            info.update({k: user[k] for k in ("first_name", "last_name", "username") if k in user})
        return info

    def set_bot_membership(self, chat_id: int, status: str = "administrator", **rights: bool) -> None:
        """The bot's status in a group for ``getChatMember`` (default: administrator with every right)."""
        with self._lock:
            self._bot_rights[chat_id] = {"status": status, **rights}

    def _m_get_chat_member(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        user_id = _coerce_chat_id(params.get("user_id"))
        if user_id == self.bot_user["id"]:
            return self._bot_member(chat["id"])
        if user_id not in self._users:
            raise _bad_request("user not found")
        status = "member" if user_id in self.members(chat["id"]) else "left"
        return {"status": status, "user": self._users[user_id]}

    def _bot_member(self, chat_id: int) -> dict[str, Any]:
        with self._lock:
            wanted = dict(self._bot_rights.get(chat_id, {"status": "administrator"}))
        status = wanted.pop("status")
        member: dict[str, Any] = {"status": status, "user": self.bot_user}
        if status == "administrator":
            rights = ("can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
                      "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
                      "can_edit_stories", "can_delete_stories", "can_pin_messages", "can_manage_topics")
            member.update({"can_be_edited": False, "is_anonymous": False, **dict.fromkeys(rights, True), **wanted})
        return member
    def _m_get_chat_administrators(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        if chat["type"] == "private":
            raise _bad_request("there are no administrators in the private chat")
        with self._lock:
            admins = dict(self._admins.get(chat["id"], {}))
        result = [{"status": "administrator", "user": self._user(user_id), "is_anonymous": anonymous,
                   "can_be_edited": False, "can_manage_chat": True, "can_change_info": True,
                   "can_delete_messages": True, "can_invite_users": True, "can_restrict_members": True,
                   "can_pin_messages": True, "can_promote_members": False, "can_manage_video_chats": True,
                   "can_post_stories": True, "can_edit_stories": True, "can_delete_stories": True}
                  for user_id, anonymous in admins.items()]
        result.append({"status": "administrator", "user": dict(self.bot_user), "is_anonymous": False,
                       "can_be_edited": False, "can_manage_chat": True, "can_change_info": False,
                       "can_delete_messages": True, "can_invite_users": False, "can_restrict_members": False,
                       "can_pin_messages": False, "can_promote_members": False, "can_manage_video_chats": False,
                       "can_post_stories": False, "can_edit_stories": False, "can_delete_stories": False})
        return result

    def _m_leave_chat(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat = self._chat_or_error(params.get("chat_id"))
        if chat["type"] == "private":
            raise _bad_request("chat member status can't be changed in private chats")
        with self._lock:
            self.left_chats.append(chat["id"])
        return True
