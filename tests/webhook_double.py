"""Webhook delivery for the Bot API double: Telegram's side of ``setWebhook``.

Why a separate module: the double (``testing/botapi/``) serves long polling;
this adds what Telegram does once a webhook is set — POST each pending update to
the bot's URL with the secret token header, one at a time and in order, forget it
on a 200, and otherwise retry it later while ``getWebhookInfo`` reports the last
error — without touching the double's own code. Attach it with
``WebhookSender(double)`` before the bot starts.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from testing.botapi import BotApiDouble

RETRY_PAUSE = 0.1


class WebhookSender:
    """Deliver the double's pending updates to the webhook the bot registered."""

    def __init__(self, double: BotApiDouble) -> None:
        self.double = double
        self.url = ""
        self.secret = ""
        self.allowed: list[str] | None = None
        #: False: send without the secret header (a forged request), to see the bot refuse it.
        self.send_secret = True
        #: (update_id, HTTP status or 0 for no answer), every attempt.
        self.attempts: list[tuple[int, int]] = []
        self.last_error = ""
        self._stop = threading.Event()
        double.register_method("setWebhook", self._set_webhook)
        double.register_method("deleteWebhook", self._delete_webhook)
        double.register_method("getWebhookInfo", self._info)
        self._thread = threading.Thread(target=self._loop, name="webhook-sender", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)

    # ------------------------------------------------------------------ Bot API methods

    def _set_webhook(self, params: dict[str, Any], files: dict) -> bool:
        self.url = str(params["url"])
        self.secret = str(params.get("secret_token") or "")
        allowed = params.get("allowed_updates")
        self.allowed = json.loads(allowed) if isinstance(allowed, str) else allowed
        return True

    def _delete_webhook(self, params: dict[str, Any], files: dict) -> bool:
        self.url = ""
        return True

    def _info(self, params: dict[str, Any], files: dict) -> dict[str, Any]:
        info: dict[str, Any] = {"url": self.url, "has_custom_certificate": False,
                                "pending_update_count": len(self.double.pending_updates())}
        if self.allowed is not None:
            info["allowed_updates"] = self.allowed
        if self.last_error:
            info.update(last_error_date=int(time.time()), last_error_message=self.last_error)
        return info

    # ------------------------------------------------------------------ delivery

    def _loop(self) -> None:
        while not self._stop.is_set():
            pending = self.double.pending_updates() if self.url else []
            if not pending:
                self._stop.wait(0.02)
                continue
            update = pending[0]
            status = self._post(update)
            self.attempts.append((update["update_id"], status))
            if status == 200:
                self.last_error = ""
                self._forget(update["update_id"])
            else:
                self.last_error = f"Wrong response from the webhook: {status}" if status else "Connection refused"
                self._stop.wait(RETRY_PAUSE)

    def _post(self, update: dict[str, Any]) -> int:
        headers = {"Content-Type": "application/json"}
        if self.send_secret and self.secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.secret
        request = urllib.request.Request(self.url, data=json.dumps(update).encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - local test URL
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (OSError, TimeoutError):
            return 0

    def _forget(self, update_id: int) -> None:
        """Telegram forgets an update once the webhook answered 200."""
        with self.double._lock:  # the double's own state: its pending list
            self.double._pending = [u for u in self.double._pending if u["update_id"] != update_id]

    def delivered(self, update_id: int) -> bool:
        return (update_id, 200) in self.attempts
