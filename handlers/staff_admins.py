"""Who is staff when ``STAFF_USER_IDS`` is empty: the staff group's administrators, read from Telegram.

Why administrators: membership of a Telegram group is easy to get (an invitation
link, a colleague adding a guest), and staff commands export every pre-registration.
Promoting someone is a deliberate act of the group's owner, so by default the staff
are the group's administrators (``getChatAdministrators``), bots excluded.

The list is asked at start, refreshed every :data:`REFRESH_EVERY` seconds (someone
demoted loses the staff commands within that time), and asked again when someone who
is not on it writes in the group, at most every :data:`MISS_REFRESH` seconds, or at
once if the last attempt failed (someone just promoted is recognised right away).
Until Telegram has answered once, nobody is staff.

Administrators who "remain anonymous" post as the group itself (``sender_chat`` is
the group, the sender is Telegram's GroupAnonymousBot): the bot cannot tell who
wrote, and staff actions are recorded with the name of who did them, so their
messages and commands are refused like a non-staff member's. Their button presses
carry their real account and are accepted.
"""
from __future__ import annotations

import logging
import time

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import TypeHandler

from bot.staff.desk import StaffDesk
from handlers.context import BotApplication, BotContext
from handlers.guards import pseudonym

log = logging.getLogger(__name__)

#: Seconds between two regular readings of the administrators.
REFRESH_EVERY = 600
#: Minimum seconds between two readings triggered by a non-administrator's message.
MISS_REFRESH = 60


class StaffAdmins:
    """Keeps the staff desk's list of administrators up to date."""

    def __init__(self, desk: StaffDesk, salt: str) -> None:
        self.desk = desk
        self.salt = salt
        self.last_attempt = 0.0
        self.last_ok = False

    async def refresh(self, application: BotApplication) -> bool:
        """Ask Telegram for the administrators; keep the last known list if it fails."""
        self.last_attempt = time.monotonic()
        try:
            members = await application.bot.get_chat_administrators(self.desk.staff_chat_id)
        except TelegramError as exc:
            self.last_ok = False
            log.warning("staff: the staff group's administrators could not be read (%s); %d known",
                        type(exc).__name__, len(self.desk.group_admins))
            return False
        admins = frozenset(m.user.id for m in members if not m.user.is_bot)
        if admins != self.desk.group_admins or not self.last_ok:
            anonymous = sum(1 for m in members if not m.user.is_bot and getattr(m, "is_anonymous", False))
            log.info("staff: the %d administrator(s) of the staff group (%d anonymous, refused when anonymous): %s",
                     len(admins), anonymous, ", ".join(sorted(pseudonym(a, self.salt) for a in admins)))
        self.desk.set_group_admins(admins)
        self.last_ok = True
        return True

    async def on_update(self, update: Update, context: BotContext) -> None:
        """Before the staff guard: read the list again when someone unknown writes in the staff group."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or chat.id != self.desk.staff_chat_id or user.is_bot:
            return
        if user.id in self.desk.group_admins:
            return
        if self.last_ok and time.monotonic() - self.last_attempt < MISS_REFRESH:
            return
        await self.refresh(context.application)

    async def periodic(self, context: BotContext) -> None:
        """The job that reads the list every :data:`REFRESH_EVERY` seconds."""
        await self.refresh(context.application)


def install(application: BotApplication, desk: StaffDesk | None, salt: str) -> StaffAdmins | None:
    """Wire the administrators' list when the staff are the group's administrators (group -5)."""
    if desk is None or not desk.enabled or desk.settings.staff_user_ids:
        return None
    admins = StaffAdmins(desk, salt)
    application.bot_data.staff_admins = admins
    application.add_handler(TypeHandler(Update, admins.on_update), group=-5)
    return admins


async def start(application: BotApplication) -> None:
    """At start: say who is staff (counts and hashed ids only) and begin the regular readings."""
    desk = application.bot_data.assistant.staff
    if desk is None or not desk.enabled:
        log.info("staff: no staff group (STAFF_CHAT_ID is empty)")
        return
    admins = application.bot_data.staff_admins
    if admins is None:
        salt = application.bot_data.log_salt
        ids = desk.settings.staff_user_ids
        log.info("staff: the %d id(s) of STAFF_USER_IDS: %s", len(ids),
                 ", ".join(sorted(pseudonym(i, salt) for i in ids)))
        return
    await admins.refresh(application)
    if application.job_queue is not None:
        application.job_queue.run_repeating(admins.periodic, interval=REFRESH_EVERY, first=REFRESH_EVERY,
                                            name="staff-admins")
