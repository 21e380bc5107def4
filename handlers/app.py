"""Wiring: the python-telegram-bot ``Application``, built in one place.

Reading order for a newcomer: :func:`build_application` lists every handler and
what it reacts to; :func:`post_init` sets the command lists; :func:`run_telegram`
starts long polling.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import signal

from telegram import BotCommand, BotCommandScopeAllPrivateChats, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ExtBot,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.clock import crossed
from bot.composition import make_assistant, retention_purge
from bot.config import Settings
from bot.conversation.engine import Assistant
from bot.conversation.flood import FloodControl
from bot.matching.lexicon import french_words
from bot.ops.running import bot_running_lock
from bot.reminders.sending import run_round
from bot.staff.stale_notice import notify_if_stale
from bot.storage.inbox import Inbox
from handlers import guards, prospect, staff, staff_admins
from handlers.budget import ANSWER, OUTBOX, BudgetLimiter, SendBudget
from handlers.context import CONTEXT_TYPES, BotApplication, BotContext
from handlers.delivery import Deliverer
from handlers.polling import DurablePoller
from handlers.render import HTML_DEFAULTS

log = logging.getLogger(__name__)

#: Connections of the outbox's client: one per lane sending at the same time, with room to spare.
DELIVERY_CONNECTIONS = 32

#: When the daily retention purge runs (Paris time by the bot's clock, a quiet hour).
PURGE_TIME = dt.time(3, 30)
#: When the out-of-date knowledge check runs (Paris time by the bot's clock, office hours).
STALE_CHECK_TIME = dt.time(9, 0)
#: Seconds between two looks at the bot's clock for the daily jobs.
DAILY_TICK = 5
#: Seconds between two looks at the campaigns being sent (progress, final report).
CAMPAIGN_TICK = 2

#: The commands shown to prospects in Telegram's menu (name, description).
PROSPECT_COMMANDS = [
    ("start", "Accueil"),
    ("menu", "Les thèmes"),
    ("inscription", "Me pré-inscrire"),
    ("conseiller", "Parler à une personne"),
    ("aide", "Ce que je sais faire"),
    ("rappels", "Mes rappels"),
    ("mesdonnees", "Voir mes données"),
    ("supprimer", "Effacer mes données"),
    ("annuler", "Abandonner la pré-inscription"),
]


async def post_init(application: BotApplication) -> None:
    """Set the command list shown to prospects and start delivering the outbox."""
    commands = [BotCommand(name, description) for name, description in PROSPECT_COMMANDS]
    await application.bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats())
    await staff.set_staff_commands(application)  # the staff group's own list (never fatal)
    await staff_admins.start(application)  # who is staff, said in the log
    await application.bot_data.deliverer.bot.initialize()
    application.bot_data.deliverer.start()
    # Daily jobs follow the bot's clock (BOT_CLOCK moves them too), not the machine's: PTB's run_daily cannot.
    application.job_queue.run_repeating(daily_jobs_tick, interval=DAILY_TICK, first=DAILY_TICK, name="daily-jobs",
                                        data={"last": application.bot_data.assistant.clock.now()})
    application.job_queue.run_repeating(campaign_job, interval=CAMPAIGN_TICK, first=CAMPAIGN_TICK, name="campaigns")
    application.job_queue.run_once(stale_knowledge_job, 60, name="stale-knowledge-at-start")
    application.job_queue.run_repeating(console_tick_job, interval=CONSOLE_TICK, first=2, name="staff-console")
    seconds = application.bot_data.assistant.settings.reminder_seconds
    application.job_queue.run_repeating(reminder_job, interval=seconds, first=min(seconds, 5), name="reminders")


async def daily_jobs_tick(context: BotContext) -> None:
    """Every few seconds: run each daily job whose time of day the bot's clock passed since the last look.

    Like ``run_daily``, a time passed while the bot was stopped is not caught up.
    """
    now = context.assistant.clock.now()
    data = context.job.data
    last, data["last"] = data["last"], now
    for at, job in ((PURGE_TIME, purge_job), (STALE_CHECK_TIME, stale_knowledge_job)):
        if crossed(last, now, at):
            await job(context)


async def campaign_job(context: BotContext) -> None:
    """Every few seconds: the progress of the campaigns being sent, and the report of those finished."""
    desk = context.desk
    if desk is not None and desk.campaigns is not None:
        desk.campaigns.tick()


async def console_tick_job(context: BotContext) -> None:
    """Every minute: lead recalls and the daily digest when due (``bot/staff/followup.py``)."""
    desk = context.desk
    if desk is not None and desk.followup.tick():
        context.assistant.wake_delivery()


#: Seconds between two looks at the recalls and the digest.
CONSOLE_TICK = 60


async def reminder_job(context: BotContext) -> None:
    """Often: queue the reminders due now in the outbox (``bot/reminders/sending.py``), then wake delivery."""
    assistant = context.assistant
    counts = run_round(assistant.db, assistant.knowledge.current, assistant.clock.now())
    if any(key.startswith(("queued", "dropped")) for key in counts):
        log.info("reminder round: %s", dict(counts))
        assistant.wake_delivery()


async def stale_knowledge_job(context: BotContext) -> None:
    """Daily: if the knowledge base is out of date, tell the staff group (at most once a week)."""
    if context.desk is not None:
        notify_if_stale(context.desk)


async def purge_job(context: BotContext) -> None:
    """Daily: apply every retention period (see ``bot.composition.retention_purge``)."""
    deleted = retention_purge(context.assistant)
    log.info("retention purge: %s", deleted)


async def post_shutdown(application: BotApplication) -> None:
    """Stop the delivery loop; what was not delivered waits in SQLite for the next start."""
    await application.bot_data.deliverer.stop()
    await application.bot_data.deliverer.bot.shutdown()


async def on_error(update: object, context: BotContext) -> None:
    """Log the error and keep the bot running; ``bot/logs.py`` keeps the exception's message out of the log."""
    log.error("error while handling an update: %s", type(context.error).__name__, exc_info=context.error)
    desk = context.desk
    try:  # the alert (type only, once an hour) must never raise from the error handler
        if desk is not None and desk.alerts.unexpected_error(context.error):
            desk.assistant.wake_delivery()
    except Exception as exc:  # noqa: BLE001
        log.error("staff could not be alerted: %s", type(exc).__name__)


def delivery_bot(settings: Settings, budget: SendBudget) -> ExtBot:
    """A second client for the outbox, with its own rate limiter.

    python-telegram-bot's AIORateLimiter pauses *every* request of its bot while it
    waits out a 429. A 429 on the staff group must not stall prospects' answers, so
    the outbox (staff notifications, relays, reminders, campaigns) has its own client:
    it keeps the per-group limit, draws from the bot-wide budget after the answers
    (``handlers/budget.py``), and lets the outbox retry a 429 later (``max_retries=0``)
    instead of sleeping on it.
    """
    limiter = BudgetLimiter(budget, OUTBOX, max_retries=0)
    # Lanes send side by side: a slow staff group must not hold the only connection
    # (python-telegram-bot before 22.4 gave a Bot one connection by default).
    request = HTTPXRequest(connection_pool_size=DELIVERY_CONNECTIONS)
    return ExtBot(settings.telegram_token, base_url=settings.telegram_base_url, rate_limiter=limiter,
                  request=request, defaults=HTML_DEFAULTS)


def build_application(settings: Settings, assistant: Assistant) -> BotApplication:
    """The Telegram application with every handler registered."""
    budget = SendBudget(settings.telegram_rate)  # one allowance for both clients: answers first
    application = (
        Application.builder()
        .token(settings.telegram_token)
        .context_types(CONTEXT_TYPES)  # handlers reach the services through typed slots (handlers/context.py)
        .base_url(settings.telegram_base_url)
        .rate_limiter(BudgetLimiter(budget, ANSWER, max_retries=5))
        .defaults(HTML_DEFAULTS)
        .concurrent_updates(True)
        .updater(None)  # see serve(): updates are acknowledged only once stored
        .build()
    )
    deliverer = Deliverer(delivery_bot(settings, budget), assistant.outbox, assistant.clock, settings.staff_chat_id,
                          budget=budget, bulk_in_flight=settings.campaign_in_flight,
                          bulk_rate=settings.campaign_rate,
                          **staff.delivery_hooks(application.bot, assistant))
    assistant.wake_delivery = deliverer.kick
    application.bot_data.install(assistant, deliverer, FloodControl(settings.flood_limit, settings.flood_window),
                                 log_salt=hashlib.sha256(settings.telegram_token.encode()).hexdigest(),
                                 staff_chat_id=settings.staff_chat_id)
    staff_admins.install(application, assistant.staff, application.bot_data.log_salt)
    application.add_handler(TypeHandler(Update, guards.origin_guard), group=-4)
    application.add_handler(TypeHandler(Update, guards.log_update), group=-2)
    application.add_handler(TypeHandler(Update, guards.flood_guard), group=-1)
    staff.register(application, settings.staff_chat_id)  # first: its guard, and group 0's first places
    private = filters.ChatType.PRIVATE
    # An edit is an update of its own: handled first, so it never reaches the handlers of new messages.
    application.add_handler(MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, prospect.on_edited))
    application.add_handler(MessageHandler(private & filters.COMMAND, prospect.on_command))
    application.add_handler(MessageHandler(private & filters.TEXT, prospect.on_text))
    application.add_handler(MessageHandler(private & filters.CONTACT, prospect.on_contact))
    application.add_handler(CallbackQueryHandler(prospect.on_button))
    application.add_handler(MessageHandler(private & ~filters.COMMAND & ~filters.TEXT & ~filters.CONTACT,
                                           prospect.on_other))
    application.add_error_handler(on_error)
    return application


def run_telegram(settings: Settings) -> None:
    """Run the bot with long polling until SIGTERM or Ctrl-C."""
    with bot_running_lock(settings.database):  # tells `restore` that a bot runs on this database
        assistant = make_assistant(settings)
        if settings.bot_clock is not None:
            log.warning("BOT_CLOCK is set: the bot's clock starts at %s (Paris), not the real time",
                        settings.bot_clock.isoformat(timespec="seconds"))
        asyncio.run(serve(build_application(settings, assistant), assistant, settings))


async def serve(application: BotApplication, assistant: Assistant,
                settings: Settings | None = None) -> None:
    """Start the application, poll durably (``handlers/polling.py``), stop cleanly on a signal.

    python-telegram-bot's ``run_polling`` would acknowledge updates before they are
    handled; this does what it does otherwise: initialize, ``post_init``, start,
    and the reverse on the way out.
    """
    french_words()  # load the dictionary now: loading it mid-traffic would block the loop ~1 s
    poller = DurablePoller(application, Inbox(assistant.db), assistant.clock)
    if settings is not None and settings.webhook_url:  # same inbox and handling, updates pushed by Telegram
        from handlers.webhook import WebhookReceiver

        poller = WebhookReceiver(application, poller.inbox, assistant.clock, settings, assistant.outbox)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, poller.stop)
    await application.initialize()
    try:
        await post_init(application)
        await application.start()
        await poller.run()
    finally:
        if application.running:
            await application.stop()
        await post_shutdown(application)
        await application.shutdown()
