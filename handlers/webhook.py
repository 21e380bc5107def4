"""Webhook mode: Telegram pushes updates over HTTPS, with the same guarantees as the durable poller.

Why not python-telegram-bot's own webhook server: it answers Telegram 200 as soon
as the update is queued in memory, so a process killed at that moment loses it (the
same flaw as its ``Updater`` in polling). Here each update is written to the SQLite
inbox *before* the 200 (Telegram re-sends what was not acknowledged), handled by
the same machinery as the poller (:class:`~handlers.polling.DurablePoller`: in
order per chat, removed from the inbox once handled, resumed after a crash), and a
copy Telegram re-sends is recognised and not handled twice.

The HTTP server is Tornado, the library python-telegram-bot itself uses for
webhooks (its ``webhooks`` extra). It listens on plain HTTP behind a reverse proxy
that terminates TLS (see the README). ``/healthz`` on the same server reports
whether the bot is up and its inbox/outbox backlog.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from urllib.parse import urlsplit

from telegram import Update
from tornado.httpserver import HTTPServer
from tornado.web import Application as WebApplication, RequestHandler

from bot.clock import Clock
from bot.config import Settings
from bot.storage.inbox import Inbox
from bot.storage.outbox import Outbox
from bot.storage.updates import HandledUpdates
from handlers.context import BotApplication
from handlers.polling import DurablePoller

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: An update is a few kilobytes; anything far larger is not from Telegram.
MAX_BODY = 1024 * 1024


def webhook_secret(settings: Settings) -> str:
    """``WEBHOOK_SECRET``, or one derived from the token (stable across restarts, never the token itself)."""
    if settings.webhook_secret:
        return settings.webhook_secret
    return hashlib.sha256(b"webhook:" + settings.telegram_token.encode()).hexdigest()


class WebhookReceiver(DurablePoller):
    """Receive updates by HTTP instead of fetching them; the rest is the durable poller's."""

    def __init__(self, application: BotApplication, inbox: Inbox, clock: Clock, settings: Settings,
                 outbox: Outbox) -> None:
        super().__init__(application, inbox, clock)
        self.settings = settings
        self.outbox = outbox
        self.secret = webhook_secret(settings)
        self.handled = HandledUpdates(inbox.db)

    async def run(self) -> None:
        """Serve, register the webhook, wait for :meth:`stop`, then finish in-flight updates."""
        for update_id, payload in self.inbox.pending():
            log.info("handling update %s left by an earlier run", update_id)
            self._schedule(Update.de_json(json.loads(payload), self.application.bot))
        logging.getLogger("tornado.access").setLevel(logging.WARNING)  # not one line per update and /healthz
        server = HTTPServer(self.web_application(), xheaders=True, max_body_size=MAX_BODY)
        server.listen(self.settings.webhook_port, address=self.settings.webhook_listen)
        try:
            await self.application.bot.set_webhook(
                self.settings.webhook_url, secret_token=self.secret, allowed_updates=Update.ALL_TYPES)
            log.info("webhook registered, listening on %s:%s", self.settings.webhook_listen,
                     self.settings.webhook_port)
            await self._stopping.wait()
        finally:
            server.stop()  # Telegram keeps what it could not deliver and re-sends it to the next run
            await self._drain()
            await server.close_all_connections()

    def web_application(self) -> WebApplication:
        path = urlsplit(self.settings.webhook_url).path or "/"
        return WebApplication([(path, UpdateEndpoint, {"receiver": self}),
                               ("/healthz", HealthEndpoint, {"receiver": self})])

    def receive(self, update_id: int, payload: dict) -> None:
        """Store the update, then schedule it unless this is a copy of one already received."""
        if self.handled.answer_of(update_id) is not None:
            return  # handled already: Telegram re-sent it because the 200 was lost
        if not self.inbox.receive(update_id, json.dumps(payload), self.clock.now()):
            return  # stored and scheduled already (or scheduled at start, after a crash)
        self._schedule(Update.de_json(payload, self.application.bot))

    def health(self) -> dict[str, object]:
        return {"status": "stopping" if self._stopping.is_set() else "up",
                "inbox": self.inbox.count(), "outbox": self.outbox.pending_count()}


class UpdateEndpoint(RequestHandler):
    """``POST <path of TELEGRAM_WEBHOOK_URL>``: one update from Telegram."""

    def initialize(self, receiver: WebhookReceiver) -> None:
        self.receiver = receiver

    def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.receiver.secret.encode()):
            log.warning("webhook request without the right secret token refused")
            self.send_error(403)
            return
        try:
            payload = json.loads(self.request.body)
            update_id = int(payload["update_id"])
        except (ValueError, KeyError, TypeError):
            self.send_error(400)
            return
        self.receiver.receive(update_id, payload)  # in SQLite before the 200: nothing lost to a kill -9
        self.set_status(200)
        self.finish()


class HealthEndpoint(RequestHandler):
    """``GET /healthz``: up or stopping, and the inbox/outbox backlog (counts only)."""

    def initialize(self, receiver: WebhookReceiver) -> None:
        self.receiver = receiver

    def get(self) -> None:
        health = self.receiver.health()
        self.set_status(200 if health["status"] == "up" else 503)
        self.finish(health)


