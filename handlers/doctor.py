"""The doctor's Telegram checks, through python-telegram-bot's ``Bot`` (``bot/ops/doctor.py`` reports them).

Why: the rights the bot needs in the staff group (member; admin with "manage
topics" in a forum) are given by a person in Telegram's settings, and their absence
only shows when something fails — a lead notification not posted, a prospect's
topic not created. These checks ask Telegram what it knows (getMe,
getWebhookInfo, getChat, getChatMember) and say what to change.
"""
from __future__ import annotations

from telegram import Bot, ChatMember, ChatMemberAdministrator, ChatMemberRestricted, User
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.config import Settings
from bot.ops.doctor import Check, failed, passed, warned

#: A webhook still holding this many updates means nobody is fetching them.
PENDING_WARNING = 100
GONE = (ChatMember.LEFT, ChatMember.BANNED)


async def bot_username(settings: Settings) -> str | None:
    """The bot's username from ``getMe`` (``run_bot.py qr`` without ``--bot-username``); None on failure."""
    try:
        async with Bot(settings.telegram_token, base_url=settings.telegram_base_url) as bot:
            return bot.username
    except (TelegramError, OSError):
        return None


async def telegram_checks(settings: Settings) -> list[Check]:
    """Token, mode, staff group and staff members, in that order; later ones need the token."""
    if not settings.telegram_token:
        return [failed("jeton", "TELEGRAM_BOT_TOKEN n'est pas défini (le bot ne lance que le terminal)",
                       "le demander à @BotFather et le mettre dans .env")]
    bot = Bot(settings.telegram_token, base_url=settings.telegram_base_url)
    try:
        try:
            me = await bot.get_me()
        except InvalidToken:
            return [failed("jeton", "refusé par Telegram",
                           "vérifier TELEGRAM_BOT_TOKEN (@BotFather, /mybots → API Token ; /revoke en donne un neuf)")]
        except NetworkError as exc:
            return [failed("jeton", f"Telegram injoignable ({type(exc).__name__})",
                           "vérifier le réseau, le pare-feu ou TELEGRAM_BASE_URL")]
        checks = [passed("jeton", f"@{me.username} (id {me.id})"), await mode_check(bot, settings.webhook_url)]
        if settings.staff_chat_id is None:
            checks.append(passed("groupe de l'équipe", "STAFF_CHAT_ID non défini : /conseiller donne "
                                 "le téléphone et l'e-mail, rien n'est relayé"))
            return checks
        checks += await staff_group_checks(bot, me, settings)
        return checks
    finally:
        await bot.shutdown()


async def mode_check(bot: Bot, wanted_url: str = "") -> Check:
    """Polling or webhook, what Telegram still holds, and the last delivery error it saw."""
    info = await bot.get_webhook_info()
    pending = info.pending_update_count
    if wanted_url and info.url != wanted_url:
        return warned("mode", f"TELEGRAM_WEBHOOK_URL est défini mais Telegram a « {info.url or 'aucun webhook'} »",
                      "lancer (ou relancer) le bot : il enregistre son webhook au démarrage")
    if info.url and not wanted_url:
        return warned("mode", f"un webhook est enregistré ({info.url}) alors que le bot est en long polling",
                      "rien à faire si c'est voulu : le bot le supprime à son démarrage")
    if info.url:
        detail = f"webhook {info.url}, {pending} mise(s) à jour en attente"
        if info.last_error_message:
            return failed("mode", f"{detail}, dernière erreur de Telegram : {info.last_error_message}",
                          "vérifier que l'URL est joignable depuis Internet (proxy, TLS, WEBHOOK_SECRET)")
        return passed("mode", detail)
    detail = f"long polling, {pending} mise(s) à jour en attente chez Telegram"
    if pending >= PENDING_WARNING:
        return warned("mode", detail, "le bot est-il lancé ? (systemctl status / docker compose ps)")
    return passed("mode", detail)


async def staff_group_checks(bot: Bot, me: User, settings: Settings) -> list[Check]:
    """The bot's place and rights in the staff group, then each STAFF_USER_IDS member."""
    name, chat_id = "groupe de l'équipe", settings.staff_chat_id
    try:
        chat = await bot.get_chat(chat_id)
        member = await bot.get_chat_member(chat_id, me.id)
    except TelegramError as exc:
        return [failed(name, f"{chat_id} inaccessible ({type(exc).__name__})",
                       "ajouter le bot au groupe ; vérifier STAFF_CHAT_ID (-100… pour un supergroupe, "
                       "visible dans l'URL de web.telegram.org)")]
    if chat.type not in (chat.GROUP, chat.SUPERGROUP):
        return [failed(name, f"{chat_id} est un(e) {chat.type}, pas un groupe", "STAFF_CHAT_ID doit désigner "
                       "le groupe de l'équipe")]
    checks = [_membership_check(name, chat, member, me)]
    checks += await _staff_member_checks(bot, chat_id, settings.staff_user_ids)
    return checks


def _membership_check(name: str, chat, member: ChatMember, me: User) -> Check:
    """Member (and allowed to write); in a forum, admin with the right to manage topics."""
    title = f"« {chat.title} »"
    if member.status in GONE:
        return failed(name, f"le bot n'est pas membre de {title}", "l'ajouter au groupe")
    if isinstance(member, ChatMemberRestricted) and not member.can_send_messages:
        return failed(name, f"le bot ne peut pas écrire dans {title}", "lever la restriction du bot")
    admin = member.status == ChatMember.OWNER or isinstance(member, ChatMemberAdministrator)
    if chat.is_forum:
        if not admin or (isinstance(member, ChatMemberAdministrator) and not member.can_manage_topics):
            reads = "" if me.can_read_all_group_messages else " ; mode confidentialité actif, il ne lit " \
                "pas non plus les messages de l'équipe dans les sujets"
            return failed(name, f"{title} est un forum et le bot n'y est pas administrateur avec le droit "
                          f"« Gérer les sujets » : tout reste dans « Général »{reads}",
                          "le nommer administrateur avec « Gérer les sujets » (Gérer le groupe → Administrateurs)")
        return passed(name, f"{title}, forum, bot administrateur avec « Gérer les sujets »")
    if admin or me.can_read_all_group_messages:
        return passed(name, f"{title}, le bot lit tous les messages du groupe")
    return passed(name, f"{title}, mode confidentialité actif : le bot lit les commandes et les réponses "
                  "à ses messages (ce qu'il lui faut ; l'équipe doit répondre à ses messages)")


async def _staff_member_checks(bot: Bot, chat_id: int, user_ids: tuple[int, ...]) -> list[Check]:
    name = "STAFF_USER_IDS"
    if not user_ids:
        return [warned(name, "vide : tout membre du groupe peut utiliser les commandes de l'équipe",
                       "lister les identifiants de l'équipe (séparés par des virgules)")]
    missing = []
    for user_id in user_ids:
        try:
            member = await bot.get_chat_member(chat_id, user_id)
        except TelegramError:
            missing.append(user_id)
            continue
        if member.status in GONE:
            missing.append(user_id)
    if missing:
        return [failed(name, f"pas dans le groupe : {', '.join(map(str, missing))}",
                       "les ajouter au groupe, ou les retirer de STAFF_USER_IDS")]
    return [passed(name, f"{len(user_ids)} membre(s), tous dans le groupe")]
