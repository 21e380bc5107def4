"""The Bot API double, assembled from its parts (see ``testing/botapi/__init__.py``)."""
from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from testing.botapi.faults import FaultsMixin
from testing.botapi.inspection import InspectionMixin
from testing.botapi.methods import MethodsMixin
from testing.botapi.records import DEFAULT_TOKEN, _DEFAULT_ALLOWED
from testing.botapi.server import ServerMixin
from testing.botapi.state import StateMixin
from testing.botapi.updates import UpdatesMixin

if TYPE_CHECKING:
    from testing.botapi.records import Call, Fault, UploadedFile, _AsyncWaiter, _Stored


class BotApiDouble(ServerMixin, StateMixin, MethodsMixin, UpdatesMixin, InspectionMixin, FaultsMixin):
    """In-process fake of the Telegram Bot API server (see module docstring).

    Typical use::

        double = BotApiDouble().start()
        # bot: Application.builder().token(double.token).base_url(double.base_url)
        double.push_command(42, "/start")
        double.wait_for_text(42, r"Bonjour")
        double.stop()
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "admissions_test_bot",
        bot_first_name: str = "Admissions (test)",
    ) -> None:
        self.token = token
        self.host = host
        self._port = port
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self._lock = threading.RLock()
        self._changed_cv = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._shutdown: asyncio.Event | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._poll_events: set[asyncio.Event] = set()
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._update_ids = itertools.count(500_000_001)
        self._callback_ids = itertools.count(4_444_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._calls: list[Call] = []
        self._pending: list[dict[str, Any]] = []
        self._confirmed_update_id = 0
        self._last_pushed_update_id = 0
        self._allowed_updates: frozenset[str] = _DEFAULT_ALLOWED
        self._poll_generation = 0
        self.conflicts = 0
        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._started: set[int] = set()
        self._members: dict[int, set[int]] = {}
        self._admins: dict[int, dict[int, bool]] = {}  # chat -> {user id: is_anonymous}
        self.left_chats: list[int] = []
        self._topics: dict[int, dict[int, dict[str, Any]]] = {}
        self._messages: dict[int, dict[int, _Stored]] = {}
        self._next_message_id: dict[int, int] = {}
        self._keyboards: dict[int, dict[str, Any] | None] = {}
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._files: dict[str, UploadedFile] = {}
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._blocked: set[int] = set()
        self._bot_rights: dict[int, dict[str, Any]] = {}  # the bot's own membership, per group
        self._faults: list[Fault] = []
        self._listeners: list[Callable[[str, Any], None]] = []
        self._async_waiters: dict[int | None, list[_AsyncWaiter]] = {}
        self._extra_methods: dict[str, Callable[[dict[str, Any], dict[str, UploadedFile]], Any]] = {}
        self._methods: dict[str, Callable[[dict[str, Any], dict[str, UploadedFile]], Any]] = {
            "getme": self._m_get_me,
            "getupdates": self._m_get_updates,
            "deletewebhook": self._m_delete_webhook,
            "getwebhookinfo": self._m_get_webhook_info,
            "sendmessage": self._m_send_message,
            "editmessagetext": self._m_edit_message_text,
            "editmessagereplymarkup": self._m_edit_message_reply_markup,
            "deletemessage": self._m_delete_message,
            "answercallbackquery": self._m_answer_callback_query,
            "sendchataction": self._m_send_chat_action,
            "setmycommands": self._m_set_my_commands,
            "deletemycommands": self._m_delete_my_commands,
            "getmycommands": self._m_get_my_commands,
            "senddocument": self._m_send_document,
            "forwardmessage": self._m_forward_message,
            "copymessage": self._m_copy_message,
            "createforumtopic": self._m_create_forum_topic,
            "getchat": self._m_get_chat,
            "getchatmember": self._m_get_chat_member,
            "getchatadministrators": self._m_get_chat_administrators,
            "leavechat": self._m_leave_chat,
            "close": lambda params, files: True,
            "logout": lambda params, files: True,
        }
